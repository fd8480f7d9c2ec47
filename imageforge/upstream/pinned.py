"""One handle for "a project at its pinned ref": where it comes from, its mirror, its commit.

Every stage that reads an upstream tree (the patch gate, exports, refresh,
edit, bump, constraints) starts from a ``Pinned``; the mirror policy
(offline, blobless, prefetching just what is read) lives here once, and a
ref is resolved once per command (the context's memo), so a branch is
fetched once, not by every stage that looks at it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from imageforge.config.manifest import Pair
from imageforge.context import Forge, silent
from imageforge.errors import ForgeError
from imageforge.host import git
from imageforge.upstream.mirrors import Mirror, OfflineError, RefError, mirror_for
from imageforge.upstream.submodules import Graft, grafts_of
from imageforge.upstream.submodules import prefetch as prefetch_grafts
from imageforge.upstream.versions import pbr_version

T = TypeVar("T")


@dataclass(frozen=True)
class Pinned:
    project: str
    release: str
    repo: str
    ref: str
    mirror: Mirror
    commit: str
    log: Callable[[str], None] = field(default=silent, compare=False, repr=False)
    # Submodules exported in place (OVN's ovs), from their own mirrors.
    grafts: tuple[Graft, ...] = ()

    @property
    def pair(self) -> Pair:
        return Pair(self.release, self.project)

    @property
    def name(self) -> str:
        """``glance (2025.2)``: how messages name it."""
        return str(self.pair)

    @property
    def git_dir(self) -> Path:
        return self.mirror.path

    def prefetch(self, paths: Iterable[str] | None = None) -> None:
        """Make the blobs of ``paths`` (None: the whole tree) present; offline, fail if absent."""
        try:
            if paths is None:
                repaired(self.mirror, self.log, lambda: self.mirror.prefetch_blobs(self.commit))
                prefetch_grafts(self.grafts, self.log)
            else:
                wanted = sorted(set(paths))
                repaired(
                    self.mirror, self.log, lambda: self.mirror.prefetch_paths(self.commit, wanted)
                )
        except RefError as err:
            raise type(err)(f"{self.name}: {err}") from err

    def show(self, path: str) -> str:
        """The text of ``path`` at the pinned commit."""
        self.prefetch([path])
        return git.text_raw(["show", f"{self.commit}:{path}"], git_dir=self.git_dir)

    def version(self) -> str:
        """The version pbr computes for the pinned commit."""
        if self.is_python:
            plain = pbr_version(self.git_dir, self.commit)
            if not plain.startswith("0.0.1.dev"):
                return plain
            # No plain release tag reachable: a project tagging vX.Y.Z
            # (nova-scheduler-filters v0.1.0), whose v pbr drops too.
            return pbr_version(self.git_dir, self.commit, prefix="v")
        # C projects (OVS, OVN, libvirt) tag vX.Y.Z; the version drops the v.
        return pbr_version(self.git_dir, self.commit, prefix="v")

    @property
    def is_python(self) -> bool:
        """A Python package (setup.cfg or pyproject.toml at the commit), not a C source tree."""
        # ls-tree reads trees only: no blob is fetched from a blobless mirror.
        listed = git.text(
            [
                "ls-tree",
                "--name-only",
                self.commit,
                "--",
                "setup.cfg",
                "pyproject.toml",
                "setup.py",
            ],
            git_dir=self.git_dir,
        )
        return bool(listed)

    def committed(self) -> str:
        """The commit's date (ISO 8601)."""
        return git.text(["show", "-s", "--format=%cI", self.commit], git_dir=self.git_dir)


def mirror(forge: Forge, repo: str) -> Mirror:
    """The mirror of ``repo`` under the forge's cache, with its offline and blobless policy."""
    return mirror_for(repo, forge.cache, blobless=not forge.full_mirrors, offline=forge.offline)


def pin(forge: Forge, pair: Pair, repo: str, ref: str) -> Pinned:
    """``pair``'s project at ``ref``; an error names the project, release, repo and ref."""
    handle = mirror(forge, repo)
    key = ("resolved", repo, ref, forge.offline)
    commit = forge.memo.get(key)
    if commit is None:
        try:
            commit = repaired(handle, forge.log, lambda: handle.resolve(ref))
        except OfflineError as err:
            raise OfflineError(f"{pair}: {repo} at {ref!r}: {err}") from err
        except ForgeError as err:
            raise RefError(f"{pair}: {repo} at {ref!r}: {err}") from err
        forge.memo[key] = commit
    grafts_key = ("grafts", repo, commit, forge.offline)
    if grafts_key not in forge.memo:
        forge.memo[grafts_key] = grafts_of(forge, handle, commit, str(pair))
    return Pinned(
        pair.project, pair.release, repo, ref, handle, commit, forge.log, forge.memo[grafts_key]
    )


def repaired(mirror: Mirror, log: Callable[[str], None], action: Callable[[], T]) -> T:
    """``action()``; if it finds the mirror damaged, move it aside, clone it again, retry once."""
    try:
        return action()
    except git.DamagedRepositoryError as err:
        if err.git_dir.resolve() != mirror.path.resolve():
            raise
        aside = mirror.repair()
        log(
            f"{mirror.url}: the mirror was damaged ({err.reason}); moved aside to {aside}, cloned again"
        )
    return action()
