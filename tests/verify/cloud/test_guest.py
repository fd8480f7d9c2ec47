"""The test guest, made from the distribution's packages: a kernel, and an initramfs whose
init takes a DHCP lease and prints it on the serial console."""

from __future__ import annotations

import gzip
import shutil

import pytest

from imageforge.context import ca_bundle
from imageforge.host import docker
from imageforge.verify.cloud.guest import DISK_BYTES, make_guest
from tests.support import ROOT
from tests.support.projects import make_forge

pytestmark = pytest.mark.docker


def cpio_names(archive: bytes) -> list[str]:
    """The member names of a newc cpio archive."""
    names, offset = [], 0
    while True:
        header = archive[offset : offset + 110]
        assert header[:6] == b"070701", f"not a newc header at {offset}"
        size, name_size = int(header[54:62], 16), int(header[94:102], 16)
        name = archive[offset + 110 : offset + 110 + name_size - 1].decode()
        if name == "TRAILER!!!":
            return names
        names.append(name)
        offset = (offset + 110 + name_size + 3) // 4 * 4
        offset = (offset + size + 3) // 4 * 4


@pytest.fixture(scope="module")
def guest(tmp_path_factory, base_image):
    root = tmp_path_factory.mktemp("guest")
    said: list[str] = []
    forge = make_forge(ROOT, root, log=said.append)
    made = make_guest(forge, ROOT / "cloud" / "guest", base_image)
    again = make_guest(forge, ROOT / "cloud" / "guest", base_image)
    return made, again, said


def test_a_kernel_and_an_initramfs_from_the_distributions_packages(guest):
    made, again, said = guest
    assert again == made and len(said) == 1, said  # made once, then reused
    assert made.kernel.read_bytes()[0x202:0x206] == b"HdrS"  # a bootable x86 kernel
    names = cpio_names(gzip.decompress(made.ramdisk.read_bytes()))
    assert {"init", "bin/busybox", "bin/forge-lease"} <= set(names)
    modules = [n for n in names if n.endswith(".ko")]
    assert any(n.endswith("/virtio_net.ko") for n in modules), modules
    assert any(n.endswith("/modules.dep") for n in names)
    assert made.disk.stat().st_size == DISK_BYTES
    kernel, busybox = made.versions
    assert kernel.startswith("linux-image-") and busybox.startswith("busybox-static ")


def test_the_guest_boots_under_tcg_and_prints_its_lease(guest, base_image, tmp_path):
    """QEMU's user-mode DHCP stands in for OVN's: the init, the NIC and the lease line."""
    made, _, _ = guest
    for path in (made.kernel, made.ramdisk):
        shutil.copy(path, tmp_path)
    mounts = ["--volume", f"{tmp_path}:/guest:ro"]
    bundle = ca_bundle()
    if bundle:
        mounts += ["--volume", f"{bundle}:/run/cacert:ro"]
    script = (
        'ca=""; [ -s /run/cacert ] && ca="-o Acquire::https::CAInfo=/run/cacert"; '
        "apt-get -q $ca update >/dev/null && "
        "apt-get -q $ca install -y --no-install-recommends qemu-system-x86 >/dev/null && "
        "timeout 120 qemu-system-x86_64 -machine pc,accel=tcg -m 256 -nographic -no-reboot "
        "-kernel /guest/vmlinuz -initrd /guest/initrd.gz -append console=ttyS0 "
        "-netdev user,id=n0 -device virtio-net-pci,netdev=n0 > /tmp/console & "
        "for _ in $(seq 120); do grep -q 'forge-guest: ready' /tmp/console && break; sleep 1; done; "
        "grep forge-guest /tmp/console"
    )
    proc = docker.run(["run", "--rm", *mounts, base_image, "sh", "-c", script], timeout=600)
    lines = proc.stdout.splitlines()
    assert "forge-guest: lease 10.0.2.15/24 router 10.0.2.2 from 10.0.2.2" in lines, lines
    assert lines[-1].startswith("forge-guest: ready after ")
