"""Submodules exported in place: OVN's ovs, taken at its gitlink from the OVS mirror."""

from __future__ import annotations

import pytest

from imageforge.config.manifest import Pair
from imageforge.patches.export import export_source
from imageforge.patches.gate import check_at
from imageforge.patches.series import load_series
from imageforge.upstream.pinned import pin
from tests.support.gitrepos import git, repo_at
from tests.support.projects import bare_forge

OUTER = Pair("2025.2", "outer")


@pytest.fixture
def outer(tmp_path):
    """outer embeds inner (as OVN embeds OVS) at inner's first commit; inner moved on since."""
    inner = repo_at(tmp_path / "up" / "inner", "inner", {"lib.c": "int one;\n"})
    pinned_inner = inner.head()
    inner.commit({"lib.c": "int two;\n"}, "inner 2")
    outer = repo_at(tmp_path / "up" / "outer", "outer", {"main.c": "int main;\n"})
    git(
        outer.path, "-c", "protocol.file.allow=always", "submodule", "add", "--quiet",
        inner.url, "inner",
    )  # fmt: skip
    git(outer.path / "inner", "checkout", "--quiet", pinned_inner)
    git(outer.path, "add", "inner")
    git(outer.path, "commit", "--quiet", "-m", "Embed inner")
    outer.tag("v1.0.0")
    return outer, inner, pinned_inner


def test_the_submodule_is_exported_at_its_gitlink(outer, tmp_path):
    repo, inner, pinned_inner = outer
    forge = bare_forge(tmp_path)
    target = pin(forge, OUTER, repo.url, "v1.0.0")
    [graft] = target.grafts
    assert (graft.path, graft.commit) == ("inner", pinned_inner)
    export = export_source(forge, target)
    assert (export.tree / "inner" / "lib.c").read_text() == "int one;\n", "the pinned commit"
    assert (export.tree / "main.c").is_file()
    assert export.version == "1.0.0", "vX.Y.Z tags of a C project"
    assert export.submodules == (f"inner {pinned_inner} {inner.url}",)


def test_a_patch_may_touch_the_submodules_files(outer, tmp_path):
    repo, _, _ = outer
    # The maintainer's patch, made in a recursive clone: paths under inner/.
    clone = tmp_path / "clone"
    git(tmp_path, "-c", "protocol.file.allow=always", "clone", "--quiet", "--recurse-submodules",
        repo.url, str(clone))  # fmt: skip
    git(clone, "checkout", "--quiet", "v1.0.0")
    folder = tmp_path / "patches"
    diff = (
        "From: Jane <jane@example.org>\nSubject: [PATCH] Fix inner\n\n---\n"
        "diff --git a/inner/lib.c b/inner/lib.c\n--- a/inner/lib.c\n+++ b/inner/lib.c\n"
        "@@ -1 +1 @@\n-int one;\n+int one_fixed;\n"
    )
    folder.mkdir()
    (folder / "0001-Fix-inner.patch").write_text(diff)
    (folder / "series").write_text("0001-Fix-inner.patch\n")
    series = load_series(folder, OUTER)
    forge = bare_forge(tmp_path)
    target = pin(forge, OUTER, repo.url, "v1.0.0")
    report = check_at(target, series)
    assert report.ok, report
    export = export_source(forge, target, series)
    assert (export.tree / "inner" / "lib.c").read_text() == "int one_fixed;\n"
    assert export.patched_files == ("inner/lib.c",)


def test_a_repository_without_submodules_has_no_graft(tmp_path):
    repo = repo_at(tmp_path / "up" / "plain", "plain", {"a.c": "int a;\n"})
    assert pin(bare_forge(tmp_path), OUTER, repo.url, "master").grafts == ()
