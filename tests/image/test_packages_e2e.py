"""A new version of one OS package rebuilds exactly the images that contain it.

Two images of the synthetic project: demo, and demo-extra (a target of the
same Dockerfile) with the runtime package ``file``. Both are built and their
packages recorded; then the apt index (FORGE_APT_INDEX, standing in for the
host's) serves a newer ``file``: only demo-extra's key changes, so only it is
built again, and once it is recorded both are up to date.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from imageforge.config.manifest import Pair
from imageforge.host import docker
from imageforge.image import packagelock
from imageforge.image.build import BuildOptions, build_services
from tests.support.projects import make_forge
from tests.support.synthetic import project_copy

pytestmark = pytest.mark.docker
PAIRS = [Pair("2025.2", "demo"), Pair("2025.2", "demo-extra")]


def _results(tmp_path) -> dict[str, str]:
    summary = json.loads((tmp_path / "build" / "summary.json").read_text())
    return {row["service"]: row["result"] for row in summary["images"]}


def test_a_package_update_rebuilds_only_the_images_that_contain_it(built, tmp_path, base_image):
    copy = project_copy(built, tmp_path, "imageforge-test/packages")
    manifest = copy / "releases.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "pip_packages: [gunicorn]",
            "pip_packages: [gunicorn]\n    images: {demo-extra: {target: extra, runtime_packages: [file]}}",
        )
    )
    dockerfile = copy / "images" / "demo" / "Dockerfile"
    text = dockerfile.read_text()
    last = text.rindex("FROM ${RUNTIME_IMAGE}\n")
    stage = text[last:].replace("FROM ${RUNTIME_IMAGE}\n", "FROM ${RUNTIME_IMAGE} AS extra\n", 1)
    dockerfile.write_text(text[:last] + stage + "\n" + text[last:])
    index = tmp_path / "apt-index"
    index.mkdir()
    (index / "Packages").write_text("Package: unrelated\nVersion: 1.0\n")
    forge = make_forge(copy, tmp_path, base_image=base_image, apt_index=index)
    first = build_services(forge, PAIRS, BuildOptions())
    try:
        demo, extra = (packagelock.recorded(forge, "2025.2", s) for s in ("demo", "demo-extra"))
        assert "file" in extra["packages"] and "file" not in demo["packages"]
        assert extra["packages"]["libc6"] == demo["packages"]["libc6"]
        # Recorded: the next plan finds both by the lock.
        recorded = build_services(forge, PAIRS, BuildOptions())
        assert _results(tmp_path) == {"demo": "up to date", "demo-extra": "up to date"}

        (index / "Packages").write_text("Package: file\nVersion: 1:99.0-1\n")
        second = build_services(forge, PAIRS, BuildOptions())
        assert _results(tmp_path) == {"demo": "up to date", "demo-extra": "built"}
        assert second[0].key == recorded[0].key and second[1].key != recorded[1].key

        # A package both contain: both are built.
        (index / "Packages").write_text(
            "Package: file\nVersion: 1:99.0-1\n\nPackage: libc6\nVersion: 9.99-1\n"
        )
        build_services(forge, PAIRS, BuildOptions())
        assert _results(tmp_path) == {"demo": "built", "demo-extra": "built"}
        build_services(forge, PAIRS, BuildOptions())
        assert _results(tmp_path) == {"demo": "up to date", "demo-extra": "up to date"}

        # Offline, the recorded versions stand: the same keys, nothing to build.
        offline = replace(forge, offline=True)
        (index / "Packages").write_text("Package: libc6\nVersion: 10.0-1\n")
        build_services(offline, PAIRS, BuildOptions())
        assert _results(tmp_path) == {"demo": "up to date", "demo-extra": "up to date"}
    finally:
        for result in first:
            for tag in result.tags:
                docker.run(["image", "rm", tag], check=False)
