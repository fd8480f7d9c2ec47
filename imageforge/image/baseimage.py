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
import platform as host
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from imageforge.errors import ForgeError
from imageforge.host import docker, process
from imageforge.image.aptsources import host_debian_mirror, host_update_suites, sources_list

DEFAULT_TAG = "imageforge/debian:bookworm"
INPUTS_LABEL = "org.imageforge.base.inputs"
BINFMT = Path("/proc/sys/fs/binfmt_misc")

# Debian architecture -> (OCI platform, the qemu binfmt handler that runs it).
ARCHITECTURES = {
    "amd64": ("linux/amd64", "qemu-x86_64"),
    "arm64": ("linux/arm64", "qemu-aarch64"),
    "armhf": ("linux/arm/v7", "qemu-arm"),
    "ppc64el": ("linux/ppc64le", "qemu-ppc64le"),
    "s390x": ("linux/s390x", "qemu-s390x"),
}
_MACHINES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "armhf", "ppc64le": "ppc64el"}


def native_arch() -> str:
    """This host's Debian architecture (amd64 on x86_64)."""
    machine = host.machine()
    return _MACHINES.get(machine, machine)


def arch_of(platform: str) -> str:
    """linux/arm64 -> arm64; an unknown platform is an error naming the known ones."""
    for arch, (known, _) in ARCHITECTURES.items():
        if known == platform:
            return arch
    raise ForgeError(
        f"platform {platform}: no Debian architecture for it "
        f"(known: {', '.join(p for p, _ in ARCHITECTURES.values())})"
    )


def arch_tag(tag: str, arch: str) -> str:
    """The local name of ``tag``'s image for ``arch``: itself on the host's own arch, else -<arch>."""
    return tag if arch == native_arch() else f"{tag}-{arch}"


@dataclass(frozen=True)
class BaseImageSpec:
    mirror: str
    suite: str = "bookworm"
    tag: str = DEFAULT_TAG
    # ca-certificates so a CA bundle mounted at build time has somewhere to go.
    include: tuple[str, ...] = ("ca-certificates",)
    arch: str = "amd64"
    # (mirror, suite) of the update and security suites the host's apt has.
    updates: tuple[tuple[str, str], ...] = ()

    @property
    def inputs_digest(self) -> str:
        """What the root file system depends on; the tag is only a name for it."""
        parts = [self.mirror, self.suite, "minbase", *sorted(self.include)]
        if self.arch != "amd64":  # amd64 keeps the key it had before there were others
            parts.append(f"arch={self.arch}")
        parts += [f"updates={uri} {suite}" for uri, suite in self.updates]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]

    @property
    def platform(self) -> str:
        return ARCHITECTURES[self.arch][0]


def default_spec(
    tag: str = DEFAULT_TAG,
    suite: str = "bookworm",
    mirror: str | None = None,
    arch: str | None = None,
) -> BaseImageSpec:
    """The base image from ``mirror`` (FORGE_APT_MIRROR), else from the host's apt sources.

    For an ``arch`` other than the host's, the image is tagged ``<tag>-<arch>``.
    """
    arch = arch or native_arch()
    if arch not in ARCHITECTURES:
        raise ForgeError(f"--arch {arch}: unknown (known: {', '.join(ARCHITECTURES)})")
    return BaseImageSpec(
        mirror=host_debian_mirror(suite, override=mirror),
        suite=suite,
        tag=arch_tag(tag, arch),
        arch=arch,
        updates=host_update_suites(suite),
    )


def ensure_base_image(
    spec: BaseImageSpec, cache_dir: Path, log: Callable[[str], None] = print
) -> bool:
    """Make sure ``spec.tag`` exists and matches the spec; return True if it was (re)created."""
    docker.require_daemon()
    if docker.image_label(spec.tag, INPUTS_LABEL) == spec.inputs_digest:
        log(f"{spec.tag}: up to date ({spec.suite}{_arch_note(spec)}, inputs {spec.inputs_digest})")
        return False
    tarball = cache_dir / "base" / f"{spec.suite}-{spec.inputs_digest}.tar"
    if tarball.is_file():
        log(f"{spec.tag}: importing the cached root file system {tarball}")
    else:
        log(
            f"{spec.tag}: debootstrapping Debian {spec.suite} (minbase{_arch_note(spec)}) "
            "from the host's mirror"
        )
        _bootstrap_tarball(spec, tarball)
    _import(spec, tarball)
    log(f"{spec.tag}: created")
    return True


def _arch_note(spec: BaseImageSpec) -> str:
    return "" if spec.arch == native_arch() else f", {spec.arch}"


def require_emulation(arch: str) -> None:
    """A foreign architecture runs only through a registered qemu binfmt handler."""
    if arch == native_arch():
        return
    handler = BINFMT / ARCHITECTURES[arch][1]
    if not (BINFMT / "status").is_file():
        raise ForgeError(
            f"{arch}: binfmt_misc is not mounted at {BINFMT}, so {arch} programs cannot run "
            "here (scripts/setup-host.sh mounts it and registers qemu-user-static)"
        )
    if not handler.is_file() or "enabled" not in handler.read_text().splitlines()[:1]:
        raise ForgeError(
            f"{arch}: no enabled binfmt_misc handler {handler.name}, so {arch} programs "
            "cannot run here (scripts/setup-host.sh installs qemu-user-static and registers it)"
        )


def _bootstrap_tarball(spec: BaseImageSpec, tarball: Path) -> None:
    if shutil.which("debootstrap") is None:
        raise ForgeError("debootstrap: command not found (apt-get install debootstrap)")
    if os.geteuid() != 0:
        raise ForgeError("creating a base image with debootstrap needs root")
    require_emulation(spec.arch)
    tarball.parent.mkdir(parents=True, exist_ok=True)
    # Work beside the final tarball and rename at the end: an interrupted run
    # leaves only a temporary folder, never a tarball that looks complete.
    with tempfile.TemporaryDirectory(dir=tarball.parent, prefix=".rootfs-") as work:
        rootfs = Path(work) / "rootfs"
        _run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--arch={spec.arch}",
                f"--include={','.join(spec.include)}",
                spec.suite,
                str(rootfs),
                spec.mirror,
            ],
            "debootstrap",
        )
        sources = rootfs / "etc" / "apt" / "sources.list"
        sources.write_text(sources_list(spec.mirror, spec.suite, spec.updates))
        if spec.updates:
            _upgrade(rootfs)
        # Package lists and caches are stale the moment the image is made.
        # (apt's own caches, pkgcache.bin and srcpkgcache.bin, are 77 MB after an upgrade.)
        for leftover in ("var/lib/apt/lists", "var/cache/apt/archives", "var/cache/apt"):
            for item in (rootfs / leftover).glob("*"):
                if item.is_file():
                    item.unlink()
        partial = Path(work) / "rootfs.tar"
        _run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial), "."], "tar")
        partial.replace(tarball)


def _upgrade(rootfs: Path) -> None:
    """The update suites' fixes installed now.

    debootstrap takes the main suite only; the image then has what a security
    fix published since the release changed.
    """
    environment = ["env", "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C"]
    _run(["chroot", str(rootfs), *environment, "apt-get", "-q", "update"], "apt-get update")
    _run(
        ["chroot", str(rootfs), *environment, "apt-get", "-q", "-y", "upgrade"],
        "apt-get upgrade",
    )


def _import(spec: BaseImageSpec, tarball: Path) -> None:
    docker.run(
        [
            "import",
            "--platform",
            spec.platform,
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


def push_multiarch(specs: list[BaseImageSpec], reference: str, log: Callable[[str], None]) -> None:
    """Push each arch's image as ``<reference>-<arch>`` and ``reference`` as their list.

    A pushing builder (or another host) then takes one name for every platform.
    """
    sources = []
    for spec in specs:
        target = f"{reference}-{spec.arch}"
        docker.run(["tag", spec.tag, target])
        docker.run(["push", "--quiet", target])
        sources.append(target)
    docker.run(["buildx", "imagetools", "create", "--tag", reference, *sources])
    log(f"{reference}: {', '.join(s.platform for s in specs)} ({', '.join(sources)})")
