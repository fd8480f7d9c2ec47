"""The two entry points (tasks.py, noxfile.py) as a shell uses them."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support import ROOT


@pytest.mark.parametrize(
    "command",
    [
        ["inv", "-r", str(ROOT), "--list"],
        ["inv", "-r", str(ROOT), "list"],
        ["nox", "-f", str(ROOT / "noxfile.py"), "-l"],
    ],
    ids=["inv --list", "inv list", "nox -l"],
)
def test_a_reader_that_leaves_early_is_no_error(command):
    """`... | head -1`: the listing stops quietly, with no traceback and exit 0."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write: every write fails
    try:
        proc = subprocess.run(
            command, stdout=write_end, stderr=subprocess.PIPE, cwd=ROOT, check=False, timeout=60
        )
    finally:
        os.close(write_end)
    stderr = proc.stderr.decode()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "Broken pipe" not in stderr, stderr
