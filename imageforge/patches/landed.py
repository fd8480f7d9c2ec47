"""Evidence that a patch landed upstream even when upstream has since edited the same lines.

A backport that merged and was later touched again (``LOG.warn`` became
``LOG.warning``) neither applies nor reverse-applies. The upstream history
still shows it, in three ways, most certain first:

* the patch names a commit it was cherry-picked from, and that commit is in
  the target's history;
* an upstream commit carries the patch's Gerrit ``Change-Id`` (OpenStack
  backports keep the Change-Id of the original review);
* an upstream commit has the same ``git patch-id --stable``.

The search reads the history of the files the patch touches only (a few
hundred commits at most), so it is fast on nova too.

Weaker evidence is only a lead (``find_same_bug``): an upstream commit on the
same files that refers to the same Launchpad bug may be upstream's own fix of
what the patch fixes, written differently (a real neutron backport conflicted
with upstream's fix of its bug; its maintainers dropped it). The forge says so
next to the patch and leaves the decision to the maintainer.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from imageforge.host import git
from imageforge.patches.lint import touched_paths
from imageforge.patches.patchfile import PatchFile, bug_numbers, read_patch
from imageforge.upstream.mirrors import Mirror
from imageforge.upstream.submodules import Graft

# How far back along the touched files' history to look.
HISTORY_LIMIT = 300
_CHANGE_ID = re.compile(r"^Change-Id:\s*(I[0-9a-f]{8,40})\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Landing:
    commit: str
    subject: str
    change_id: str = ""
    evidence: str = ""  # "Change-Id", "cherry picked from", "patch-id"
    # The submodule it landed in (OVN's ovs), when it is a patch to one.
    submodule: str = ""

    def describe(self) -> str:
        where = f" in submodule {self.submodule}" if self.submodule else ""
        said = f'landed upstream{where} as {self.commit[:12]} "{self.subject}"'
        if self.change_id:
            return f"{said} (Change-Id {self.change_id})"
        return f"{said} ({self.evidence})"


@dataclass(frozen=True)
class Lead:
    """An upstream commit on the patch's files that refers to one of its bugs."""

    commit: str
    subject: str
    bug: str

    def describe(self) -> str:
        return (
            f'upstream {self.commit[:12]} "{self.subject}" refers to the same bug '
            f"(#{self.bug}): the patch may be fixed there"
        )


def find_same_bug(
    mirror: Mirror, tip: str, patch: PatchFile, *, since: str | None = None
) -> Lead | None:
    """The newest commit of ``tip``'s history (after ``since``) on the patch's files naming its bug."""
    wanted = set(patch.bugs)
    if not wanted:
        return None
    leads = []
    for commit, body in _history(mirror.path, tip, since, touched_paths((patch.path,))):
        shared = [bug for bug in bug_numbers(body) if bug in wanted]
        if shared:
            closes = [bug for bug in bug_numbers(body, closing=True) if bug in wanted]
            leads.append((not closes, Lead(commit, body.split("\n", 1)[0].strip(), shared[0])))
    # The newest commit that closes the bug, else the newest that mentions it.
    return min(leads, key=lambda lead: lead[0])[1] if leads else None


def find_landing(
    mirror: Mirror, tip: str, patch: PatchFile, *, since: str | None = None
) -> Landing | None:
    """How ``patch`` landed in ``tip``'s history (after ``since``, when given), or None."""
    git_dir = mirror.path
    for sha in patch.cherry_picked_from:
        found = git.run(
            ["rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}"], git_dir=git_dir, check=False
        )
        commit = found.stdout.decode().strip()
        if found.returncode == 0 and _is_ancestor(git_dir, commit, tip):
            return _landing(git_dir, commit, "cherry picked from")
    paths = touched_paths((patch.path,))
    history = _history(git_dir, tip, since, paths)
    wanted = set(patch.change_ids)
    for commit, body in history:
        if wanted & set(_CHANGE_ID.findall(body)):
            return _landing(git_dir, commit, "Change-Id")
    # patch-ids need the files' contents; a blobless mirror offline does not have them.
    if history and not (mirror.offline and mirror.blobless):
        return _by_patch_id(mirror, tip, since, paths, patch)
    return None


def find_landing_in_submodule(
    patch: PatchFile, old: Sequence[Graft], new: Sequence[Graft]
) -> Landing | None:
    """How a patch to a submodule's files (``ovs/...``) landed in the submodule's own history.

    OVN takes OVS fixes by moving its gitlink, so a backport under ``ovs/``
    lands in OVS's history between the old and the new submodule commit, not
    in OVN's. The patch is read with the submodule's path taken off its file
    names, then looked for there with the same evidence as any patch.
    """
    paths = touched_paths((patch.path,))
    before = {graft.path: graft.commit for graft in old}
    for graft in new:
        prefix = f"{graft.path}/"
        if not paths or not all(p.startswith(prefix) for p in paths):
            continue
        with tempfile.TemporaryDirectory(prefix="forge-submodule-patch-") as scratch:
            inner = Path(scratch) / patch.path.name
            inner.write_bytes(_strip_prefix(patch.raw, prefix))
            found = find_landing(
                graft.mirror, graft.commit, read_patch(inner), since=before.get(graft.path)
            )
        if found:
            return replace(found, submodule=graft.path)
    return None


def _strip_prefix(raw: bytes, prefix: str) -> bytes:
    """A patch's file names without ``prefix`` (a/ovs/lib/x.c becomes a/lib/x.c)."""
    lines = []
    wanted = prefix.encode()
    for line in raw.splitlines(keepends=True):
        if line.startswith((b"diff --git ", b"--- a/", b"+++ b/", b"rename ", b"copy ")):
            line = line.replace(b" a/" + wanted, b" a/").replace(b" b/" + wanted, b" b/")
            line = line.replace(b"--- a/" + wanted, b"--- a/").replace(
                b"+++ b/" + wanted, b"+++ b/"
            )
            line = line.replace(b"from " + wanted, b"from ").replace(b"to " + wanted, b"to ")
        lines.append(line)
    return b"".join(lines)


def _history(git_dir: Path, tip: str, since: str | None, paths: list[str]) -> list[tuple[str, str]]:
    if not paths:
        return []
    listed = git.text_raw(
        [
            "log",
            f"-n{HISTORY_LIMIT}",
            "--format=%H%x00%B%x1e",
            tip,
            *([f"^{since}"] if since else []),
            "--",
            *paths,
        ],
        git_dir=git_dir,
    )
    entries = [e.strip("\n") for e in listed.split("\x1e") if e.strip()]
    return [tuple(e.split("\0", 1)) for e in entries]  # type: ignore[misc]


def _by_patch_id(
    mirror: Mirror, tip: str, since: str | None, paths: list[str], patch: PatchFile
) -> Landing | None:
    ours = _patch_ids(patch.raw)
    if not ours:
        return None
    span = [tip, *([f"^{since}"] if since else []), "--", *paths]
    # The blobs those diffs need, fetched in one batch rather than one by one.
    raw = git.text(
        ["log", f"-n{HISTORY_LIMIT}", "--format=", "--raw", "--no-abbrev", *span],
        git_dir=mirror.path,
    )
    blobs = {field for line in raw.splitlines() for field in line.split()[2:4]}
    mirror.fetch_objects(sorted(b for b in blobs if b.strip("0")))
    shown = git.run(
        ["log", f"-n{HISTORY_LIMIT}", "-p", "--format=commit %H", *span], git_dir=mirror.path
    ).stdout
    for line in git.text(["patch-id", "--stable"], input=shown).splitlines():
        patch_id, commit = line.split()
        if patch_id in ours:
            return _landing(mirror.path, commit, "patch-id")
    return None


def _patch_ids(diff: bytes) -> set[str]:
    return {line.split()[0] for line in git.text(["patch-id", "--stable"], input=diff).splitlines()}


def _landing(git_dir: Path, commit: str, evidence: str) -> Landing:
    body = git.text_raw(["log", "-1", "--format=%s%x00%B", commit], git_dir=git_dir)
    subject, message = body.split("\0", 1)
    change_ids = _CHANGE_ID.findall(message)
    return Landing(commit, subject.strip(), change_ids[0] if change_ids else "", evidence)


def _is_ancestor(git_dir: Path, commit: str, tip: str) -> bool:
    proc = git.run(["merge-base", "--is-ancestor", commit, tip], git_dir=git_dir, check=False)
    return proc.returncode == 0
