"""Smoke checks: their data format, and every policy check against an image built to break it."""

from __future__ import annotations

import subprocess
import textwrap

import pytest

from imageforge.errors import ManifestError
from imageforge.host import docker
from imageforge.verify.smoke import Check, load_checks, smoke_image
from tests.support import RUN
from tests.support.synthetic import REGISTRY


def write(tmp_path, text):
    path = tmp_path / "smoke.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_checks_load_from_data(tmp_path):
    checks = load_checks(
        write(
            tmp_path,
            """\
            checks:
              - name: version
                command: [demo-manage, --version]
                stdout: "{version}"
              - name: refuses nonsense
                command: [demo-manage, --nonsense]
                exit: 2
            """,
        )
    )
    assert checks == [
        Check("version", ("demo-manage", "--version"), 0, "{version}", None),
        Check("refuses nonsense", ("demo-manage", "--nonsense"), 2, None, None),
    ]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "- name: x\n  command: demo-manage --version\n",
            "smoke.yaml:3: checks.0.command: expected a non-empty list of strings",
        ),
        (
            "- name: x\n  command: [a]\n  stdot: y\n",
            "smoke.yaml:4: checks.0.stdot: unknown key (expected one of: command, exit, name, stdout, stdout_contains)",
        ),
        ("- command: [a]\n", "smoke.yaml:2: checks.0.name: expected a string"),
        (
            "- name: x\n  command: [a]\n  exit: often\n",
            "smoke.yaml:4: checks.0.exit: expected an exit status (a number)",
        ),
    ],
)
def test_mistakes_name_file_line_and_key(tmp_path, entry, message):
    path = write(tmp_path, "checks:\n" + textwrap.indent(entry, "  "))
    with pytest.raises(ManifestError) as caught:
        load_checks(path)
    assert str(caught.value) == f"{tmp_path}/{message}"


def variant(base: str, tag: str, dockerfile: str) -> str:
    """An image built FROM the good one to break one policy on purpose."""
    proc = subprocess.run(
        ["docker", "buildx", "build", "--load", "--tag", tag, "-"],
        input=f"FROM {base}\n{dockerfile}",
        text=True,
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return tag


def smoke(built, image):
    result, _, project, _ = built
    checks = load_checks(project / "images" / "demo" / "smoke.yaml")
    return {
        r.check: r
        for r in smoke_image(
            image,
            "1.0.2",
            checks,
            [result.inputs.service, *result.inputs.libraries],
            result.inputs.constraints.content,
        )
    }


@pytest.mark.docker
def test_a_good_image_passes_everything(built):
    results = smoke(built, built[0].reference)
    assert [name for name, r in results.items() if not r.ok] == []
    assert (
        results["patched files are the installed ones"].detail == "2 files identical"
    )  # service and library
    assert "demo-manage reports the upstream version" in results


SITE = "/var/lib/openstack/lib/python3.11/site-packages"
BAD = [
    (
        "compiler",
        "USER root\nRUN ln -s /bin/true /usr/bin/gcc\nUSER demo\n",
        "no compiler, make, git or uv",
        "expected '', got '/usr/bin/gcc'",
    ),
    ("root", "USER root\n", "runs as UID 42424", "`id -u`: expected '42424', got '0'"),
    (
        "pin",
        f"USER root\nRUN sed -i 's/^Version: 1.16.0$/Version: 1.15.0/' {SITE}/six-1.16.0.dist-info/METADATA\nUSER demo\n",
        "installed versions match the pins",
        "expected none, got: six 1.15.0 is installed, the constraints pin ===1.16.0",
    ),
    (
        "unpatched",
        f"USER root\nRUN sed -i 's/patched/hello/' {SITE}/demo/greeting.py\nUSER demo\n",
        "patched files are the installed ones",
        f"expected the patched files, got: {SITE}/demo/greeting.py differs from the patched source demo/greeting.py",
    ),
    (
        "unpatched-library",
        f"USER root\nRUN sed -i 's/library patched/hello/' {SITE}/demo_lib/greeting.py\nUSER demo\n",
        "patched files are the installed ones",
        f"expected the patched files, got: {SITE}/demo_lib/greeting.py differs from the patched source demo_lib/greeting.py",
    ),
    (
        "login",
        "USER root\nRUN usermod -s /bin/bash demo\nUSER demo\n",
        "no login shell",
        "got '/bin/bash'",
    ),
    (
        "setuid",
        "USER root\nRUN cp /bin/true /usr/local/bin/helper && chmod u+s /usr/local/bin/helper"
        " && cp /bin/true /usr/local/bin/grouper && chmod g+s /usr/local/bin/grouper\nUSER demo\n",
        "no setuid or setgid file",
        "found /usr/local/bin/grouper, /usr/local/bin/helper",
    ),
    (
        "world-writable",
        "USER root\nRUN touch /var/lib/openstack/.lock && chmod 666 /var/lib/openstack/.lock"
        " && touch /tmp/scratch && chmod 666 /tmp/scratch\nUSER demo\n",
        "no world-writable file outside /tmp, /var/tmp, /run/lock",
        "found /var/lib/openstack/.lock",
    ),
]


@pytest.mark.docker
@pytest.mark.parametrize(("kind", "dockerfile", "check", "detail"), BAD, ids=[b[0] for b in BAD])
def test_an_image_that_breaks_a_policy_fails_that_check(built, kind, dockerfile, check, detail):
    image = variant(built[0].reference, f"imageforge-test/demo-{RUN}:bad-{kind}", dockerfile)
    try:
        results = smoke(built, image)
    finally:
        docker.run(["image", "rm", image], check=False)
    failed = {name: r.detail for name, r in results.items() if not r.ok}
    assert check in failed, failed
    assert detail in failed[check]
    # Besides the policy check, root breaks the GID and shell checks, an unpatched file its service check.
    also = {
        "root": {"runs as GID 42424", "no login shell"},
        "unpatched": {"the patched greeting is used"},
        "unpatched-library": {"the patched library is used"},
    }
    assert set(failed) == {check} | also.get(kind, set())


@pytest.mark.docker
def test_a_service_check_failure_names_command_expected_and_got(built):
    result, _, _, _ = built
    checks = [Check("version", ("demo-manage", "--version"), 0, "9.9.9", None)]
    [first, *_] = smoke_image(result.reference, "1.0.2", checks, [], None)
    assert not first.ok
    assert first.detail == "`demo-manage --version`: expected output '9.9.9', got '1.0.2'"


@pytest.mark.docker
def test_inv_smoke_prints_the_table_and_passes(built):
    import os

    from tests.conftest import ROOT

    _, _, project, root = built
    env = {
        **os.environ,
        "FORGE_MANIFEST": str(project / "releases.yaml"),
        "FORGE_CACHE_DIR": str(root / "cache"),
        "FORGE_BUILD_DIR": str(root / "build"),
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    proc = subprocess.run(
        [
            "inv",
            "-r",
            str(ROOT),
            "smoke",
            "-s",
            "demo",
            "-r",
            "2025.2",
            "--base-image",
            "imageforge/debian:bookworm",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"{REGISTRY}/demo:1.0.2: ") and lines[0].endswith(" layers")
    assert lines[1].split() == ["CHECK", "RESULT", "DETAIL"]
    assert lines[-1] == "14 passed, 0 failed"  # 4 checks of smoke.yaml + 10 policy checks
