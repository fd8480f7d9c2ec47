"""The cloud's test guest, made from the distribution's packages.

Nothing can be downloaded from an image site here, and a cirros image would
be one more thing to trust. So the forge makes its own guest the way it makes
its base image: cloud/guest/build.sh runs in a container of the release's
base image and takes the distribution's kernel package and busybox-static.
The initramfs's init brings up the virtio NIC, asks for a DHCP lease and
prints it on the serial console (cloud/guest/init).

glance gets three images, as nova's libvirt driver boots a kernel directly:
the kernel (aki), the ramdisk (ari) and a small raw disk that names both.
The result is kept under the build folder, keyed by the base image and the
guest's files, so a second run reuses it.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from imageforge.context import Forge, ca_bundle
from imageforge.errors import ForgeError
from imageforge.host import docker

# The disk the kernel's images name: nova needs a root disk; the guest runs from its ramdisk.
DISK_BYTES = 1 << 20


@dataclass(frozen=True)
class Guest:
    kernel: Path
    ramdisk: Path
    disk: Path
    # "linux-image-6.1.0-50-amd64 6.1.176-1", "busybox-static 1:1.35.0-4+deb12u1+b1"
    versions: tuple[str, ...]

    def values(self) -> dict[str, str]:
        """The run's template values for the guest's files."""
        return {
            "guest_kernel": str(self.kernel),
            "guest_ramdisk": str(self.ramdisk),
            "guest_disk": str(self.disk),
        }


def make_guest(forge: Forge, folder: Path, base_image: str) -> Guest:
    """The guest ``folder``'s build.sh makes from ``base_image``: made once, then reused."""
    key = _key(folder, base_image)
    out = forge.build_dir / "cloud" / "guest" / key
    if not (out / "versions").is_file():
        forge.log(f"cloud: making the test guest from {base_image}'s packages")
        _build(folder, base_image, out)
    versions = tuple((out / "versions").read_text().splitlines())
    return Guest(out / "vmlinuz", out / "initrd.gz", out / "disk.raw", versions)


def _key(folder: Path, base_image: str) -> str:
    """The base image's ID and the guest's files: what the guest is made from."""
    image_id = docker.run(["image", "inspect", "--format", "{{.Id}}", base_image], check=False)
    if image_id.returncode != 0:
        raise ForgeError(f"cloud: base image {base_image} is not on this host (inv build makes it)")
    digest = hashlib.sha256(image_id.stdout.strip().encode())
    for path in sorted(folder.iterdir()):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _build(folder: Path, base_image: str, out: Path) -> None:
    """Run build.sh in the base image; the folder appears whole or not at all."""
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    mounts = ["--volume", f"{partial}:/out", "--volume", f"{folder}:/guest:ro"]
    bundle = ca_bundle()
    if bundle is not None:  # apt behind a TLS proxy
        mounts += ["--volume", f"{bundle}:/run/cacert:ro"]
    try:
        docker.run(["run", "--rm", "--user", "root", *mounts, base_image, "sh", "/guest/build.sh"])
        (partial / "disk.raw").write_bytes(bytes(DISK_BYTES))
        partial.rename(out)
    except docker.DockerError as err:
        raise ForgeError(f"cloud: making the test guest failed: {err}") from err
    finally:
        shutil.rmtree(partial, ignore_errors=True)
