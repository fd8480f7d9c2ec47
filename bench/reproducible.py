"""Benchmark: two cold builds of the same inputs, and whether they give one image digest.

For each SERVICE of RELEASE (in a scratch copy of the project, tagged under a
registry of its own): BuildKit's cache mounts are pruned (uv's wheel cache,
apt's archives: a wheel built from an sdist is then built twice, not reused)
and the image is built with ``--no-cache``; then the same again. Prints each
build's time and image ID, and, when the IDs differ, the files that differ
(imageforge.verify.reproducible).

Pruning the cache mounts slows the next build of every other run on this
engine (it must download again); it changes no result of theirs.

Usage: uv run python bench/reproducible.py -s keystone -r 2025.2 [--base-image IMG]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench.build import scratch_project
from imageforge.config.manifest import Pair
from imageforge.context import from_environment, silent
from imageforge.host import docker
from imageforge.image.build import BuildOptions, build_services
from imageforge.verify.reproducible import differences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-s", "--service", action="append", required=True)
    parser.add_argument("-r", "--release", required=True)
    parser.add_argument("--base-image")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="forge-bench-reproducible-") as work:
        manifest = scratch_project(Path(work))
        forge = from_environment(manifest, log=silent).with_base_image(args.base_image)
        forge = replace(forge, buildx_args=(*forge.buildx_args, "--no-cache"))
        pairs = [Pair(args.release, service) for service in args.service]
        runs: list[dict[str, str]] = []
        for attempt in (1, 2):
            docker.run(["builder", "prune", "--force", "--filter", "type=exec.cachemount"])
            started = time.monotonic()
            results = build_services(forge, pairs, BuildOptions(force=True))
            seconds = time.monotonic() - started
            ids = {r.reference: docker.image_id(r.reference) or "" for r in results}
            for reference, image_id in ids.items():
                print(
                    f"build {attempt}: {reference} {image_id} ({seconds:.0f} s for the selection)"
                )
            if attempt == 1:  # kept under a tag of its own while the second build retags
                for reference in ids:
                    docker.run(["tag", reference, f"{reference}-first-build"])
            runs.append(ids)
        same = 0
        for reference, first in runs[0].items():
            second = runs[1][reference]
            if first == second:
                same += 1
                print(f"{reference}: one digest, {first}")
            else:
                print(f"{reference}: {first} then {second}; what differs:")
                for line in differences(f"{reference}-first-build", reference):
                    print(f"  {line}")
            docker.run(["image", "rm", f"{reference}-first-build"], check=False)
        print(
            f"{same}/{len(runs[0])} images reproduced bit for bit (ratio {same / len(runs[0]):.2f})"
        )


if __name__ == "__main__":
    main()
