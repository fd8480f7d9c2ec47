"""Patch lint: damaged and hostile patch files are refused with the file named."""

from __future__ import annotations

from pathlib import Path

import pytest

from imageforge.config.manifest import Pair
from imageforge.patches.lint import PatchLintError, lint_patch, require_clean
from imageforge.patches.series import load_series
from tests.support.patches import GREETING, format_patches, greeting


@pytest.fixture
def good_patch(upstream, tmp_path):
    repo = upstream()
    [patch] = format_patches(
        repo, "1.0.1", tmp_path / "p", [({GREETING: greeting("hi")}, "Say hi")]
    )
    return patch


def test_a_format_patch_file_is_sound(good_patch):
    assert lint_patch(good_patch) == []


def test_truncated_hunk(good_patch):
    text = good_patch.read_text()
    good_patch.write_text(text[: text.index("+GREETING")] + "\n")
    [problem] = lint_patch(good_patch)
    assert problem.startswith(f"{good_patch}: malformed or truncated hunk: ")


def test_crlf_damage(good_patch):
    good_patch.write_bytes(good_patch.read_bytes().replace(b"\n", b"\r\n"))
    assert f"{good_patch}: CRLF line endings (damaged by an editor or mail client?)" in lint_patch(
        good_patch
    )


@pytest.mark.parametrize("hostile", ["../../etc/cron.d/evil", "/etc/passwd"])
def test_paths_outside_the_tree(good_patch, hostile):
    text = (
        good_patch.read_text()
        .replace(f"a/{GREETING}", f"a/{hostile}")
        .replace(f"b/{GREETING}", f"b/{hostile}")
    )
    if hostile.startswith("/"):
        text = text.replace(f"--- a/{hostile}", f"--- {hostile}").replace(
            f"+++ b/{hostile}", f"+++ {hostile}"
        )
    good_patch.write_text(text)
    assert f"{good_patch}: {hostile}: path outside the source tree" in lint_patch(good_patch)


def test_binary_change_without_content(tmp_path):
    patch = tmp_path / "0001-logo.patch"
    patch.write_text(
        "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
        "Subject: [PATCH] Logo\n\n---\n"
        "diff --git a/logo.png b/logo.png\nindex 1234567..89abcde 100644\n"
        "Binary files a/logo.png and b/logo.png differ\n"
    )
    assert lint_patch(patch) == [
        f"{patch}: logo.png: binary change without its content (regenerate with --binary)"
    ]


def test_binary_patch_without_full_index(tmp_path):
    patch = tmp_path / "0001-logo.patch"
    patch.write_text(
        "Subject: [PATCH] Logo\n\n---\n"
        "diff --git a/logo.png b/logo.png\nindex 1234567..89abcde 100644\n"
        "GIT binary patch\nliteral 1\nIcmZPo000310RR91\n\nliteral 0\nHcmV?d00001\n\n"
    )
    assert f"{patch}: logo.png: binary patch without a full index (use --full-index)" in lint_patch(
        patch
    )


def test_require_clean_names_every_problem(good_patch):
    good_patch.write_bytes(good_patch.read_bytes().replace(b"\n", b"\r\n"))
    (good_patch.parent / "series").write_text(f"{good_patch.name}\n")
    series = load_series(good_patch.parent, Pair("2025.2", "demo"))
    with pytest.raises(PatchLintError, match=f"{good_patch.name}: CRLF line endings"):
        require_clean([series])


def _symlink_patch(repo, tmp_path, link: str, target: str):
    """A real `git format-patch` of a commit adding a symlink."""
    (repo.path / link).parent.mkdir(parents=True, exist_ok=True)
    (repo.path / link).symlink_to(target)
    repo.git("add", "--all")
    repo.git("commit", "--quiet", "-m", "Add a link")
    out = tmp_path / "links"
    repo.git("format-patch", "--quiet", "-o", str(out), "-1")
    [patch] = sorted(out.glob("*.patch"))
    assert "new file mode 120000" in patch.read_text()
    return patch


@pytest.mark.parametrize("target", ["/etc/passwd", "../../etc/passwd", "../../../root"])
def test_a_symlink_leaving_the_tree_is_refused(upstream, tmp_path, target):
    patch = _symlink_patch(upstream(), tmp_path, "demo/evil.py", target)
    assert lint_patch(patch) == [
        f"{patch}: demo/evil.py: symlink to {target} points outside the source tree"
    ]


def test_a_symlink_inside_the_tree_is_sound(upstream, tmp_path):
    patch = _symlink_patch(upstream(), tmp_path, "demo/alias.py", "greeting.py")
    assert lint_patch(patch) == []


def test_added_conflict_markers_are_flagged(good_patch):
    text = good_patch.read_text().replace(
        '+GREETING = "hi"',
        '+<<<<<<< HEAD\n+GREETING = "hi"\n+=======\n+GREETING = "ho"\n+>>>>>>> 1234abc (Say ho)',
    )
    good_patch.write_text(text.replace("@@ -1,4 +1,4 @@", "@@ -1,4 +1,8 @@"))
    assert lint_patch(good_patch) == [
        f"{good_patch}: {GREETING}: adds a conflict marker line '<<<<<<< HEAD' (an unresolved merge)",
        f"{good_patch}: {GREETING}: adds a conflict marker line "
        "'>>>>>>> 1234abc (Say ho)' (an unresolved merge)",
    ]


def test_an_rst_underline_is_not_a_conflict_marker(good_patch):
    text = good_patch.read_text().replace('+GREETING = "hi"', '+GREETING = "hi"\n+=======')
    good_patch.write_text(text.replace("@@ -1,4 +1,4 @@", "@@ -1,4 +1,5 @@"))
    assert lint_patch(good_patch) == []


def test_a_path_outside_the_tree_is_reported_once(good_patch):
    good_patch.write_text(good_patch.read_text().replace(GREETING, "../evil.py"))
    assert lint_patch(good_patch) == [f"{good_patch}: ../evil.py: path outside the source tree"]


def test_a_diff_without_prefixes_is_named(upstream, tmp_path):
    """`git format-patch --no-prefix` (or diff.noprefix): -p1 would strip a real folder."""
    repo = upstream()
    repo.git("checkout", "--quiet", "-B", "noprefix", "1.0.1")
    repo.commit({GREETING: greeting("hi")}, "Say hi")
    out = tmp_path / "p"
    [name] = repo.git("format-patch", "--no-prefix", "-o", str(out), "-1").split()
    repo.checkout("master")
    assert lint_patch(Path(name)) == [
        f"{name}: {GREETING}: a diff without a/ and b/ prefixes (--no-prefix or "
        "diff.noprefix); patches apply with -p1: regenerate it with the prefixes"
    ]
