"""The served versions of packages, read from Packages files and cached per index state."""

import subprocess

import pytest

from imageforge.image import aptindex
from imageforge.image.aptindex import IndexFile

MAIN = """\
Package: libssl3
Version: 3.0.15-1~deb12u1
Architecture: amd64

Package: file
Version: 1:5.44-3
Architecture: amd64
"""
SECURITY = """\
Package: libssl3
Version: 3.0.17-1~deb12u3
Architecture: amd64
"""


def test_the_newest_version_of_every_suite_is_served(tmp_path):
    index = tmp_path / "index"
    index.mkdir()
    (index / "main_Packages").write_text(MAIN)
    (index / "security_Packages").write_text(SECURITY)
    files = aptindex.host_index_files(index)
    served = aptindex.served_versions(files, tmp_path / "cache")
    assert served == {"libssl3": "3.0.17-1~deb12u3", "file": "1:5.44-3"}


def test_the_cache_follows_the_index_state(tmp_path):
    index = tmp_path / "index"
    index.mkdir()
    packages = index / "Packages"
    packages.write_text(MAIN)
    state = aptindex.index_state(aptindex.host_index_files(index))
    assert (
        aptindex.served_versions(aptindex.host_index_files(index), tmp_path)["file"] == "1:5.44-3"
    )
    packages.write_text(MAIN.replace("1:5.44-3", "1:5.44-3+deb12u1"))
    files = aptindex.host_index_files(index)
    assert aptindex.index_state(files) != state
    assert aptindex.served_versions(files, tmp_path)["file"] == "1:5.44-3+deb12u1"
    assert len(list((tmp_path / "apt-index").iterdir())) == 2  # one parse per state


def test_an_image_reads_its_own_suite_and_its_update_suites():
    files = [
        IndexFile(tmp, suite)
        for tmp, suite in [
            ("a", "bookworm"),
            ("b", "bookworm-security"),
            ("c", "bookworm-updates"),
            ("d", "trixie"),
            ("e", "bookworm-backports"),
        ]
    ]
    chosen = [f.suite for f in aptindex.suite_files(files, "bookworm")]
    assert chosen == ["bookworm", "bookworm-security", "bookworm-updates"]


def test_the_hosts_own_index_is_found_and_read():
    """On a Debian host: apt names its Packages files, compressed as apt keeps them."""
    try:
        subprocess.run(["apt-get", "--version"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a Debian host")
    files = aptindex.host_index_files()
    assert files, "apt-get indextargets named no Packages file (run apt-get update)"
    some = files[0]
    stanzas = list(aptindex.parse_packages(aptindex.read_index(some.path)))
    assert len(stanzas) > 100 and all(version for _, version in stanzas)


def test_an_index_folder_that_is_not_there_is_one_line(tmp_path):
    from imageforge.errors import ForgeError

    with pytest.raises(ForgeError, match=r"FORGE_APT_INDEX=.*/nowhere: not a folder"):
        aptindex.host_index_files(tmp_path / "nowhere")
