"""The pinned handle: a damaged mirror is moved aside and cloned again, once, saying so."""

from __future__ import annotations

from dataclasses import replace

import pytest

from imageforge.config.manifest import Pair
from imageforge.host import git
from imageforge.upstream.mirrors import OfflineError
from imageforge.upstream.pinned import pin
from tests.support.patches import GREETING
from tests.support.projects import bare_forge


def _damage(mirror_path):
    """Overwrite the middle of every pack, as a disk error or a killed repack would."""
    for pack in (mirror_path / "objects" / "pack").glob("*.pack"):
        pack.chmod(0o644)
        data = bytearray(pack.read_bytes())
        for offset in range(12, len(data) - 20, 7):
            data[offset] = 0
        pack.write_bytes(bytes(data))


@pytest.fixture
def damaged(upstream, tmp_path):
    repo = upstream("demo")
    lines: list[str] = []
    forge = bare_forge(tmp_path, log=lines.append)
    pinned = pin(forge, Pair("2025.2", "demo"), repo.url, "1.0.1")
    pinned.prefetch()
    _damage(pinned.git_dir)
    with pytest.raises(git.DamagedRepositoryError):
        git.text(["log", "--format=%B", pinned.commit], git_dir=pinned.git_dir)
    return repo, forge, lines, pinned


def test_a_damaged_mirror_is_named_with_its_remedy(damaged):
    _repo, _forge, _lines, pinned = damaged
    with pytest.raises(git.DamagedRepositoryError) as caught:
        git.text(["log", "--format=%B", pinned.commit], git_dir=pinned.git_dir)
    message = str(caught.value)
    assert message.startswith(f"the repository {pinned.git_dir} is damaged (")
    assert f"mv {pinned.git_dir} {pinned.git_dir}.damaged" in message
    assert "\n" not in message


def test_a_damaged_mirror_is_moved_aside_and_cloned_again_once(damaged):
    repo, forge, lines, pinned = damaged
    fresh = pin(replace(forge, memo={}), Pair("2025.2", "demo"), repo.url, "1.0.1")
    fresh.prefetch()
    assert fresh.commit == repo.head("1.0.1")
    assert fresh.show(GREETING).startswith("GREETING = ")
    [said] = lines
    assert said.startswith(f"{repo.url}: the mirror was damaged (")
    [aside] = pinned.git_dir.parent.glob(f"{pinned.git_dir.name}.damaged-*")
    assert said.endswith(f"moved aside to {aside}, cloned again")
    git.run(["fsck", "--connectivity-only"], git_dir=fresh.git_dir)


def test_offline_a_damaged_mirror_is_not_cloned_again(damaged):
    repo, forge, _lines, pinned = damaged
    offline = replace(forge, memo={}, offline=True)
    with pytest.raises(OfflineError, match=r"damaged and cannot be cloned again offline"):
        pin(offline, Pair("2025.2", "demo"), repo.url, "1.0.1").prefetch()
    assert not list(pinned.git_dir.parent.glob("*.damaged-*"))


def test_a_python_project_tagged_with_a_v_takes_its_version_from_those_tags(tmp_path):
    """nova-scheduler-filters tags v0.1.0; pbr drops the v, and so does the forge."""
    from tests.support.gitrepos import UpstreamRepo, pbr_package_files
    from tests.support.gitrepos import git as run_git

    path = tmp_path / "up" / "plugin"
    path.mkdir(parents=True)
    run_git(path, "init", "--quiet", "--initial-branch=main")
    repo = UpstreamRepo(path=path, name="plugin")
    repo.commit(pbr_package_files("plugin"), "Initial commit")
    repo.tag("v0.1.0")
    forge = bare_forge(tmp_path)
    assert pin(forge, Pair("2025.2", "plugin"), repo.url, "v0.1.0").version() == "0.1.0"
    repo.commit({"NEWS": "more\n"}, "More")
    assert pin(forge, Pair("2025.2", "plugin"), repo.url, "main").version() == "0.1.1.dev1"
