"""Smoke and SBOM take only an image built from today's inputs: a stale one is named and refused."""

from __future__ import annotations

import shutil

import pytest

from imageforge.config.manifest import Pair
from imageforge.errors import ForgeError
from imageforge.image.build import BuildOptions
from imageforge.verify.service import current_image, sbom_service, smoke_service
from tests.support.projects import make_forge
from tests.support.synthetic import REGISTRY

pytestmark = pytest.mark.docker


@pytest.fixture
def copy(built, tmp_path, base_image):
    """The built project, copied: its inputs can change without touching the shared image."""
    _, _, project, _ = built
    copied = tmp_path / "project"
    shutil.copytree(project, copied)
    return copied, make_forge(copied, tmp_path, base_image=base_image)


def test_the_image_built_from_todays_inputs_is_current(built, copy):
    _, forge = copy
    image, inputs = current_image(forge, Pair("2025.2", "demo"), BuildOptions())
    assert image == built[0].reference
    assert inputs.service.series_digest == built[0].inputs.service.series_digest


def test_an_image_built_before_a_patch_changed_is_stale(built, copy):
    project, forge = copy
    [patch] = sorted((project / "patches" / "demo" / "2025.2").glob("*.patch"))
    # A new trailer: the patch still applies and installs the same files, yet
    # the series is not the one the image was built from.
    text = patch.read_text()
    patch.write_text(text.replace("\n---\n", "\nReviewed-by: Someone <s@example.org>\n---\n", 1))
    old = built[0].inputs.service.series_digest
    with pytest.raises(ForgeError) as caught:
        smoke_service(forge, Pair("2025.2", "demo"), BuildOptions())
    message = str(caught.value)
    assert message.startswith(
        f"image {built[0].reference} is stale: patch-series-digest is '{old}'"
    )
    assert message.endswith("; rebuild it (inv build -s demo -r 2025.2, or add --build)")
    assert "\n" not in message
    with pytest.raises(ForgeError, match="is stale: patch-series-digest"):
        sbom_service(forge, Pair("2025.2", "demo"), BuildOptions())


def test_an_image_never_built_says_build_it_first(copy):
    project, forge = copy
    releases = project / "releases.yaml"
    releases.write_text(releases.read_text().replace(REGISTRY, "never.test/forge"))
    forge = make_forge(project, project.parent, base_image=forge.base_image)
    with pytest.raises(ForgeError, match=r"is not here: build it first \(inv build\)$"):
        smoke_service(forge, Pair("2025.2", "demo"), BuildOptions())


def test_smoke_of_a_current_image_writes_nothing_under_build(built, base_image):
    """Planning ("which image would this be?") computes; only a build writes contexts."""
    _, _, project, root = built
    forge = make_forge(project, root, base_image=base_image)
    build = root / "build"
    before = {p: p.stat().st_mtime_ns for p in build.rglob("*")}
    report = smoke_service(forge, Pair("2025.2", "demo"), BuildOptions())
    assert report.ok, report.table()
    after = {p: p.stat().st_mtime_ns for p in build.rglob("*")}
    assert after == before
