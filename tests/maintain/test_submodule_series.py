"""Refresh and edit of a series with patches under a submodule (OVN's ovs/...).

The patch is written as in a recursive clone (paths under inner/); the work
tree puts the submodule's tree in place of its gitlink, so git can apply and
cherry-pick it, and the series written back keeps those paths.
"""

from __future__ import annotations

import pytest

from imageforge.config.manifest import Pair
from imageforge.maintain.edit import edit, export
from imageforge.maintain.refresh import refresh
from imageforge.patches.gate import check_patches
from tests.support.gitrepos import UpstreamRepo, git, repo_at
from tests.support.projects import make_forge, write_project

OUTER = Pair("2025.2", "outer")
LIB = "".join(f"line {i}\n" for i in range(1, 31))
MANIFEST = """\
defaults: {{registry: r.test, base_image: debian:bookworm, requirements_repo: {requirements}}}
services:
  outer: {{repo: {outer}}}
releases:
  2025.2:
    requirements: {{ref: master}}
    services:
      outer: {{ref: v1.0.0}}
"""
PATCH = """\
From: Jane <jane@example.org>
Subject: [PATCH] inner: name line ten

---
diff --git a/inner/lib.c b/inner/lib.c
--- a/inner/lib.c
+++ b/inner/lib.c
@@ -8,5 +8,5 @@
 line 8
 line 9
-line 10
+line ten
 line 11
 line 12
"""


def pin_inner(outer: UpstreamRepo, commit: str, tag: str) -> None:
    git(outer.path / "inner", "fetch", "--quiet", "origin")
    git(outer.path / "inner", "checkout", "--quiet", commit)
    git(outer.path, "add", "inner")
    git(outer.path, "commit", "--quiet", "-m", f"Bump inner for {tag}")
    outer.tag(tag)


@pytest.fixture
def project(tmp_path):
    """outer v1.0.0 embeds inner's first commit; v1.1.0 embeds a commit that changed line 8."""
    inner = repo_at(tmp_path / "up" / "inner", "inner", {"lib.c": LIB})
    first = inner.head()
    second = inner.commit({"lib.c": LIB.replace("line 8\n", "line eight\n")}, "inner 2")
    outer = repo_at(tmp_path / "up" / "outer", "outer", {"main.c": "int main;\n"})
    git(outer.path, "-c", "protocol.file.allow=always", "submodule", "add", "--quiet",
        inner.url, "inner")  # fmt: skip
    pin_inner(outer, first, "v1.0.0")
    pin_inner(outer, second, "v1.1.0")
    # inner takes the fix itself, then edits the same line again: the patch
    # neither applies nor reverse-applies at v1.2.0, but it did land.
    fixed = LIB.replace("line 8\n", "line eight\n").replace("line 20\n", "line twenty\n")
    inner.commit({"lib.c": fixed}, "inner: name line twenty")
    again = inner.commit({"lib.c": fixed.replace("line twenty\n", "line 20 (twenty)\n")}, "4")
    pin_inner(outer, again, "v1.2.0")
    requirements = repo_at(tmp_path / "up" / "requirements", "requirements", {"u.txt": ""})
    root = tmp_path / "project"
    path = write_project(
        root, MANIFEST.format(requirements=requirements.url, outer=outer.url), images=("outer",)
    )
    folder = root / "patches" / "outer" / "2025.2"
    folder.mkdir(parents=True)
    (folder / "0001-inner-name-line-ten.patch").write_text(PATCH)
    (folder / "series").write_text("0001-inner-name-line-ten.patch\n")
    return path, folder


def test_refresh_rebases_a_patch_under_the_submodule(project, tmp_path):
    path, folder = project
    forge = make_forge(path, tmp_path)
    changes = refresh(forge, OUTER, "v1.1.0")
    assert changes.updated == ["0001-inner-name-line-ten.patch"]
    text = (folder / "0001-inner-name-line-ten.patch").read_text()
    assert "diff --git a/inner/lib.c b/inner/lib.c" in text, "paths as in a recursive clone"
    assert " line eight\n" in text and "+line ten\n" in text, "rebased onto the new submodule"
    assert "imageforge: submodules in place" not in text
    assert "outer: {ref: v1.1.0}" in path.read_text()
    [report] = check_patches(make_forge(path, tmp_path))
    assert report.ok and report.ref == "v1.1.0", "the gate agrees at the new ref"


def test_edit_and_export_keep_a_patch_under_the_submodule(project, tmp_path):
    path, folder = project
    before = (folder / "0001-inner-name-line-ten.patch").read_bytes()
    forge = make_forge(path, tmp_path)
    work = edit(forge, OUTER)
    assert (work / "inner" / "lib.c").read_text().splitlines()[9] == "line ten"
    changes = export(forge, OUTER)
    assert changes.unchanged == ["0001-inner-name-line-ten.patch"]
    assert (folder / "0001-inner-name-line-ten.patch").read_bytes() == before


def test_a_patch_that_landed_in_the_submodule_is_dropped_naming_the_commit(project, tmp_path):
    path, folder = project
    # As git format-patch writes it: three lines of context.
    hunk = "".join(f" line {i}\n" for i in (17, 18, 19)) + "-line 20\n+line twenty\n"
    hunk += "".join(f" line {i}\n" for i in (21, 22, 23))
    head = PATCH.split("@@")[0].replace("name line ten", "name line twenty")
    backport = f"{head}@@ -17,7 +17,7 @@\n{hunk}"
    (folder / "0001-inner-name-line-ten.patch").write_text(backport)
    logged: list[str] = []
    forge = make_forge(path, tmp_path, log=logged.append)
    changes = refresh(forge, OUTER, "v1.2.0")
    assert [name for name, _ in changes.dropped] == ["0001-inner-name-line-ten.patch"]
    said = "\n".join(logged)
    assert "landed upstream in submodule inner as " in said
    assert '"inner: name line twenty" (patch-id)' in said
    assert not (folder / "0001-inner-name-line-ten.patch").exists()
