"""`inv build --dry-run`: the exact buildx commands, computed without Docker."""

from __future__ import annotations

import os
import shlex
import subprocess
from itertools import pairwise

import pytest

from imageforge.build.image import require_buildx
from imageforge.host.docker import DockerError
from tests.support import ROOT
from tests.support.synthetic import REGISTRY, synthetic_project


def test_dry_run_prints_the_exact_buildx_commands(tmp_path, forge_dirs):
    project = synthetic_project(tmp_path)
    env = {
        **os.environ,
        "FORGE_MANIFEST": str(project / "releases.yaml"),
        "FORGE_CA_BUNDLE": "/etc/hostname",
    }
    proc = subprocess.run(
        [
            "inv",
            "-r",
            str(ROOT),
            "build",
            "-s",
            "demo",
            "-r",
            "2025.2",
            "--dry-run",
            "--sbom",
            "--base-image",
            "example/base:1",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    commands = [
        shlex.split(line[len("would run: ") :])
        for line in proc.stdout.splitlines()
        if line.startswith("would run: ")
    ]
    assert [c[:3] for c in commands] == [["docker", "buildx", "build"]] * 3
    base, _builder, service = commands
    assert ("--build-arg", "BASE_IMAGE=example/base:1") in pairwise(base)
    assert base[-2:] == ["--load", str(project / "images" / "python-base")]
    pairs = set(pairwise(service))
    _, build_dir = forge_dirs
    assert ("--build-context", f"source={build_dir}/sources/2025.2/demo/tree") in pairs
    assert ("--build-context", f"constraints={build_dir}/constraints/2025.2") in pairs
    assert ("--build-context", f"libraries={build_dir}/contexts/2025.2/libraries") in pairs
    assert ("--build-arg", "BUILDER_IMAGE=imageforge/venv-builder:example-base-1") in pairs
    assert ("--secret", "id=cacert,src=/etc/hostname") in pairs
    assert ("--tag", f"{REGISTRY}/demo:1.0.2-p1") in pairs
    assert ("--label", "org.imageforge.patches=1") in pairs
    # Nothing was built: no SBOM either.
    assert not (build_dir / "sbom").exists()


def test_build_without_a_target_is_an_error(tmp_path):
    proc = subprocess.run(
        ["inv", "-r", str(ROOT), "build"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1
    assert proc.stderr == "error: name --service and --release (repeatable), or --all\n"


def test_docker_absent_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no docker on it
    with pytest.raises(
        DockerError,
        match=r"docker: command not found \(install Docker: scripts/install-docker.sh\)",
    ):
        require_buildx()
