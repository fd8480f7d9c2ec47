"""File-system helpers every stage shares: atomic writes and inter-process locks."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from imageforge.errors import ForgeError


def write_atomically(path: Path, data: bytes | str) -> None:
    """Replace ``path`` in one rename: a reader (or a killed run) never sees half of it."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        if isinstance(data, str):
            partial.write_text(data, encoding="utf-8")
        else:
            partial.write_bytes(data)
        partial.replace(path)
    except OSError as err:  # a full disk, a read-only folder: the file, and nothing half-written
        partial.unlink(missing_ok=True)
        raise ForgeError(f"cannot write {path}: {err.strerror}") from err


def under(root: Path, *names: str) -> Path:
    """``root``/``names``, which must stay under ``root``: the one check for paths made from names.

    The manifest admits only plain names (no ``/``, no leading ``.``), so this
    never fires for a valid releases.yaml; it stops a name that slipped past
    (a state file, a command line) from reaching a folder outside the project.
    """
    path = root.joinpath(*names)
    base = os.path.normpath(os.path.abspath(root))
    resolved = os.path.normpath(os.path.abspath(path))
    if resolved == base or not resolved.startswith(base.rstrip(os.sep) + os.sep):
        raise ForgeError(f"{'/'.join(names)}: not a plain name (the path leaves {root})")
    return path


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
