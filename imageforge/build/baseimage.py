"""A local Debian base image for hosts that cannot pull one.

debootstrap builds a minimal Debian root file system from the host's own apt
mirror, and ``docker import`` turns it into an image. The root file system is
cached as a tarball keyed by its inputs, and the image carries the same key as
a label, so a second run does nothing and a lost image is re-imported without
debootstrapping again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from imageforge.build.aptsources import host_debian_mirror
from imageforge.errors import ForgeError
from imageforge.host import docker, process

DEFAULT_TAG = "imageforge/debian:bookworm"
INPUTS_LABEL = "org.imageforge.base.inputs"


@dataclass(frozen=True)
class BaseImageSpec:
    mirror: str
    suite: str = "bookworm"
    tag: str = DEFAULT_TAG
    # ca-certificates so a CA bundle mounted at build time has somewhere to go.
    include: tuple[str, ...] = ("ca-certificates",)

    @property
    def inputs_digest(self) -> str:
        """What the root file system depends on; the tag is only a name for it."""
        key = "\n".join([self.mirror, self.suite, "minbase", *sorted(self.include)])
        return hashlib.sha256(key.encode()).hexdigest()[:16]


def default_spec(
    tag: str = DEFAULT_TAG, suite: str = "bookworm", mirror: str | None = None
) -> BaseImageSpec:
    """The base image from ``mirror`` (FORGE_APT_MIRROR), else from the host's apt sources."""
    return BaseImageSpec(mirror=host_debian_mirror(suite, override=mirror), suite=suite, tag=tag)


def ensure_base_image(
    spec: BaseImageSpec, cache_dir: Path, log: Callable[[str], None] = print
) -> bool:
    """Make sure ``spec.tag`` exists and matches the spec; return True if it was (re)created."""
    docker.require_daemon()
    if docker.image_label(spec.tag, INPUTS_LABEL) == spec.inputs_digest:
        log(f"{spec.tag}: up to date ({spec.suite}, inputs {spec.inputs_digest})")
        return False
    tarball = cache_dir / "base" / f"{spec.suite}-{spec.inputs_digest}.tar"
    if tarball.is_file():
        log(f"{spec.tag}: importing the cached root file system {tarball}")
    else:
        log(f"{spec.tag}: debootstrapping Debian {spec.suite} (minbase) from the host's mirror")
        _bootstrap_tarball(spec, tarball)
    _import(spec, tarball)
    log(f"{spec.tag}: created")
    return True


def _bootstrap_tarball(spec: BaseImageSpec, tarball: Path) -> None:
    if shutil.which("debootstrap") is None:
        raise ForgeError("debootstrap: command not found (apt-get install debootstrap)")
    if os.geteuid() != 0:
        raise ForgeError("creating a base image with debootstrap needs root")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    # Work beside the final tarball and rename at the end: an interrupted run
    # leaves only a temporary folder, never a tarball that looks complete.
    with tempfile.TemporaryDirectory(dir=tarball.parent, prefix=".rootfs-") as work:
        rootfs = Path(work) / "rootfs"
        _run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(spec.include)}",
                spec.suite,
                str(rootfs),
                spec.mirror,
            ],
            "debootstrap",
        )
        # Package lists and caches are stale the moment the image is made.
        for leftover in ("var/lib/apt/lists", "var/cache/apt/archives"):
            for item in (rootfs / leftover).glob("*"):
                if item.is_file():
                    item.unlink()
        partial = Path(work) / "rootfs.tar"
        _run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial), "."], "tar")
        partial.replace(tarball)


def _import(spec: BaseImageSpec, tarball: Path) -> None:
    docker.run(
        [
            "import",
            "--change",
            f"LABEL {INPUTS_LABEL}={spec.inputs_digest}",
            "--change",
            f"LABEL org.opencontainers.image.title=debian-{spec.suite}-minbase",
            "--change",
            'CMD ["/bin/bash"]',
            str(tarball),
            spec.tag,
        ]
    )


def _run(command: list[str], what: str) -> None:
    process.run(command, what=what)
