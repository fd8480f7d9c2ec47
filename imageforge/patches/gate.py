"""The patch gate: series checked against pinned commits, without a checkout.

``check_at`` is the one check: the gate (every series at its pinned ref) and
``inv bump`` (a series at a new ref) both use it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from imageforge.constraints.projects import pinned
from imageforge.context import Forge
from imageforge.patches.apply import CONFLICTS, LANDED, PatchResult, check_series
from imageforge.patches.landed import find_landing, find_same_bug
from imageforge.patches.lint import require_clean, touched_paths
from imageforge.patches.patchfile import read_patch
from imageforge.patches.series import Series, select
from imageforge.present import format_table
from imageforge.upstream.pinned import Pinned


@dataclass(frozen=True)
class SeriesReport:
    series: Series
    ref: str
    commit: str
    results: tuple[PatchResult, ...]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)


def check_at(target: Pinned, series: Series) -> SeriesReport:
    """Apply ``series`` in order to ``target``'s tree in a scratch index.

    A patch that conflicts but whose landing the upstream history shows (its
    Change-Id, the commit it was cherry-picked from, its patch-id) is reported
    as landed, not as a failure.
    """
    target.prefetch(touched_paths(series.patches))
    for graft in target.grafts:  # a patch may touch a submodule's files (ovs/...)
        graft.mirror.prefetch_blobs(graft.commit)
    results = [
        _landed_or(target, result) if result.status == CONFLICTS else result
        for result in check_series(target.git_dir, target.commit, series.patches, target.grafts)
    ]
    return SeriesReport(series, target.ref, target.commit, tuple(results))


def _landed_or(target: Pinned, result: PatchResult) -> PatchResult:
    """A conflict that landed upstream is LANDED; one whose bug upstream also fixed says so."""
    patch = read_patch(result.patch)
    landing = find_landing(target.mirror, target.commit, patch)
    if landing:
        return PatchResult(result.patch, LANDED, landing.describe())
    lead = find_same_bug(target.mirror, target.commit, patch)
    return replace(result, detail=f"{result.detail}; {lead.describe()}") if lead else result


def check_patches(
    forge: Forge, *, releases: tuple[str, ...] = (), projects: tuple[str, ...] = ()
) -> list[SeriesReport]:
    """Every selected series checked at its pinned ref (linted first)."""
    selected = select(forge.manifest, releases, projects)
    # Damaged or hostile patch files are refused before git sees them.
    require_clean(selected)
    return [check_at(pinned(forge, series.pair), series) for series in selected]


def failed_series(reports: list[SeriesReport]) -> list[str]:
    """``project/release`` of every series with a patch that does not apply."""
    return [f"{r.series.project}/{r.series.release}" for r in reports if not r.ok]


def report_table(reports: list[SeriesReport]) -> str:
    rows = [["RELEASE", "PROJECT", "REF", "PATCH", "RESULT"]]
    for report in reports:
        for result in report.results:
            rows.append(
                [
                    report.series.release,
                    report.series.project,
                    report.ref,
                    result.patch.name,
                    result.describe(),
                ]
            )
    if len(rows) == 1:
        return "no patch series found under patches/ for this selection"
    return format_table(rows)
