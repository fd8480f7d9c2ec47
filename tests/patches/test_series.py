"""Series files: explicit order, and every disagreement with the folder is an error."""

from __future__ import annotations

import pytest

from imageforge.config.manifest import Pair, load_manifest
from imageforge.patches.series import SeriesError, discover, load_series
from tests.support.projects import VALID, write_project


def make_series(folder, names, series=None):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text(f"patch {name}\n")
    (folder / "series").write_text(
        series if series is not None else "".join(f"{n}\n" for n in names)
    )
    return folder


def test_order_comes_from_the_series_file_not_the_folder(tmp_path):
    folder = make_series(
        tmp_path,
        ["0001-b.patch", "0002-a.patch"],
        "# applied in this order\n0002-a.patch\n\n0001-b.patch  # later\n",
    )
    series = load_series(folder, Pair("2025.2", "glance"))
    assert [p.name for p in series.patches] == ["0002-a.patch", "0001-b.patch"]


def test_digest_changes_with_content(tmp_path):
    folder = make_series(tmp_path, ["0001-a.patch"])
    before = load_series(folder, Pair("2025.2", "glance")).digest
    (folder / "0001-a.patch").write_text("changed\n")
    assert load_series(folder, Pair("2025.2", "glance")).digest != before


def test_series_entry_without_a_file(tmp_path):
    folder = make_series(tmp_path, ["0001-a.patch"], "0001-a.patch\n0002-gone.patch\n")
    with pytest.raises(SeriesError, match=r"series:2: 0002-gone.patch: no such patch file"):
        load_series(folder, Pair("2025.2", "glance"))


def test_patch_file_missing_from_the_series(tmp_path):
    folder = make_series(tmp_path, ["0001-a.patch", "0002-b.patch"], "0001-a.patch\n")
    with pytest.raises(SeriesError, match=r"0002-b.patch: not listed in .*series"):
        load_series(folder, Pair("2025.2", "glance"))


def test_two_patches_numbered_alike_keep_the_series_order(tmp_path):
    """Downstream series added apart share numbers (two 0002- patches): the series decides."""
    folder = make_series(
        tmp_path,
        ["0002-b.patch", "0002-a.patch", "0001-c.patch"],
        "0002-b.patch\n0001-c.patch\n0002-a.patch\n",
    )
    series = load_series(folder, Pair("2025.2", "glance"))
    assert [p.name for p in series.patches] == ["0002-b.patch", "0001-c.patch", "0002-a.patch"]


def test_missing_series_file(tmp_path):
    (tmp_path / "0001-a.patch").write_text("x")
    with pytest.raises(SeriesError, match="no series file giving the order"):
        load_series(tmp_path, Pair("2025.2", "glance"))


def test_series_for_an_unknown_release_or_project(tmp_path):
    manifest = load_manifest(write_project(tmp_path, VALID))
    make_series(tmp_path / "patches" / "glance" / "2025.2", ["0001-a.patch"])
    make_series(tmp_path / "patches" / "oslo.messaging" / "2025.2", ["0001-a.patch"])
    assert [(s.project, s.release) for s in discover(manifest)] == [
        ("glance", "2025.2"),
        ("oslo.messaging", "2025.2"),
    ]
    make_series(tmp_path / "patches" / "glance" / "2024.1", ["0001-a.patch"])
    with pytest.raises(
        SeriesError, match=r"patches/glance/2024.1: release 2024.1 is not in releases.yaml"
    ):
        discover(manifest)
    (tmp_path / "patches" / "glance" / "2024.1" / "series").unlink()
    for item in (tmp_path / "patches" / "glance" / "2024.1").iterdir():
        item.unlink()
    (tmp_path / "patches" / "glance" / "2024.1").rmdir()
    make_series(tmp_path / "patches" / "glance" / "2025.10", ["0001-a.patch"])
    with pytest.raises(
        SeriesError, match=r"glance is not a service or library of release 2025\.10"
    ):
        discover(manifest)


def test_a_quilt_option_after_the_name_is_named(tmp_path):
    folder = make_series(tmp_path, ["0001-a.patch"], "0001-a.patch -p0\n")
    with pytest.raises(SeriesError, match=r"series:1: '0001-a.patch -p0': one file name a line"):
        load_series(folder, Pair("2025.2", "glance"))


def test_a_series_file_saved_with_a_bom_and_crlf_reads_the_same(tmp_path):
    """Windows editors add a byte-order mark and CRLF line ends."""
    folder = make_series(tmp_path, ["0001-a.patch", "0002-b.patch"])
    (folder / "series").write_bytes(b"\xef\xbb\xbf0001-a.patch\r\n0002-b.patch\r\n")
    assert [p.name for p in load_series(folder, Pair("2025.2", "glance")).patches] == [
        "0001-a.patch",
        "0002-b.patch",
    ]


def test_the_series_changed_since_a_commit_of_the_forge(tmp_path):
    from imageforge.patches.series import changed_since
    from tests.support.gitrepos import git

    manifest = load_manifest(write_project(tmp_path, VALID))
    make_series(tmp_path / "patches" / "glance" / "2025.2", ["0001-a.patch"])
    make_series(tmp_path / "patches" / "keystone" / "2025.2", ["0001-a.patch"])
    git(tmp_path, "init", "--quiet")
    git(tmp_path, "add", "--all")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "base")
    assert changed_since(manifest, "HEAD") == []
    (tmp_path / "patches" / "keystone" / "2025.2" / "0001-a.patch").write_text("changed\n")
    make_series(tmp_path / "patches" / "glance" / "2025.1", ["0001-new.patch"])  # not committed
    assert set(changed_since(manifest, "HEAD")) == {
        Pair("2025.2", "keystone"),
        Pair("2025.1", "glance"),
    }
    with pytest.raises(SeriesError, match=r"since 'no-such-ref'"):
        changed_since(manifest, "no-such-ref")
