"""The SBOM of the synthetic patched image: schema-valid, complete, with patch pedigree."""

from __future__ import annotations

import hashlib

import pytest

from imageforge.host import docker
from imageforge.verify.sbom import read_bom, sbom_for_image
from tests.support.synthetic import run_in

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def sbom(built, tmp_path_factory):
    result, _, project, _ = built
    logged = []
    path = sbom_for_image(
        result.reference,
        "2025.2",
        result.inputs.service,
        list(result.inputs.libraries),
        result.inputs.constraints,
        project / "patches",
        tmp_path_factory.mktemp("sbom"),
        log=logged.append,
    )
    return path, read_bom(path), logged


def test_it_is_cyclonedx_1_6_named_after_the_image(built, sbom):
    result = built[0]
    path, bom, logged = sbom
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.6"
    image_id = docker.run(
        ["image", "inspect", "--format", "{{.Id}}", result.reference]
    ).stdout.strip()
    assert path.name == f"demo-{image_id.split(':')[1][:12]}.cdx.json"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert path.with_name(path.name + ".sha256").read_text() == f"{digest}  {path.name}\n"
    assert any(line.startswith(f"SBOM {path} ") for line in logged)


def test_python_components_are_exactly_the_venv_dist_infos(built, sbom):
    result = built[0]
    _, bom, _ = sbom
    listed = run_in(
        result.reference,
        "sh",
        "-c",
        "cd /var/lib/openstack/lib/python3*/site-packages && ls -d *.dist-info",
    )
    in_venv = set()
    for folder in listed.split():
        name, version = folder[: -len(".dist-info")].rsplit("-", 1)
        in_venv.add((name.lower().replace("_", "-"), version))
    python = {
        (c["name"].lower().replace("_", "-"), c["version"])
        for c in bom["components"]
        if c["purl"].startswith("pkg:pypi/")
    }
    primary = bom["metadata"]["component"]
    python.add((primary["name"].lower(), primary["version"]))
    assert python == in_venv
    assert ("six", "1.16.0") in python


def test_os_packages_match_dpkg(built, sbom):
    result = built[0]
    _, bom, _ = sbom
    dpkg = run_in(result.reference, "dpkg-query", "-W", "-f=${Package} ${Version}\\n").splitlines()
    debs = sorted(
        f"{c['name']} {c['version']}"
        for c in bom["components"]
        if c["purl"].startswith("pkg:deb/debian/")
    )
    assert debs == sorted(dpkg)


def test_the_patch_is_in_the_pedigree_with_its_hash(built, sbom):
    result, _, project, _ = built
    _, bom, _ = sbom
    primary = bom["metadata"]["component"]
    [patch_file] = [
        project / "patches" / "demo" / "2025.2" / name for name in result.inputs.service.patches
    ]
    pedigree = primary["pedigree"]
    assert pedigree["ancestors"][0]["version"] == "1.0.2"
    assert pedigree["commits"][0]["uid"] == result.inputs.service.commit
    [patch] = pedigree["patches"]
    assert patch["type"] == "unofficial"
    assert patch["diff"]["text"]["content"] == patch_file.read_text()
    properties = {p["name"]: p["value"] for p in primary["properties"]}
    assert (
        properties[f"imageforge:patch:{patch_file.name}"]
        == f"sha256:{hashlib.sha256(patch_file.read_bytes()).hexdigest()}"
    )
    bom_properties = {p["name"]: p["value"] for p in bom["metadata"]["properties"]}
    assert bom_properties["imageforge:constraints-digest"] == result.inputs.constraints.digest


def test_the_patched_library_has_its_pedigree(built, sbom):
    result, _, project, _ = built
    _, bom, _ = sbom
    [library] = [c for c in bom["components"] if c["name"] in ("demo-lib", "demo_lib")]
    [patch] = library["pedigree"]["patches"]
    patch_file = project / "patches" / "demo-lib" / "2025.2" / "0001-Patch-the-library.patch"
    assert patch["diff"]["text"]["content"] == patch_file.read_text()
    assert library["pedigree"]["commits"][0]["uid"] == result.inputs.libraries[0].commit


def test_a_c_project_on_github_is_named_by_repository_and_tag():
    from pathlib import Path

    from imageforge.patches.export import Export
    from imageforge.verify.sbom import purl_of

    ovs = Export(
        "ovs", "2025.2", "https://github.com/openvswitch/ovs", "v3.4.6", "ac42aa7", "3.4.6",
        "ovs", Path("/nonexistent"), python=False,
    )  # fmt: skip
    assert str(purl_of(ovs)) == "pkg:github/openvswitch/ovs@v3.4.6"
