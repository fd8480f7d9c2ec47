"""One shared dependency layer per release: two services, part of their venvs in common.

demo needs pbr, six, PyMySQL, demo-lib (patched, built from source) and
gunicorn; other needs pbr, six and PyMySQL. The shared layer holds what both
resolve to (pbr, six, PyMySQL and what they need), at one digest in both
images; each deps layer holds the rest; no image gains or loses a
distribution against the images built with no shared layer (FORGE_SHARED_DEPS=0).
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from imageforge.config.manifest import Pair
from imageforge.host import docker
from imageforge.image.build import BuildOptions, build_services
from imageforge.verify.reproducible import image_contents
from imageforge.verify.service import smoke_service
from tests.support.gitrepos import make_upstream
from tests.support.projects import make_forge
from tests.support.synthetic import project_copy, run_in

pytestmark = pytest.mark.docker
PAIRS = [Pair("2025.2", "demo"), Pair("2025.2", "other")]
SITE = "var/lib/openstack/lib/python3.11/site-packages"
LIST = (
    "import importlib.metadata as m; "
    "print('\\n'.join(sorted(f\"{d.metadata['Name'].lower()}=={d.version}\" for d in m.distributions())))"
)


def _two_services(built, tmp_path):
    copy = project_copy(built, tmp_path, "imageforge-test/shared")
    other = make_upstream(tmp_path / "upstream", "other")
    other.checkout("stable/2025.2")
    other.commit({"requirements.txt": "pbr>=5.5.0\nsix\nPyMySQL\n"}, "Depend on six and PyMySQL")
    other.tag("1.0.2")
    manifest = copy / "releases.yaml"
    text = manifest.read_text().replace(
        "services:\n  demo:", f"services:\n  other: {{repo: {other.url}}}\n  demo:", 1
    )
    text = text.replace("services: {demo: {", "services: {other: {ref: 1.0.2}, demo: {", 1)
    manifest.write_text(text)
    (copy / "images" / "other").mkdir()
    (copy / "images" / "other" / "Dockerfile").write_text(
        (copy / "images" / "demo" / "Dockerfile").read_text().replace("demo", "other")
    )
    return copy


def _layer_with(contents, prefix):
    """The index of the layer holding files under ``prefix``."""
    return next(i for i, files in enumerate(contents) if any(p.startswith(prefix) for p in files))


def test_one_shared_layer_and_the_same_distributions(built, tmp_path, base_image):
    copy = _two_services(built, tmp_path)
    forge = make_forge(copy, tmp_path, base_image=base_image)
    results = build_services(forge, PAIRS, BuildOptions())
    before = {}
    try:
        demo, other = (r.reference for r in results)
        layers = {
            ref: json.loads(
                docker.run(["image", "inspect", "--format", "{{json .RootFS.Layers}}", ref]).stdout
            )
            for ref in (demo, other)
        }
        _, files = image_contents(demo)
        shared = _layer_with(files, f"{SITE}/six-")
        assert layers[demo][shared] == layers[other][shared], "one digest in both images"
        names = {p.split("/")[6].split("-")[0].lower() for p in files[shared] if p.count("/") >= 6}
        assert {"six", "pymysql", "pbr"} <= names
        assert not names & {"gunicorn", "demo_lib", "demo", "other"}, names
        own = _layer_with(files, f"{SITE}/gunicorn-")
        assert own == shared + 1 and layers[demo][own] != layers[other][own]
        assert not any(p.startswith(f"{SITE}/six-") for p in files[own])
        after = {ref: run_in(ref, "python3", "-c", LIST) for ref in (demo, other)}
        report = smoke_service(forge, Pair("2025.2", "demo"), BuildOptions())
        assert report.ok, report.table()

        # The same images with no shared layer: the same distributions, one deps layer.
        alone = build_services(replace(forge, shared_deps=False), PAIRS, BuildOptions(force=True))
        before = {r.reference: run_in(r.reference, "python3", "-c", LIST) for r in alone}
        assert before == after
        _, files = image_contents(demo)
        assert _layer_with(files, f"{SITE}/six-") == _layer_with(files, f"{SITE}/gunicorn-")
    finally:
        for result in results:
            for tag in result.tags:
                docker.run(["image", "rm", tag], check=False)
