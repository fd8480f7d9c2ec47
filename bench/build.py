"""Benchmark: build figures for one service, and multi-stage vs single-stage size.

Prints, for SERVICE in RELEASE on the chosen base image:

* cold build (optional: --cold prunes the BuildKit cache first, shared images included),
* no-change rebuild,
* rebuild after a one-patch change (a patch is added to a scratch copy of the project;
  the median of --repeat such rebuilds, each with a new change), and its ratio to the first build (the dependency layer is reused: only the
  service is reinstalled),
* the final image size against a single-stage build of the same service on the
  same base (the builder stage kept as the image, compilers and all: the Kolla
  way), as a ratio.

Usage: uv run python bench/build.py -s keystone -r 2025.2 [--base-image IMG] [--cold] [--repeat N]
       uv run python bench/build.py -s ovs -r 2025.2 --cold --patch-file lib/util.c   (C projects)
"""

from __future__ import annotations

import argparse
import difflib
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from imageforge.config.manifest import Pair, load_manifest
from imageforge.context import from_environment, silent
from imageforge.host import docker
from imageforge.image.build import BuildOptions, build_service, plan_service_build

ROOT = Path(__file__).resolve().parent.parent


def scratch_project(work: Path) -> Path:
    for name in ("releases.yaml", "images", "constraints", "patches", "cloud"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, work / name)
        elif source.is_file():
            shutil.copy2(source, work / name)
    (work / "patches").mkdir(exist_ok=True)
    # Tag under a registry of its own so no real image tag is overwritten.
    manifest = work / "releases.yaml"
    text = manifest.read_text()
    manifest.write_text(re.sub(r"(?m)^(\s*registry:).*$", r"\1 imageforge-bench", text))
    return manifest


def add_one_patch(
    project: Path, service: str, release: str, tree: Path, package: str, file: str | None
) -> None:
    """Append a comment to one file as a new last patch of the series.

    The file is ``file`` (a C project's, e.g. lib/util.c for OVS), else the
    Python package's __init__.py. ``tree`` is the export without this patch;
    called again, the patch is replaced.
    """
    if file is None:
        candidates = [package.replace("-", "_").replace(".", "/"), service.replace("-", "_")]
        module = next(c for c in candidates if (tree / c / "__init__.py").is_file())
        file = f"{module}/__init__.py"
    relative = file
    before = (tree / relative).read_text().splitlines(keepends=True)
    # A new line each run: a change BuildKit has seen before would come from its cache.
    stamp = f"benchmark: one-patch change {time.time_ns()}"
    comment = f"/* {stamp} */" if relative.endswith((".c", ".h")) else f"# {stamp}"
    after = [*before, f"{comment}\n"]
    diff = "".join(difflib.unified_diff(before, after, f"a/{relative}", f"b/{relative}"))
    folder = project / "patches" / service / release
    folder.mkdir(parents=True, exist_ok=True)
    name = "9999-benchmark-one-patch-change.patch"
    (folder / name).write_text(
        "From: Benchmark <bench@localhost>\nSubject: [PATCH] Benchmark one-patch change\n\n---\n"
        f"diff --git a/{relative} b/{relative}\n{diff}"
    )
    series = folder / "series"
    listed = series.read_text().splitlines(keepends=True) if series.is_file() else []
    series.write_text("".join(line for line in listed if line.strip() != name) + f"{name}\n")


def timed(action) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-s", "--service", required=True)
    parser.add_argument("-r", "--release", required=True)
    parser.add_argument("--base-image", default="imageforge/debian:bookworm")
    parser.add_argument("--cold", action="store_true", help="prune the BuildKit cache first")
    parser.add_argument(
        "--repeat", type=int, default=5, help="one-patch rebuilds to take the median of"
    )
    parser.add_argument(
        "--patch-file",
        help="the file the one-patch change edits (C projects, e.g. lib/util.c); "
        "default: the Python package's __init__.py",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="forge-bench-") as scratch:
        manifest_path = scratch_project(Path(scratch))
        settings = from_environment(manifest_path, log=silent).with_base_image(args.base_image)
        options = BuildOptions()

        def forge():
            # A new command each time: the manifest and patches are read anew.
            return replace(
                settings,
                manifest=load_manifest(manifest_path),
                build_dir=Path(scratch) / "build",
                memo={},
            )

        def build():
            return build_service(forge(), Pair(args.release, args.service), options)

        if args.cold:
            docker.run(["builder", "prune", "--all", "--force"])
        cold, result = timed(build)
        warm, _ = timed(build)
        export = result.inputs.service
        unpatched = Path(scratch) / "unpatched"
        shutil.copytree(export.tree, unpatched, symlinks=True)
        rebuilds = []
        for _ in range(args.repeat):  # a new change each time, as a maintainer's loop makes them
            add_one_patch(
                Path(scratch), args.service, args.release, unpatched, export.package,
                args.patch_file,
            )  # fmt: skip
            seconds, patched_result = timed(build)
            rebuilds.append(seconds)
        patched = statistics.median(rebuilds)

        # The same service built single-stage: the builder stage as the image.
        plan = plan_service_build(
            forge(), Pair(args.release, args.service), patched_result.inputs, options
        )[-1]
        single_tag = f"imageforge-bench/{args.service}:single-stage"
        single = replace(plan, tags=(single_tag,), labels=())
        command = single.command()
        command[-1:-1] = ["--target", "build"]
        subprocess.run(command, check=True, capture_output=True)
        single_size = int(
            docker.run(["image", "inspect", "--format", "{{.Size}}", single_tag]).stdout
        )
        docker.run(["image", "rm", single_tag], check=False)

    size = patched_result.size or 0
    base = patched_result.base_size or 0
    print(f"{args.service} {args.release} on {args.base_image}")
    print(f"  {'cold build' if args.cold else 'first build (cache as found)'}: {cold:7.1f} s")
    print(f"  no-change rebuild:            {warm:7.1f} s")
    print(
        f"  one-patch change rebuild:     {patched:7.1f} s (median of {len(rebuilds)}: "
        f"min {min(rebuilds):.1f} s, max {max(rebuilds):.1f} s)"
    )
    print(f"  one-patch rebuild / first:    {patched / cold:7.0%}")
    print(
        f"  image size:                   {size / 1e6:7.1f} MB "
        f"(runtime base {base / 1e6:.1f} MB, {base / size:.0%}; {(size - base) / 1e6:.1f} MB over it)"
    )
    print(f"  single-stage size:            {single_size / 1e6:7.1f} MB")
    print(f"  ratio multi/single-stage:     {size / single_size:7.2f}")


if __name__ == "__main__":
    main()
