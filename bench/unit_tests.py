"""Benchmark: a series' selected unit tests, baseline cached, against the whole unit suite.

For PROJECT of RELEASE (the project's series under patches/, in the project
FORGE_MANIFEST names; the build folder is FORGE_BUILD_DIR's):

1. ``inv patches.test`` once, to build the test image and cache the baseline;
2. the patched tree's results are dropped from the cache and it runs again:
   the selected tests on the patched tree, the baseline read from disk, as a
   maintainer's second run after editing a patch;
3. the whole unit suite on the patched tree, once, in the same image with the
   same concurrency.

Prints the selection, both times and their ratio (the target: at most 5 %).

Usage: uv run python -m bench.unit_tests -s nova -r 2025.2 [--concurrency 2] [--skip-whole]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from imageforge.config.manifest import Pair
from imageforge.context import from_environment
from imageforge.patches.export import export_project
from imageforge.unittests.check import prove_series, report_text
from imageforge.unittests.environment import environment_for
from imageforge.unittests.results import forget
from imageforge.unittests.runner import PASSED, run_tests

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-s", "--service", required=True)
    parser.add_argument("-r", "--release", required=True)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--skip-whole", action="store_true", help="only the selected run")
    args = parser.parse_args()
    forge = from_environment(ROOT / "releases.yaml")
    pair = Pair(args.release, args.service)

    started = time.monotonic()
    warm = prove_series(forge, pair, concurrency=args.concurrency)
    print(f"warm-up (image, baseline, patched): {time.monotonic() - started:.1f} s")
    patched = export_project(forge, pair)
    environment = environment_for(forge, pair, patched.tree)
    folder = forge.build_dir / "unit-tests" / "results"
    forget(folder, environment.key, patched.tree_digest, warm.modules or ())

    started = time.monotonic()
    report = prove_series(forge, pair, concurrency=args.concurrency)
    selected = time.monotonic() - started
    print(report_text(report))
    modules = len(report.modules or ())
    print(
        f"selected: {modules} test modules, {len(report.patched)} tests, "
        f"{selected:.1f} s (the baseline from the cache)"
    )
    if args.skip_whole:
        return
    started = time.monotonic()
    whole = run_tests(
        environment.image,
        patched.tree,
        None,
        args.concurrency,
        forge.build_dir / "unit-tests" / "tmp",
    )
    seconds = time.monotonic() - started
    passed = sum(o.status == PASSED for o in whole.values())
    print(f"whole unit suite: {len(whole)} tests ({passed} passed), {seconds:.1f} s")
    print(f"ratio selected / whole: {selected / seconds:.3f} (target <= 0.05)")


if __name__ == "__main__":
    main()
