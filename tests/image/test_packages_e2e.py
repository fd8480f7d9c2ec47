"""A new version of one OS package rebuilds exactly the images that contain it.

Two images of the synthetic project: demo, and demo-extra (a target of the
same Dockerfile) with the runtime package ``file``. Both are built and their
packages recorded; then the apt index (FORGE_APT_INDEX, standing in for the
host's) serves a newer ``file``: only demo-extra's key changes, so only it is
built again, and once it is recorded both are up to date.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from imageforge.config.manifest import Pair
from imageforge.host import docker
from imageforge.image import packagelock
from imageforge.image.build import BuildOptions, build_services
from tests.support.projects import make_forge
from tests.support.synthetic import add_demo_extra, project_copy, run_in

pytestmark = pytest.mark.docker
PAIRS = [Pair("2025.2", "demo"), Pair("2025.2", "demo-extra")]


def _results(tmp_path) -> dict[str, str]:
    summary = json.loads((tmp_path / "build" / "summary.json").read_text())
    return {row["service"]: row["result"] for row in summary["images"]}


def test_a_package_update_rebuilds_only_the_images_that_contain_it(built, tmp_path, base_image):
    copy = project_copy(built, tmp_path, "imageforge-test/packages")
    add_demo_extra(copy)
    index = tmp_path / "apt-index"
    index.mkdir()
    (index / "Packages").write_text("Package: unrelated\nVersion: 1.0\n")
    forge = make_forge(copy, tmp_path, base_image=base_image, apt_index=index)
    first = build_services(forge, PAIRS, BuildOptions())
    try:
        demo, extra = (packagelock.recorded(forge, "2025.2", s) for s in ("demo", "demo-extra"))
        assert "file" in extra["packages"] and "file" not in demo["packages"]
        assert extra["packages"]["libc6"] == demo["packages"]["libc6"]
        # Recorded: the next plan finds both by the lock.
        recorded = build_services(forge, PAIRS, BuildOptions())
        assert _results(tmp_path) == {"demo": "up to date", "demo-extra": "up to date"}

        (index / "Packages").write_text("Package: file\nVersion: 1:99.0-1\n")
        second = build_services(forge, PAIRS, BuildOptions())
        assert _results(tmp_path) == {"demo": "up to date", "demo-extra": "built"}
        assert second[0].key == recorded[0].key and second[1].key != recorded[1].key

        # A package both contain: both are built.
        (index / "Packages").write_text(
            "Package: file\nVersion: 1:99.0-1\n\nPackage: libc6\nVersion: 9.99-1\n"
        )
        build_services(forge, PAIRS, BuildOptions())
        assert _results(tmp_path) == {"demo": "built", "demo-extra": "built"}
        build_services(forge, PAIRS, BuildOptions())
        assert _results(tmp_path) == {"demo": "up to date", "demo-extra": "up to date"}

        # Offline, the recorded versions stand: the same keys, nothing to build.
        offline = replace(forge, offline=True)
        (index / "Packages").write_text("Package: libc6\nVersion: 10.0-1\n")
        build_services(offline, PAIRS, BuildOptions())
        assert _results(tmp_path) == {"demo": "up to date", "demo-extra": "up to date"}
    finally:
        for result in first:
            for tag in result.tags:
                docker.run(["image", "rm", tag], check=False)


def test_a_pinned_rebuild_installs_the_recorded_versions(built, tmp_path, base_image):
    """tzdata recorded at the release's version, where an update suite serves a newer one:
    --pin-packages installs the recorded one; without, the newest."""
    copy = project_copy(built, tmp_path, "imageforge-test/pinned")
    forge = make_forge(copy, tmp_path, base_image=base_image)
    [first] = build_services(forge, [PAIRS[0]], BuildOptions())
    try:
        current = run_in(first.reference, "dpkg-query", "-W", "-f=${Version}", "tzdata")
        released = _released_version(first.reference, "tzdata")
        assert released != current, "no update suite serves a newer tzdata: nothing to pin"
        path = packagelock.lock_path(forge, "2025.2")
        lock = json.loads(path.read_text())
        lock["demo"]["packages"]["tzdata"] = released
        path.write_text(json.dumps(lock))
        build_services(forge, [PAIRS[0]], BuildOptions(pin_packages=True, force=True))
        assert run_in(first.reference, "dpkg-query", "-W", "-f=${Version}", "tzdata") == released
        build_services(forge, [PAIRS[0]], BuildOptions(force=True))
        assert run_in(first.reference, "dpkg-query", "-W", "-f=${Version}", "tzdata") == current
    finally:
        for tag in first.tags:
            docker.run(["image", "rm", tag], check=False)


def test_pinning_images_that_disagree_is_one_line(tmp_path):
    from imageforge.errors import ForgeError
    from tests.support.projects import bare_forge

    forge = bare_forge(tmp_path)
    for name, version in (("demo", "1"), ("demo-extra", "2")):
        packagelock.record(
            forge,
            "2025.2",
            name,
            packagelock.Record("sha256:1", "i", "k", "bookworm", {"file": version}),
        )
    assert packagelock.pins(forge, PAIRS[:1]) == {"file": "1"}
    with pytest.raises(ForgeError, match=r"file is recorded at 1 for demo \(2025.2\) and at 2"):
        packagelock.pins(forge, PAIRS)
    with pytest.raises(ForgeError, match="records none of these images"):
        packagelock.pins(forge, [Pair("2025.1", "demo")])


def _released_version(image: str, package: str) -> str:
    """The version the release's main suite serves (apt-cache madison, in the image)."""
    script = (
        'ca=""; [ -s /run/cacert ] && ca="-o Acquire::https::CAInfo=/run/cacert"; '
        f"apt-get -q $ca update >/dev/null && apt-cache madison {package}"
    )
    from imageforge.context import ca_bundle

    bundle = ca_bundle()
    mounts = ["--volume", f"{bundle}:/run/cacert:ro"] if bundle else []
    rows = docker.run(
        ["run", "--rm", "--user", "root", "--entrypoint", "sh", *mounts, image, "-c", script]
    ).stdout.splitlines()
    # "tzdata | 2025b-0+deb12u1 | http://... bookworm/main amd64 Packages": the suite without "-"
    return next(
        version.strip()
        for _, version, where in (row.split("|") for row in rows)
        if "-" not in where.split()[1].split("/")[0]
    )


def test_an_unchanged_repush_is_skipped_once_recorded(built, tmp_path, base_image, local_registry):
    """The first push records the image and tags it with its record's key too: the next
    push plans that key, finds it in the registry and pushes nothing."""
    copy = project_copy(built, tmp_path, "imageforge-test/repush")
    manifest = copy / "releases.yaml"
    text = manifest.read_text()
    registry = text.split("registry: ", 1)[1].split(",", 1)[0]
    manifest.write_text(text.replace(f"registry: {registry}", f"registry: {local_registry}/forge"))
    forge = make_forge(copy, tmp_path, base_image=base_image)
    [first] = build_services(forge, [PAIRS[0]], BuildOptions(push=True))
    entry = packagelock.recorded(forge, "2025.2", "demo")
    assert entry["key"] != first.key  # the inputs' key, then the key with its packages
    [again] = build_services(forge, [PAIRS[0]], BuildOptions(push=True))
    assert _results(tmp_path) == {"demo": "up to date"}
    assert again.skipped and again.key == entry["key"]
