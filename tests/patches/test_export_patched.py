"""Exports with a patch series applied: counted, digested, and all-or-nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imageforge.config.manifest import Pair
from imageforge.patches.apply import PatchError
from imageforge.patches.export import export_source, read_export
from imageforge.patches.series import load_series
from imageforge.upstream.pinned import pin
from tests.support.patches import GREETING, format_patches, greeting
from tests.support.projects import bare_forge


def series_of(repo, tmp_path, commits, base="1.0.1"):
    folder = tmp_path / "patches" / "demo" / "2025.2"
    patches = format_patches(repo, base, folder, commits)
    (folder / "series").write_text("".join(f"{p.name}\n" for p in patches))
    return load_series(folder, Pair("2025.2", "demo"))


def export(repo, tmp_path, ref, series, **settings):
    forge = bare_forge(tmp_path, **settings)
    return export_source(forge, pin(forge, Pair("2025.2", "demo"), repo.url, ref), series)


def test_series_is_applied_in_order_and_recorded(upstream, tmp_path):
    repo = upstream()
    series = series_of(
        repo,
        tmp_path,
        [
            ({GREETING: greeting("hi")}, "Say hi"),
            ({GREETING: greeting("hi there")}, "Say hi there"),
        ],
    )
    result = export(repo, tmp_path, "1.0.1", series)
    assert (result.tree / GREETING).read_text() == greeting("hi there")
    assert result.patches == ("0001-Say-hi.patch", "0002-Say-hi-there.patch")
    assert result.series_digest == series.digest
    assert result.patched_files == (GREETING,)
    assert result.version == "1.0.1", "patches do not change the upstream version"
    assert read_export(result.tree.parent) == result


def test_a_changed_patch_exports_again(upstream, tmp_path):
    repo = upstream()
    series = series_of(repo, tmp_path, [({GREETING: greeting("hi")}, "Say hi")])
    first = export(repo, tmp_path, "1.0.1", series)
    patch = series.patches[0]
    patch.write_text(patch.read_text().replace('+GREETING = "hi"', '+GREETING = "hey"'))
    lines = []
    second = export(repo, tmp_path, "1.0.1", series, log=lines.append)
    assert second.series_digest != first.series_digest
    assert (second.tree / GREETING).read_text() == greeting("hey")
    assert "1 patches applied" in lines[0]


def test_a_conflict_leaves_no_tree_and_keeps_the_previous_export(upstream, tmp_path):
    repo = upstream()
    good = export(repo, tmp_path, "1.0.1", None)
    series = series_of(
        repo, tmp_path, [({"FEATURES.txt": "feature\nmore\nand more\n"}, "More")], base="master"
    )
    with pytest.raises(PatchError) as caught:
        export(repo, tmp_path, "1.0.1", series)
    assert str(caught.value) == (
        "demo (2025.2) at 1.0.1: 0001-More.patch does not apply: "
        "FEATURES.txt: the file does not exist in the tree"
    )
    assert read_export(good.tree.parent) == good
    assert not (good.tree / "FEATURES.txt").exists()
    leftovers = [
        p.name for p in good.tree.parent.parent.iterdir() if p.name not in ("demo", ".demo.lock")
    ]
    assert leftovers == []


def test_a_patch_already_upstream_is_skipped(upstream, tmp_path):
    repo = upstream()
    series = series_of(repo, tmp_path, [({GREETING: greeting("hi")}, "Say hi")])
    repo.checkout("stable/2025.2")
    repo.commit({GREETING: greeting("hi")}, "Say hi upstream")
    result = export(repo, tmp_path, "stable/2025.2", series)
    assert result.patches == ()
    assert (result.tree / GREETING).read_text() == greeting("hi")


def series_from_branch(repo, tmp_path, name, steps, base="1.0.1"):
    """A series of the commits that ``steps`` (git argument lists, or callables) make from ``base``."""
    repo.git("checkout", "--quiet", "-B", name, base)
    for step in steps:
        step() if callable(step) else repo.git(*step)
    folder = tmp_path / "patches" / "demo" / name
    names = repo.git("format-patch", "-o", str(folder), f"{base}..{name}").split()
    repo.checkout("master")
    (folder / "series").write_text("".join(f"{Path(n).name}\n" for n in names))
    return load_series(folder, Pair("2025.2", "demo"))


def folders(tree):
    return sorted(str(p.relative_to(tree)) for p in tree.rglob("*") if p.is_dir())


def test_a_changed_series_writes_only_the_files_that_differ(upstream, tmp_path):
    repo = upstream()
    commit = ("commit", "--quiet", "--no-verify", "-m")
    first = series_from_branch(
        repo,
        tmp_path,
        "first",
        [
            ("rm", "--quiet", "CHANGES.txt"),
            ("mv", "demo/greeting.py", "demo/hello.py"),
            (*commit, "Rename greeting, drop the changes"),
            lambda: repo.commit({"demo/extra/added.py": "ADDED = True\n"}, "Add a module"),
        ],
    )
    before = export(repo, tmp_path, "1.0.1", first)
    assert not (before.tree / "CHANGES.txt").exists() and (before.tree / "demo/extra").is_dir()
    kept = {p: (before.tree / p).stat().st_ino for p in ("setup.cfg", "demo/__init__.py")}
    # What a maintainer may leave in an export by hand: an edit and a stray file.
    (before.tree / "setup.py").write_text("edited by hand\n")
    (before.tree / "stray.pyc").write_bytes(b"\0")

    second = series_from_branch(
        repo,
        tmp_path,
        "second",
        [
            lambda: (repo.path / "setup.cfg").chmod(0o755),
            ("add", "setup.cfg"),
            (*commit, "Make setup.cfg executable"),
        ],
    )
    after = export(repo, tmp_path, "1.0.1", second)

    fresh = export(repo, tmp_path, "1.0.1", second, build_dir=tmp_path / "fresh")
    assert after.tree_digest == fresh.tree_digest, "the same files as a full export"
    assert folders(after.tree) == folders(fresh.tree), "no folder left over"
    assert (after.tree / "CHANGES.txt").read_text() == "fix one\n"
    assert (after.tree / GREETING).is_file() and not (after.tree / "demo/hello.py").exists()
    assert (after.tree / "setup.py").read_text() == (repo.path / "setup.py").read_text()
    assert not (after.tree / "stray.pyc").exists()
    assert os.access(after.tree / "setup.cfg", os.X_OK)
    # Unchanged files are the earlier export's (same inode), changed ones written anew.
    assert (after.tree / "demo/__init__.py").stat().st_ino == kept["demo/__init__.py"]
    assert (after.tree / "setup.cfg").stat().st_ino != kept["setup.cfg"]
    assert read_export(after.tree.parent) == after


def test_a_latin1_file_name_in_a_patch_exports_and_re_exports(upstream, tmp_path):
    """File names are bytes: a latin-1 é (one byte, not UTF-8) goes through as it is."""
    repo = upstream()
    name = os.fsdecode(b"demo/caf\xe9.txt")
    series = series_of(
        repo,
        tmp_path,
        [({name: "one\n"}, "Add a latin-1 name"), ({GREETING: greeting("hi")}, "Hi")],
    )
    first = export(repo, tmp_path, "1.0.1", series)
    assert (first.tree / name).read_text() == "one\n"
    # A changed series starts from the earlier tree, listing its files by name.
    patch = series.patches[1]
    patch.write_bytes(patch.read_bytes().replace(b'+GREETING = "hi"', b'+GREETING = "hey"'))
    second = export(repo, tmp_path, "1.0.1", series)
    assert (second.tree / name).read_text() == "one\n"
    assert (second.tree / GREETING).read_text() == greeting("hey")
