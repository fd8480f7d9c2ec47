"""A patched library end to end: ref from the constraints pin, check, export, constraints."""

from __future__ import annotations

import textwrap

import pytest

from imageforge.config.manifest import Pair
from imageforge.constraints.overrides import ConstraintsError
from imageforge.host import process
from imageforge.image.inputs import prepare
from imageforge.patches.apply import APPLIES
from imageforge.patches.gate import check_patches
from tests.support.gitrepos import git
from tests.support.patches import format_patches, greeting
from tests.support.projects import make_forge, write_project

LIB_GREETING = "demo_lib/greeting.py"


@pytest.fixture
def project(upstream, tmp_path):
    service = upstream("demo")
    library = upstream("demo-lib")  # tags 1.0.0 and 1.0.1, like any OpenStack library
    requirements = tmp_path / "upstream" / "requirements"
    requirements.mkdir()
    git(requirements, "init", "--quiet", "--initial-branch=master")
    (requirements / "upper-constraints.txt").write_text("alembic===1.14.0\nDemo_Lib===1.0.1\n")
    git(requirements, "add", "--all")
    git(requirements, "commit", "--quiet", "-m", "Constraints")
    text = textwrap.dedent(
        f"""\
        defaults: {{registry: r.test, base_image: debian:bookworm, requirements_repo: {requirements.as_uri()}}}
        services:
          demo: {{repo: {service.url}}}
        libraries:
          demo-lib: {{repo: {library.url}}}
        releases:
          2025.2:
            requirements: {{ref: master}}
            services: {{demo: {{ref: 1.0.1}}}}
            libraries:
              demo-lib: {{}}
        """
    )
    manifest = write_project(tmp_path, text, images=("demo",))
    folder = tmp_path / "patches" / "demo-lib" / "2025.2"
    patches = format_patches(
        library, "1.0.1", folder, [({LIB_GREETING: greeting("patched")}, "Patch the library")]
    )
    (folder / "series").write_text("".join(f"{p.name}\n" for p in patches))
    return manifest, requirements


def test_the_library_series_is_checked_at_the_pinned_version(project, tmp_path):
    manifest, _ = project
    [report] = check_patches(make_forge(manifest, tmp_path))
    assert (report.series.project, report.ref) == ("demo-lib", "1.0.1")
    assert [r.status for r in report.results] == [APPLIES]


def needing_the_library(manifest):
    """demo's image installs demo-lib (a pip package of its own): the library is reached."""
    text = manifest.read_text()
    manifest.write_text(text.replace("demo: {repo: ", "demo: {pip_packages: [demo-lib], repo: ", 1))
    return manifest


def test_build_inputs_carry_the_patched_library_and_its_pin(project, tmp_path):
    manifest, _ = project
    inputs = prepare(make_forge(needing_the_library(manifest), tmp_path), Pair("2025.2", "demo"))
    [library] = inputs.libraries
    assert (library.project, library.ref, library.version) == ("demo-lib", "1.0.1", "1.0.1")
    assert library.patches == ("0001-Patch-the-library.patch",)
    assert (library.tree / LIB_GREETING).read_text() == greeting("patched")
    lines = inputs.constraints.path.read_text().splitlines()
    assert "demo-lib===1.0.1" in lines and "Demo_Lib===1.0.1" not in lines
    assert [(c.kind.value, c.name) for c in inputs.constraints.changes] == [
        ("from source", "demo-lib")
    ]


def test_an_explicit_library_ref_wins(project, tmp_path):
    manifest, _ = project
    text = manifest.read_text().replace("demo-lib: {}", "demo-lib: {ref: 1.0.0}")
    manifest.write_text(text)
    [report] = check_patches(make_forge(manifest, tmp_path))
    assert report.ref == "1.0.0"


def test_a_library_the_constraints_do_not_pin_needs_a_ref(project, tmp_path):
    manifest, requirements = project
    (requirements / "upper-constraints.txt").write_text("alembic===1.14.0\n")
    git(requirements, "commit", "--quiet", "-am", "Drop the library")
    with pytest.raises(
        ConstraintsError,
        match=r"upper-constraints does not pin demo-lib; give releases\.2025\.2\.libraries\.demo-lib\.ref",
    ):
        check_patches(make_forge(manifest, tmp_path))


def test_a_service_that_upper_constraints_pins_is_pinned_to_its_built_version(project, tmp_path):
    manifest, requirements = project
    (requirements / "upper-constraints.txt").write_text(
        "alembic===1.14.0\nDemo_Lib===1.0.1\ndemo===0.9.0\n"
    )
    git(requirements, "commit", "--quiet", "-am", "Pin the service too")
    inputs = prepare(make_forge(manifest, tmp_path), Pair("2025.2", "demo"))
    lines = inputs.constraints.path.read_text().splitlines()
    assert "demo===1.0.1" in lines and "demo===0.9.0" not in lines
    assert ("from source", "demo", ("demo===1.0.1",)) in [
        (c.kind.value, c.name, c.new) for c in inputs.constraints.changes
    ]


@pytest.mark.parametrize("inside", [False, True], ids=["elsewhere", "inside the working dir"])
def test_a_patched_library_no_requirement_reaches_is_left_out(
    project, tmp_path, monkeypatch, inside
):
    """demo 1.0.1 requires pbr only: the release's patched demo-lib is not its business."""
    manifest, _ = project
    logged: list[str] = []
    if inside:  # uv then names the constraints file relative to the working directory
        monkeypatch.chdir(tmp_path)
    build = tmp_path / "build"
    forge = make_forge(manifest, tmp_path, log=logged.append, build_dir=build)
    inputs = prepare(forge, Pair("2025.2", "demo"))
    assert inputs.libraries == ()
    assert inputs.requirements == ("pbr>=5.5.0",)
    assert (
        "demo (2025.2): demo-lib is patched in this release, but no requirement of this image "
        "reaches it: left out"
    ) in logged
    # The answer is kept under build/reach/: asked again, it is read from there.
    again = prepare(make_forge(manifest, tmp_path, build_dir=build), Pair("2025.2", "demo"))
    assert again.libraries == () and len(list((tmp_path / "build" / "reach").iterdir())) == 1


def test_a_hand_edited_answer_is_asked_again_and_no_uv_takes_every_library(
    project, tmp_path, monkeypatch
):
    manifest, _ = project
    logged: list[str] = []
    assert prepare(make_forge(manifest, tmp_path), Pair("2025.2", "demo")).libraries == ()
    [answer] = (tmp_path / "build" / "reach").iterdir()
    answer.write_text("42\n")  # valid JSON, not a list of trees
    assert prepare(make_forge(manifest, tmp_path), Pair("2025.2", "demo")).libraries == ()
    answer.unlink()
    # A host without uv (git and the rest are still there): the conservative answer.
    found = process._found
    monkeypatch.setattr(process, "_found", lambda program: program != "uv" and found(program))
    forge = make_forge(manifest, tmp_path, log=logged.append)
    [library] = prepare(forge, Pair("2025.2", "demo")).libraries
    assert library.project == "demo-lib"
    assert any("uv: command not found); taking all" in line for line in logged), logged


def test_planning_pins_only_the_images_own_projects_and_writes_nothing(project, tmp_path):
    """Another service of the release is not pinned (here its ref could not even be)."""
    from imageforge.host import git as forge_git
    from imageforge.image.inputs import plan_inputs

    manifest, _ = project
    text = manifest.read_text()
    text = text.replace(
        "services:\n  demo:", "services:\n  other: {repo: file:///nowhere/other}\n  demo:"
    )
    text = text.replace(
        "services: {demo: {ref: 1.0.1}}", "services: {demo: {ref: 1.0.1}, other: {ref: 9.9.9}}"
    )
    manifest.write_text(text)
    (tmp_path / "images" / "other").mkdir()
    (tmp_path / "images" / "other" / "Dockerfile").write_text("FROM scratch\n")
    forge = make_forge(manifest, tmp_path)
    prepare(forge, Pair("2025.2", "demo"))  # the build: exports, constraints, the reach answer
    build = tmp_path / "build"
    before = {p: p.stat().st_mtime_ns for p in build.rglob("*")}
    forge_git.COMMAND_LOG = []
    try:
        inputs = plan_inputs(make_forge(manifest, tmp_path), Pair("2025.2", "demo"))
        touched = [" ".join(c) for c in forge_git.COMMAND_LOG]
    finally:
        forge_git.COMMAND_LOG = None
    assert {p: p.stat().st_mtime_ns for p in build.rglob("*")} == before, "nothing written"
    assert not any("nowhere" in c or "other" in c for c in touched), touched
    assert (
        inputs.constraints.path
        == build / "constraints" / "2025.2" / "demo" / "upper-constraints.txt"
    )
    assert inputs.constraints.path.read_text() == inputs.constraints.content
