"""A release's shared dependency layers: three services, parts of their venvs in common.

demo needs pbr, six, PyMySQL, demo-lib (patched, built from source) and
gunicorn; other needs pbr, six and PyMySQL; third needs pbr alone. The first
shared layer holds what all three need (pbr), at one digest in the three
images; the second what demo and other need besides (six, PyMySQL), at one
digest in those two, and third does not take it; each deps layer holds the
rest; no image gains or loses a distribution against the images built with no
shared layers (FORGE_SHARED_DEPS=0).

demo and other also ask for one same OS package (file): the release's shared
runtime stage installs it once, both images build on it (one layer, one
digest), third does not, and every image has the same OS packages as when
built with no shared stage.
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
PAIRS = [Pair("2025.2", "demo"), Pair("2025.2", "other"), Pair("2025.2", "third")]
SITE = "var/lib/openstack/lib/python3.11/site-packages"
LIST = (
    "import importlib.metadata as m; "
    "print('\\n'.join(sorted(f\"{d.metadata['Name'].lower()}=={d.version}\" for d in m.distributions())))"
)


def _three_services(built, tmp_path):
    copy = project_copy(built, tmp_path, "imageforge-test/shared")
    manifest = copy / "releases.yaml"
    text = manifest.read_text()
    text = text.replace(
        "pip_packages: [gunicorn]", "pip_packages: [gunicorn]\n    runtime_packages: [file]", 1
    )
    runtime = {"other": "runtime_packages: [file]", "third": "runtime_packages: []"}
    for name, requirements in (("other", "pbr>=5.5.0\nsix\nPyMySQL\n"), ("third", "pbr\n")):
        upstream = make_upstream(tmp_path / "upstream", name)
        upstream.checkout("stable/2025.2")
        upstream.commit({"requirements.txt": requirements}, "Its own requirements")
        upstream.tag("1.0.2")
        text = text.replace(
            "services:\n", f"services:\n  {name}: {{repo: {upstream.url}, {runtime[name]}}}\n", 1
        )
        text = text.replace("    services: {", f"    services: {{{name}: {{ref: 1.0.2}}, ", 1)
        (copy / "images" / name).mkdir()
        (copy / "images" / name / "Dockerfile").write_text(
            (copy / "images" / "demo" / "Dockerfile").read_text().replace("demo", name)
        )
    manifest.write_text(text)
    return copy


DPKG = ("dpkg-query", "--show", "--showformat", "${Package}=${Version}\\n")


def _layer_with(contents, prefix):
    """The index of the layer holding files under ``prefix``."""
    return next(i for i, files in enumerate(contents) if any(p.startswith(prefix) for p in files))


def test_nested_shared_layers_and_the_same_distributions(built, tmp_path, base_image):
    copy = _three_services(built, tmp_path)
    forge = make_forge(copy, tmp_path, base_image=base_image)
    results = build_services(forge, PAIRS, BuildOptions())
    alone = []
    try:
        demo, other, third = (r.reference for r in results)
        layers = {
            ref: json.loads(
                docker.run(["image", "inspect", "--format", "{{json .RootFS.Layers}}", ref]).stdout
            )
            for ref in (demo, other, third)
        }
        contents = {ref: image_contents(ref)[1] for ref in (demo, other, third)}
        files = contents[demo]

        def digest(ref, prefix):
            return layers[ref][_layer_with(contents[ref], prefix)]

        common = _layer_with(files, f"{SITE}/pbr-")
        assert len({digest(ref, f"{SITE}/pbr-") for ref in layers}) == 1, "one in all three"
        pair = _layer_with(files, f"{SITE}/six-")
        assert pair == common + 1
        assert digest(demo, f"{SITE}/six-") == digest(other, f"{SITE}/six-"), "demo and other"
        assert _names(files[common]) & {"pbr", "six", "pymysql"} == {"pbr"}
        assert {"six", "pymysql"} <= _names(files[pair])
        assert not _names(files[pair]) & {"pbr", "gunicorn", "demo_lib", "demo", "other"}
        assert not any("/six-" in p for layer in contents[third] for p in layer)
        own = _layer_with(files, f"{SITE}/gunicorn-")
        assert own > pair and layers[demo][own] not in layers[other]
        assert not any(p.startswith(f"{SITE}/six-") for p in files[own])
        # file's stage: one layer in demo and other, below each one's own packages and user.
        stage = _layer_with(files, "usr/bin/file")
        assert layers[demo][stage] == digest(other, "usr/bin/file"), "one digest in both"
        assert stage < _layer_with(files, "var/lib/demo") < common
        assert not any("usr/bin/file" in layer for layer in contents[third])
        after = {ref: run_in(ref, "python3", "-c", LIST) for ref in (demo, other, third)}
        packages = {ref: run_in(ref, *DPKG) for ref in (demo, other, third)}
        assert "six==" not in after[third] and "pbr==" in after[third]
        report = smoke_service(forge, Pair("2025.2", "demo"), BuildOptions())
        assert report.ok, report.table()

        # The same images with no shared layers: the same distributions, one deps layer.
        alone = build_services(replace(forge, shared_deps=False), PAIRS, BuildOptions(force=True))
        before = {r.reference: run_in(r.reference, "python3", "-c", LIST) for r in alone}
        assert before == after
        assert {r.reference: run_in(r.reference, *DPKG) for r in alone} == packages
        _, files = image_contents(demo)
        assert _layer_with(files, f"{SITE}/six-") == _layer_with(files, f"{SITE}/gunicorn-")
    finally:
        for result in [*results, *alone]:
            for tag in result.tags:
                docker.run(["image", "rm", tag], check=False)


def _names(paths):
    """The top folders' distribution-ish names in site-packages of a layer's paths."""
    return {p.split("/")[6].split("-")[0].lower() for p in paths if p.count("/") >= 6}
