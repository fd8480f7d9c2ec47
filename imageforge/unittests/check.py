"""inv patches.test: a series' nearby unit tests, run with and without it, and what it changes.

Each patch selects the test modules it concerns (unittests.select); their
union runs on the patched tree and on the unpatched tree at the same ref, in
the same test image (unittests.environment). Only what the series changes
counts: tests that fail with it and pass without it, and the tests it adds
that fail. Failures the baseline has too are listed apart and fail nothing.
Both runs are cached (unittests.results), so an unchanged series answers
from disk in seconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from imageforge.config.manifest import Pair
from imageforge.constraints.projects import pinned
from imageforge.context import Forge
from imageforge.errors import ForgeError
from imageforge.host.files import under
from imageforge.patches.export import Export, export_project, export_source
from imageforge.patches.lint import touched_paths
from imageforge.patches.series import series_for
from imageforge.present import format_table
from imageforge.unittests.environment import environment_for, host_service
from imageforge.unittests.results import (
    Comparison,
    cached_run,
    compare,
    confirmed,
    last_lines,
    module_of,
)
from imageforge.unittests.runner import FAILED, PASSED, Outcome, run_tests
from imageforge.unittests.select import find_suite, selected_modules


@dataclass(frozen=True)
class PatchRow:
    patch: str
    modules: tuple[str, ...]  # the test modules it selects


@dataclass(frozen=True)
class UnitReport:
    pair: Pair
    rows: tuple[PatchRow, ...]
    modules: tuple[str, ...] | None  # what ran; None: the whole suite
    patched: dict[str, Outcome]
    baseline: dict[str, Outcome]
    comparison: Comparison
    seconds: float
    cached: bool  # both runs read from the cache

    @property
    def ok(self) -> bool:
        return self.comparison.ok


def prove_series(
    forge: Forge, pair: Pair, *, all_tests: bool = False, concurrency: int = 2
) -> UnitReport:
    """Run the tests ``pair``'s series concerns (or all) with and without the series."""
    started = time.monotonic()
    host_service(forge, pair)  # a project whose tests can run here, or one line
    series = series_for(forge.manifest, pair)
    if series is None and not all_tests:
        raise ForgeError(f"{pair}: no patch series (patches/{pair.project}/{pair.release}/)")
    patched = export_project(forge, pair)
    baseline = export_source(
        forge,
        pinned(forge, pair),
        None,
        folder=under(forge.build_dir / "sources-unpatched", pair.release, pair.project),
    )
    suite = find_suite(patched.tree)
    rows = (
        tuple(
            PatchRow(name, selected_modules(suite, touched_paths((series.folder / name,))))
            for name in patched.patches
        )
        if series
        else ()
    )
    modules: tuple[str, ...] | None
    if all_tests:
        modules = None
        base_modules: tuple[str, ...] | None = None
    else:
        modules = tuple(sorted({m for row in rows for m in row.modules}))
        base_suite = find_suite(baseline.tree)
        # A module the series adds is not in the baseline: nothing to run there.
        base_modules = tuple(m for m in modules if m in set(base_suite.modules))
    environment = environment_for(forge, pair, patched.tree)
    folder = forge.build_dir / "unit-tests"

    def run_on(export: Export, selection: tuple[str, ...] | None) -> tuple[dict, bool]:
        def run(missing: tuple[str, ...] | None) -> dict[str, Outcome]:
            forge.log(f"{pair}: running {_what(missing)} on {export.tree}")
            return run_tests(environment.image, export.tree, missing, concurrency, folder / "tmp")

        return cached_run(folder / "results", environment.key, export.tree_digest, selection, run)

    before, cached_before = run_on(baseline, base_modules)
    after, cached_after = run_on(patched, modules)
    comparison = compare(after, before)
    if comparison.newly_failed:
        # Each class of a newly failing test once more, alone in its process:
        # a test that fails only after others ran is not what the series broke.
        again, _ = run_on(patched, comparison.newly_failed)
        comparison = confirmed(comparison, again)
    return UnitReport(
        pair,
        rows,
        modules,
        after,
        before,
        comparison,
        time.monotonic() - started,
        cached_before and cached_after,
    )


def _what(selection: tuple[str, ...] | None) -> str:
    if selection is None:
        return "the whole unit suite"
    return f"{len(selection)} test module{'s' if len(selection) != 1 else ''}"


def report_text(report: UnitReport) -> str:
    """The table (a row per patch), what newly fails with its last lines, and the rest apart."""
    table = [["PATCH", "MODULES", "TESTS", "PASSED", "NEWLY FAILED", "SECONDS"]]
    newly = set(report.comparison.newly_failed)
    rows = list(report.rows)
    if report.modules is None:
        rows = [PatchRow("(whole suite)", ())]
    for row in rows:
        if report.modules is None:
            tests = list(report.patched)
        else:
            tests = [t for t in report.patched if module_of(t, row.modules)]
        outcomes = [report.patched[t] for t in tests]
        table.append(
            [
                row.patch,
                str(len(row.modules)) if report.modules is not None else "all",
                str(len(tests)),
                str(sum(o.status == PASSED for o in outcomes)),
                str(sum(t in newly for t in tests)),
                f"{sum(o.seconds for o in outcomes):.1f}",
            ]
        )
    lines = [f"unit tests of {report.pair}, with and without its series", format_table(table)]
    for test in report.comparison.newly_failed:
        before = report.baseline.get(test)
        why = "new with the series" if before is None else f"{before.status} without the series"
        lines += ["", f"NEWLY FAILED {test} ({why}):", last_lines(report.patched[test].detail)]
    added = report.comparison.added
    if added:
        passing = sum(report.patched[t].status != FAILED for t in added)
        lines += ["", f"{len(added)} tests added by the series: {passing} pass"]
    if report.comparison.preexisting:
        lines += ["", "failing with and without the series (not counted):"]
        lines += [f"  {test}" for test in report.comparison.preexisting]
    if report.comparison.order_dependent:
        lines += ["", "failed among the others, passed alone (order-dependent, not counted):"]
        lines += [f"  {test}" for test in report.comparison.order_dependent]
    if report.comparison.fixed:
        lines += ["", f"{len(report.comparison.fixed)} tests fixed by the series"]
    cached = ", both runs from the cache" if report.cached else ""
    verdict = (
        "no test newly fails"
        if report.ok
        else f"{len(report.comparison.newly_failed)} tests newly fail"
    )
    lines += ["", f"{verdict} ({len(report.patched)} tests, {report.seconds:.1f} s{cached})"]
    return "\n".join(lines)
