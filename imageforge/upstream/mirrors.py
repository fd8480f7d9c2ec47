"""Bare mirrors of upstream repositories, one per URL, cached per machine.

A mirror is a bare, blobless (partial) clone by default: commits and trees
arrive up front, blobs only for the trees that are exported. Refs resolve to
commits; a tag or full SHA already present needs no network. Every change to
a mirror happens under a file lock, so concurrent runs cannot corrupt it.
git's own ``url.<base>.insteadOf`` redirects the URLs to local mirrors.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from imageforge.errors import ForgeError
from imageforge.host import git
from imageforge.host.files import file_lock

# Only branches and tags: gerrit hosts also serve refs/changes/*, which would
# multiply the size of a mirror for nothing.
FETCH_REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")


class RefError(ForgeError):
    """A ref cannot be resolved: missing, ambiguous, abbreviated or unreachable."""


class OfflineError(RefError):
    """FORGE_OFFLINE forbids the fetch or clone that would be needed."""


@dataclass(frozen=True)
class Mirror:
    url: str
    path: Path
    blobless: bool = True
    # Never clone or fetch: use the mirror as it is (FORGE_OFFLINE).
    offline: bool = False

    @property
    def lock_path(self) -> Path:
        return self.path.with_suffix(".lock")

    def ensure(self) -> None:
        """Create the mirror if it does not exist yet (under the lock)."""
        with file_lock(self.lock_path):
            self._ensure_locked()

    def repair(self) -> Path:
        """Move a damaged mirror aside and clone it again; returns where the damaged one lies.

        The damaged copy is kept, not deleted: it may hold the only evidence of
        what went wrong, and removing 1 GB is the user's call.
        """
        with file_lock(self.lock_path):
            if self.offline:
                raise OfflineError(
                    f"offline: the mirror {self.path} of {self.url} is damaged and cannot be "
                    f"cloned again offline; move it aside (mv {self.path} {self.path}.damaged) "
                    "and run once without FORGE_OFFLINE"
                )
            aside = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d%H%M%S')}")
            self.path.rename(aside)
            self._ensure_locked()
        return aside

    def resolve(self, ref: str) -> str:
        """The commit SHA of ``ref`` (branch, tag or full SHA), fetching only when needed."""
        offline = self.offline
        # An abbreviated SHA may be ambiguous tomorrow; pins must be exact.
        if git.looks_like_abbreviated_sha(ref) and not self._has_named_ref(ref):
            raise RefError(
                f"{ref!r} looks like an abbreviated commit SHA; give the full 40-character SHA"
            )
        with file_lock(self.lock_path):
            self._ensure_locked()
            if git.is_full_sha(ref):
                if not self._has_commit(ref) and not offline:
                    self._fetch()
                if not self._has_commit(ref):
                    raise RefError(f"commit {ref} is not in {self.url}{self._offline_note}")
                return ref.lower()
            # Tags are pins: once present they need no network. Branches move.
            tag, branch = self._named(ref)
            if tag is None and not offline:
                self._fetch()
                tag, branch = self._named(ref)
            if tag and branch and tag != branch:
                raise RefError(
                    f"{ref!r} is both a tag and a branch in {self.url}; use refs/tags/..."
                )
            if tag or branch:
                return tag or branch  # type: ignore[return-value]
            raise RefError(f"no branch or tag {ref!r} in {self.url}{self._offline_note}")

    @property
    def _offline_note(self) -> str:
        return " (offline: the mirror was not fetched)" if self.offline else ""

    def resolve_head(self, branch: str) -> str:
        """The head of ``branch`` as the mirror has it now (after a resolve that fetched)."""
        _tag, head = self._named(branch)
        if head is None:
            raise RefError(f"no branch {branch!r} in {self.url}")
        return head

    def prefetch_blobs(self, commit: str) -> None:
        """Fetch, in one batch, the blobs of ``commit``'s tree that a blobless mirror lacks.

        Without this, exporting from a partial clone fetches missing blobs one
        request at a time, which takes minutes on a repository like nova.
        """
        if not self.blobless:
            return
        with file_lock(self.lock_path):
            self._fetch_objects(self._missing_blobs(commit), f"the tree of {commit[:12]}")

    def _missing_blobs(self, commit: str) -> list[str]:
        # Walking the tree reports missing blobs without fetching them; naming
        # a missing blob directly would make git fetch it on its own.
        walked = git.text(
            ["rev-list", "--objects", "--missing=print", f"{commit}^{{tree}}"], git_dir=self.path
        )
        return [line[1:] for line in walked.splitlines() if line.startswith("?")]

    def fetch_objects(self, oids: list[str]) -> None:
        """Fetch objects by id in one batch (a blobless mirror lacks blobs of old commits).

        Objects already here are not sent again: fetch leaves out what is local.
        """
        if self.blobless and oids:
            with file_lock(self.lock_path):
                self._fetch_objects(oids, f"{len(oids)} objects")

    def _fetch_objects(self, missing: list[str], what: str) -> None:
        if missing and self.offline:
            raise OfflineError(
                f"offline: {len(missing)} files of {what} are not in the mirror {self.path} "
                f"of {self.url} (run once without FORGE_OFFLINE to fetch them)"
            )
        if missing:
            git.run(
                [
                    "-c",
                    "fetch.negotiationAlgorithm=noop",
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    "--no-write-fetch-head",
                    "--recurse-submodules=no",
                    "--filter=blob:none",
                    "--stdin",
                    "origin",
                ],
                git_dir=self.path,
                input="\n".join(missing).encode() + b"\n",
            )

    def prefetch_paths(self, commit: str, paths: list[str]) -> None:
        """Fetch, in one batch, the blobs of ``paths`` at ``commit`` that a blobless mirror lacks.

        A check reads only the files its patches touch; fetching them into the
        mirror once means later checks of the same commit need no network.
        """
        if not self.blobless or not paths:
            return
        # Blobs never leave a mirror, so paths fetched for a commit once are
        # noted and the (tree-walking) look-up is skipped the next time.
        record = self.path / "forge-present" / commit
        wanted_paths = set(paths)
        if record.is_file() and wanted_paths <= set(record.read_text().splitlines()):
            return
        listed = git.text(
            ["ls-tree", "--full-tree", commit, "--", *sorted(set(paths))], git_dir=self.path
        )
        blobs = [line.split()[2] for line in listed.splitlines() if line.split()[1] == "blob"]
        missing = set(self._missing_blobs(commit))
        wanted = [blob for blob in blobs if blob in missing]
        with file_lock(self.lock_path):
            self._fetch_objects(wanted, f"{commit[:12]}")
            record.parent.mkdir(exist_ok=True)
            known = set(record.read_text().splitlines()) if record.is_file() else set()
            record.write_text("".join(f"{p}\n" for p in sorted(known | wanted_paths)))

    # -- under the lock ----------------------------------------------------------

    def _ensure_locked(self) -> None:
        if (self.path / "HEAD").is_file():
            return
        if self.offline:
            raise OfflineError(
                f"offline: no mirror of {self.url} in {self.path.parent} "
                "(FORGE_OFFLINE never clones; run once online to create it)"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # A clone killed outright (kill -9) leaves its temporary folder; under
        # this lock no other clone of this mirror runs, so any found is orphaned.
        for stale in self.path.parent.glob(f".{self.path.name}-*"):
            shutil.rmtree(stale, ignore_errors=True)
        # Clone beside the final path and rename: an interrupted clone leaves a
        # temporary folder, never a half mirror that looks usable.
        work = Path(tempfile.mkdtemp(prefix=f".{self.path.name}-", dir=self.path.parent))
        try:
            partial = work / "repo.git"
            args = ["clone", "--quiet", "--bare", "--no-tags"]
            if self.blobless:
                args.append("--filter=blob:none")
            try:
                git.run([*args, "--", self.url, str(partial)])  # a URL is never an option
            except git.GitError as err:
                raise RefError(f"cannot clone {self.url}: {git.last_words(err.stderr)}") from err
            git.run(["config", "--unset-all", "remote.origin.fetch"], git_dir=partial, check=False)
            for refspec in FETCH_REFSPECS:
                git.run(["config", "--add", "remote.origin.fetch", refspec], git_dir=partial)
            git.run(["config", "gc.auto", "0"], git_dir=partial)
            self._fetch(partial)
            partial.rename(self.path)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _fetch(self, path: Path | None = None) -> None:
        try:
            git.run(["fetch", "--quiet", "--prune", "--force", "origin"], git_dir=path or self.path)
        except git.GitError as err:
            raise RefError(f"cannot fetch {self.url}: {git.last_words(err.stderr)}") from err

    def _peel(self, full_ref: str) -> str | None:
        proc = git.run(
            ["rev-parse", "--verify", "--quiet", f"{full_ref}^{{commit}}"],
            git_dir=self.path,
            check=False,
        )
        return proc.stdout.decode().strip() or None if proc.returncode == 0 else None

    def _named(self, ref: str) -> tuple[str | None, str | None]:
        """The commits of tag ``ref`` and branch ``ref`` (None where absent), in one git call."""
        listed = git.text(
            [
                "for-each-ref",
                "--format=%(refname) %(objectname) %(*objectname)",
                f"refs/tags/{ref}",
                f"refs/heads/{ref}",
            ],
            git_dir=self.path,
        )
        found: dict[str, str] = {}
        for line in listed.splitlines():
            name, obj, peeled = [*line.split(" "), ""][:3]
            # An annotated tag peels to its commit; a lightweight one is the commit.
            found[name] = peeled or obj
        return found.get(f"refs/tags/{ref}"), found.get(f"refs/heads/{ref}")

    def _has_commit(self, sha: str) -> bool:
        proc = git.run(["cat-file", "-e", f"{sha}^{{commit}}"], git_dir=self.path, check=False)
        return proc.returncode == 0

    def _has_named_ref(self, ref: str) -> bool:
        return any(
            (self.path / "HEAD").is_file() and self._peel(f"refs/{kind}/{ref}")
            for kind in ("tags", "heads")
        )


def mirror_for(url: str, cache: Path, *, blobless: bool = True, offline: bool = False) -> Mirror:
    """The mirror of ``url`` in ``cache`` (blobless unless asked for a full clone)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", url.rstrip("/").rsplit("/", 1)[-1]) or "repo"
    digest = hashlib.sha256(url.encode()).hexdigest()[:12]
    kind = "blobless" if blobless else "full"
    path = cache / "git" / f"{name}-{digest}-{kind}.git"
    return Mirror(url=url, path=path, blobless=blobless, offline=offline)
