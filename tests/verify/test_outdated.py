"""inv outdated: the OS packages an image's apt sources now serve newer, security updates marked."""

from __future__ import annotations

import pytest

from imageforge.context import ca_bundle
from imageforge.host import docker
from imageforge.verify.outdated import outdated_packages, parse_upgradable, report
from tests.support import RUN

RECORDED = """\
Listing...
apt/oldstable-security 2.6.2 amd64 [upgradable from: 2.6.1]
tzdata/oldstable-updates,oldstable-security 2026f-0+deb12u1 all [upgradable from: 2026b-0+deb12u1]
libgnutls30/oldstable 3.7.9-2+deb12u5 amd64 [upgradable from: 3.7.9-2+deb12u4]
"""


def test_apts_list_is_read_with_security_updates_marked():
    found = parse_upgradable(RECORDED)
    assert [(o.package, o.installed, o.available, o.security) for o in found] == [
        ("apt", "2.6.1", "2.6.2", True),
        ("tzdata", "2026b-0+deb12u1", "2026f-0+deb12u1", True),
        ("libgnutls30", "3.7.9-2+deb12u4", "3.7.9-2+deb12u5", False),
    ]
    assert found[1].suites == ("oldstable-updates", "oldstable-security")


def test_the_report_fails_per_package_security_first():
    table = report("demo/2025.2", "demo:1", parse_upgradable(RECORDED))
    assert not table.ok
    assert [f.check for f in table.findings] == ["apt", "tzdata", "libgnutls30"]
    assert table.heading == "demo:1: 3 outdated OS packages (2 security updates)"
    assert (
        table.findings[0].detail
        == "2.6.1 installed, 2.6.2 from oldstable-security (security update)"
    )
    assert report("demo/2025.2", "demo:1", []).ok


@pytest.mark.docker
def test_an_image_with_an_older_package_names_it(base_image, tmp_path):
    """tzdata installed at the main suite's version, where an update suite serves a newer one."""
    mounts = ["--volume", f"{ca_bundle()}:/run/cacert:ro"] if ca_bundle() else []
    ca = 'ca=""; [ -s /run/cacert ] && ca="-o Acquire::https::CAInfo=/run/cacert"; '
    versions = docker.run(
        [
            "run",
            "--rm",
            "--user",
            "root",
            *mounts,
            base_image,
            "sh",
            "-c",
            ca + "apt-get -q $ca update >/dev/null && apt-cache madison tzdata",
        ]
    ).stdout
    # madison: "tzdata | 2026b-0+deb12u1 | http://... bookworm/main amd64 Packages"
    rows = [[part.strip() for part in line.split("|")] for line in versions.splitlines()]
    [released] = [
        version for _, version, where in rows if "-" not in where.split()[1].split("/")[0]
    ]
    newer = {version for _, version, _ in rows} - {released}
    assert newer, f"no update suite serves a newer tzdata than the release: {versions}"
    oldest = released
    tag = f"imageforge-test/outdated-{RUN}:old"
    container = f"imageforge-test-outdated-{RUN}"
    install = f"apt-get -q $ca install -y --allow-downgrades --no-install-recommends tzdata={oldest} >/dev/null"
    docker.run(
        [
            "run",
            "--name",
            container,
            "--user",
            "root",
            *mounts,
            base_image,
            "sh",
            "-c",
            ca + "apt-get -q $ca update >/dev/null && " + install,
        ]
    )
    try:
        docker.run(["commit", container, tag])
        outdated = {o.package: o for o in outdated_packages(tag)}
        assert outdated["tzdata"].installed == oldest
        assert outdated["tzdata"].available in newer
    finally:
        docker.run(["rm", "--force", container], check=False)
        docker.run(["image", "rm", "--force", tag], check=False)
