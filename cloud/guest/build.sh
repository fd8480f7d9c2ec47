#!/bin/sh
# Makes the forge's test guest from the distribution's packages, in a
# container of the release's base image: the distribution's kernel, and an
# initramfs of busybox (static), the virtio network modules and ./init.
# Writes /out/vmlinuz, /out/initrd.gz and /out/versions.
set -eu
ca=""; [ -s /run/cacert ] && ca="-o Acquire::https::CAInfo=/run/cacert"
apt-get -q $ca update >/dev/null
# linux-image-<arch> is a metapackage: the kernel is the package it depends on.
arch=$(dpkg --print-architecture)
kernel=$(apt-cache depends "linux-image-$arch" | awk '/Depends: linux-image-/ {print $2; exit}')
cd /tmp
apt-get -q $ca download "$kernel" busybox-static >/dev/null
mkdir kernel busybox root
dpkg-deb -x "$kernel"_*.deb kernel
dpkg-deb -x busybox-static_*.deb busybox
release=$(ls kernel/lib/modules)
mkdir -p root/bin root/proc root/sys root/dev root/lib/modules/"$release"
cp busybox/bin/busybox root/bin/busybox
ln -s busybox root/bin/sh
cp /guest/init root/init
cp /guest/lease root/bin/forge-lease
chmod 0755 root/init root/bin/forge-lease
# The virtio PCI transport and network driver with what they depend on.
for module in virtio virtio_ring virtio_pci virtio_pci_modern_dev virtio_pci_legacy_dev \
    failover net_failover virtio_net; do
    found=$(find kernel/lib/modules/"$release" -name "$module.ko*" | head -n 1)
    [ -n "$found" ] || continue  # built in on this kernel
    mkdir -p root/"$(dirname "${found#kernel/}")"
    cp "$found" root/"${found#kernel/}"
done
root/bin/busybox depmod -b root "$release"
# Fixed times and order: the same packages give the same initramfs.
find root -exec touch -h -d @0 {} +
(cd root && find . | LC_ALL=C sort | ../root/bin/busybox cpio -o -H newc) > initrd.cpio
gzip -9n < initrd.cpio > /out/initrd.gz
cp kernel/boot/vmlinuz-"$release" /out/vmlinuz
busybox=$(dpkg-deb -f busybox-static_*.deb Version)
echo "$kernel $(dpkg-deb -f "$kernel"_*.deb Version)" > /out/versions
echo "busybox-static $busybox" >> /out/versions
