"""Benchmark: a release row with shared dependency layers against one deps layer per image.

In one run, for the Python services given (default: every Python service of
RELEASE), in a scratch copy of the project:

1. the old way (FORGE_SHARED_DEPS=0: each image installs its whole venv in
   its own deps layer), cold: BuildKit's cache mounts pruned, ``--no-cache``;
2. the new way (the release's shared layers, then each image's rest), cold.

Each way's images are tagged under a registry name of their own. Then, from
one ``docker save`` of each way's images (layers are files named by digest,
so a layer two images share is stored once), it prints:

* the cold build time of the row, and new / old;
* the bytes of the layers above python-base, counted once against added up
  image by image, and that ratio for each way;
* the bytes a node pulls for {nova, neutron} (when in the row) and for the
  whole row: every layer those images have, counted once.

It also proves the contents unchanged: each image's OS packages
(``dpkg-query``) and Python distributions are the same both ways.

Sizes are the uncompressed layer tars (what ``docker save`` writes); a
registry stores and a node pulls them compressed, in about the same ratio.
Pruning the cache mounts slows the next build of other runs on this engine.

Usage: uv run python -m bench.shared_deps -r 2025.2 [-s keystone -s glance ...] [--base-image IMG]
"""

from __future__ import annotations

import argparse
import json
import re
import tarfile
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench.build import scratch_project
from imageforge.config.manifest import Pair
from imageforge.context import from_environment, silent
from imageforge.host import docker
from imageforge.image.build import BuildOptions, build_services
from imageforge.image.plan import shared_image_tag


def layer_sizes(references: list[str], work: Path) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Each image's layer digests, and each layer's size, from one ``docker save``."""
    archive = work / "images.tar"
    docker.run(["save", "--output", str(archive), *references])
    images: dict[str, list[str]] = {}
    sizes: dict[str, int] = {}
    with tarfile.open(archive) as saved:
        members = {m.name: m for m in saved.getmembers()}
        handle = saved.extractfile("manifest.json")
        assert handle is not None
        for entry in json.load(handle):
            images[entry["RepoTags"][0]] = entry["Layers"]
            for layer in entry["Layers"]:
                sizes[layer] = members[layer].size
    archive.unlink()
    return images, sizes


# What an image holds, the same both ways: its OS packages and its venv's distributions.
LISTINGS = (
    ["dpkg-query", "--show", "--showformat", "${Package}=${Version}\\n"],
    [
        "python3",
        "-c",
        "import importlib.metadata as m; "
        "print(sorted(d.name + '==' + d.version for d in m.distributions()))",
    ],
)


def contents(reference: str) -> str:
    return "".join(
        docker.run(["run", "--rm", "--entrypoint", command[0], reference, *command[1:]]).stdout
        for command in LISTINGS
    )


def build_row(forge, pairs: list[Pair]) -> tuple[float, list[str]]:
    docker.run(["builder", "prune", "--force", "--filter", "type=exec.cachemount"])
    started = time.monotonic()
    results = build_services(forge, pairs, BuildOptions(force=True))
    return time.monotonic() - started, [r.reference for r in results]


def figures(references: list[str], base: str, work: Path, nodes: list[str]) -> dict[str, float]:
    images, sizes = layer_sizes([*references, base], work)
    below = set(images[base])
    above = {ref: [layer for layer in images[ref] if layer not in below] for ref in references}
    summed = sum(sizes[layer] for layers in above.values() for layer in layers)
    once = sum(sizes[layer] for layer in {layer for layers in above.values() for layer in layers})

    def pulled(chosen: list[str]) -> int:
        return sum(sizes[layer] for layer in {layer for ref in chosen for layer in images[ref]})

    node = [ref for ref in references if any(f"/{n}:" in ref for n in nodes)]
    return {"summed": summed, "once": once, "node": pulled(node), "row": pulled(references)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-r", "--release", required=True)
    parser.add_argument("-s", "--service", action="append")
    parser.add_argument("--base-image")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="forge-bench-shared-") as folder:
        work = Path(folder)
        (work / "project").mkdir()
        manifest = scratch_project(work / "project")
        forge = from_environment(manifest, log=silent).with_base_image(args.base_image)
        release = forge.manifest.release(args.release)
        services = args.service or [s.name for s in release.services if s.is_python]
        pairs = [Pair(args.release, s) for s in services]
        runs = {}
        held: dict[str, dict[str, str]] = {}
        for way, shared in (("old", False), ("new", True)):
            text = manifest.read_text()
            manifest.write_text(re.sub(r"imageforge-bench[-a-z]*", f"imageforge-bench-{way}", text))
            forge = from_environment(manifest, log=silent).with_base_image(args.base_image)
            forge = replace(
                forge, shared_deps=shared, buildx_args=(*forge.buildx_args, "--no-cache")
            )
            seconds, references = build_row(forge, pairs)
            base = docker.run(
                [
                    "image",
                    "inspect",
                    "--format",
                    '{{index .Config.Labels "org.opencontainers.image.base.name"}}',
                    references[0],
                ]
            ).stdout.strip()
            python_base = shared_image_tag("python-base", base)
            runs[way] = {
                "seconds": seconds,
                **figures(references, python_base, work, ["nova", "neutron"]),
            }
            held[way] = {ref.rsplit("/", 1)[-1].split(":")[0]: contents(ref) for ref in references}
            print(f"{way}: {len(references)} images built cold in {seconds:.0f} s")
        old, new = runs["old"], runs["new"]
        differ = [name for name in held["old"] if held["old"][name] != held["new"].get(name)]
        print(
            "contents: every image has the same OS packages and Python distributions both ways"
            if not differ
            else f"contents DIFFER for: {', '.join(differ)}"
        )
        mb = 1e6
        print(f"row: {', '.join(services)} ({args.release})")
        print(
            f"cold build of the row: old {old['seconds']:.0f} s, new {new['seconds']:.0f} s, new/old {new['seconds'] / old['seconds']:.2f}"
        )
        for way, run in runs.items():
            print(
                f"{way}: layers above python-base {run['summed'] / mb:.0f} MB image by image, "
                f"{run['once'] / mb:.0f} MB counted once (once/summed {run['once'] / run['summed']:.3f})"
            )
        print(
            f"node pulls for nova + neutron: old {old['node'] / mb:.0f} MB, new {new['node'] / mb:.0f} MB (new/old {new['node'] / max(old['node'], 1):.2f})"
        )
        print(
            f"node pulls for the whole row: old {old['row'] / mb:.0f} MB, new {new['row'] / mb:.0f} MB (new/old {new['row'] / old['row']:.2f})"
        )


if __name__ == "__main__":
    main()
