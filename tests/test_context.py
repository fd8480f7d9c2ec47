"""The forge context read from the environment: settings that cannot work are one line."""

from __future__ import annotations

import pytest

from imageforge.context import from_environment
from imageforge.errors import ForgeError
from tests.support.projects import VALID, write_project


@pytest.mark.parametrize("inside", ["patches", "patches/keystone/2025.2", "images", "constraints"])
def test_a_build_folder_inside_what_the_maintainer_writes_is_refused(tmp_path, inside):
    manifest = write_project(tmp_path / "project", VALID)
    build = tmp_path / "project" / inside
    environ = {"FORGE_BUILD_DIR": str(build), "FORGE_CACHE_DIR": str(tmp_path / "cache")}
    with pytest.raises(ForgeError) as caught:
        from_environment(manifest, environ)
    top = inside.split("/")[0]
    assert str(caught.value) == (
        f"FORGE_BUILD_DIR={build}: inside {top}/ ({tmp_path / 'project' / top}); point it at "
        "a folder of its own (the default is build/ beside releases.yaml)"
    )
    assert not build.exists() or inside == "images"


def test_a_build_folder_inside_the_cache_is_refused(tmp_path):
    manifest = write_project(tmp_path / "project", VALID)
    environ = {"FORGE_BUILD_DIR": str(tmp_path / "c" / "b"), "FORGE_CACHE_DIR": str(tmp_path / "c")}
    with pytest.raises(ForgeError, match=r"inside the cache"):
        from_environment(manifest, environ)


def test_the_default_and_a_folder_of_its_own_are_fine(tmp_path):
    manifest = write_project(tmp_path / "project", VALID)
    assert from_environment(manifest, {}).build_dir == tmp_path / "project" / "build"
    other = {"FORGE_BUILD_DIR": str(tmp_path / "b"), "FORGE_CACHE_DIR": str(tmp_path / "c")}
    assert from_environment(manifest, other).build_dir == tmp_path / "b"


def test_an_apt_index_of_its_own_stands_in_for_the_hosts(tmp_path):
    manifest = write_project(tmp_path / "project", VALID)
    assert from_environment(manifest, {}).apt_index is None
    chosen = from_environment(manifest, {"FORGE_APT_INDEX": str(tmp_path / "index")})
    assert chosen.apt_index == tmp_path / "index"
