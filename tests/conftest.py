"""Shared fixtures: real upstream git repositories and the Docker engine gate."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from imageforge.config.manifest import Pair
from tests.support import ROOT
from tests.support.gitrepos import UpstreamRepo, make_upstream

__all__ = ["ROOT"]


def docker_demanded() -> bool:
    """CI (and anyone who sets FORGE_REQUIRE_DOCKER=1) must run the Docker tests, never skip them."""
    return os.environ.get("FORGE_REQUIRE_DOCKER") == "1" or os.environ.get("CI") == "true"


def docker_problem() -> str | None:
    """Why Docker tests cannot run here, or None when an engine with buildx answers."""
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
        if info.returncode != 0:
            return f"docker daemon not reachable: {info.stderr.strip()[-200:]}"
        buildx = subprocess.run(["docker", "buildx", "version"], capture_output=True, timeout=30)
        if buildx.returncode != 0:
            return "docker buildx is not installed"
    except FileNotFoundError:
        return "docker is not installed"
    return None


def pytest_collection_modifyitems(config, items):
    docker_items = [item for item in items if "docker" in item.keywords]
    if not docker_items:
        return
    problem = docker_problem()
    if problem is None:
        return
    if docker_demanded():
        for item in docker_items:
            item.add_marker(pytest.mark.usefixtures("_fail_without_docker"))
        return
    for item in docker_items:
        item.add_marker(pytest.mark.skip(reason=f"{problem} (set FORGE_REQUIRE_DOCKER=1 to fail)"))


@pytest.fixture(autouse=True)
def git_config(tmp_path_factory, monkeypatch):
    """No user or system git config (insteadOf, diff.noprefix, hooks) leaks into a test."""
    config = tmp_path_factory.mktemp("gitconfig") / "config"
    config.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    return config


@pytest.fixture
def forge_dirs(tmp_path, monkeypatch):
    """A private cache and build folder for the forge under test."""
    cache, build = tmp_path / "cache", tmp_path / "build"
    monkeypatch.setenv("FORGE_CACHE_DIR", str(cache))
    monkeypatch.setenv("FORGE_BUILD_DIR", str(build))
    return cache, build


@pytest.fixture
def _fail_without_docker():
    pytest.fail(f"Docker is required here (CI or FORGE_REQUIRE_DOCKER=1): {docker_problem()}")


@pytest.fixture
def upstream(tmp_path: Path) -> Callable[..., UpstreamRepo]:
    """Factory: ``upstream("keystone")`` makes a real repo with tags and a stable branch."""

    def factory(name: str = "demo") -> UpstreamRepo:
        return make_upstream(tmp_path / "upstream", name)

    return factory


@pytest.fixture(scope="session")
def base_image() -> str:
    """The locally bootstrapped Debian base image, created on first use."""
    from imageforge.context import cache_dir
    from imageforge.image.baseimage import default_spec, ensure_base_image

    spec = default_spec(mirror=os.environ.get("FORGE_APT_MIRROR"))
    ensure_base_image(spec, cache_dir(), log=lambda line: None)
    return spec.tag


@pytest.fixture(scope="session")
def arm64_base(base_image) -> str:
    """imageforge/debian:bookworm-arm64, debootstrapped under qemu on first use (cached)."""
    from imageforge.context import cache_dir
    from imageforge.image.baseimage import default_spec, ensure_base_image

    spec = default_spec(mirror=os.environ.get("FORGE_APT_MIRROR"), arch="arm64")
    ensure_base_image(spec, cache_dir(), log=lambda line: None)
    return spec.tag


@pytest.fixture(scope="session")
def built(tmp_path_factory, base_image):
    """The synthetic service built once per session: (result, CA marker line, project, root)."""
    from imageforge.context import ca_bundle
    from imageforge.image.build import BuildOptions, build_service
    from tests.support.projects import make_forge
    from tests.support.synthetic import ca_marker_certificate, synthetic_project

    root = tmp_path_factory.mktemp("e2e")
    bundle, marker_line = ca_marker_certificate(tmp_path_factory)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FORGE_CA_BUNDLE", str(bundle))
        env.setenv("GIT_CONFIG_GLOBAL", os.devnull)
        project = synthetic_project(root)
        forge = make_forge(project, root, base_image=base_image, ca_bundle=ca_bundle(), log=print)
        result = build_service(forge, Pair("2025.2", "demo"), BuildOptions())
    yield result, marker_line, project, root
    for tag in result.tags:
        subprocess.run(["docker", "image", "rm", tag], capture_output=True, check=False)


@pytest.fixture
def local_registry(tmp_path):
    """Debian's docker-registry on a loopback port, started and stopped by the test."""
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.fail("docker-registry is not installed (scripts/setup-host.sh installs it)")
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "registry.yml"
    config.write_text(
        f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {tmp_path / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    process = subprocess.Popen(
        [binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        import time
        import urllib.request

        for _ in range(50):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("docker-registry did not start")
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
