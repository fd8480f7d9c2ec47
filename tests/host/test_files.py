"""File-system helpers: paths made from names stay under their root."""

from __future__ import annotations

import contextlib

import pytest

from imageforge.errors import ForgeError


def test_a_path_made_from_names_stays_under_its_root(tmp_path):
    from imageforge.host.files import under

    assert under(tmp_path, "2025.2", "oslo.messaging") == tmp_path / "2025.2" / "oslo.messaging"
    for names in (("..", "x"), ("2025.2", "../../evil"), ("/etc",), (".",)):
        with pytest.raises(ForgeError, match="not a plain name"):
            under(tmp_path, *names)


@pytest.fixture
def full_disk(tmp_path):
    """A real file system with no room left: a 64 KiB tmpfs, filled."""
    import subprocess

    mount = tmp_path / "small"
    mount.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
    try:
        with contextlib.suppress(OSError), (mount / "filler").open("wb") as filler:
            filler.write(b"x" * 1024 * 1024)  # until the file system is full
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_names_the_file_and_leaves_nothing_half_written(full_disk):
    from imageforge.host.files import write_atomically

    target = full_disk / "upper-constraints.txt"
    with pytest.raises(ForgeError) as caught:
        write_atomically(target, "x" * 200_000)
    assert str(caught.value) == f"cannot write {target}: No space left on device"
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler"]
