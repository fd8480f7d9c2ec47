"""FORGE_OFFLINE=1 is honoured by every task: a warm cache needs no network, a cold one fails in one line.

The upstream URLs are pointed at a folder that does not exist (git's own
``url.<base>.insteadOf``, as an air-gapped host would have it), and git's
trace shows every git process the tasks start, including a lazy fetch of a
missing blob that a blobless mirror would otherwise make on its own.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support import ROOT
from tests.support.synthetic import synthetic_project

TASKS = {
    "build --dry-run": ["build", "-s", "demo", "-r", "2025.2", "--dry-run"],
    "smoke": ["smoke", "-s", "demo", "-r", "2025.2"],
    "sbom": ["sbom", "-s", "demo", "-r", "2025.2"],
    "patches.check": ["patches.check"],
    "patches.refresh --dry-run": [
        *("patches.refresh", "-s", "demo", "-r", "2025.2"),
        *("--onto", "stable/2025.2", "--dry-run"),
    ],
    "patches.edit": ["patches.edit", "-s", "demo-lib", "-r", "2025.2"],
}
BASE = ["--base-image", "imageforge/debian:bookworm"]


def inv(project: Path, root: Path, args: list[str], **env: str) -> subprocess.CompletedProcess:
    if args[0] in ("build", "smoke", "sbom"):
        args = [*args, *BASE]
    environment = {
        **os.environ,
        "FORGE_MANIFEST": str(project / "releases.yaml"),
        "FORGE_CACHE_DIR": str(root / "cache"),
        "FORGE_BUILD_DIR": str(root / "build"),
        "GIT_CONFIG_GLOBAL": os.devnull,
        **env,
    }
    return subprocess.run(
        ["inv", "-r", str(ROOT), *args], env=environment, capture_output=True, text=True
    )


def offline_env(root: Path, upstream: Path, trace: Path) -> dict[str, str]:
    """Offline, every upstream URL rewritten to nowhere, every git process traced."""
    return {
        "FORGE_OFFLINE": "1",
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{(root / 'nowhere').as_uri()}/.insteadOf",
        "GIT_CONFIG_VALUE_0": f"{upstream.as_uri()}/",
        "GIT_TRACE": str(trace),
    }


def fetches(trace: Path) -> list[str]:
    if not trace.is_file():
        return []
    return [
        line
        for line in trace.read_text().splitlines()
        if any(f" {verb} " in f"{line} " for verb in ("fetch", "clone", "fetch-pack"))
        and ("built-in:" in line or "run_command:" in line)
    ]


@pytest.fixture
def warm(tmp_path):
    """The synthetic project with its mirrors and exports made online."""
    project = synthetic_project(tmp_path)
    proc = inv(project, tmp_path, TASKS["build --dry-run"])
    assert proc.returncode == 0, proc.stderr
    return project, tmp_path


@pytest.mark.parametrize("name", [n for n in TASKS if n not in ("smoke", "sbom")])
def test_a_warm_cache_needs_no_network(warm, name):
    project, root = warm
    trace = root / f"trace-{name.split()[0]}"
    proc = inv(project, root, TASKS[name], **offline_env(root, root / "upstream", trace))
    assert proc.returncode == 0, proc.stderr
    assert trace.is_file(), "git ran and was traced"
    assert fetches(trace) == [], f"{name} fetched while offline"


@pytest.mark.parametrize("name", list(TASKS))
def test_a_cold_cache_fails_in_one_line_saying_offline(warm, name):
    project, root = warm
    trace = root / "trace-cold"
    cold = root / "cold"
    proc = inv(
        project,
        root,
        TASKS[name],
        FORGE_CACHE_DIR=str(cold),
        FORGE_BUILD_DIR=str(root / "cold-build"),  # beside the cache, never inside it
        **offline_env(root, root / "upstream", trace),
    )
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "offline" in lines[0] and "FORGE_OFFLINE never clones" in lines[0]
    assert "(2025.2)" in lines[0], "names the project and release"
    assert fetches(trace) == []
    assert not list((cold / "git").glob("*.git")) if (cold / "git").is_dir() else True


def test_an_unknown_offline_spelling_is_refused(warm):
    project, root = warm
    proc = inv(project, root, ["patches.check"], FORGE_OFFLINE="maybe")
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: FORGE_OFFLINE='maybe': expected one of 1, true, yes, on")


def test_yes_means_offline(warm):
    project, root = warm
    trace = root / "trace-yes"
    env = offline_env(root, root / "upstream", trace)
    env["FORGE_OFFLINE"] = "yes"
    proc = inv(project, root, TASKS["patches.check"], **env)
    assert proc.returncode == 0, proc.stderr
    assert fetches(trace) == []


@pytest.mark.docker
@pytest.mark.parametrize("name", ["smoke", "sbom"])
def test_smoke_and_sbom_of_a_built_image_need_no_network(built, name):
    _, _, project, root = built
    trace = root / f"trace-{name}"
    proc = inv(project, root, TASKS[name], **offline_env(root, root / "upstream", trace))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert fetches(trace) == []
