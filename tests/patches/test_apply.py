"""Checkout-free patch checks against real repositories and real format-patch files."""

from __future__ import annotations

import pytest

from imageforge.host import git
from imageforge.patches.apply import APPLIES, CONFLICTS, UPSTREAM, check_series
from imageforge.upstream.mirrors import mirror_for
from tests.support.patches import GREETING, format_patches, greeting


@pytest.fixture
def repo(upstream):
    return upstream("demo")


def check(repo, tmp_path, ref, patches):
    mirror = mirror_for(repo.url, tmp_path / "cache")
    commit = mirror.resolve(ref)
    return [
        (r.patch.name, r.status, r.detail)
        for r in check_series(mirror.path, commit, tuple(patches))
    ]


def test_clean_series_applies(repo, tmp_path):
    patches = format_patches(
        repo, "1.0.1", tmp_path / "p", [({GREETING: greeting("hi")}, "Say hi")]
    )
    assert check(repo, tmp_path, "1.0.1", patches) == [("0001-Say-hi.patch", APPLIES, "")]


def test_patch_two_depends_on_patch_one(repo, tmp_path):
    patches = format_patches(
        repo,
        "1.0.1",
        tmp_path / "p",
        [
            ({GREETING: greeting("hi")}, "Say hi"),
            ({GREETING: greeting("hi there")}, "Say hi there"),
        ],
    )
    assert [s for _, s, _ in check(repo, tmp_path, "1.0.1", patches)] == [APPLIES, APPLIES]
    # Alone, the second patch does not apply: the check really applies in order.
    assert [s for _, s, _ in check(repo, tmp_path, "1.0.1", patches[1:])] == [CONFLICTS]


def test_conflict_names_the_file_and_the_hunk(repo, tmp_path):
    # Two hunks; upstream later changes the lines around the second one.
    long_file = "".join(f"line {i}\n" for i in range(1, 31))
    repo.checkout("stable/2025.2")
    repo.commit({"demo/data.txt": long_file}, "Add data")
    repo.tag("1.0.2")
    patched = long_file.replace("line 2\n", "line two\n").replace("line 25\n", "line twenty-five\n")
    patches = format_patches(
        repo, "1.0.2", tmp_path / "p", [({"demo/data.txt": patched}, "Name lines")]
    )
    repo.checkout("stable/2025.2")
    repo.commit(
        {"demo/data.txt": long_file.replace("line 25\n", "line 25 changed\n")}, "Change upstream"
    )
    repo.tag("1.0.3")
    [(name, status, detail)] = check(repo, tmp_path, "1.0.3", patches)
    assert (name, status) == ("0001-Name-lines.patch", CONFLICTS)
    assert detail == "demo/data.txt: hunk #2 (@@ -22 @@) does not apply"


def test_patch_for_a_missing_file(repo, tmp_path):
    patches = format_patches(
        repo, "master", tmp_path / "p", [({"FEATURES.txt": "feature\nmore\nand more\n"}, "More")]
    )
    [(_, status, detail)] = check(repo, tmp_path, "1.0.0", patches)
    assert status == CONFLICTS
    assert detail == "FEATURES.txt: the file does not exist in the tree"


def test_already_upstream_reverse_applies(repo, tmp_path):
    patches = format_patches(
        repo, "1.0.1", tmp_path / "p", [({GREETING: greeting("hi")}, "Say hi")]
    )
    # Upstream merges the same change on the stable branch.
    repo.checkout("stable/2025.2")
    repo.commit({GREETING: greeting("hi")}, "Say hi (upstream)")
    repo.tag("1.0.2")
    assert check(repo, tmp_path, "1.0.2", patches) == [
        ("0001-Say-hi.patch", UPSTREAM, "reverse-applies: the change is already in the tree")
    ]


def test_the_check_changes_neither_the_mirror_nor_any_file(repo, tmp_path):
    patches = format_patches(
        repo, "1.0.1", tmp_path / "p", [({GREETING: greeting("hi")}, "Say hi")]
    )
    mirror = mirror_for(repo.url, tmp_path / "cache")
    commit = mirror.resolve("1.0.1")
    before = {p: p.stat().st_mtime_ns for p in mirror.path.rglob("*")}
    patch_bytes = patches[0].read_bytes()
    check_series(mirror.path, commit, tuple(patches))
    after = {p: p.stat().st_mtime_ns for p in mirror.path.rglob("*")}
    assert after == before, "no new objects, refs or index in the mirror"
    assert patches[0].read_bytes() == patch_bytes
    assert not (mirror.path / "index").exists()
    assert git.text(["status", "--porcelain"], cwd=repo.path) == ""
