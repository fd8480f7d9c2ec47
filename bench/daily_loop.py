"""Benchmark: the daily loop's fixed costs, as whole commands, in one run.

* CLI latency: ``inv --list`` and ``inv list`` against ``python -c pass`` (the
  interpreter's own start-up, the floor no task can go below), with the ratio.
* The patch gate: ``nox -s patches`` over the whole release x project matrix,
  and one pair, against the same ``inv patches.check`` run once. With
  --generate (as bench/patch_check.py), a scratch copy of the project carries
  one generated patch per release x service, so every session checks a series.

Mirrors are warmed first, so every figure is warm work. Prints the median and
the minimum of --rounds runs of each command.

    uv run python bench/daily_loop.py [--generate] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.patch_check import generate
from imageforge.config.matrix import project_rows
from imageforge.context import from_environment, silent

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run_times(command: list[str], rounds: int, env: dict[str, str]) -> tuple[float, float]:
    """(median, min) seconds of ``command``; it must succeed."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{proc.stderr.decode()[-2000:]}")
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generate", action="store_true", help="one patch per release x service")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    forge = from_environment(ROOT / "releases.yaml", log=silent)
    with tempfile.TemporaryDirectory(prefix="forge-bench-") as scratch:
        if args.generate:
            forge = generate(forge, Path(scratch))
        env = {**os.environ, "FORGE_MANIFEST": str(forge.manifest.path)}
        env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
        rows = project_rows(forge.manifest)
        one = f"patches({rows[0].id})"
        inv, nox = str(BIN / "inv"), str(BIN / "nox")
        subprocess.run([inv, "patches.check"], cwd=ROOT, env=env, capture_output=True, check=True)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "inv --list": [inv, "--list"],
            "inv list": [inv, "list"],
            "inv patches.check (all)": [inv, "patches.check"],
            f"nox -s patches ({len(rows)} sessions)": [nox, "-s", "patches"],
            f"nox -s '{one}'": [nox, "-s", one],
        }
        figures = {name: run_times(cmd, args.rounds, env) for name, cmd in commands.items()}
    floor = figures["python -c pass"][0]
    series = "one generated patch per pair" if args.generate else "the project's own series"
    print(f"median / min of {args.rounds} warm runs each; {series}")
    for name, (median, best) in figures.items():
        print(
            f"{name:34} {median * 1000:8.0f} ms  (min {best * 1000:6.0f})  {median / floor:5.1f}x python"
        )


if __name__ == "__main__":
    main()
