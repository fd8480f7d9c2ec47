"""Image tags: the forge revision says -dirty whenever the build's inputs differ from HEAD."""

from __future__ import annotations

import pytest

from imageforge.image.tags import forge_revision, tag_names
from tests.support.gitrepos import git


@pytest.fixture
def forge_repo(tmp_path):
    root = tmp_path / "forge"
    (root / "patches" / "demo" / "2025.2").mkdir(parents=True)
    (root / "releases.yaml").write_text("releases: {}\n")
    (root / "patches" / "demo" / "2025.2" / "series").write_text("")
    (root / ".gitignore").write_text("build/\n")
    git(root.parent, "init", "--quiet", str(root))
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "Forge")
    return root


def test_a_clean_tree_is_its_short_sha(forge_repo):
    sha = git(forge_repo, "rev-parse", "--short=12", "HEAD")
    assert forge_revision(forge_repo) == sha


def test_an_edited_file_is_dirty(forge_repo):
    (forge_repo / "releases.yaml").write_text("releases: {2025.2: {}}\n")
    assert forge_revision(forge_repo).endswith("-dirty")


@pytest.mark.parametrize(
    "untracked",
    ["patches/demo/2025.2/0001-new.patch", "images/demo/Dockerfile", "constraints/2025.2.txt"],
)
def test_an_untracked_build_input_is_dirty(forge_repo, untracked):
    (forge_repo / untracked).parent.mkdir(parents=True, exist_ok=True)
    (forge_repo / untracked).write_text("new\n")
    assert forge_revision(forge_repo).endswith("-dirty")


def test_untracked_scratch_files_and_ignored_output_are_not_inputs(forge_repo):
    (forge_repo / "notes.txt").write_text("todo\n")
    (forge_repo / "build").mkdir()
    (forge_repo / "build" / "export.json").write_text("{}\n")
    assert not forge_revision(forge_repo).endswith("-dirty")


def test_outside_a_repository_it_is_unversioned(tmp_path):
    assert forge_revision(tmp_path) == "unversioned"


def test_tags_are_docker_safe():
    assert tag_names("1.0.0", 2, "stable/2025.2", "abc-dirty") == [
        "1.0.0",
        "1.0.0-p2",
        "stable-2025.2",
        "abc-dirty",
    ]
