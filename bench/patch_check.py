"""Benchmark: the forge's checkout-free patch check against the seeds' CI way.

For every series under patches/ (of the releases.yaml in FORGE_MANIFEST or
beside this repository), both ways run against the same local mirrors:

* forge: scratch index read from the pinned commit, ``git apply --cached``;
* naive: a fresh shallow clone of the pinned ref per release x project from
  the upstream URL (point it at a local mirror with url.<base>.insteadOf, as
  the forge's own mirrors are), then ``git apply`` of each patch.

Mirrors are warmed first (one forge run), so both measure warm work only.
Prints both times and the ratio. Usage: uv run python bench/patch_check.py [ROUNDS]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from imageforge.manifest import load_manifest
from imageforge.patchgate import check_patches
from imageforge.paths import cache_dir
from imageforge.projects import source_spec
from imageforge.series import discover

ROOT = Path(__file__).resolve().parent.parent


def naive(manifest, cache: Path) -> None:
    for series in discover(manifest):
        spec = source_spec(manifest, series.release, series.project, cache)
        with tempfile.TemporaryDirectory() as work:
            subprocess.run(
                ["git", "clone", "--quiet", "--depth", "1", "--branch", spec.ref, spec.repo, work],
                check=True,
                capture_output=True,
            )
            for patch in series.patches:
                subprocess.run(["git", "apply", str(patch)], cwd=work, check=True)


def timed(action, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    manifest = load_manifest(os.environ.get("FORGE_MANIFEST", ROOT / "releases.yaml"))
    cache = cache_dir()
    series = discover(manifest)
    if not series:
        raise SystemExit("no patch series under patches/: nothing to benchmark")
    patches = sum(len(s.patches) for s in series)
    check_patches(manifest, cache)  # warm the mirrors (and the blobs the naive clone needs)
    forge = timed(lambda: check_patches(manifest, cache), rounds)
    seeds = timed(lambda: naive(manifest, cache), rounds)
    print(f"{len(series)} series, {patches} patches, best of {rounds} warm rounds")
    print(f"forge (scratch index, git apply --cached): {forge * 1000:8.1f} ms")
    print(f"naive (shallow clone + git apply):         {seeds * 1000:8.1f} ms")
    print(f"ratio: forge is {seeds / forge:.1f}x faster")


if __name__ == "__main__":
    main()
