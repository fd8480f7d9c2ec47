"""File-system helpers every stage shares: atomic writes and inter-process locks."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from imageforge.errors import ForgeError


def write_atomically(path: Path, data: bytes | str) -> None:
    """Replace ``path`` in one rename: a reader (or a killed run) never sees half of it."""
    partial = path.with_name(f".{path.name}.partial")
    if isinstance(data, str):
        partial.write_text(data, encoding="utf-8")
    else:
        partial.write_bytes(data)
    partial.replace(path)


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on ``path`` (created if needed) for the block.

    flock is released by the kernel when the process dies, so a killed run
    never leaves a stale lock behind.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a")
    except OSError as err:
        raise ForgeError(f"cannot write in {path.parent}: {err.strerror}") from err
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
