"""inv patches.test as a shell runs it: bad input is one line and an exit code."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support import ROOT
from tests.support.projects import VALID, write_project


def _inv(args, manifest, tmp_path):
    env = {**os.environ, "FORGE_MANIFEST": str(manifest), "FORGE_BUILD_DIR": str(tmp_path / "b")}
    return subprocess.run(
        ["inv", "-r", str(ROOT), "patches.test", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        ([], 2, "error: give --service and --release, or --since COMMIT"),
        (
            ["-s", "nothing", "-r", "2025.2"],
            1,
            "error: nothing (2025.2): not a service, carried project or patched library",
        ),
        (["-s", "keystone", "-r", "2025.2"], 1, "error: keystone (2025.2): no patch series"),
        (["--since", "HEAD"], 1, "error: cannot tell which series changed since 'HEAD'"),
    ],
)
def test_bad_input_is_one_line(tmp_path, args, code, said):
    manifest = write_project(tmp_path / "project", VALID)
    proc = _inv(args, manifest, tmp_path)
    assert proc.returncode == code, proc.stderr
    assert proc.stderr.startswith(said), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
