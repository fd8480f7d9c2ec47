"""The write-back: one commit point, names that never shift, comments kept, nothing half-written."""

from __future__ import annotations

import pytest

from imageforge.errors import ForgeError
from imageforge.maintain.write import Entry, series_text, write_series

DIFF = b"Subject: [PATCH] {0}\n\n---\ndiff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+{0}\n"


def patch(text: str) -> bytes:
    return DIFF.replace(b"{0}", text.encode())


@pytest.fixture
def folder(tmp_path):
    series = tmp_path / "patches" / "demo" / "2025.2"
    series.mkdir(parents=True)
    (series / "0001-one.patch").write_bytes(patch("one"))
    (series / "0002-two.patch").write_bytes(patch("two"))
    (series / "series").write_text("# ours\n0001-one.patch\n# the second\n0002-two.patch\n")
    return series


def test_kept_updated_added_and_dropped_in_one_write(folder):
    changes = write_series(
        folder,
        [
            Entry("0001-one.patch", b"", keep=True),
            Entry(None, patch("three")),
        ],
        [("0002-two.patch", "landed upstream")],
    )
    assert (changes.unchanged, changes.added, changes.dropped) == (
        ["0001-one.patch"],
        ["0002-three.patch"],
        [("0002-two.patch", "landed upstream")],
    )
    assert sorted(p.name for p in folder.iterdir()) == [
        "0001-one.patch",
        "0002-three.patch",
        "series",
    ]
    # Comments survive; the new name follows the name before it; kept names never shift.
    assert (
        folder / "series"
    ).read_text() == "# ours\n0001-one.patch\n0002-three.patch\n# the second\n"
    assert (folder / "0002-three.patch").read_bytes() == patch("three")


def test_a_dry_run_writes_nothing(folder):
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    changes = write_series(folder, [Entry("0001-one.patch", patch("uno"))], [], dry_run=True)
    assert changes.updated == ["0001-one.patch"]
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_patch_without_a_diff_is_refused_before_anything_is_written(folder):
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(ForgeError, match=r"refusing to write 0002-two\.patch: it holds no diff"):
        write_series(
            folder,
            [Entry("0001-one.patch", patch("uno")), Entry("0002-two.patch", b"Subject: x\n")],
            [],
        )
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_write_killed_before_its_commit_point_leaves_the_series_as_it_was(folder, monkeypatch):
    """Every new file is staged beside its target first; a crash there changes no target."""
    from pathlib import Path

    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    real_replace = Path.replace
    calls = []

    def crash(self, target):
        calls.append(self.name)
        raise OSError("killed")

    monkeypatch.setattr(Path, "replace", crash)
    with pytest.raises(OSError):
        write_series(folder, [Entry("0001-one.patch", patch("uno")), Entry(None, patch("x"))], [])
    monkeypatch.setattr(Path, "replace", real_replace)
    assert calls and all(name.endswith(".partial") for name in calls)
    assert {
        p.name: p.read_bytes() for p in folder.iterdir() if not p.name.endswith(".partial")
    } == before


def test_every_patch_gone_removes_the_folder(folder):
    changes = write_series(folder, [], [("0001-one.patch", "x"), ("0002-two.patch", "y")])
    assert changes.removed_folder and not folder.exists()


def test_a_reordered_series_keeps_its_leading_comments():
    old = ["# ours", "a.patch", "b.patch"]
    assert series_text(old, ["b.patch", "a.patch"]) == "# ours\nb.patch\na.patch\n"
