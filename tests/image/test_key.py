"""The content key: it moves with what decides the image's bytes, and only with that."""

from __future__ import annotations

import shutil

from imageforge.config.manifest import Pair
from imageforge.image.build import BuildOptions, planned_image
from imageforge.image.key import KEY_LABEL
from tests.support.gitrepos import git
from tests.support.projects import make_forge
from tests.support.synthetic import synthetic_project


def key_of(project, tmp_path, **options) -> str:
    planned, _ = planned_image(
        make_forge(project, tmp_path, base_image="imageforge/debian:bookworm"),
        Pair("2025.2", "demo"),
        BuildOptions(**options),
    )
    return dict(planned.labels)[KEY_LABEL]


def test_the_key_follows_the_inputs_and_not_the_forge_commit(tmp_path):
    project = synthetic_project(tmp_path)
    git(project, "init", "--quiet")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "The project")
    first = key_of(project, tmp_path)
    assert len(first) == 24
    assert key_of(project, tmp_path) == first

    # A commit of the forge that touches no input: same key.
    (project / "README.md").write_text("notes\n")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "A README")
    assert key_of(project, tmp_path) == first

    # A platform, a Dockerfile line, a shared image's file, a dropped patch: each a new key.
    seen = {first, key_of(project, tmp_path, platform="linux/arm64")}
    dockerfile = project / "images" / "demo" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "# a comment\n")
    seen.add(key_of(project, tmp_path))
    (project / "images" / "python-base" / "extra.txt").write_text("x\n")
    seen.add(key_of(project, tmp_path))
    shutil.rmtree(project / "patches" / "demo")
    seen.add(key_of(project, tmp_path))
    assert len(seen) == 5


def test_pip_packages_change_the_key(tmp_path):
    project = synthetic_project(tmp_path)
    before = key_of(project, tmp_path)
    manifest = project / "releases.yaml"
    text = manifest.read_text()
    assert "pip_packages: [gunicorn]" in text
    manifest.write_text(text.replace("pip_packages: [gunicorn]", "pip_packages: [gunicorn, six]"))
    assert key_of(project, tmp_path) != before


def test_the_checks_beside_the_dockerfile_do_not_change_the_key(tmp_path):
    project = synthetic_project(tmp_path)
    before = key_of(project, tmp_path)
    for name in ("smoke.yaml", "functional.yaml"):
        checks = project / "images" / "demo" / name
        checks.write_text(checks.read_text() + "# edited\n")
    assert key_of(project, tmp_path) == before
