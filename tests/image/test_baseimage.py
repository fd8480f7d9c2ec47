"""The locally bootstrapped base image: created once, reused, and really runnable."""

from __future__ import annotations

import pytest

from imageforge.context import cache_dir
from imageforge.host import docker
from imageforge.image.baseimage import INPUTS_LABEL, BaseImageSpec, default_spec, ensure_base_image
from tests.support import RUN

pytestmark = pytest.mark.docker


def test_a_container_starts_from_the_local_base_image(base_image):
    result = docker.run(
        ["run", "--rm", base_image, "sh", "-c", ". /etc/os-release; echo $ID $VERSION_ID"]
    )
    assert result.stdout.strip() == "debian 12"


def test_it_knows_the_hosts_update_suites_and_has_their_fixes(base_image):
    """A security fix published after the release reaches the base, and apt in images sees it."""
    from imageforge.image.aptsources import sources_list

    spec = default_spec()
    result = docker.run(["run", "--rm", base_image, "cat", "/etc/apt/sources.list"])
    assert result.stdout == sources_list(spec.mirror, spec.suite, spec.updates)
    if not spec.updates:
        return  # a host without update suites: the image has none either
    # No apt cache is left from the upgrade (77 MB in every image otherwise).
    caches = docker.run(["run", "--rm", base_image, "sh", "-c", "ls /var/cache/apt/*.bin || true"])
    assert caches.stdout.strip() == ""
    # apt in the image reads the update suites' indexes (what an image's apt-get installs from).
    update = docker.run(["run", "--rm", "--user", "root", base_image, "apt-get", "update"])
    for _uri, suite in spec.updates:
        assert f" {suite} " in update.stdout or f" {suite}/" in update.stdout, update.stdout


def test_second_run_reuses_the_image(base_image):
    lines: list[str] = []
    assert ensure_base_image(default_spec(), cache_dir(), log=lines.append) is False
    assert lines == [f"{base_image}: up to date (bookworm, inputs {default_spec().inputs_digest})"]


def test_a_lost_image_is_reimported_from_the_cached_rootfs(base_image):
    # Same inputs under another name: the cached tarball is imported, no debootstrap.
    spec = BaseImageSpec(mirror=default_spec().mirror, tag=f"imageforge-test/debian-{RUN}:reimport")
    docker.run(["image", "rm", "--force", spec.tag], check=False)
    lines: list[str] = []
    try:
        assert ensure_base_image(spec, cache_dir(), log=lines.append) is True
        assert "importing the cached root file system" in lines[0]
        assert docker.image_label(spec.tag, INPUTS_LABEL) == spec.inputs_digest
    finally:
        docker.run(["image", "rm", "--force", spec.tag], check=False)
