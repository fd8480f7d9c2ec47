"""inv build --check-reproducible on the synthetic service: real builds, compared byte for byte."""

from __future__ import annotations

import pytest

from imageforge.config.manifest import Pair
from imageforge.host import docker
from imageforge.image.build import BuildOptions
from imageforge.verify.reproducible import check_reproducible
from tests.support.projects import make_forge
from tests.support.synthetic import add_demo_extra, project_copy

pytestmark = pytest.mark.docker


def _remove(reports):
    for report in reports:
        docker.run(["image", "rm", report.name], check=False)


def test_built_twice_one_image_is_the_same_and_the_other_names_its_file(
    built, tmp_path, base_image
):
    """One selection, one graph per build: demo, and demo-extra (a target of demo's
    Dockerfile) with a step that writes the time.

    demo's every layer (python-base, the runtime packages and user, the venv, the
    service) and its config (dates from the commit, labels) come out the same the
    second time; demo-extra's report names the planted file, and nothing else."""
    copy = project_copy(built, tmp_path, "imageforge-test/reproducible")
    add_demo_extra(copy)
    dockerfile = copy / "images" / "demo" / "Dockerfile"
    text = dockerfile.read_text()
    # At the end of the extra stage, after USER demo: its own folder.
    last = text.rindex("FROM ${RUNTIME_IMAGE}\n")
    planted = "RUN date +%s%N > /var/lib/demo/built-at\n\n"
    dockerfile.write_text(text[:last] + planted + text[last:])
    forge = make_forge(copy, tmp_path, base_image=base_image)
    pairs = [Pair("2025.2", "demo"), Pair("2025.2", "demo-extra")]
    reports = check_reproducible(forge, pairs, BuildOptions())
    try:
        same, differs = reports
        assert same.ok, same.table()
        [finding] = same.findings
        assert finding.check == "image ID" and "both times" in finding.detail
        created = docker.run(["image", "inspect", "--format", "{{.Created}}", same.name])
        assert created.stdout.strip() == "2025-01-01T00:00:00Z"  # the upstream commit's date

        assert not differs.ok
        details = [f.detail for f in differs.findings if f.check == "differs"]
        [line] = [d for d in details if "/var/lib/demo/built-at:" in d]
        assert "content" in line and "mtime" in line, details
        # Every other layer is the same: only the planted step's file and folders differ
        # (a RUN without settle-layer: BuildKit's mount points for it stamp /etc too).
        planted_paths = ("/var/lib/demo/built-at:", "/var/lib/demo:", "/etc:", "config ")
        assert all(any(p in d for p in planted_paths) for d in details), details
    finally:
        _remove(reports)


def test_pushed_twice_the_registry_holds_one_manifest_digest(
    built, tmp_path, base_image, local_registry
):
    copy = project_copy(built, tmp_path, "imageforge-test/reproducible-push")
    manifest = copy / "releases.yaml"
    text = manifest.read_text()
    registry = text.split("registry: ", 1)[1].split(",", 1)[0]
    manifest.write_text(text.replace(f"registry: {registry}", f"registry: {local_registry}/forge"))
    forge = make_forge(copy, tmp_path, base_image=base_image)
    [report] = check_reproducible(forge, [Pair("2025.2", "demo")], BuildOptions(push=True))
    assert report.ok, report.table()
    [finding] = report.findings
    assert finding.check == "manifest digest" and finding.detail.startswith("sha256:")
    assert report.name.startswith(f"{local_registry}/forge/demo:")
