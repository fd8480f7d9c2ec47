"""The landing evidence: the upstream commit that carries a patch, strongest evidence first."""

from __future__ import annotations

import pytest

from imageforge.patches.landed import find_landing, find_same_bug
from imageforge.patches.patchfile import read_patch
from imageforge.upstream.mirrors import mirror_for
from tests.support.patches import format_patches


@pytest.fixture
def repo(upstream):
    return upstream()


def backport(repo, tmp_path, message, content="backported\n"):
    """A patch made on 1.0.1 (stable), as a downstream series carries it."""
    [path] = format_patches(repo, "1.0.1", tmp_path / "p", [({"NOTES.txt": content}, message)])
    return read_patch(path)


def land(repo, message, content="backported\n"):
    """Upstream merges a change on stable/2025.2 and tags 1.0.2."""
    repo.checkout("stable/2025.2")
    commit = repo.commit({"NOTES.txt": content}, message)
    repo.tag("1.0.2")
    return commit


def search(repo, tmp_path, patch, finder=find_landing):
    mirror = mirror_for(repo.url, tmp_path / "cache")
    tip = mirror.resolve("1.0.2")
    mirror.prefetch_paths(tip, ["NOTES.txt"])
    return finder(mirror, tip, patch, since=mirror.resolve("1.0.1"))


def test_the_change_id_names_the_upstream_commit(repo, tmp_path):
    patch = backport(repo, tmp_path, "Note it\n\nChange-Id: I0123456789abcdef0123")
    # Upstream reworded it while merging: the same review, another text.
    commit = land(repo, "Note it (merged)\n\nChange-Id: I0123456789abcdef0123", "reworded\n")
    found = search(repo, tmp_path, patch)
    assert (found.commit, found.evidence) == (commit, "Change-Id")
    assert found.describe() == (
        f'landed upstream as {commit[:12]} "Note it (merged)" (Change-Id I0123456789abcdef0123)'
    )


def test_the_same_diff_is_found_by_patch_id(repo, tmp_path):
    patch = backport(repo, tmp_path, "Note it")
    commit = land(repo, "Another subject, same change")
    found = search(repo, tmp_path, patch)
    assert (found.commit, found.evidence) == (commit, "patch-id")


def test_cherry_picked_from_names_the_original(repo, tmp_path):
    commit = land(repo, "Note it upstream")
    patch = backport(repo, tmp_path, f"Note it\n\n(cherry picked from commit {commit})", "x\n")
    found = search(repo, tmp_path, patch)
    assert (found.commit, found.evidence) == (commit, "cherry picked from")


def test_an_unrelated_upstream_change_is_no_evidence(repo, tmp_path):
    patch = backport(repo, tmp_path, "Note it\n\nChange-Id: Iaaaaaaaaaaaaaaaa")
    land(repo, "Something else\n\nChange-Id: Ibbbbbbbbbbbbbbbb", "other\n")
    assert search(repo, tmp_path, patch) is None


def test_the_same_bug_is_a_lead_not_evidence(repo, tmp_path):
    patch = backport(repo, tmp_path, "Fix it our way\n\nCloses-Bug: #2107925")
    commit = land(repo, "Fix it\n\nCloses-Bug: #2107925", "upstream's way\n")
    assert search(repo, tmp_path, patch) is None
    lead = search(repo, tmp_path, patch, find_same_bug)
    assert (lead.commit, lead.bug) == (commit, "2107925")
