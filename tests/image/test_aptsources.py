"""Finding the host's Debian mirror in its apt configuration."""

from __future__ import annotations

import pytest

from imageforge.context import from_environment
from imageforge.errors import ForgeError
from imageforge.image.aptsources import host_debian_mirror
from tests.support.projects import VALID, write_project


def apt_dir(tmp_path, sources=None, one_line=None):
    (tmp_path / "sources.list.d").mkdir(parents=True)
    if sources is not None:
        (tmp_path / "sources.list.d" / "debian.sources").write_text(sources)
    if one_line is not None:
        (tmp_path / "sources.list").write_text(one_line)
    return tmp_path


def test_deb822_stanza_for_the_suite(tmp_path):
    sources = (
        "Types: deb\nURIs: http://security.mirror.test/debian-security\n"
        "Suites: bookworm-security\nComponents: main\n\n"
        "# a comment\nTypes: deb deb-src\nURIs: http://mirror.test/debian\n"
        "Suites: bookworm bookworm-updates\nComponents: main\n"
    )
    assert host_debian_mirror("bookworm", apt_dir(tmp_path, sources)) == "http://mirror.test/debian"


def test_disabled_stanza_is_skipped(tmp_path):
    sources = (
        "Enabled: no\nTypes: deb\nURIs: http://off.test/debian\nSuites: bookworm\n\n"
        "Types: deb\nURIs: http://on.test/debian\nSuites: bookworm\n"
    )
    assert host_debian_mirror("bookworm", apt_dir(tmp_path, sources)) == "http://on.test/debian"


def test_one_line_format_with_options(tmp_path):
    text = "# deb http://old.test/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://mirror.test/debian bookworm main\n"
    assert (
        host_debian_mirror("bookworm", apt_dir(tmp_path, one_line=text))
        == "http://mirror.test/debian"
    )


def test_environment_override_wins(tmp_path):
    environ = {"FORGE_APT_MIRROR": "http://override.test/debian"}
    override = from_environment(write_project(tmp_path, VALID), environ).apt_mirror
    assert override == "http://override.test/debian"
    assert host_debian_mirror("bookworm", apt_dir(tmp_path), override) == override


def test_no_source_for_the_suite_is_a_clear_error(tmp_path):
    with pytest.raises(ForgeError, match="no apt source for Debian trixie"):
        host_debian_mirror(
            "trixie", apt_dir(tmp_path, "Types: deb\nURIs: http://m.test/d\nSuites: bookworm\n")
        )


HOST_LIKE = (
    "Types: deb\nURIs: http://mirror.test/debian\nSuites: bookworm bookworm-updates\n"
    "Components: main\n\n"
    "Types: deb\nURIs: http://mirror.test/debian-security\nSuites: bookworm-security\n"
    "Components: main\n"
)


def test_the_update_suites_the_host_has(tmp_path):
    from imageforge.image.aptsources import host_update_suites, sources_list

    updates = host_update_suites("bookworm", apt_dir(tmp_path, HOST_LIKE))
    assert updates == (
        ("http://mirror.test/debian", "bookworm-updates"),
        ("http://mirror.test/debian-security", "bookworm-security"),
    )
    assert sources_list("http://mirror.test/debian", "bookworm", updates).splitlines() == [
        "deb http://mirror.test/debian bookworm main",
        "deb http://mirror.test/debian bookworm-updates main",
        "deb http://mirror.test/debian-security bookworm-security main",
    ]


def test_a_host_without_update_suites_gives_none(tmp_path):
    from imageforge.image.aptsources import host_update_suites

    main_only = "Types: deb\nURIs: http://mirror.test/debian\nSuites: bookworm\n"
    assert host_update_suites("bookworm", apt_dir(tmp_path, main_only)) == ()


def test_the_update_suites_change_the_base_images_key():
    from imageforge.image.baseimage import BaseImageSpec

    plain = BaseImageSpec(mirror="http://mirror.test/debian")
    updated = BaseImageSpec(
        mirror="http://mirror.test/debian",
        updates=(("http://mirror.test/debian-security", "bookworm-security"),),
    )
    assert plain.inputs_digest != updated.inputs_digest
