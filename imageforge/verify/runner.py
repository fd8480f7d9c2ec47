"""Throwaway containers of one image, with the forge's probe mounted at /forge-check.

Both the smoke checks and the SBOM inspect an image this way: no network,
the container removed afterwards, the probe (verify/probe.py, run with the
image's own python3) and the inputs it compares against mounted read-only.
"""

from __future__ import annotations

import json
import shlex
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import packaging

from imageforge.errors import ForgeError
from imageforge.host import docker
from imageforge.host.process import last_words
from imageforge.patches.export import Export

PROBE = Path(__file__).with_name("probe.py")
MOUNT = "/forge-check"


class ImageRunner:
    """Runs commands in throwaway containers of one image, with the probe mounted."""

    def __init__(self, image: str, probe_dir: Path, platform: str | None = None) -> None:
        self.image = image
        self.probe_dir = probe_dir
        # The image's own platform, named so an arm64 image runs under emulation
        # without the engine's "does not match the host" warning on stderr.
        self.platform = platform

    def run(
        self, command: Sequence[str], timeout: int = 180, *, user: str | None = None
    ) -> tuple[int, str, str]:
        """``command`` in a new container, as the image's user unless ``user`` is given."""
        args = [
            "run",
            "--rm",
            "--network",
            "none",
            *(["--platform", self.platform] if self.platform else []),
            *(["--user", user] if user else []),
            "--volume",
            f"{self.probe_dir}:{MOUNT}:ro",
            "--entrypoint",
            command[0],
            self.image,
            *command[1:],
        ]
        try:
            proc = docker.run(args, check=False, timeout=timeout)
        except docker.DockerError as err:
            return 124, "", str(err)
        return proc.returncode, proc.stdout.strip(), proc.stderr.strip()


@contextmanager
def probe_runner(
    image: str, exports: Sequence[Export] = (), constraints: str | None = None
) -> Iterator[ImageRunner]:
    """An ImageRunner whose /forge-check holds the probe, packaging, the pins and patched files."""
    if not docker.image_exists(image):
        raise ForgeError(f"image {image} is not here: build it first (inv build)")
    with tempfile.TemporaryDirectory(prefix="forge-probe-") as scratch:
        probe_dir = Path(scratch)
        shutil.copy(PROBE, probe_dir / "probe.py")
        shutil.copytree(Path(packaging.__file__).parent, probe_dir / "packaging")
        if constraints is not None:  # the constraints file's text
            (probe_dir / "constraints.txt").write_text(constraints)
        for export in exports:
            for path in export.patched_files:
                target = probe_dir / "trees" / export.project / path
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(export.tree / path, target)
        # The container runs as the service user: everything must be world-readable.
        probe_dir.chmod(0o755)
        for item in probe_dir.rglob("*"):
            item.chmod(0o755 if item.is_dir() else 0o644)
        yield ImageRunner(image, probe_dir, image_platform(image))


def probe(runner: ImageRunner, *args: str) -> Any:
    """Run the probe in the image and return what it printed, parsed."""
    command = ("env", f"PYTHONPATH={MOUNT}", "python3", f"{MOUNT}/probe.py", *args)
    status, out, err = runner.run(command)
    if status != 0:
        raise ForgeError(
            f"`{shlex.join(command)}` failed in {runner.image} (exit {status}): "
            f"{last_words(err, limit=200, default='')}"
        )
    return json.loads(out)


def image_platform(image: str) -> str | None:
    """os/arch[/variant] of a local image (linux/arm64)."""
    shown = docker.run(
        ["image", "inspect", "--format", "{{.Os}}/{{.Architecture}}/{{.Variant}}", image],
        check=False,
    )
    return shown.stdout.strip().rstrip("/") or None if shown.returncode == 0 else None
