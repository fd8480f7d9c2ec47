"""The one way the forge runs a program that is not git or docker (and the base of both).

Output is captured, a failure becomes a ForgeError whose message is the
program's own most telling line, and a missing program is one line too.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from imageforge.errors import ForgeError


class ProcessError(ForgeError):
    """A program is missing or failed; the message carries its last words."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


def last_words(
    stderr: str, *, limit: int | None = None, default: str = "failed with no message"
) -> str:
    """The most telling line a program printed: its fatal/error line, else its last line."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    found = next((ln for ln in lines if ln.startswith(("fatal:", "error:", "ERROR:"))), None)
    line = found or (lines[-1] if lines else default)
    return line if limit is None or len(line) <= limit else line[:limit] + "..."


def run(
    command: Sequence[str],
    *,
    what: str | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    input: bytes | None = None,
    check: bool = True,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``command`` with output captured; raise ProcessError on failure when ``check``."""
    name = what or command[0]
    if not _found(command[0]):
        raise ProcessError(f"{command[0]}: command not found")
    try:
        proc = subprocess.run(
            list(command),
            cwd=cwd,
            env=None if env is None else {**os.environ, **env},
            input=input,
            capture_output=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as err:
        raise ProcessError(f"{name}: timed out after {timeout:.0f}s") from err
    if check and proc.returncode != 0:
        stderr = proc.stderr.decode(errors="replace") or proc.stdout.decode(errors="replace")
        raise ProcessError(f"{name} failed (exit {proc.returncode}): {last_words(stderr)}", stderr)
    return proc


def stream(command: Sequence[str], *, what: str) -> None:
    """Run ``command`` with its output on the terminal (long builds); one line on failure."""
    if not _found(command[0]):
        raise ProcessError(f"{command[0]}: command not found")
    proc = subprocess.run(list(command), check=False)
    if proc.returncode != 0:
        raise ProcessError(
            f"{what} failed (exit {proc.returncode}); the output above shows the step"
        )


def found(program: str) -> bool:
    """Whether ``program`` is on PATH (or a path to a file)."""
    return _found(program)


@functools.cache
def _found(program: str) -> bool:
    # Cached: git alone runs thousands of times in a refresh.
    return shutil.which(program) is not None or Path(program).is_file()
