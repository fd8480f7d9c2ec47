"""`inv build --dry-run`: the exact buildx commands, computed without Docker."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from imageforge.host.docker import DockerError
from imageforge.image.build import require_buildx
from tests.support import ROOT
from tests.support.synthetic import REGISTRY, synthetic_project


def test_dry_run_prints_the_bake_file(tmp_path, forge_dirs):
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
    command, _, definition = proc.stdout.partition("\n{")
    assert command.splitlines()[-1] == "would run: docker buildx bake --file docker-bake.json"
    bake = json.loads("{" + definition)
    targets = bake["target"]
    base = targets["python-base-example-base-1"]
    service = targets["demo-2025-2"]
    assert bake["group"]["default"]["targets"] == [
        "python-base-example-base-1",
        "venv-builder-example-base-1",
        "shared-deps-2025-2-example-base-1",
        "demo-2025-2",
    ]
    # The release's shared dependency layers: on venv-builder, from every Python
    # service's requirements and the release's constraints.
    shared = targets["shared-deps-2025-2-example-base-1"]
    assert shared["contexts"]["imageforge/venv-builder:example-base-1"] == (
        "target:venv-builder-example-base-1"
    )
    assert (
        shared["contexts"]["requirements"]
        == f"{forge_dirs[1]}/contexts/2025.2/_shared/requirements"
    )
    assert service["args"]["SHARED_DEPS_IMAGE"] == "imageforge/shared-deps:2025.2-example-base-1"
    # Shared images are dated alike for every service; a service image by its commit.
    assert base["args"] == {"BASE_IMAGE": "example/base:1", "SOURCE_DATE_EPOCH": "946684800"}
    assert service["args"]["SOURCE_DATE_EPOCH"] == "1735689600"  # 2025-01-01, the commit's
    apt_state = service["contexts"].pop("apt-state")
    assert apt_state.startswith(f"{forge_dirs[1]}/apt-state/")
    assert base["contexts"]["apt-state"] == apt_state
    assert base["context"] == str(project / "images" / "python-base")
    assert base["output"] == ["type=docker"]
    _, build_dir = forge_dirs
    assert service["contexts"] == {
        "source": f"{build_dir}/sources/2025.2/demo/tree",
        "requirements": f"{build_dir}/contexts/2025.2/demo/deps",
        "constraints": f"{build_dir}/constraints/2025.2/demo",
        "libraries": f"{build_dir}/contexts/2025.2/demo/libraries",
        # The shared images come from the same graph, not from an image store.
        "imageforge/python-base:example-base-1": "target:python-base-example-base-1",
        "imageforge/venv-builder:example-base-1": "target:venv-builder-example-base-1",
        "imageforge/shared-deps:2025.2-example-base-1": "target:shared-deps-2025-2-example-base-1",
    }
    assert service["args"]["BUILDER_IMAGE"] == "imageforge/venv-builder:example-base-1"
    assert service["secret"] == ["id=cacert,src=/etc/hostname"]
    assert f"{REGISTRY}/demo:1.0.2-p1" in service["tags"]
    assert service["labels"]["org.imageforge.patches"] == "1"
    assert len(service["labels"]["org.imageforge.content-key"]) == 24
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
