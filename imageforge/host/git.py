"""The one way the forge calls git.

Every git command goes through ``run``: the same environment everywhere (no
prompts, no user or system hooks interfering with output formats), and a
failure becomes a GitError carrying git's own last words. Tests can record
the commands through ``COMMAND_LOG``.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from imageforge.host import process
from imageforge.host.process import last_words

__all__ = [
    "COMMAND_LOG",
    "DamagedRepositoryError",
    "GitError",
    "is_full_sha",
    "last_words",
    "run",
    "text",
    "text_raw",
]

# Appended to by run() when not None; tests use it to see which commands ran.
COMMAND_LOG: list[list[str]] | None = None

FULL_SHA_LENGTH = 40

# Never wait on a password prompt: an unreachable or private remote must
# fail, not hang a CI job. LC_ALL=C: messages are parsed.
_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "LC_ALL": "C"}

# Files are written as the repository stores them, whatever the user's git
# config says: core.autocrlf=true once turned every exported file to CRLF.
_PINNED_CONFIG = ("-c", "core.autocrlf=false", "-c", "core.eol=lf", "-c", "core.safecrlf=false")

# $GIT_DIR/info/attributes outranks every .gitattributes: no eol conversion,
# no $Id$ expansion, no smudge filter (LFS, a user's filter.<name>.smudge),
# no re-encoding. The build gets the bytes of the commit it names.
BYTE_EXACT_ATTRIBUTES = "* -text -ident -filter -working-tree-encoding\n"


# What git says when the bytes of a repository are damaged (a disk error, a
# killed gc, a hand edit), as opposed to an object that is merely absent.
_DAMAGE = re.compile(
    r"is corrupt|inflate: |bad object|object file .* is empty|unable to unpack"
    r"|hash mismatch|packfile .* cannot be accessed|index file .* is too small"
    r"|invalid (?:sha1|object) pointer|non-monotonic index|bad packed object"
    r"|unknown object type|invalid object type|failed to read object|premature end"
    r"|objects/pack/pack-[0-9a-f]+\.(?:pack|idx)"
    r"|not a git repository",
    re.IGNORECASE,
)


def reports_damage(stderr: str) -> bool:
    """Whether git's message says the repository's own files are damaged."""
    return _DAMAGE.search(stderr) is not None


class GitError(process.ProcessError):
    """A git command failed; the message carries git's own explanation."""


class DamagedRepositoryError(GitError):
    """The repository's own files are damaged; it must be moved aside and cloned again."""

    def __init__(self, git_dir: Path, stderr: str) -> None:
        self.git_dir = git_dir
        self.reason = last_words(stderr)
        super().__init__(
            f"the repository {git_dir} is damaged ({self.reason}); move it aside "
            f"(mv {git_dir} {git_dir}.damaged) and run again: the forge clones it anew",
            stderr,
        )


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
    command = ["git", *_PINNED_CONFIG]
    if git_dir is not None:
        command += ["--git-dir", str(git_dir)]
    command += list(args)
    if COMMAND_LOG is not None:
        COMMAND_LOG.append(command)
    proc = process.run(command, cwd=cwd, env={**_ENV, **(env or {})}, input=input, check=False)
    if check and proc.returncode != 0:
        stderr = proc.stderr.decode(errors="replace")
        if git_dir is not None and reports_damage(stderr) and git_dir.exists():
            raise DamagedRepositoryError(git_dir, stderr)
        raise GitError(f"git {args[0]} failed: {last_words(stderr)}", stderr)
    return proc


def pin_attributes(git_dir: Path) -> None:
    """Make files materialised from ``git_dir`` byte-exact (see BYTE_EXACT_ATTRIBUTES)."""
    path = git_dir / "info" / "attributes"
    try:
        if path.is_file() and path.read_text() == BYTE_EXACT_ATTRIBUTES:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".attributes.{os.getpid()}")
        partial.write_text(BYTE_EXACT_ATTRIBUTES)
        partial.replace(path)
    except OSError as err:
        raise GitError(f"cannot write {path}: {err.strerror}") from err


def text(args: Sequence[str], **kwargs) -> str:
    """``run`` returning stdout as stripped text."""
    return run(args, **kwargs).stdout.decode(errors="replace").strip()


def text_raw(args: Sequence[str], **kwargs) -> str:
    """``run`` returning stdout as text exactly as git printed it."""
    return run(args, **kwargs).stdout.decode()


def is_full_sha(ref: str) -> bool:
    return len(ref) == FULL_SHA_LENGTH and all(c in "0123456789abcdef" for c in ref.lower())


def looks_like_abbreviated_sha(ref: str) -> bool:
    return 4 <= len(ref) < FULL_SHA_LENGTH and all(c in "0123456789abcdef" for c in ref.lower())
