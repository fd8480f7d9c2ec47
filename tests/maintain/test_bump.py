"""`inv bump` on real repositories: new point tags, moved branches, nothing new, a broken patch."""

from __future__ import annotations

import os
import subprocess
import textwrap

import pytest

from imageforge.maintain import bump
from tests.support import ROOT
from tests.support.gitrepos import git
from tests.support.patches import GREETING, format_patches, greeting
from tests.support.projects import make_forge, write_project


@pytest.fixture
def project(upstream, tmp_path):
    repo = upstream("demo")
    requirements = tmp_path / "upstream" / "requirements"
    requirements.mkdir()
    git(requirements, "init", "--quiet", "--initial-branch=master")
    (requirements / "upper-constraints.txt").write_text("six===1.16.0\n")
    git(requirements, "add", "--all")
    git(requirements, "commit", "--quiet", "-m", "Constraints")
    git(requirements, "branch", "stable/2025.2")
    pinned_sha = git(requirements, "rev-parse", "stable/2025.2")
    text = textwrap.dedent(
        f"""\
        # Bump keeps this comment.
        defaults: {{registry: r.test, base_image: b, requirements_repo: {requirements.as_uri()}}}
        services:
          demo: {{repo: {repo.url}}}
        releases:
          2025.2:
            requirements:
              ref: {pinned_sha}  # stable/2025.2
            services:
              demo: {{ref: 1.0.1}}  # a point release
        """
    )
    path = write_project(tmp_path, text, images=("demo",))
    return repo, requirements, path


def run(path, tmp_path, **kwargs):
    return bump.run(make_forge(path, tmp_path), **kwargs)


def test_nothing_new_changes_nothing(project, tmp_path):
    _, _, path = project
    before = path.read_text()
    bumps = run(path, tmp_path)
    assert [(b.project, b.moved) for b in bumps] == [("requirements", False), ("demo", False)]
    assert path.read_text() == before


def test_a_new_point_release_tag_is_taken(project, tmp_path):
    repo, _, path = project
    repo.checkout("stable/2025.2")
    repo.commit({"CHANGES.txt": "fix two\n"}, "Fix two")
    repo.tag("1.0.2")
    repo.commit({"CHANGES.txt": "fix three\n"}, "Fix three")
    repo.tag("1.0.3.0rc1")  # a candidate is not a point release
    repo.checkout("master")
    repo.tag("2.0.0")  # the next series, on master: not for this release
    [_, demo] = run(path, tmp_path)
    assert (demo.old, demo.new) == ("1.0.1", "1.0.2")
    assert demo.check == bump.BumpCheck(bump.Outcome.NO_PATCHES)
    text = path.read_text()
    assert "      demo: {ref: 1.0.2}  # a point release\n" in text
    assert text.startswith("# Bump keeps this comment.\n")


def test_a_branchless_project_stays_at_its_tag_and_says_why(project, tmp_path):
    """tempest releases from master, one tag a cycle: no stable branch to follow."""
    repo, _, path = project
    repo.git("branch", "--quiet", "-D", "stable/2025.2")
    repo.tag("1.0.9")  # on master: a later cycle's tag, not this release's point release
    before = path.read_text()
    [_, demo] = run(path, tmp_path)
    assert (demo.old, demo.new, demo.check) == ("1.0.1", "1.0.1", None)
    assert demo.note == "branchless: no stable/2025.2; its cycle's tag is moved by hand"
    assert demo.note in bump.report([demo])
    assert path.read_text() == before


def test_a_sha_pinned_ref_follows_its_branch(project, tmp_path):
    _, requirements, path = project
    git(requirements, "checkout", "--quiet", "stable/2025.2")
    (requirements / "upper-constraints.txt").write_text("six===1.17.0\n")
    git(requirements, "commit", "--quiet", "-am", "Bump six")
    head = git(requirements, "rev-parse", "HEAD")
    [req, _] = run(path, tmp_path, dry_run=True)
    assert req.moved and req.new == head
    assert head not in path.read_text(), "dry run"
    run(path, tmp_path)
    assert f"      ref: {head}  # stable/2025.2\n" in path.read_text()


def test_a_bump_that_breaks_a_patch_says_so(project, tmp_path):
    repo, _, path = project
    folder = tmp_path / "patches" / "demo" / "2025.2"
    patches = format_patches(
        repo, "1.0.1", folder, [({GREETING: greeting("patched")}, "Patch the greeting")]
    )
    (folder / "series").write_text("".join(f"{p.name}\n" for p in patches))
    repo.checkout("stable/2025.2")
    repo.commit({GREETING: greeting("upstream changed it")}, "Change the greeting")
    repo.tag("1.0.2")
    env = {**os.environ, "FORGE_MANIFEST": str(path), "FORGE_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run(
        ["inv", "-r", str(ROOT), "bump"], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1
    row = next(line for line in proc.stdout.splitlines() if line.startswith("2025.2   demo"))
    assert row.split(None, 4) == [
        "2025.2",
        "demo",
        "1.0.1",
        "1.0.2",
        f"conflicts: 0001-Patch-the-greeting.patch: {GREETING}: hunk #1 (@@ -1 @@) does not apply",
    ]
    assert "patches do not apply on the new refs of demo/2025.2" in proc.stderr
