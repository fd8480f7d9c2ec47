"""Benchmark: the forge's checkout-free patch check against the seeds' CI way.

For every series under patches/ (of the releases.yaml in FORGE_MANIFEST or
beside this repository), both ways run against the same local mirrors:

* forge: scratch index read from the pinned commit, ``git apply --cached``;
* naive: a fresh shallow clone of the pinned ref per release x project from
  the upstream URL (point it at a local mirror with url.<base>.insteadOf, as
  the forge's own mirrors are), then ``git apply`` of each patch.

With --generate, the series are not taken from patches/ but made on the fly
in a scratch copy of the project: one small patch to each service's setup.cfg
for every release x service, so the whole matrix is measured (nothing
generated is kept).

Mirrors are warmed first (one forge run), so both measure warm work only.
Prints both times and the ratio.

    uv run python bench/patch_check.py [--generate] [--rounds N]
"""

from __future__ import annotations

import argparse
import difflib
import shutil
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from imageforge.config.manifest import Pair, load_manifest
from imageforge.constraints.projects import pinned
from imageforge.context import Forge, from_environment, silent
from imageforge.patches.gate import check_patches
from imageforge.patches.series import discover

ROOT = Path(__file__).resolve().parent.parent


def naive(forge: Forge) -> None:
    for series in discover(forge.manifest):
        spec = pinned(forge, Pair(series.release, series.project))
        with tempfile.TemporaryDirectory() as work:
            subprocess.run(
                ["git", "clone", "--quiet", "--depth", "1", "--branch", spec.ref, spec.repo, work],
                check=True,
                capture_output=True,
            )
            for patch in series.patches:
                subprocess.run(["git", "apply", str(patch)], cwd=work, check=True)


def generate(forge: Forge, scratch: Path) -> Forge:
    """A copy of the project whose patches/ holds one generated patch per release x service."""
    shutil.copy2(forge.manifest.path, scratch / "releases.yaml")
    shutil.copytree(forge.root / "images", scratch / "images")
    for release, service in forge.manifest.pairs():
        before = pinned(forge, Pair(release.name, service.name)).show("setup.cfg")
        after = f"{before}# benchmark: a local change\n"
        diff = "".join(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                after.splitlines(keepends=True),
                "a/setup.cfg",
                "b/setup.cfg",
            )
        )
        folder = scratch / "patches" / service.name / release.name
        folder.mkdir(parents=True)
        (folder / "0001-benchmark.patch").write_text(f"diff --git a/setup.cfg b/setup.cfg\n{diff}")
        (folder / "series").write_text("0001-benchmark.patch\n")
    return replace(forge, manifest=load_manifest(scratch / "releases.yaml"))


def timed(action, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--generate", action="store_true", help="one generated patch per release x service"
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    forge = from_environment(ROOT / "releases.yaml", log=silent)
    with tempfile.TemporaryDirectory(prefix="forge-bench-") as scratch:
        if args.generate:
            forge = generate(forge, Path(scratch))
        series = discover(forge.manifest)
        if not series:
            raise SystemExit(
                "no patch series under patches/: nothing to benchmark (try --generate)"
            )
        patches = sum(len(s.patches) for s in series)
        check_patches(forge)  # warm the mirrors (and the blobs the naive clone needs)
        # A fresh memo per round: each round resolves its refs as a new command would.
        checked = timed(lambda: check_patches(replace(forge, memo={})), args.rounds)
        seeds = timed(lambda: naive(forge), args.rounds)
    print(f"{len(series)} series, {patches} patches, best of {args.rounds} warm rounds")
    print(f"forge (scratch index, git apply --cached): {checked * 1000:8.1f} ms")
    print(f"naive (shallow clone + git apply):         {seeds * 1000:8.1f} ms")
    print(f"ratio: forge is {seeds / checked:.1f}x faster")


if __name__ == "__main__":
    main()
