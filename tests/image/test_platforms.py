"""Platforms and architectures: names, local tags, and a host that cannot emulate."""

from __future__ import annotations

import pytest

from imageforge.errors import ForgeError
from imageforge.image import baseimage, platforms
from imageforge.image.build import BuildOptions


def test_platforms_map_to_debian_architectures_and_local_tags(monkeypatch):
    monkeypatch.setattr(baseimage, "native_arch", lambda: "amd64")
    assert platforms.parse("linux/amd64, linux/arm64,linux/amd64") == ["linux/amd64", "linux/arm64"]
    assert platforms.parse(None) == [None]
    assert baseimage.arch_of("linux/arm/v7") == "armhf"
    assert platforms.local_tag("keystone:28.0.2", "linux/arm64") == "keystone:28.0.2-arm64"
    assert platforms.local_tag("keystone:28.0.2", "linux/amd64") == "keystone:28.0.2"
    assert platforms.local_tag("keystone:28.0.2", None) == "keystone:28.0.2"
    with pytest.raises(ForgeError, match=r"platform linux/mips: no Debian architecture for it"):
        baseimage.arch_of("linux/mips")


def test_a_foreign_arch_base_keeps_the_native_key_apart():
    native = baseimage.BaseImageSpec(mirror="http://m.test/debian")
    arm = baseimage.BaseImageSpec(mirror="http://m.test/debian", arch="arm64")
    assert native.inputs_digest != arm.inputs_digest
    assert arm.platform == "linux/arm64"


def test_no_binfmt_handler_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(baseimage, "native_arch", lambda: "amd64")
    monkeypatch.setattr(baseimage, "BINFMT", tmp_path)
    with pytest.raises(ForgeError, match=r"arm64: binfmt_misc is not mounted at .*setup-host.sh"):
        baseimage.require_emulation("arm64")
    (tmp_path / "status").write_text("enabled\n")
    with pytest.raises(ForgeError, match=r"arm64: no enabled binfmt_misc handler qemu-aarch64"):
        baseimage.require_emulation("arm64")
    (tmp_path / "qemu-aarch64").write_text("disabled\ninterpreter /usr/bin/qemu-aarch64\n")
    with pytest.raises(ForgeError, match="no enabled binfmt_misc handler"):
        baseimage.require_emulation("arm64")
    (tmp_path / "qemu-aarch64").write_text("enabled\ninterpreter /usr/bin/qemu-aarch64\n")
    baseimage.require_emulation("arm64")
    baseimage.require_emulation("amd64")  # the host's own needs nothing


def test_a_malformed_platform_is_named():
    with pytest.raises(ForgeError, match=r"--platform linux: 'linux' is not a platform"):
        BuildOptions(platform="linux")
