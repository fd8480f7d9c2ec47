"""A project's git submodules, exported in place from the mirrors of their own repositories.

OVN embeds Open vSwitch as the submodule ``ovs`` and builds against exactly
the commit its gitlink pins (v24.03.4 pins OVS v3.3.2). The export takes
that tree from the mirror of the submodule's repository (the URL in
.gitmodules; when releases.yaml names the same repository, the project's own
URL, so OVS is mirrored once) and grafts it into the scratch index at the
submodule's path: the checkout, the patches (a patch may touch ``ovs/...``)
and the tree digest then see one tree, as a recursive clone would. Only that
commit is fetched; nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from imageforge.context import Forge
from imageforge.errors import ForgeError
from imageforge.host import git
from imageforge.upstream.mirrors import Mirror, mirror_for

GITMODULES = ".gitmodules"


@dataclass(frozen=True)
class Graft:
    """A submodule in place: its path, its repository and mirror, the commit its gitlink pins."""

    path: str
    repo: str
    mirror: Mirror
    commit: str

    def describe(self) -> str:
        return f"{self.path} {self.commit} {self.repo}"


def grafts_of(forge: Forge, mirror: Mirror, commit: str, name: str) -> tuple[Graft, ...]:
    """The submodules of ``commit`` (none without .gitmodules), each resolved in its mirror."""
    listed = git.text(["ls-tree", commit, "--", GITMODULES], git_dir=mirror.path)
    if not listed:
        return ()
    mirror.prefetch_paths(commit, [GITMODULES])
    config = git.run(
        [
            "config",
            "--blob",
            f"{commit}:{GITMODULES}",
            "--get-regexp",
            r"^submodule\..*\.(path|url)$",
        ],
        git_dir=mirror.path,
        check=False,
    ).stdout.decode()
    paths: dict[str, str] = {}
    urls: dict[str, str] = {}
    for line in config.splitlines():
        key, _, value = line.partition(" ")
        section, _, field = key.rpartition(".")
        (paths if field == "path" else urls)[section] = value.strip()
    found = []
    for section, path in sorted(paths.items()):
        entry = git.text(["ls-tree", commit, "--", path], git_dir=mirror.path).split()
        if len(entry) < 3 or entry[1] != "commit":
            continue  # .gitmodules names a path that is no gitlink at this commit
        url = _known_url(forge, urls.get(section, ""))
        if not url:
            raise ForgeError(f"{name}: {GITMODULES}: submodule {path} has no url")
        handle = mirror_for(
            url, forge.cache, blobless=not forge.full_mirrors, offline=forge.offline
        )
        try:
            sha = handle.resolve(entry[2])
        except ForgeError as err:
            raise type(err)(f"{name}: submodule {path} at {entry[2][:12]} ({url}): {err}") from err
        found.append(Graft(path, url, handle, sha))
    return tuple(found)


def _known_url(forge: Forge, url: str) -> str:
    """releases.yaml's URL for the same repository (one mirror for both), else ``url``."""
    wanted = _normal(url)
    for release in forge.manifest.releases:
        repos = [s.repo for s in release.services] + [lib.repo for lib in release.libraries]
        for repo in repos:
            if _normal(repo) == wanted:
                return repo
    return url


def _normal(url: str) -> str:
    return url.strip().rstrip("/").removesuffix(".git").lower()


def prefetch(grafts: tuple[Graft, ...], log: Callable[[str], None] | None = None) -> None:
    """Every blob of every grafted tree (a blobless mirror fetches them in one batch each)."""
    for graft in grafts:
        graft.mirror.prefetch_blobs(graft.commit)
