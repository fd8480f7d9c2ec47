"""pbr-style versions computed from a mirror's tags."""

from __future__ import annotations

from imageforge.upstream.mirrors import mirror_for
from imageforge.upstream.versions import pbr_version


def test_tagged_commit_has_the_tag_version(upstream, tmp_path):
    repo = upstream()
    mirror = mirror_for(repo.url, tmp_path / "cache")
    assert pbr_version(mirror.path, mirror.resolve("1.0.1")) == "1.0.1"
    assert pbr_version(mirror.path, mirror.resolve("1.0.0")) == "1.0.0"


def test_commits_after_a_tag_give_a_dev_version(upstream, tmp_path):
    repo = upstream()
    mirror = mirror_for(repo.url, tmp_path / "cache")
    # master is two commits past 1.0.0.
    assert pbr_version(mirror.path, mirror.resolve("master")) == "1.0.1.dev2"


def test_sem_ver_headers_bump_like_pbr(upstream, tmp_path):
    repo = upstream()
    repo.commit({"NEW.txt": "x\n"}, "Add an API\n\nSem-Ver: feature")
    mirror = mirror_for(repo.url, tmp_path / "cache")
    assert pbr_version(mirror.path, mirror.resolve("master")) == "1.1.0.dev3"
    repo.commit({"NEW.txt": "y\n"}, "Remove an API\n\nSem-Ver: api-break")
    assert pbr_version(mirror.path, mirror.resolve("master")) == "2.0.0.dev4"


def test_a_release_wins_over_its_candidate_on_the_same_commit(upstream, tmp_path):
    # OpenStack tags the final release on the commit of its last candidate.
    repo = upstream()
    repo.checkout("stable/2025.2")
    repo.commit({"RC.txt": "rc\n"}, "Prepare the release")
    repo.tag("1.1.0.0rc1")
    repo.tag("1.1.0")
    mirror = mirror_for(repo.url, tmp_path / "cache")
    assert pbr_version(mirror.path, mirror.resolve("1.1.0.0rc1")) == "1.1.0"
