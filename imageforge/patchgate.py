"""The patch gate: every series under patches/ checked against its pinned ref."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from imageforge.manifest import Manifest
from imageforge.matrix import format_table
from imageforge.mirrors import mirror_for
from imageforge.patchcheck import PatchResult, check_series
from imageforge.patchlint import require_clean, touched_paths
from imageforge.projects import source_spec
from imageforge.series import Series, discover
from imageforge.sources import resolve


@dataclass(frozen=True)
class SeriesReport:
    series: Series
    ref: str
    commit: str
    results: tuple[PatchResult, ...]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)


def check_patches(
    manifest: Manifest,
    cache: Path,
    *,
    releases: tuple[str, ...] = (),
    projects: tuple[str, ...] = (),
    offline: bool = False,
) -> list[SeriesReport]:
    selected = [
        series
        for series in discover(manifest)
        if (not releases or series.release in releases)
        and (not projects or series.project in projects)
    ]
    # Damaged or hostile patch files are refused before git sees them.
    require_clean(selected)
    reports = []
    for series in selected:
        spec = source_spec(manifest, series.release, series.project, cache, offline=offline)
        commit = resolve(spec, cache, offline=offline)
        mirror = mirror_for(spec.repo, cache)
        if not offline:
            mirror.prefetch_paths(commit, touched_paths(series.patches))
        results = check_series(mirror.path, commit, series.patches)
        reports.append(SeriesReport(series, spec.ref, commit, tuple(results)))
    return reports


def report_table(reports: list[SeriesReport]) -> str:
    rows = [["RELEASE", "PROJECT", "REF", "PATCH", "RESULT"]]
    for report in reports:
        for result in report.results:
            detail = f"{result.status}: {result.detail}" if result.detail else result.status
            rows.append(
                [
                    report.series.release,
                    report.series.project,
                    report.ref,
                    result.patch.name,
                    detail,
                ]
            )
    if len(rows) == 1:
        return "no patch series found under patches/"
    return format_table(rows)
