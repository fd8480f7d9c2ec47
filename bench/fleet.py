"""Benchmark: a row of the matrix built serially against one bake graph; re-push against push.

For RELEASE and the first N services of its row (default 2025.2 and 6), on
the local sources (mirrors) and the chosen base image, in one run:

* cold serial build: the BuildKit cache pruned, then one build per service,
  one after another (each builds the shared images, then its service);
* cold bake build: the cache pruned, then the whole selection in one graph;
* cold push: the cache pruned, the selection pushed to an empty loopback registry;
* unchanged re-push: the same push again, which finds every content key in
  the registry and builds nothing;

with the ratios bake/serial and re-push/push. Local builds pass --force, so
the local content-key check does not hide the build being measured.

Usage: uv run python -m bench.fleet [-r 2025.2] [-n 6] [--base-image IMG]
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

from bench.build import scratch_project, timed
from imageforge.config.manifest import Pair, load_manifest
from imageforge.context import from_environment, silent
from imageforge.host import docker
from imageforge.image.build import BuildOptions, build_services


def loopback_registry(data: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    config = data / "registry.yml"
    config.write_text(
        f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {data / 'blobs'}\n"
        f"http:\n  addr: {address}\n"
    )
    server = subprocess.Popen(
        ["docker-registry", "serve", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://{address}/v2/", timeout=1)
            return server, address
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("docker-registry did not start")


def prune() -> None:
    docker.run(["builder", "prune", "--all", "--force"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-r", "--release", default="2025.2")
    parser.add_argument("-n", "--services", type=int, default=6)
    parser.add_argument("--base-image", default="imageforge/debian:bookworm")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="forge-fleet-") as scratch:
        work = Path(scratch)
        (work / "project").mkdir()
        manifest_path = scratch_project(work / "project")
        server, registry = loopback_registry(work)
        try:
            text = manifest_path.read_text()
            manifest_path.write_text(
                re.sub(r"(?m)^(\s*registry:).*$", rf"\1 {registry}/bench", text)
            )
            settings = from_environment(manifest_path, log=silent).with_base_image(args.base_image)
            row = settings.manifest.release(args.release)
            pairs = [Pair(args.release, s.name) for s in row.services[: args.services]]

            def forge():
                return replace(settings, manifest=load_manifest(manifest_path), memo={})

            def serial():
                for pair in pairs:
                    build_services(forge(), [pair], BuildOptions(force=True))

            def bake():
                build_services(forge(), pairs, BuildOptions(force=True))

            def push():
                return build_services(forge(), pairs, BuildOptions(push=True))

            build_services(forge(), pairs, BuildOptions(dry_run=True))  # exports, constraints
            prune()
            serial_s, _ = timed(serial)
            prune()
            bake_s, _ = timed(bake)
            prune()
            push_s, _ = timed(push)
            repush_s, again = timed(push)
            skipped = sum(r.skipped for r in again)
        finally:
            server.terminate()
            server.wait(timeout=10)
            shutil.rmtree(work / "blobs", ignore_errors=True)
    names = ", ".join(pair.project for pair in pairs)
    print(f"{args.release}: {names} on {args.base_image}")
    print(f"  cold serial build:  {serial_s:7.1f} s")
    print(f"  cold bake build:    {bake_s:7.1f} s   ({bake_s / serial_s:.0%} of serial)")
    print(f"  cold push:          {push_s:7.1f} s")
    print(
        f"  unchanged re-push:  {repush_s:7.1f} s   ({repush_s / push_s:.1%} of the push; "
        f"{skipped} of {len(pairs)} found by key)"
    )


if __name__ == "__main__":
    main()
