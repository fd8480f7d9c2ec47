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


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--abort", "--skip"], "error: --skip and --abort exclude each other: give one"),
        (["--onto", "1.0.3", "--skip"], "error: --onto and --skip exclude each other: give one"),
        (["--continue", "--skip"], "error: --continue and --skip exclude each other: give one"),
        (["--continue", "--dry-run"], "error: --dry-run goes with --onto REF only"),
    ],
)
def test_contradictory_refresh_flags_are_refused(flags, said):
    proc = subprocess.run(
        ["inv", "-r", str(ROOT), "patches.refresh", "-s", "keystone", "-r", "2025.2", *flags],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=60,
    )
    assert (proc.returncode, proc.stderr.strip()) == (1, said)
