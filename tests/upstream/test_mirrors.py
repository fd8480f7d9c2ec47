"""Bare blobless mirrors and ref resolution against real repositories."""

from __future__ import annotations

from dataclasses import replace

import pytest

from imageforge.host import git
from imageforge.upstream.mirrors import OfflineError, RefError, mirror_for


@pytest.fixture
def repo(upstream):
    return upstream("demo")


def test_tag_branch_and_full_sha_resolve_to_commits(repo, tmp_path):
    mirror = mirror_for(repo.url, tmp_path / "cache")
    assert mirror.resolve("1.0.0") == repo.head("1.0.0")
    assert mirror.resolve("stable/2025.2") == repo.head("stable/2025.2")
    assert mirror.resolve("master") == repo.head("master")
    sha = repo.head("master~1")
    assert mirror.resolve(sha) == sha


def test_mirror_is_bare_blobless_and_has_no_gerrit_refs(repo, tmp_path):
    repo.git("update-ref", "refs/changes/01/1/1", "HEAD")
    mirror = mirror_for(repo.url, tmp_path / "cache")
    mirror.ensure()
    assert git.text(["rev-parse", "--is-bare-repository"], git_dir=mirror.path) == "true"
    assert (
        git.text(["config", "remote.origin.partialclonefilter"], git_dir=mirror.path) == "blob:none"
    )
    assert "refs/changes" not in git.text(["for-each-ref"], git_dir=mirror.path)
    # Blobs are not there until an export asks for them.
    missing = git.text(["rev-list", "--objects", "--missing=print", "master"], git_dir=mirror.path)
    assert any(line.startswith("?") for line in missing.splitlines())
    mirror.prefetch_blobs(repo.head("master"))
    missing = git.text(
        ["rev-list", "--objects", "--missing=print", "master^{tree}"], git_dir=mirror.path
    )
    assert not any(line.startswith("?") for line in missing.splitlines())


def test_a_moved_branch_is_fetched_again(repo, tmp_path):
    mirror = mirror_for(repo.url, tmp_path / "cache")
    before = mirror.resolve("stable/2025.2")
    repo.checkout("stable/2025.2")
    after = repo.commit({"CHANGES.txt": "fix two\n"}, "Fix another bug")
    assert after != before
    assert mirror.resolve("stable/2025.2") == after
    # Offline, the mirror answers with what it has.
    repo.commit({"CHANGES.txt": "fix three\n"}, "Fix a third bug")
    assert replace(mirror, offline=True).resolve("stable/2025.2") == after


def test_offline_never_clones_a_missing_mirror(repo, tmp_path):
    mirror = mirror_for(repo.url, tmp_path / "cache", offline=True)
    with pytest.raises(OfflineError, match=r"offline: no mirror of .*demo in .*cache/git"):
        mirror.resolve("1.0.0")
    assert not (tmp_path / "cache" / "git").exists() or not any(
        (tmp_path / "cache" / "git").glob("*.git")
    )


def test_offline_names_blobs_a_blobless_mirror_lacks(repo, tmp_path):
    commit = mirror_for(repo.url, tmp_path / "cache").resolve("1.0.1")
    offline = mirror_for(repo.url, tmp_path / "cache", offline=True)
    with pytest.raises(OfflineError, match=r"offline: 1 files of .* are not in the mirror"):
        offline.prefetch_paths(commit, ["demo/greeting.py"])
    with pytest.raises(OfflineError, match="run once without FORGE_OFFLINE"):
        offline.prefetch_blobs(commit)


def test_a_present_tag_or_sha_needs_no_network(repo, tmp_path):
    mirror = mirror_for(repo.url, tmp_path / "cache")
    mirror.resolve("1.0.0")
    git.COMMAND_LOG = []
    try:
        mirror.resolve("1.0.0")
        mirror.resolve(repo.head("1.0.1"))
        assert not [c for c in git.COMMAND_LOG if "fetch" in c or "clone" in c]
    finally:
        git.COMMAND_LOG = None


def test_a_new_tag_is_fetched(repo, tmp_path):
    mirror = mirror_for(repo.url, tmp_path / "cache")
    mirror.ensure()
    repo.checkout("stable/2025.2")
    commit = repo.commit({"CHANGES.txt": "fix two\n"}, "Fix another bug")
    repo.tag("1.0.2")
    assert mirror.resolve("1.0.2") == commit


def test_unknown_ref(repo, tmp_path):
    mirror = mirror_for(repo.url, tmp_path / "cache")
    with pytest.raises(RefError, match=r"no branch or tag '9\.9\.9' in file://"):
        mirror.resolve("9.9.9")


def test_abbreviated_sha_is_refused(repo, tmp_path):
    mirror = mirror_for(repo.url, tmp_path / "cache")
    with pytest.raises(RefError, match=r"abbreviated commit SHA; give the full 40-character SHA"):
        mirror.resolve(repo.head()[:10])


def test_unknown_full_sha(repo, tmp_path):
    mirror = mirror_for(repo.url, tmp_path / "cache")
    with pytest.raises(RefError, match=f"commit {'1' * 40} is not in"):
        mirror.resolve("1" * 40)


def test_unreachable_remote(tmp_path):
    mirror = mirror_for((tmp_path / "nowhere").as_uri(), tmp_path / "cache")
    with pytest.raises(RefError, match=r"cannot clone file://.*nowhere: fatal: "):
        mirror.resolve("master")
    assert not mirror.path.exists()
    assert not [p for p in mirror.path.parent.iterdir() if p.name.startswith(".")], "no leftovers"


def test_insteadof_redirects_to_a_local_mirror(repo, tmp_path, git_config):
    # The manifest names the public URL; git's own config points it at a local copy.
    git.run(
        [
            "config",
            "--global",
            f"url.{repo.path.parent.as_uri()}/.insteadOf",
            "https://opendev.test/openstack/",
        ]
    )
    mirror = mirror_for("https://opendev.test/openstack/demo", tmp_path / "cache")
    assert mirror.resolve("1.0.1") == repo.head("1.0.1")


def test_prefetch_paths_fetches_only_those_blobs_once(repo, tmp_path):
    mirror = mirror_for(repo.url, tmp_path / "cache")
    commit = mirror.resolve("1.0.1")

    def missing():
        walked = git.text(
            ["rev-list", "--objects", "--missing=print", f"{commit}^{{tree}}"], git_dir=mirror.path
        )
        return {line[1:] for line in walked.splitlines() if line.startswith("?")}

    wanted = git.text(["rev-parse", f"{commit}:demo/greeting.py"], git_dir=mirror.path)
    before = missing()
    assert wanted in before
    mirror.prefetch_paths(commit, ["demo/greeting.py", "not/there.py"])
    assert missing() == before - {wanted}, "just the blob asked for"
    git.COMMAND_LOG = []
    try:
        mirror.prefetch_paths(commit, ["demo/greeting.py"])
        assert git.COMMAND_LOG == [], "known to be present: no git call, no network"
    finally:
        git.COMMAND_LOG = None


def test_a_clone_killed_outright_leaves_nothing_after_the_next_run(repo, tmp_path):
    mirror = mirror_for(repo.url, tmp_path / "cache")
    killed = mirror.path.parent / f".{mirror.path.name}-k1ll3d00"
    (killed / "repo.git").mkdir(parents=True)
    mirror.ensure()
    assert not killed.exists()
    assert (mirror.path / "HEAD").is_file()


def test_a_url_that_looks_like_an_option_is_never_one(tmp_path):
    marker = tmp_path / "ran"
    mirror = mirror_for(f"--upload-pack=touch {marker}", tmp_path / "cache")
    with pytest.raises(RefError, match=r"^cannot clone --upload-pack=touch .*: "):
        mirror.resolve("1.0.0")
    assert not marker.exists()
