"""One maintainer operation per series at a time: a refresh and an edit never overlap.

A refresh and an edit of the same pair both end by rewriting
patches/<project>/<release>/, so the one that finished last would silently
undo the other. Each holds a lock while it runs (a second run waits for
nobody: it is told who holds it), and neither starts while the other's work
tree is waiting for the maintainer.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from imageforge.config.manifest import Pair
from imageforge.errors import ForgeError
from imageforge.host.files import under

# The state files that say a work tree waits for the maintainer (see refresh.py, edit.py).
WAITING = {"refresh": "forge-refresh.json", "edit": "forge-edit.json"}
HOW_TO_END = {
    "refresh": "finish it with inv patches.refresh --continue (or --skip, --abort)",
    "edit": "write it back with inv patches.export, or delete the folder",
}


def work_tree(build_dir: Path, kind: str, pair: Pair) -> Path:
    return under(build_dir / "work", f"{kind}-{pair.project}-{pair.release}")


@contextmanager
def pair_lock(build_dir: Path, pair: Pair, what: str) -> Iterator[None]:
    """Hold the pair's lock for ``what`` (e.g. "refresh --continue"); refuse if another holds it."""
    path = under(build_dir / "work", f".lock-{pair.project}-{pair.release}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise ForgeError(f"cannot write in {path.parent}: {err.strerror}") from err
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(handle, 200, 0).decode(errors="replace").strip() or "another run"
            raise ForgeError(f"{pair} is busy: {holder} holds {path}; wait for it to end") from None
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{what} (pid {os.getpid()})\n".encode(), 0)
        yield
    finally:
        os.close(handle)  # releases the flock; the kernel does it too when a run is killed


def require_not_waiting(build_dir: Path, other: str, pair: Pair) -> None:
    """Refuse to start while the ``other`` kind of work tree of the pair waits for the maintainer."""
    work = work_tree(build_dir, other, pair)
    project, release = pair.project, pair.release
    if (work / ".git" / WAITING[other]).is_file():
        raise ForgeError(
            f"{'an' if other == 'edit' else 'a'} {other} of {project} ({release}) is under way "
            f"in {work}: "
            f"{HOW_TO_END[other]} first (both rewrite patches/{project}/{release}/)"
        )
