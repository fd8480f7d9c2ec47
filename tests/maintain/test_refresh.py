"""Refresh onto a new ref: 3-way replay, upstream detection, conflicts, stable output."""

from __future__ import annotations

import pytest

from imageforge.config.manifest import Pair
from imageforge.errors import ForgeError
from imageforge.maintain.refresh import (
    RefreshStopped,
    abort_refresh,
    continue_refresh,
    refresh,
    work_dir,
)
from tests.maintain.conftest import DATA, edit
from tests.support.gitrepos import git
from tests.support.projects import make_forge


def release_upstream(repo, tag: str, data: str) -> None:
    repo.checkout("stable/2025.2")
    repo.commit({"demo/data.txt": data}, f"Upstream change for {tag}")
    repo.tag(tag)


def forge(path, tmp_path, log=None):
    return make_forge(path, tmp_path, **({"log": log} if log else {}))


def run(path, tmp_path, onto, **kwargs):
    logged: list[str] = []
    changes = refresh(forge(path, tmp_path, logged.append), Pair("2025.2", "demo"), onto, **kwargs)
    return changes, "\n".join(logged)


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_moved_context_lines_merge_with_3way(project, tmp_path):
    repo, path, folder, names = project
    # Upstream edits a context line of the first patch's hunk: a plain apply fails.
    release_upstream(repo, "1.0.3", edit(DATA, **{"8": "line eight"}))
    second = (folder / names[1]).read_bytes()
    changes, said = run(path, tmp_path, "1.0.3")
    assert changes.updated == [names[0]] and changes.unchanged == [names[1]]
    assert not changes.dropped and not changes.added
    refreshed = (folder / names[0]).read_text()
    assert " line eight\n" in refreshed and "+line ten\n" in refreshed
    assert (folder / names[1]).read_bytes() == second, "still applies as it is: bytes kept"
    old, new = repo.head("1.0.2")[:8], repo.head("1.0.3")[:8]
    assert f"demo (2025.2) onto 1.0.3: ref {old} -> {new}; 1 updated, 1 unchanged (changed)" in said
    assert f"rebased (3-way)                      {names[0]}" in said
    text = path.read_text()
    assert "      demo: {ref: 1.0.3}  # pinned point release\n" in text
    assert text.startswith("# The project's releases (this comment must survive a refresh).\n")


def test_header_and_message_are_kept(project, tmp_path):
    repo, path, folder, names = project
    release_upstream(repo, "1.0.3", edit(DATA, **{"8": "line eight"}))
    before = (folder / names[0]).read_text()
    run(path, tmp_path, "1.0.3")
    after = (folder / names[0]).read_text()

    def head(text):  # all but the From line; [PATCH 1/2] becomes [PATCH] so numbering cannot churn
        return text.split("\n---\n", 1)[0].replace("[PATCH 1/2]", "[PATCH]").splitlines()[1:]

    assert head(after) == head(before)
    assert "From: Jane Maintainer <jane@example.org>" in after
    assert (
        "Subject: [PATCH] Name line ten\n\nWe need line ten spelled out.\n\nChange-Id: I0123456789abcdef\n"
        in after
    )
    assert after.startswith("From 0000000000000000000000000000000000000000 ")
    assert not after.rstrip().endswith(git(repo.path, "version").split()[-1]), (
        "no git version signature"
    )


def test_a_second_refresh_changes_nothing(project, tmp_path):
    repo, path, folder, names = project
    release_upstream(repo, "1.0.3", edit(DATA, **{"8": "line eight"}))
    run(path, tmp_path, "1.0.3")
    files, manifest_text = snapshot(folder), path.read_text()
    changes, said = run(path, tmp_path, "1.0.3")
    assert changes.unchanged == names and not changes.changed
    assert snapshot(folder) == files and path.read_text() == manifest_text
    sha = repo.head("1.0.3")[:8]
    assert f"ref {sha} -> {sha}; 2 unchanged (unchanged)" in said


def test_user_git_config_does_not_change_the_output(project, tmp_path, git_config):
    repo, path, folder, _names = project
    release_upstream(repo, "1.0.3", edit(DATA, **{"8": "line eight"}))
    run(path, tmp_path, "1.0.3")
    files = snapshot(folder)
    git_config.write_text(
        "[diff]\n\tnoprefix = true\n\talgorithm = patience\n[core]\n\tabbrev = 20\n"
        "[format]\n\tsignature = custom\n\tnumbered = true\n"
    )
    changes, _ = run(path, tmp_path, "1.0.3")
    assert not changes.changed and snapshot(folder) == files


def test_a_patch_that_landed_upstream_is_dropped(project, tmp_path):
    repo, path, folder, names = project
    release_upstream(repo, "1.0.3", edit(DATA, **{"10": "line ten"}))
    changes, said = run(path, tmp_path, "1.0.3")
    # The strongest evidence: the upstream commit (here its patch-id), not "reverse-applies".
    landed = f'landed upstream as {repo.head("1.0.3")[:12]} "Upstream change for 1.0.3" (patch-id)'
    assert changes.dropped == [(names[0], f"landed upstream: {landed}")]
    assert not (folder / names[0]).exists()
    assert (folder / "series").read_text() == f"# our fixes\n{names[1]}\n", "comment kept"
    assert f"landed upstream                      {names[0]}: {landed}" in said
    # The surviving patch keeps its name and number and now applies on its own.
    assert "+line thirty" in (folder / names[1]).read_text()


def test_dry_run_changes_nothing(project, tmp_path):
    repo, path, folder, names = project
    release_upstream(repo, "1.0.3", edit(DATA, **{"10": "line ten"}))
    files, manifest_text = snapshot(folder), path.read_text()
    changes, said = run(path, tmp_path, "1.0.3", dry_run=True)
    assert [n for n, _ in changes.dropped] == [names[0]] and changes.unchanged == [names[1]]
    assert "(dry run, nothing written)" in said
    assert snapshot(folder) == files and path.read_text() == manifest_text
    assert not work_dir(tmp_path / "build", Pair("2025.2", "demo")).exists()


def conflicting_upstream(repo):
    release_upstream(repo, "1.0.3", edit(DATA, **{"30": "line THIRTY upstream"}))


def test_a_conflict_stops_with_the_work_tree_and_instructions(project, tmp_path):
    repo, path, folder, names = project
    conflicting_upstream(repo)
    files, manifest_text = snapshot(folder), path.read_text()
    with pytest.raises(RefreshStopped) as caught:
        run(path, tmp_path, "1.0.3")
    work = work_dir(tmp_path / "build", Pair("2025.2", "demo"))
    message = str(caught.value)
    assert message.startswith(
        f"{names[1]} conflicts on 1.0.3 in demo/data.txt. Resolve it in {work}"
    )
    for option in ("--continue", "--skip", "--abort"):
        assert f"inv patches.refresh -s demo -r 2025.2 {option}" in message
    assert "<<<<<<<" in (work / "demo" / "data.txt").read_text()
    assert snapshot(folder) == files and path.read_text() == manifest_text
    # A second start is refused while this one is under way.
    with pytest.raises(ForgeError, match="already under way"):
        run(path, tmp_path, "1.0.3")


def test_continue_after_resolving(project, tmp_path):
    repo, path, folder, names = project
    conflicting_upstream(repo)
    with pytest.raises(RefreshStopped):
        run(path, tmp_path, "1.0.3")
    work = work_dir(tmp_path / "build", Pair("2025.2", "demo"))
    resolved = edit(DATA, **{"10": "line ten", "30": "line thirty (merged)"})
    (work / "demo" / "data.txt").write_text(resolved)
    git(work, "add", "demo/data.txt")
    logged = []
    changes = continue_refresh(forge(path, tmp_path, logged.append), Pair("2025.2", "demo"))
    assert changes.updated == [names[1]] and changes.unchanged == [names[0]]
    assert "+line thirty (merged)" in (folder / names[1]).read_text()
    assert "resolved by hand" in logged[-1]
    assert "demo: {ref: 1.0.3}" in path.read_text()
    assert not work.exists()


def test_abort_leaves_everything_as_it_was(project, tmp_path):
    repo, path, folder, _names = project
    conflicting_upstream(repo)
    files, manifest_text = snapshot(folder), path.read_text()
    with pytest.raises(RefreshStopped):
        run(path, tmp_path, "1.0.3")
    abort_refresh(forge(path, tmp_path), Pair("2025.2", "demo"))
    assert not work_dir(tmp_path / "build", Pair("2025.2", "demo")).exists()
    assert snapshot(folder) == files and path.read_text() == manifest_text
    with pytest.raises(ForgeError, match="no refresh of demo"):
        abort_refresh(forge(path, tmp_path), Pair("2025.2", "demo"))


def test_a_file_of_several_mails_is_kept_while_it_applies_and_never_cut_to_one(project, tmp_path):
    """`git format-patch --stdout > all.patch`: one series entry holding two mails."""
    repo, path, folder, names = project
    both = b"".join((folder / name).read_bytes() for name in names)
    for name in names:
        (folder / name).unlink()
    (folder / "0001-all.patch").write_bytes(both)
    (folder / "series").write_text("0001-all.patch\n")
    release_upstream(repo, "1.0.3", edit(DATA, **{"40": "line forty"}))
    changes, _ = run(path, tmp_path, "1.0.3")
    assert changes.unchanged == ["0001-all.patch"]
    assert (folder / "0001-all.patch").read_bytes() == both
    # Moved context needs a rewrite, which would keep only the first message: refused.
    release_upstream(repo, "1.0.4", edit(DATA, **{"8": "line eight", "40": "line forty"}))
    with pytest.raises(ForgeError, match=r"0001-all.patch holds 2 mails .* split it"):
        run(path, tmp_path, "1.0.4", dry_run=True)
    assert (folder / "0001-all.patch").read_bytes() == both
    assert not work_dir(tmp_path / "build", Pair("2025.2", "demo")).exists()


def test_a_project_without_patches_only_moves_its_ref(project, tmp_path):
    repo, path, folder, _ = project
    for patch in folder.iterdir():
        patch.unlink()
    folder.rmdir()
    release_upstream(repo, "1.0.3", edit(DATA, **{"40": "line forty"}))
    _, said = run(path, tmp_path, "1.0.3", dry_run=True)
    old, new = repo.head("1.0.2")[:8], repo.head("1.0.3")[:8]
    assert f"ref {old} -> {new}; no patches (dry run, nothing written)" in said
    assert "demo: {ref: 1.0.2}" in path.read_text()
    changes, said = run(path, tmp_path, "1.0.3")
    assert not changes.changed and "no patches (changed)" in said
    assert "      demo: {ref: 1.0.3}  # pinned point release\n" in path.read_text()
    assert not folder.exists()
