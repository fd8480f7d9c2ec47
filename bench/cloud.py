"""Benchmark: a release's images as one cloud (inv cloud), its times and memory, and planted faults.

Prints, for RELEASE on the chosen base image:

* each step's seconds (the report's table), and the wall time from the start
  of the run (images built) to the guest's DHCP lease in its console log;
* the whole run's time, and the peak memory of the run's containers (the sum
  of their usage, sampled every few seconds from `docker stats`, page cache
  excluded as docker counts it);
* with --fault, a planted fault in a scratch copy of the project, and the
  step that failed:
  - neutron-nb: neutron pointed at a second NB database that ovn-northd does not
    serve; the logical switch never reaches OVN NB;
  - no-libvirt-bindings: nova-compute built without the distribution's libvirt
    bindings (under a registry of its own, so no real tag changes); nova-compute
    never reports up.

Usage: uv run python bench/cloud.py -r 2025.2 [--base-image IMG] [--fault neutron-nb]
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import threading
import time
from pathlib import Path

# bench/build.py's scratch copy of the project, under a registry of its own
# (bench/ is on the path of a script run from it).
from build import scratch_project
from imageforge.context import from_environment
from imageforge.host import docker
from imageforge.image.build import BuildOptions
from imageforge.verify.cloud.run import RUN_PREFIX, run_cloud
from imageforge.verify.functional.stack import RUN_LABEL

ROOT = Path(__file__).resolve().parent.parent
LEASE_STEP = "the console log shows the guest's DHCP lease of the port's IP"
_UNITS = {
    "B": 1,
    "KiB": 1 << 10,
    "MiB": 1 << 20,
    "GiB": 1 << 30,
    "kB": 1000,
    "MB": 10**6,
    "GB": 10**9,
}


class PeakMemory:
    """Samples the summed memory of this process's cloud containers until stopped."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(2):
            listed = docker.run(
                [
                    "ps",
                    "--filter",
                    f"label={RUN_LABEL}",
                    "--format",
                    f'{{{{.ID}}}} {{{{.Label "{RUN_LABEL}"}}}}',
                ],
                check=False,
            ).stdout.splitlines()
            labelled = (line.partition(" ") for line in listed)
            mine = [cid for cid, _, label in labelled if label.startswith(f"{RUN_PREFIX}-")]
            if not mine:
                continue
            usage = docker.run(
                ["stats", "--no-stream", "--format", "{{.MemUsage}}", *mine], check=False
            ).stdout.splitlines()
            self.peak = max(self.peak, sum(_bytes(line.split("/")[0]) for line in usage))


def _bytes(text: str) -> int:
    match = re.match(r"\s*([\d.]+)\s*([A-Za-z]+)", text)
    return int(float(match.group(1)) * _UNITS.get(match.group(2), 1)) if match else 0


def plant(fault: str, project: Path) -> None:
    cloud = project / "cloud" / "cloud.yaml"
    if fault == "neutron-nb":
        text = cloud.read_text()
        text = text.replace(
            "ovn_nb_connection = tcp:ovn-central:6641", "ovn_nb_connection = tcp:ovn-central:6645"
        )
        # A second NB database on 6645, which no ovn-northd reads.
        text = text.replace(
            "      - name: ovn-northd\n",
            "      - name: a second NB database nobody serves\n"
            '        start: [sh, -c, "ovsdb-tool create /tmp/other.db /usr/share/ovn/ovn-nb.ovsschema && '
            'exec ovsdb-server /tmp/other.db --remote=ptcp:6645 --pidfile=/tmp/other.pid --unixctl=/tmp/other.ctl"]\n'
            "      - name: ovn-northd\n",
        )
        cloud.write_text(text)
    elif fault == "no-libvirt-bindings":
        manifest = project / "releases.yaml"
        text = manifest.read_text()
        old = "bindings: [python3-libvirt, python3-rados, python3-rbd]"
        assert old in text, "releases.yaml: nova-compute's bindings moved"
        manifest.write_text(text.replace(old, "bindings: [python3-rados, python3-rbd]"))
    else:
        raise SystemExit(f"error: --fault {fault}: expected neutron-nb or no-libvirt-bindings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-r", "--release", required=True)
    parser.add_argument("--base-image", default=None)
    parser.add_argument("--fault", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="forge-bench-cloud-") as work:
        manifest = ROOT / "releases.yaml"
        environ = dict(os.environ)
        if args.fault:
            project = scratch_project(Path(work))
            plant(args.fault, project)
            environ["FORGE_MANIFEST"] = str(project / "releases.yaml")
        passed: dict[str, float] = {}
        started = time.monotonic()

        def log(line: str) -> None:
            if line.startswith(("pass  ", "FAIL  ")):
                passed[line[6:]] = time.monotonic() - started
                print(f"{passed[line[6:]]:7.1f} s  {line}", flush=True)

        forge = from_environment(manifest, environ, log=log).with_base_image(args.base_image)
        with PeakMemory() as memory:
            report = run_cloud(forge, args.release, BuildOptions(), build=bool(args.fault))
    print(report.table())
    print(
        f"run: {report.seconds:.0f} s; peak memory of the run's containers: {memory.peak / (1 << 30):.2f} GiB"
    )
    if LEASE_STEP in passed and report.ok:
        first = min(passed.values())
        print(
            f"from the first step to the guest's lease: {passed[LEASE_STEP]:.0f} s (first step at {first:.0f} s)"
        )
    if args.fault:
        failed = [f for f in report.findings if not f.ok]
        print(
            f"fault {args.fault}: failed at {failed[0].check!r}"
            if failed
            else f"fault {args.fault}: NOT caught"
        )


if __name__ == "__main__":
    main()
