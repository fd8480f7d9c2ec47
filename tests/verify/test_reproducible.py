"""inv build --check-reproducible on the synthetic service: real builds, compared byte for byte."""

from __future__ import annotations

import pytest

from imageforge.config.manifest import Pair
from imageforge.host import docker
from imageforge.image.build import BuildOptions
from imageforge.verify.reproducible import check_reproducible
from tests.support.projects import make_forge
from tests.support.synthetic import project_copy

pytestmark = pytest.mark.docker


def _remove(reports):
    for report in reports:
        docker.run(["image", "rm", report.name], check=False)


def test_two_builds_with_no_cache_give_one_image_id(built, tmp_path, base_image):
    """Every layer (python-base, the runtime packages and user, the venv, the service) and
    the config (dates from the commit, labels) come out the same the second time."""
    copy = project_copy(built, tmp_path, "imageforge-test/reproducible")
    forge = make_forge(copy, tmp_path, base_image=base_image)
    [report] = check_reproducible(forge, [Pair("2025.2", "demo")], BuildOptions())
    try:
        assert report.ok, report.table()
        [finding] = report.findings
        assert finding.check == "image ID" and "both times" in finding.detail
        created = docker.run(["image", "inspect", "--format", "{{.Created}}", report.name])
        assert created.stdout.strip() == "2025-01-01T00:00:00Z"  # the upstream commit's date
    finally:
        _remove([report])


def test_a_step_that_writes_the_time_is_named_by_its_file(built, tmp_path, base_image):
    copy = project_copy(built, tmp_path, "imageforge-test/unreproducible")
    dockerfile = copy / "images" / "demo" / "Dockerfile"
    # After USER demo: its own folder.
    dockerfile.write_text(dockerfile.read_text() + "RUN date +%s%N > /var/lib/demo/built-at\n")
    forge = make_forge(copy, tmp_path, base_image=base_image)
    [report] = check_reproducible(forge, [Pair("2025.2", "demo")], BuildOptions())
    try:
        assert not report.ok
        details = [f.detail for f in report.findings if f.check == "differs"]
        [line] = [d for d in details if "/var/lib/demo/built-at:" in d]
        assert "content" in line and "mtime" in line, details
        # Every other layer is the same: only the planted step's file and folders differ
        # (a RUN without settle-layer: BuildKit's mount points for it stamp /etc too).
        planted = ("/var/lib/demo/built-at:", "/var/lib/demo:", "/etc:", "config ")
        assert all(any(p in d for p in planted) for d in details), details
    finally:
        _remove([report])


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
