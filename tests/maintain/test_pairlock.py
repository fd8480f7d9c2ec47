"""One maintainer operation per series at a time."""

from __future__ import annotations

import subprocess
import sys

import pytest

from imageforge.config.manifest import Pair
from imageforge.errors import ForgeError
from imageforge.maintain.pairlock import pair_lock
from imageforge.maintain.refresh import refresh
from tests.support.projects import make_forge


def test_a_second_operation_on_a_busy_pair_says_who_holds_it(project, tmp_path):
    _, path, folder, _ = project
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    build = tmp_path / "build"
    # The holder is another process, as a second terminal would be.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path;"
            "from imageforge.config.manifest import Pair\n"
            "from imageforge.maintain.pairlock import pair_lock\n"
            f"with pair_lock(Path({str(build)!r}), Pair('2025.2', 'demo'), 'a refresh'):\n"
            "    print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(
            ForgeError, match=rf"^demo \(2025.2\) is busy: a refresh \(pid {holder.pid}\) holds "
        ):
            refresh(make_forge(path, tmp_path), Pair("2025.2", "demo"), "1.0.2")
    finally:
        holder.kill()
        holder.wait()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    # Once it is gone (even killed), the lock is free.
    with pair_lock(build, Pair("2025.2", "demo"), "a test"):
        pass
