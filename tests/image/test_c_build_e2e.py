"""A C project through the same pipeline: releases.yaml (build: c), a patch, the gate, the build, smoke."""

from __future__ import annotations

import pytest

from imageforge.config.manifest import Pair
from imageforge.host import docker
from imageforge.image.build import BuildOptions, build_service
from imageforge.patches.gate import check_patches
from imageforge.verify.service import smoke_service
from tests.support.projects import make_forge
from tests.support.synthetic_c import REGISTRY, c_project

HELLO = Pair("2025.2", "hello")


@pytest.fixture(scope="module")
def c_built(tmp_path_factory, base_image):
    root = tmp_path_factory.mktemp("c-e2e")
    project = c_project(root)
    forge = make_forge(project, root, base_image=base_image)
    result = build_service(forge, HELLO, BuildOptions())
    yield result, project, root
    for tag in result.tags:
        docker.run(["image", "rm", tag], check=False)


def test_the_series_is_checked_like_any_other(tmp_path):
    project = c_project(tmp_path)
    [report] = check_patches(make_forge(project, tmp_path))
    assert report.ok and (report.series.project, report.ref) == ("hello", "v1.0.0")


def test_make_check_is_asked_of_c_images_only(tmp_path):
    from imageforge.image.build import planned_image

    forge = make_forge(c_project(tmp_path), tmp_path)
    checked, _ = planned_image(forge, HELLO, BuildOptions(make_check=True))
    plain, _ = planned_image(forge, HELLO, BuildOptions())
    assert ("MAKE_CHECK", "1") in checked.build_args
    assert "MAKE_CHECK" not in dict(plain.build_args)


@pytest.mark.docker
def test_the_c_image_is_built_patched_and_labelled(c_built):
    result, _, _ = c_built
    assert result.reference == f"{REGISTRY}/hello:1.0.0"
    labels = docker.image_labels(result.reference)
    assert labels["org.opencontainers.image.version"] == "1.0.0"
    assert labels["org.imageforge.patches"] == "1"
    assert labels["org.imageforge.constraints-digest"] == "none"
    said = docker.run(["run", "--rm", result.reference, "hello"]).stdout.strip()
    assert said == "hello from C, patched"


@pytest.mark.docker
def test_smoke_runs_the_checks_and_the_policy_without_python(c_built, base_image):
    result, project, root = c_built
    report = smoke_service(make_forge(project, root, base_image=base_image), HELLO, BuildOptions())
    checks = {f.check: f.ok for f in report.findings}
    assert report.ok, report.table()
    assert checks["hello reports the upstream version"]
    assert checks["no compiler, make, git or uv"] and checks["no setuid or setgid file"]
    assert "venv is consistent" not in checks, "no venv in a C image"
    assert result.size is not None and result.base_size is not None
    assert result.size - result.base_size < 5e6, "the program and its libraries, nothing more"


@pytest.mark.docker
def test_a_changed_patch_rebuilds_the_program(c_built, base_image, tmp_path):
    import shutil

    _, project, _ = c_built
    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    [patch] = (copy / "patches" / "hello" / "2025.2").glob("*.patch")
    patch.write_text(patch.read_text().replace("hello from C, patched", "hello from C, again"))
    manifest = copy / "releases.yaml"
    manifest.write_text(manifest.read_text().replace(REGISTRY, f"{REGISTRY}/again"))
    result = build_service(make_forge(copy, tmp_path, base_image=base_image), HELLO, BuildOptions())
    try:
        said = docker.run(["run", "--rm", result.reference, "hello"]).stdout.strip()
        assert said == "hello from C, again"
    finally:
        for tag in result.tags:
            docker.run(["image", "rm", tag], check=False)


@pytest.mark.docker
def test_the_sbom_names_the_repository_the_commit_and_the_patch(c_built, base_image):
    import json

    from imageforge.verify.service import sbom_service

    _, project, root = c_built
    path = sbom_service(make_forge(project, root, base_image=base_image), HELLO, BuildOptions())
    bom = json.loads(path.read_text())
    primary = bom["metadata"]["component"]
    assert primary["purl"].startswith("pkg:generic/hello@1.0.0?vcs_url=git%2Bfile")
    [ancestor] = primary["pedigree"]["ancestors"]
    said = {p["name"]: p["value"] for p in ancestor["properties"]}
    assert (said["imageforge:upstream-ref"], len(said["imageforge:upstream-commit"])) == (
        "v1.0.0",
        40,
    )
    assert len(primary["pedigree"]["patches"]) == 1
    assert "hello from C, patched" in primary["pedigree"]["patches"][0]["diff"]["text"]["content"]
    debs = [c for c in bom["components"] if c["purl"].startswith("pkg:deb/")]
    assert any(c["name"] == "libc6" for c in debs), "the OS packages"
    assert not [c for c in bom["components"] if c["purl"].startswith("pkg:pypi/")]


@pytest.mark.docker
def test_functional_runs_containers_of_the_image_and_command_checks(c_built, base_image):
    from imageforge.verify.functional.run import run_functional
    from tests.support.runs import leftovers

    _, project, root = c_built
    forge = make_forge(project, root, base_image=base_image)
    report = run_functional(forge, HELLO, BuildOptions())
    assert report.ok, report.table()
    assert [f.check for f in report.findings] == [
        "writer: greeting daemon",
        "reader: the greeting appears",
        "the reader sees the patched greeting",
        "the writer runs as root, the reader as the image's user",
    ]
    assert leftovers("forge-fn") == [], "containers, volumes and network removed"


@pytest.mark.docker
def test_a_command_check_that_fails_shows_what_came_back(c_built, base_image, tmp_path):
    import shutil

    from imageforge.verify.functional.run import run_functional
    from tests.support.runs import leftovers

    _, project, root = c_built
    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    spec = copy / "images" / "hello" / "functional.yaml"
    spec.write_text(spec.read_text().replace("stdout: hello from C, patched", "stdout: hello"))
    forge = make_forge(copy, root, base_image=base_image, build_dir=root / "build")
    report = run_functional(forge, HELLO, BuildOptions())
    failed = report.findings[-1]
    assert (failed.check, failed.ok) == ("the reader sees the patched greeting", False)
    assert "expected output 'hello', got 'hello from C, patched'" in failed.detail
    assert leftovers("forge-fn") == []


@pytest.mark.docker
def test_arm64_compiles_anew_after_amd64(c_built, base_image, arm64_base):
    """The configured build tree is kept per architecture: BuildKit shares cache mounts
    between platforms, and an arm64 OVS build once reused the amd64 tree and failed;
    a plain Makefile would have shipped the amd64 binary in the arm64 image."""
    from imageforge.image.build import build_services

    _, project, root = c_built  # the amd64 build filled the build cache
    forge = make_forge(project, root, base_image=base_image)
    [arm64] = build_services(forge, [HELLO], BuildOptions(platform="linux/arm64"))
    try:
        header = docker.run(
            ["run", "--rm", "--platform", "linux/arm64", "--entrypoint", "od", arm64.reference,
             "-An", "-tx1", "-j18", "-N2", "/usr/bin/hello"]
        ).stdout.split()  # fmt: skip
        assert header == ["b7", "00"], "ELF e_machine AArch64 (x86-64 would be 3e 00)"
    finally:
        for tag in arm64.tags:
            docker.run(["image", "rm", tag], check=False)
