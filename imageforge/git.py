"""The one way the forge calls git.

Every git command goes through ``run``: the same environment everywhere (no
prompts, no user or system hooks interfering with output formats), and a
failure becomes a GitError carrying git's own last words. Tests can record
the commands through ``COMMAND_LOG``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from imageforge.errors import ForgeError

# Appended to by run() when not None; tests use it to see which commands ran.
COMMAND_LOG: list[list[str]] | None = None

FULL_SHA_LENGTH = 40


class GitError(ForgeError):
    """A git command failed; the message carries git's own explanation."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


def run(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    git_dir: Path | None = None,
    env: dict[str, str] | None = None,
    input: bytes | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git ARGS`` and return the completed process (stdout as bytes)."""
    command = ["git"]
    if git_dir is not None:
        command += ["--git-dir", str(git_dir)]
    command += list(args)
    if COMMAND_LOG is not None:
        COMMAND_LOG.append(command)
    full_env = {
        **os.environ,
        # Never wait on a password prompt: an unreachable or private remote
        # must fail, not hang a CI job.
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "true",
        "LC_ALL": "C",
        **(env or {}),
    }
    proc = subprocess.run(
        command, cwd=cwd, env=full_env, input=input, capture_output=True, check=False
    )
    if check and proc.returncode != 0:
        stderr = proc.stderr.decode(errors="replace")
        raise GitError(f"git {args[0]} failed: {last_words(stderr)}", stderr)
    return proc


def text(args: Sequence[str], **kwargs) -> str:
    """``run`` returning stdout as stripped text."""
    return run(args, **kwargs).stdout.decode(errors="replace").strip()


def last_words(stderr: str) -> str:
    """The most telling line git printed (its fatal/error line if there is one)."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line
    return lines[-1] if lines else "failed with no message"


def is_full_sha(ref: str) -> bool:
    return len(ref) == FULL_SHA_LENGTH and all(c in "0123456789abcdef" for c in ref.lower())


def looks_like_abbreviated_sha(ref: str) -> bool:
    return 4 <= len(ref) < FULL_SHA_LENGTH and all(c in "0123456789abcdef" for c in ref.lower())


def text_raw(args: Sequence[str], **kwargs) -> str:
    """``run`` returning stdout as text exactly as git printed it."""
    return run(args, **kwargs).stdout.decode()
