"""Decide, without a checkout, whether each patch of a series applies to a commit.

The target tree is read into a temporary index (GIT_INDEX_FILE) and the series
is applied to that index in order with ``git apply --cached``; new blobs go to
a temporary object directory that borrows the mirror's objects, so neither the
user's files nor the mirror change. A patch that does not apply but
reverse-applies has landed upstream. A conflict names the file and the hunk.
"""

from __future__ import annotations

import enum
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from imageforge.errors import ForgeError
from imageforge.host import git
from imageforge.upstream.submodules import Graft


class PatchStatus(enum.Enum):
    """The fate of one patch on one commit."""

    APPLIES = "applies"
    UPSTREAM = "already upstream"  # it reverse-applies: the change is in the tree
    LANDED = "landed upstream"  # the history shows it landed (then changed again)
    CONFLICTS = "conflicts"


APPLIES, UPSTREAM, CONFLICTS = PatchStatus.APPLIES, PatchStatus.UPSTREAM, PatchStatus.CONFLICTS
LANDED = PatchStatus.LANDED

_FAILED_AT = re.compile(r"^error: patch failed: (.+):(\d+)$", re.MULTILINE)
_NOT_IN_INDEX = re.compile(r"^error: (.+): does not exist in index$", re.MULTILINE)


class PatchError(ForgeError):
    """A patch of a series does not apply."""


@dataclass(frozen=True)
class PatchResult:
    patch: Path
    status: PatchStatus
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status != CONFLICTS

    def describe(self) -> str:
        if self.status == LANDED:
            return self.detail  # "landed upstream as <sha12> ..."
        return f"{self.status.value}: {self.detail}" if self.detail else self.status.value


@contextmanager
def scratch_index(
    git_dir: Path, commit: str, grafts: Sequence[Graft] = ()
) -> Iterator[dict[str, str]]:
    """Environment for git commands on a throwaway index holding ``commit``'s tree.

    New objects go to a scratch object directory that borrows the mirror's
    objects, so nothing in the mirror changes. Each graft (a submodule) puts
    its commit's tree at its path in place of the gitlink, borrowing the
    objects of its own mirror too.
    """
    with tempfile.TemporaryDirectory(prefix="forge-index-") as scratch:
        objects = Path(scratch) / "objects"
        objects.mkdir()
        borrowed = [git_dir, *(graft.mirror.path for graft in grafts)]
        env = {
            "GIT_INDEX_FILE": str(Path(scratch) / "index"),
            "GIT_OBJECT_DIRECTORY": str(objects),
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": os.pathsep.join(
                str((path / "objects").resolve()) for path in borrowed
            ),
        }
        git.run(["read-tree", commit], git_dir=git_dir, env=env)
        put_grafts(git_dir, env, grafts)
        yield env


def put_grafts(git_dir: Path, env: dict[str, str], grafts: Sequence[Graft]) -> None:
    """In the index ``env`` names, each graft's tree at its path in place of its gitlink."""
    for graft in grafts:
        # Mode 0 removes the gitlink (index-info needs no work tree).
        zero = "0" * 40
        git.run(
            ["update-index", "--index-info"],
            git_dir=git_dir,
            env=env,
            input=f"0 {zero}\t{graft.path}\n".encode(),
        )
        # read-tree --prefix wants a work tree, though without -u it writes none.
        with tempfile.TemporaryDirectory(prefix="forge-no-work-tree-") as empty:
            git.run(
                ["read-tree", f"--prefix={graft.path}/", f"{graft.commit}^{{tree}}"],
                git_dir=git_dir,
                env={**env, "GIT_WORK_TREE": empty},
            )


def check_series(
    git_dir: Path, commit: str, patches: tuple[Path, ...], grafts: Sequence[Graft] = ()
) -> list[PatchResult]:
    """Apply ``patches`` in order to ``commit``'s tree in a scratch index; one result per patch."""
    with scratch_index(git_dir, commit, grafts) as env:
        return [_check_one(git_dir, env, patch) for patch in patches]


def apply_series(
    git_dir: Path,
    commit: str,
    patches: tuple[Path, ...],
    tree: Path,
    reuse: Path | None = None,
    grafts: Sequence[Graft] = (),
) -> list[PatchResult]:
    """Write ``commit``'s tree with ``patches`` applied into the empty folder ``tree``.

    Patches already upstream are skipped; any conflict raises PatchError before
    a single file is written. ``reuse``, an earlier export of the project, is
    taken as the starting point when it can be: only the files whose content
    differs are written (see ``_write_from``).
    """
    with scratch_index(git_dir, commit, grafts) as env:
        results = [_check_one(git_dir, env, patch) for patch in patches]
        conflicts = [r for r in results if not r.ok]
        if conflicts:
            raise PatchError(
                "; ".join(f"{r.patch.name} does not apply: {r.detail}" for r in conflicts)
            )
        env = {**env, "GIT_WORK_TREE": str(tree)}
        git.pin_attributes(git_dir)  # checkout-index writes the commit's bytes, nothing else
        if reuse is None or not _write_from(reuse, git_dir, env, tree):
            git.run(["checkout-index", "--all", "--force"], git_dir=git_dir, env=env)
        return results


def _write_from(earlier: Path, git_dir: Path, env: dict[str, str], tree: Path) -> bool:
    """Fill ``tree`` from the ``earlier`` export, writing only what the index says differs.

    The earlier tree is hard-linked in, then compared with the index by
    content (``update-index --refresh`` hashes every file, so a hand edit is
    found too): files that differ are written anew (a new inode, so the
    earlier tree never changes), files the index lacks are removed. Unchanged
    files keep their inode and mtime, which also lets BuildKit send only the
    changed ones. False (and ``tree`` emptied) when the earlier tree cannot be
    used: the caller writes every file instead.
    """
    try:
        shutil.copytree(earlier, tree, symlinks=True, copy_function=os.link, dirs_exist_ok=True)
        # Exit status 1 only says that files need updating: the listings below tell which.
        git.run(["update-index", "-q", "--refresh"], git_dir=git_dir, env=env, check=False)
        differ = _paths(git.run(["diff-files", "--name-only", "-z"], git_dir=git_dir, env=env))
        extra = _paths(git.run(["ls-files", "--others", "-z"], git_dir=git_dir, env=env))
        for path in differ + extra:
            (tree / path).unlink(missing_ok=True)
        _remove_empty_folders(tree)
        if differ:
            git.run(
                ["checkout-index", "--force", "-z", "--stdin"],
                git_dir=git_dir,
                env=env,
                input=b"".join(os.fsencode(p) + b"\0" for p in differ),
            )
    except (OSError, git.GitError):
        shutil.rmtree(tree, ignore_errors=True)
        tree.mkdir()
        return False
    return True


def _paths(listing: subprocess.CompletedProcess[bytes]) -> list[str]:
    # File names are bytes (a latin-1 é is one byte): fsdecode keeps them exactly.
    return [os.fsdecode(p) for p in listing.stdout.split(b"\0") if p]


def _remove_empty_folders(tree: Path) -> None:
    # Bottom up, so a folder whose only content was empty folders goes too.
    for top, _, _ in os.walk(tree, topdown=False):
        if Path(top) != tree and not os.listdir(top):
            os.rmdir(top)


def _check_one(git_dir: Path, env: dict[str, str], patch: Path) -> PatchResult:
    # Fixed options so user config (apply.whitespace, diff.noprefix) cannot change the verdict.
    apply = ["-c", "apply.whitespace=nowarn", "apply", "--cached", "-p1"]
    # git apply is all-or-nothing, so applying straight away needs no separate --check.
    forward = git.run([*apply, str(patch.resolve())], git_dir=git_dir, env=env, check=False)
    if forward.returncode == 0:
        return PatchResult(patch, APPLIES)
    reverse = git.run(
        [*apply, "--check", "--reverse", str(patch.resolve())],
        git_dir=git_dir,
        env=env,
        check=False,
    )
    if reverse.returncode == 0:
        return PatchResult(patch, UPSTREAM, "reverse-applies: the change is already in the tree")
    return PatchResult(patch, CONFLICTS, _explain(patch, forward.stderr.decode(errors="replace")))


def _explain(patch: Path, stderr: str) -> str:
    """Which file and hunk failed, in the words a maintainer looks for."""
    failed = _FAILED_AT.search(stderr)
    if failed:
        path, line = failed.group(1), int(failed.group(2))
        hunk = _hunk_number(patch, path, line)
        where = f"hunk #{hunk} (@@ -{line} @@)" if hunk else f"the hunk at line {line}"
        return f"{path}: {where} does not apply"
    missing = _NOT_IN_INDEX.search(stderr)
    if missing:
        return f"{missing.group(1)}: the file does not exist in the tree"
    return git.last_words(stderr)


def _hunk_number(patch: Path, path: str, line: int) -> int | None:
    try:
        patch_set = PatchSet(patch.read_text(encoding="utf-8", errors="replace"))
    except UnidiffParseError:
        return None
    for patched_file in patch_set:
        if patched_file.path == path:
            for number, hunk in enumerate(patched_file, start=1):
                if hunk.source_start == line:
                    return number
    return None
