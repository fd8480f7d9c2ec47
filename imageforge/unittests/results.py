"""Test results cached by what decides them, and what a series changes against its baseline.

A run's results depend on the test image (its key), the tree (its content
digest) and the test module, nothing else: they are kept under
build/unit-tests/results/ by those, one file per module, so the unpatched
baseline of a ref runs each module once whatever series selects it, and a
second run of an unchanged series reads everything from disk.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from imageforge.host.files import write_atomically
from imageforge.unittests.runner import FAILED, PASSED, Outcome

# Bumped when what a result file holds changes.
RESULTS_FORMAT = 1


def cached_run(
    folder: Path,
    environment_key: str,
    tree_digest: str,
    modules: tuple[str, ...] | None,
    run: Callable[[tuple[str, ...] | None], dict[str, Outcome]],
) -> tuple[dict[str, Outcome], bool]:
    """The results of ``modules`` (None: the whole suite) on a tree, and whether all were cached.

    Kept per module: a selection that grows by one module (another patch in
    the series) runs that module alone, and the baseline of a ref is reused
    by every series on it. ``run`` is given only the modules the cache lacks.
    """
    if modules is None:
        return _cached(folder, [environment_key, tree_digest, None], lambda: run(None))
    found: dict[str, Outcome] = {}
    missing = []
    for module in modules:
        cached = _read(_path(folder, [environment_key, tree_digest, module]))
        if cached is None:
            missing.append(module)
        else:
            found.update(cached)
    if missing:
        ran = run(tuple(missing))
        per_module: dict[str, dict[str, Outcome]] = {m: {} for m in missing}
        for test, outcome in ran.items():
            # A failure to load outside every module (unittest's own): the first one's.
            per_module[module_of(test, tuple(missing)) or missing[0]][test] = outcome
        for module, results in per_module.items():
            _write(_path(folder, [environment_key, tree_digest, module]), results)
        found.update(ran)
    return found, not missing


def forget(folder: Path, environment_key: str, tree_digest: str, modules: tuple[str, ...]) -> None:
    """Drop the cached results of ``modules`` on a tree (a bench times their run again)."""
    for module in modules:
        _path(folder, [environment_key, tree_digest, module]).unlink(missing_ok=True)


def _cached(folder: Path, key: list, run: Callable[[], dict[str, Outcome]]):
    path = _path(folder, key)
    cached = _read(path)
    if cached is not None:
        return cached, True
    found = run()
    _write(path, found)
    return found, False


def _path(folder: Path, key: list) -> Path:
    text = json.dumps([RESULTS_FORMAT, *key])
    return folder / f"{hashlib.sha256(text.encode()).hexdigest()[:24]}.json"


def _read(path: Path) -> dict[str, Outcome] | None:
    try:
        data = json.loads(path.read_text())
        return {test: Outcome(**each) for test, each in data.items()}
    except (OSError, ValueError, TypeError):
        return None


def _write(path: Path, results: dict[str, Outcome]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps({t: asdict(o) for t, o in sorted(results.items())}) + "\n")


@dataclass(frozen=True)
class Comparison:
    """What the series changes: each kind of test id, sorted."""

    newly_failed: tuple[str, ...]  # fail with the series, pass (or are absent) without
    added: tuple[str, ...]  # tests the series adds (not in the baseline)
    preexisting: tuple[str, ...]  # fail with and without the series
    fixed: tuple[str, ...]  # fail without the series, pass with it
    # Failed with the series among the others, passed when run again alone:
    # they depend on what ran before them in their process (shared state).
    order_dependent: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.newly_failed


def compare(patched: dict[str, Outcome], baseline: dict[str, Outcome]) -> Comparison:
    newly: list[str] = []
    preexisting: list[str] = []
    fixed: list[str] = []
    for test, outcome in patched.items():
        before = baseline.get(test)
        if outcome.status == FAILED:
            (preexisting if before and before.status == FAILED else newly).append(test)
        elif outcome.status == PASSED and before and before.status == FAILED:
            fixed.append(test)
    added = [test for test in patched if test not in baseline]
    return Comparison(
        tuple(sorted(newly)), tuple(sorted(added)), tuple(sorted(preexisting)), tuple(sorted(fixed))
    )


def confirmed(comparison: Comparison, alone: dict[str, Outcome]) -> Comparison:
    """``comparison`` with the newly failing tests that pass when run again alone set apart."""
    passing = {
        t for t in comparison.newly_failed if alone.get(t, Outcome(FAILED, 0.0)).status != FAILED
    }
    return replace(
        comparison,
        newly_failed=tuple(t for t in comparison.newly_failed if t not in passing),
        order_dependent=tuple(sorted(passing)),
    )


def module_of(test: str, modules: tuple[str, ...]) -> str | None:
    """The selected module a test id belongs to (a module that failed to load is its own id)."""
    best = None
    for module in modules:
        if (test == module or test.startswith(f"{module}.")) and (
            best is None or len(module) > len(best)
        ):
            best = module
    return best


def last_lines(detail: str, count: int = 6, width: int = 240) -> str:
    """A failure's last lines: the assertion, not the whole traceback (nor a whole response body)."""
    lines = [line for line in detail.rstrip().splitlines() if line.strip()]
    return "\n".join(
        line if len(line) <= width else f"{line[: width - 1]}…" for line in lines[-count:]
    )
