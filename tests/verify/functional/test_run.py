"""Functional checks end to end: the synthetic service against a real MariaDB, on a private network."""

from __future__ import annotations

import os
import shutil
import signal

import pytest

from imageforge.config.manifest import Pair
from imageforge.image.build import BuildOptions
from imageforge.verify.functional.run import run_functional
from tests.support.projects import make_forge
from tests.support.runs import leftovers

pytestmark = pytest.mark.docker


def test_the_service_serves_its_api_against_a_real_database(built, tmp_path, base_image):
    _, _, project, root = built
    forge = make_forge(project, root, base_image=base_image)
    report = run_functional(forge, Pair("2025.2", "demo"), BuildOptions())
    assert report.ok, report.table()
    assert [f.check for f in report.findings] == [
        "mariadb ready",
        "demo: database demo created",
        "demo: database migrations",
        "demo: API answers GET /notes",
        "note stored",
        "notes listed",
    ]
    assert report.findings[-2].detail == "POST /notes: 201"
    table = report.table().splitlines()
    assert table[1].split() == ["STEP", "RESULT", "SECONDS", "DETAIL"]
    assert table[-1].startswith("6 passed, 0 failed in ")
    assert leftovers("forge-fn") == []


def test_a_config_the_service_rejects_fails_with_its_own_error(built, tmp_path, base_image):
    _, _, project, root = built
    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    spec = copy / "images" / "demo" / "functional.yaml"
    spec.write_text(spec.read_text().replace("password = {database_password}", "password = wrong"))
    forge = make_forge(copy, root, base_image=base_image, build_dir=root / "build")
    report = run_functional(forge, Pair("2025.2", "demo"), BuildOptions())
    assert not report.ok
    failed = report.findings[-1]
    assert (failed.check, failed.ok) == ("demo: database migrations", False)
    # The service's own words: pymysql refusing the password.
    assert "Access denied for user 'demo'" in failed.detail
    assert "1 failed" in report.table().splitlines()[-1]
    assert leftovers("forge-fn") == []


def test_an_unknown_backing_service_is_named(built, tmp_path, base_image):
    from imageforge.errors import ForgeError

    _, _, project, root = built
    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    spec = copy / "images" / "demo" / "functional.yaml"
    spec.write_text(spec.read_text().replace("backing: [mariadb]", "backing: [postgres]"))
    forge = make_forge(copy, root, base_image=base_image, build_dir=root / "build")
    with pytest.raises(ForgeError, match=r"functional.yaml: backing: unknown postgres \(known: "):
        run_functional(forge, Pair("2025.2", "demo"), BuildOptions())


@pytest.mark.parametrize(
    ("signum", "code", "said"),
    [(signal.SIGINT, 130, "error: interrupted"), (signal.SIGTERM, 143, "error: terminated")],
    ids=["ctrl-c", "sigterm"],
)
def test_ctrl_c_removes_everything(built, base_image, signum, code, said):
    """SIGINT (or a cancelled job's SIGTERM) mid-run: one line, no container or network left.

    The child starts with SIGINT ignored, as a shell without job control starts
    background commands (CI runners do): the forge must still be interrupted.
    """
    import subprocess
    import time

    from tests.support import ROOT

    _, _, project, root = built
    env = {
        **os.environ,
        "FORGE_MANIFEST": str(project / "releases.yaml"),
        "FORGE_CACHE_DIR": str(root / "cache"),
        "FORGE_BUILD_DIR": str(root / "build"),
        "FORGE_BASE_IMAGE": base_image,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "PYTHONUNBUFFERED": "1",  # its progress lines, as they happen
    }
    proc = subprocess.Popen(
        ["inv", "-r", str(ROOT), "functional", "-s", "demo", "-r", "2025.2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    seen = []
    deadline = time.monotonic() + 300
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("pass  mariadb ready") or time.monotonic() > deadline:
            break
    assert any(line.startswith("pass  mariadb ready") for line in seen), "".join(seen)[-2000:]
    proc.send_signal(signum)
    # Again while it removes what it started (a second Ctrl-C; `uv run` passing
    # a SIGTERM on): the removal goes on to its end.
    time.sleep(1)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=120)
    # The second signal may find Python already exiting, its handlers gone.
    assert proc.returncode in (code, -signum)
    assert stderr.strip().splitlines()[-1] == said
    assert "Traceback" not in stderr
    assert leftovers("forge-fn", proc.pid) == []
