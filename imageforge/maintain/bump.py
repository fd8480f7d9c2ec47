"""``inv bump``: move each pinned ref to the newest upstream point of its stable branch.

What Renovate does, locally: a service (or patched library) pinned to a tag
moves to the newest release tag of the same major version on its release's
stable branch; a ref pinned to a full SHA (and the requirements ref) moves to
the head of the stable branch; a ref that names a branch already floats and
is left alone. releases.yaml is rewritten in place (comments and layout
kept), and every moved project's patch series is checked against its new ref.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from imageforge.config.edit import set_scalar
from imageforge.config.manifest import Pair
from imageforge.context import Forge
from imageforge.host import git
from imageforge.patches.apply import CONFLICTS, LANDED, UPSTREAM
from imageforge.patches.gate import check_at
from imageforge.patches.series import series_for
from imageforge.present import format_table
from imageforge.upstream.mirrors import OfflineError, RefError
from imageforge.upstream.pinned import pin


class Outcome(enum.Enum):
    """The patch check of a moved ref."""

    NO_PATCHES = "no patches"
    APPLIES = "applies"
    CONFLICTS = "conflicts"


@dataclass(frozen=True)
class BumpCheck:
    outcome: Outcome
    detail: str = ""

    def describe(self) -> str:
        return f"{self.outcome.value}: {self.detail}" if self.detail else self.outcome.value


@dataclass(frozen=True)
class Bump:
    release: str
    project: str
    key_path: tuple[str, ...]
    old: str
    new: str
    check: BumpCheck | None = None  # None: not moved, or not a patchable project
    note: str = ""  # why a ref stays where it is, when it is not simply up to date

    @property
    def moved(self) -> bool:
        return self.old != self.new

    @property
    def broken(self) -> bool:
        return self.check is not None and self.check.outcome == Outcome.CONFLICTS


def plan(
    forge: Forge, *, releases: tuple[str, ...] = (), services: tuple[str, ...] = ()
) -> list[Bump]:
    """Where every selected ref would move (or stay), with the patch check on the new refs."""
    forge.manifest.require_projects(releases, services)
    bumps = []
    for release in forge.manifest.releases:
        if releases and release.name not in releases:
            continue
        entries: list[tuple[str, str, str, tuple[str, ...]]] = []
        if not services:
            entries.append(
                (
                    "requirements",
                    release.requirements.repo,
                    release.requirements.ref,
                    ("releases", release.name, "requirements", "ref"),
                )
            )
        for service in release.services:
            if not service.from_git or service.source:
                continue  # no ref of its own: the distribution's, or its source service's
            if not services or service.name in services:
                entries.append(
                    (
                        service.name,
                        service.repo,
                        service.ref,
                        ("releases", release.name, "services", service.name, "ref"),
                    )
                )
        for library in release.libraries:
            if library.ref and (not services or library.name in services):
                entries.append(
                    (
                        library.name,
                        library.repo,
                        library.ref,
                        library.ref_path(release.name),
                    )
                )
        for project, repo, ref, key_path in entries:
            branch = release.branch
            pair = Pair(release.name, project)
            if not _has_branch(forge, pair, repo, ref, branch):
                # Branchless (tempest and its plugins release from master, one tag
                # a cycle): there is no stable branch to follow; the pin stays.
                note = f"branchless: no {branch}; its cycle's tag is moved by hand"
                bumps.append(Bump(release.name, project, key_path, ref, ref, note=note))
                continue
            new = newest(forge, pair, repo, ref)
            check = None
            if new != ref and project != "requirements":
                check = _check(forge, pair, repo, new)
            bumps.append(Bump(release.name, project, key_path, ref, new, check))
    return bumps


def _has_branch(forge: Forge, pair: Pair, repo: str, ref: str, branch: str) -> bool:
    """Whether ``repo`` has ``branch`` (the mirror is fetched when the pin needs it)."""
    pinned = pin(forge, pair, repo, ref)  # makes or updates the mirror as needed
    if (
        git.run(
            ["show-ref", "--verify", "--quiet", f"refs/heads/{branch}"],
            git_dir=pinned.mirror.path,
            check=False,
        ).returncode
        == 0
    ):
        return True
    # The mirror may predate the branch: resolving it fetches (unless offline).
    try:
        pin(forge, pair, repo, branch)
    except OfflineError:
        raise
    except RefError:
        return False
    return True


def newest(forge: Forge, pair: Pair, repo: str, ref: str) -> str:
    """The ref ``ref`` should move to, following the release's stable branch."""
    branch = forge.manifest.release(pair.release).branch
    # Resolving the branch fetches: new tags and the branch's new head arrive here.
    head = pin(forge, pair, repo, branch)
    if git.is_full_sha(ref):
        return head.commit
    mirror = head.mirror
    if git.text(["tag", "--list", ref], git_dir=mirror.path) != ref:
        return ref  # a branch: it floats already
    try:
        current = Version(ref)
    except InvalidVersion:
        return ref
    candidates = [current]
    merged = git.text(["tag", "--merged", f"refs/heads/{branch}"], git_dir=mirror.path).split()
    for tag in merged:
        try:
            version = Version(tag)
        except InvalidVersion:
            continue
        # A point release of the same series: same major, not a pre-release.
        if version.major == current.major and not version.is_prerelease and version > current:
            candidates.append(version)
    best = max(candidates)
    return ref if best == current else str(best)


def _check(forge: Forge, pair: Pair, repo: str, ref: str) -> BumpCheck:
    series = series_for(forge.manifest, pair)
    if series is None or not series.patches:
        return BumpCheck(Outcome.NO_PATCHES)
    report = check_at(pin(forge, pair, repo, ref), series)
    conflicts = [r for r in report.results if r.status == CONFLICTS]
    if conflicts:
        first = conflicts[0]
        return BumpCheck(Outcome.CONFLICTS, f"{first.patch.name}: {first.detail}")
    landed = sum(r.status in (UPSTREAM, LANDED) for r in report.results)
    applies = f"{len(report.results) - landed} patches apply"
    return BumpCheck(
        Outcome.APPLIES, f"{applies}, {landed} already upstream" if landed else applies
    )


def apply(forge: Forge, bumps: list[Bump]) -> int:
    """Write the moved refs into releases.yaml; return how many changed."""
    changed = 0
    for bump in bumps:
        if bump.moved:
            changed += set_scalar(forge.manifest.path, bump.key_path, bump.old, bump.new)
    return changed


def report(bumps: list[Bump]) -> str:
    rows = [["RELEASE", "PROJECT", "OLD", "NEW", "PATCH CHECK"]]
    for bump in bumps:
        new = bump.new if bump.moved else "(up to date)"
        check = bump.check.describe() if bump.check else bump.note
        rows.append([bump.release, bump.project, _short(bump.old), _short(new), check])
    return format_table(rows)


def _short(ref: str) -> str:
    return ref[:12] if git.is_full_sha(ref) else ref


def run(
    forge: Forge,
    *,
    releases: tuple[str, ...] = (),
    services: tuple[str, ...] = (),
    dry_run: bool = False,
) -> list[Bump]:
    bumps = plan(forge, releases=releases, services=services)
    forge.log(report(bumps))
    moved = [b for b in bumps if b.moved]
    if dry_run:
        forge.log(f"dry run: {len(moved)} refs would move; releases.yaml unchanged")
    else:
        forge.log(f"{apply(forge, bumps)} refs moved in {forge.manifest.path}")
    return bumps
