"""``inv bump``: move each pinned ref to the newest upstream point of its stable branch.

What Renovate does, locally: a service (or patched library) pinned to a tag
moves to the newest release tag of the same major version on its release's
stable branch; a ref pinned to a full SHA (and the requirements ref) moves to
the head of the stable branch; a ref that names a branch already floats and
is left alone. releases.yaml is rewritten in place (comments and layout
kept), and every moved project's patch series is checked against its new ref.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from imageforge import git
from imageforge.manifest import Manifest
from imageforge.manifestedit import set_scalar
from imageforge.matrix import format_table
from imageforge.mirrors import mirror_for
from imageforge.patchcheck import CONFLICTS, UPSTREAM, check_series
from imageforge.patchlint import touched_paths
from imageforge.series import series_for
from imageforge.sources import SourceSpec, resolve


@dataclass(frozen=True)
class Bump:
    release: str
    project: str
    key_path: tuple[str, ...]
    old: str
    new: str
    check: str = ""

    @property
    def moved(self) -> bool:
        return self.old != self.new

    @property
    def broken(self) -> bool:
        return self.check.startswith(CONFLICTS)


def plan(
    manifest: Manifest,
    cache: Path,
    *,
    releases: tuple[str, ...] = (),
    services: tuple[str, ...] = (),
) -> list[Bump]:
    """Where every selected ref would move (or stay), with the patch check on the new refs."""
    bumps = []
    for release in manifest.releases:
        if releases and release.name not in releases:
            continue
        branch = release.branch
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
                        ("releases", release.name, "libraries", library.name, "ref"),
                    )
                )
        for project, repo, ref, key_path in entries:
            new = newest(repo, ref, branch, cache)
            check = ""
            if new != ref and project != "requirements":
                check = _check(manifest, release.name, project, repo, new, cache)
            bumps.append(Bump(release.name, project, key_path, ref, new, check))
    return bumps


def newest(repo: str, ref: str, branch: str, cache: Path) -> str:
    """The ref ``ref`` should move to, following ``branch``."""
    mirror = mirror_for(repo, cache)
    mirror.resolve(branch)  # fetches: new tags and the branch's new head arrive here
    if git.is_full_sha(ref):
        return mirror.resolve(branch, offline=True)
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


def _check(manifest: Manifest, release: str, project: str, repo: str, ref: str, cache: Path) -> str:
    series = series_for(manifest, project, release)
    if series is None or not series.patches:
        return "no patches"
    commit = resolve(SourceSpec(project, release, repo, ref), cache)
    mirror = mirror_for(repo, cache)
    mirror.prefetch_paths(commit, touched_paths(series.patches))
    results = check_series(mirror.path, commit, series.patches)
    conflicts = [r for r in results if r.status == CONFLICTS]
    if conflicts:
        first = conflicts[0]
        return f"{CONFLICTS}: {first.patch.name}: {first.detail}"
    landed = [r for r in results if r.status == UPSTREAM]
    applies = f"{len(results) - len(landed)} patches apply"
    return f"{applies}, {len(landed)} already upstream" if landed else applies


def apply(manifest: Manifest, bumps: list[Bump]) -> int:
    """Write the moved refs into releases.yaml; return how many changed."""
    changed = 0
    for bump in bumps:
        if bump.moved:
            changed += set_scalar(manifest.path, bump.key_path, bump.old, bump.new)
    return changed


def report(bumps: list[Bump]) -> str:
    rows = [["RELEASE", "PROJECT", "OLD", "NEW", "PATCH CHECK"]]
    for bump in bumps:
        new = bump.new if bump.moved else "(up to date)"
        rows.append([bump.release, bump.project, _short(bump.old), _short(new), bump.check])
    return format_table(rows)


def _short(ref: str) -> str:
    return ref[:12] if git.is_full_sha(ref) else ref


def run(
    manifest: Manifest,
    cache: Path,
    *,
    releases: tuple[str, ...] = (),
    services: tuple[str, ...] = (),
    dry_run: bool = False,
    log: Callable[[str], None] = print,
) -> list[Bump]:
    bumps = plan(manifest, cache, releases=releases, services=services)
    log(report(bumps))
    moved = [b for b in bumps if b.moved]
    if dry_run:
        log(f"dry run: {len(moved)} refs would move; releases.yaml unchanged")
    else:
        log(f"{apply(manifest, bumps)} refs moved in {manifest.path}")
    return bumps
