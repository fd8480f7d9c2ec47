"""Refresh on messy real histories: landed-then-edited backports, hand work in a stopped
refresh, dry runs past conflicts, remembered resolutions, patches that are not mails."""

from __future__ import annotations

import re

import pytest

from imageforge.config.manifest import Pair
from imageforge.errors import ForgeError
from imageforge.maintain.edit import edit as start_edit
from imageforge.maintain.edit import export
from imageforge.maintain.refresh import (
    RefreshStopped,
    abort_refresh,
    continue_refresh,
    refresh,
    skip_refresh,
    work_dir,
)
from imageforge.patches.apply import LANDED
from imageforge.patches.gate import check_patches
from tests.maintain.conftest import DATA, edit
from tests.support.gitrepos import git
from tests.support.projects import make_forge


def forge(path, tmp_path, logged=None):
    return make_forge(path, tmp_path, **({"log": logged.append} if logged is not None else {}))


def run(path, tmp_path, onto="1.0.3", **kwargs):
    logged: list[str] = []
    changes = refresh(forge(path, tmp_path, logged), Pair("2025.2", "demo"), onto, **kwargs)
    return changes, "\n".join(logged)


def dry_run_that_conflicts(path, tmp_path, name, onto="1.0.3") -> str:
    """A dry run whose ``name`` conflicts: it reports every patch, then fails naming ``name``."""
    logged: list[str] = []
    with pytest.raises(RefreshStopped, match=rf"^dry run: {re.escape(name)} conflicts on {onto};"):
        refresh(forge(path, tmp_path, logged), Pair("2025.2", "demo"), onto, dry_run=True)
    return "\n".join(logged)


def series_of(repo, folder, commits):
    """Replace the series with ``commits`` [(data.txt content, message)] made on 1.0.2."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    repo.git("checkout", "--quiet", "-B", "local", "1.0.2")
    for data, message in commits:
        (repo.path / "demo" / "data.txt").write_text(data)
        repo.git("commit", "--quiet", "-am", message)
    names = [
        p.rsplit("/", 1)[-1]
        for p in repo.git("format-patch", "-o", str(folder), "1.0.2..local").split()
    ]
    (folder / "series").write_text("".join(f"{n}\n" for n in names))
    repo.checkout("stable/2025.2")
    return names


def upstream(repo, *changes, tag="1.0.3"):
    """Commit ``changes`` [(data.txt content, message)] on stable/2025.2, then tag."""
    repo.checkout("stable/2025.2")
    for data, message in changes:
        repo.commit({"demo/data.txt": data}, message)
    repo.tag(tag)


TEN = edit(DATA, **{"10": "line ten"})
# Upstream lands "line ten", then edits the same line and its neighbour.
EDITED = edit(DATA, **{"10": "line ten, reworded", "11": "line eleven"})


def test_a_backport_that_landed_and_was_edited_is_found_by_change_id(project, tmp_path):
    repo, path, folder, _ = project
    [name] = series_of(repo, folder, [(TEN, "Name line ten\n\nChange-Id: I1234abcd5678ef90")])
    upstream(
        repo,
        (TEN, "Name line ten upstream\n\nChange-Id: I1234abcd5678ef90"),
        (EDITED, "Reword line ten"),
    )
    landed = repo.head("1.0.3~1")
    changes, said = run(path, tmp_path)
    expected = (
        f'landed upstream as {landed[:12]} "Name line ten upstream" (Change-Id I1234abcd5678ef90)'
    )
    assert changes.dropped == [(name, f"landed upstream: {expected}")]
    assert expected in said
    assert not folder.exists(), "nothing left: the series folder is removed"
    assert "every patch is gone" in said
    # The gate says the same at the new ref, and does not fail.
    path.write_text(path.read_text().replace("ref: 1.0.2", "ref: 1.0.3"))
    series_of(repo, folder, [(TEN, "Name line ten\n\nChange-Id: I1234abcd5678ef90")])
    [report] = check_patches(forge(path, tmp_path))
    assert report.ok and report.results[0].status == LANDED
    assert report.results[0].describe() == expected


def test_a_cherry_picked_from_line_naming_an_upstream_commit(project, tmp_path):
    repo, path, folder, _ = project
    upstream(repo, (EDITED, "Name and reword lines ten and eleven"), tag="1.0.3")
    picked = repo.head("1.0.3")
    [name] = series_of(
        repo, folder, [(TEN, f"Backport line ten\n\n(cherry picked from commit {picked})")]
    )
    changes, _ = run(path, tmp_path)
    assert changes.dropped == [
        (
            name,
            f'landed upstream: landed upstream as {picked[:12]} "Name and reword lines ten and '
            'eleven" (cherry picked from)',
        )
    ]


def test_a_patch_id_match_without_any_trailer(project, tmp_path):
    repo, path, folder, _ = project
    [name] = series_of(repo, folder, [(TEN, "Our own words for line ten")])
    upstream(repo, (TEN, "Their words for line ten"), (EDITED, "Reword line ten"))
    same = repo.head("1.0.3~1")
    changes, _ = run(path, tmp_path)
    assert changes.dropped == [
        (
            name,
            f'landed upstream: landed upstream as {same[:12]} "Their words for line ten" (patch-id)',
        )
    ]


def test_upstreams_own_fix_of_the_same_bug_is_named_beside_the_conflict(project, tmp_path):
    """Upstream fixed the bug differently (no Change-Id, no patch-id in common): a lead only."""
    repo, path, folder, _ = project
    [name] = series_of(
        repo, folder, [(TEN, "Fix line ten our way\n\nCloses-Bug: #2107925\nChange-Id: I00aa")]
    )
    upstream(
        repo,
        (edit(DATA, **{"10": "line ten, upstream's way"}), "Fix line ten\n\nCloses-Bug: #2107925"),
        (edit(DATA, **{"10": "line ten, upstream's way", "40": "x"}), "Unrelated, LP: #2107925"),
    )
    fix = repo.head("1.0.3~1")
    lead = f'upstream {fix[:12]} "Fix line ten" refers to the same bug (#2107925)'
    said = dry_run_that_conflicts(path, tmp_path, name)
    assert f"{name}: demo/data.txt: hunk #1 (@@ -7 @@) does not apply" in said
    assert f"{lead}: the patch may be fixed there" in said
    # Not evidence enough to drop it: the refresh stops, and names the lead.
    with pytest.raises(RefreshStopped, match=re.escape(lead)):
        run(path, tmp_path)
    changes = skip_refresh(forge(path, tmp_path), Pair("2025.2", "demo"))
    assert changes.dropped == [(name, "dropped by hand")]
    # The gate says the same at the new ref, still as a failure.
    series_of(repo, folder, [(TEN, "Fix line ten our way\n\nCloses-Bug: #2107925")])
    [report] = check_patches(forge(path, tmp_path))
    assert not report.ok and lead in report.results[0].detail


def test_a_patch_that_still_applies_is_kept_with_the_lead(project, tmp_path):
    repo, path, folder, _ = project
    [name] = series_of(
        repo,
        folder,
        [(TEN, "Fix line ten\n\nRelated-Bug: https://bugs.launchpad.net/demo/+bug/42")],
    )
    upstream(repo, (edit(DATA, **{"40": "line forty"}), "Fix forty too\n\nPartial-Bug: 42"))
    changes, said = run(path, tmp_path)
    assert changes.unchanged == [name]
    assert (
        f'{name}: upstream {repo.head("1.0.3")[:12]} "Fix forty too" refers to the same bug (#42)'
        in said
    )


def conflict(repo):
    upstream(repo, (edit(DATA, **{"30": "line THIRTY upstream"}), "Change line thirty"))


def stopped(project, tmp_path):
    repo, path, _folder, _names = project
    conflict(repo)
    with pytest.raises(RefreshStopped):
        run(path, tmp_path)
    return work_dir(tmp_path / "build", Pair("2025.2", "demo"))


def test_skip_drops_the_stopped_patch_by_hand(project, tmp_path):
    _, path, folder, names = project
    stopped(project, tmp_path)
    logged: list[str] = []
    changes = skip_refresh(forge(path, tmp_path, logged), Pair("2025.2", "demo"))
    assert changes.dropped == [(names[1], "dropped by hand")]
    assert (folder / "series").read_text() == f"# our fixes\n{names[0]}\n"
    assert "demo: {ref: 1.0.3}" in path.read_text()


def test_a_resolution_to_upstreams_side_is_dropped_as_empty(project, tmp_path):
    _repo, path, folder, names = project
    work = stopped(project, tmp_path)
    # Take upstream's line thirty: with patch one already on top, the patch adds nothing.
    (work / "demo" / "data.txt").write_text(
        edit(DATA, **{"10": "line ten", "30": "line THIRTY upstream"})
    )
    git(work, "add", "demo/data.txt")
    changes = continue_refresh(forge(path, tmp_path), Pair("2025.2", "demo"))
    assert changes.dropped == [(names[1], "empty after resolution: resolved to upstream's side")]
    assert not (folder / names[1]).exists()
    assert all(p.stat().st_size for p in folder.iterdir()), "no empty patch file is written"


def test_a_cherry_pick_skipped_by_hand_then_continue(project, tmp_path):
    _, path, _folder, names = project
    work = stopped(project, tmp_path)
    git(work, "cherry-pick", "--skip")
    changes = continue_refresh(forge(path, tmp_path), Pair("2025.2", "demo"))
    assert [n for n, _ in changes.dropped] == [names[1]]
    assert "dropped by hand: skipped in the work tree" in changes.dropped[0][1]


def test_continue_refuses_conflict_markers(project, tmp_path):
    _, path, folder, _names = project
    work = stopped(project, tmp_path)
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    git(work, "add", "demo/data.txt")  # markers and all
    with pytest.raises(RefreshStopped, match=r"demo/data.txt still hold conflict markers"):
        continue_refresh(forge(path, tmp_path), Pair("2025.2", "demo"))
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files
    assert "ref: 1.0.2" in path.read_text()


def test_a_dry_run_goes_past_a_conflict_and_reports_every_patch(project, tmp_path):
    repo, path, folder, names = project
    upstream(repo, (edit(DATA, **{"10": "line TEN upstream", "8": "line eight"}), "Upstream"))
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    # A conflict fails the dry run (exit 1), as patches.check does, after the whole report.
    said = dry_run_that_conflicts(path, tmp_path, names[0])
    lines = said.splitlines()
    assert f"{names[0]}: demo/data.txt: hunk #1 (@@ -7 @@) does not apply" in said
    assert any(line.split()[0] == "conflicts" and names[0] in line for line in lines)
    assert any(line.split()[0] == "unchanged" and names[1] in line for line in lines)
    assert lines[1].endswith("1 unchanged, 1 conflict (dry run, nothing written)")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files
    assert not work_dir(tmp_path / "build", Pair("2025.2", "demo")).exists()


def test_a_resolution_is_reused_after_abort(project, tmp_path):
    _, path, folder, names = project
    work = stopped(project, tmp_path)
    (work / "demo" / "data.txt").write_text(
        edit(DATA, **{"10": "line ten", "30": "line thirty (merged)"})
    )
    git(work, "add", "demo/data.txt")
    abort_refresh(forge(path, tmp_path), Pair("2025.2", "demo"))
    changes, said = run(path, tmp_path)  # no stop this time
    assert f"resolved from a recorded resolution {names[1]}" in " ".join(said.split())
    assert "+line thirty (merged)" in (folder / names[1]).read_text()
    assert changes.updated == [names[1]]


LICENSED = (
    "# SPDX-FileCopyrightText: 2025 Example Cloud\n"
    "# SPDX-License-Identifier: Apache-2.0\n"
    "\n"
    "Name line ten, our way.\n"
    "\n"
)


def licensed_series(repo, folder):
    for old in folder.iterdir():
        old.unlink()
    (repo.path / "demo" / "data.txt").write_text(TEN)
    diff = repo.git("diff", "--no-color")
    repo.git("checkout", "--", ".")
    (folder / "local-line-ten.patch").write_text(LICENSED + diff + "\n")
    (folder / "series").write_text("local-line-ten.patch\n")
    return folder / "local-line-ten.patch"


def test_a_free_text_patch_is_refreshed_with_its_preamble(project, tmp_path):
    repo, path, folder, _ = project
    repo.checkout("1.0.2")
    patch = licensed_series(repo, folder)
    upstream(repo, (edit(DATA, **{"8": "line eight"}), "Touch line eight"))
    changes, said = run(path, tmp_path)
    assert changes.updated == ["local-line-ten.patch"], said
    text = patch.read_text()
    assert text.startswith(LICENSED + "diff --git a/demo/data.txt b/demo/data.txt\n")
    assert " line eight\n" in text and "+line ten\n" in text


def test_a_free_text_patch_is_edited_and_kept_byte_for_byte(project, tmp_path):
    repo, path, folder, _ = project
    repo.checkout("1.0.2")
    patch = licensed_series(repo, folder)
    before = patch.read_bytes()
    work = start_edit(forge(path, tmp_path), Pair("2025.2", "demo"))
    assert git(work, "log", "-1", "--format=%B").startswith("# SPDX-FileCopyrightText")
    changes = export(forge(path, tmp_path), Pair("2025.2", "demo"), dry_run=True)
    assert not changes.changed and changes.unchanged == ["local-line-ten.patch"]
    export(forge(path, tmp_path), Pair("2025.2", "demo"))
    assert patch.read_bytes() == before


def test_only_the_ref_moves(project, tmp_path):
    repo, path, folder, _names = project
    repo.checkout("stable/2025.2")
    repo.commit({"CHANGES.txt": "unrelated\n"}, "Unrelated")
    repo.tag("1.0.3")
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    _, said = run(path, tmp_path)
    old, new = repo.head("1.0.2")[:8], repo.head("1.0.3")[:8]
    assert (
        said.splitlines()[1]
        == f"demo (2025.2) onto 1.0.3: ref {old} -> {new}; 2 unchanged (unchanged)"
    )
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files, "byte for byte"
    assert "demo: {ref: 1.0.3}" in path.read_text()


def test_a_hand_edited_state_file_is_one_line_not_a_traceback(project, tmp_path):
    _, path, _folder, _names = project
    work = stopped(project, tmp_path)
    state = work / ".git" / "forge-refresh.json"
    state.write_text(state.read_text().replace('"position": 1', '"position": 7'))
    with pytest.raises(ForgeError, match=r"is not a refresh state this forge can read"):
        continue_refresh(forge(path, tmp_path), Pair("2025.2", "demo"))


# -- hardening: a refresh never loses a patch, and refuses before writing ----------


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_dry_run_whose_only_patch_conflicts_fails_and_predicts_no_removal(project, tmp_path):
    repo, path, folder, _ = project
    [name] = series_of(repo, folder, [(TEN, "Name line ten")])
    upstream(repo, (edit(DATA, **{"10": "line TEN upstream"}), "Upstream"))
    said = dry_run_that_conflicts(path, tmp_path, name)
    assert "would be removed" not in said and "every patch is gone" not in said


def test_a_crash_during_the_replay_after_continue_keeps_the_resolution(
    project, tmp_path, monkeypatch
):
    """kill -9 while --continue replays the next patch: --continue resumes, nothing is lost."""
    from imageforge.maintain import refresh as refreshing

    repo, path, folder, names = project
    upstream(repo, (edit(DATA, **{"10": "line TEN upstream", "8": "line eight"}), "Upstream"))
    with pytest.raises(RefreshStopped, match=f"^{names[0]} conflicts"):
        run(path, tmp_path)
    work = work_dir(tmp_path / "build", Pair("2025.2", "demo"))
    resolved = edit(DATA, **{"8": "line eight", "10": "line ten, merged by hand"})
    (work / "demo" / "data.txt").write_text(resolved)
    git(work, "add", "demo/data.txt")

    real_pick = refreshing._pick

    def killed(*args, **kwargs):
        real_pick(*args, **kwargs)  # the next patch is picked, then the process dies
        raise SystemExit("killed")

    monkeypatch.setattr(refreshing, "_pick", killed)
    with pytest.raises(SystemExit):
        continue_refresh(forge(path, tmp_path), Pair("2025.2", "demo"))
    monkeypatch.setattr(refreshing, "_pick", real_pick)
    logged: list[str] = []
    changes = continue_refresh(forge(path, tmp_path, logged), Pair("2025.2", "demo"))
    assert f"resuming the replay interrupted at {names[1]}" in logged
    assert changes.dropped == []
    assert "+line ten, merged by hand" in (folder / names[0]).read_text()
    assert (folder / "series").read_text() == f"# our fixes\n{names[0]}\n{names[1]}\n"


def test_continue_refuses_a_series_changed_while_stopped(project, tmp_path):
    _, path, folder, names = project
    work = stopped(project, tmp_path)
    (folder / names[0]).write_bytes((folder / names[0]).read_bytes() + b"\n")
    before = snapshot(folder)
    for step in (continue_refresh, skip_refresh):
        with pytest.raises(
            RefreshStopped, match=rf"changed while the refresh was stopped \({names[0]}\)"
        ):
            step(forge(path, tmp_path), Pair("2025.2", "demo"))
    assert snapshot(folder) == before and work.is_dir()


def test_a_hand_edited_folder_in_the_state_is_refused(project, tmp_path):
    _, path, folder, _ = project
    work = stopped(project, tmp_path)
    state_file = work / ".git" / "forge-refresh.json"
    state = state_file.read_text()
    state_file.write_text(state.replace(str(folder), str(tmp_path / "elsewhere")))
    manifest_text = path.read_text()
    with pytest.raises(ForgeError, match=r"forge-refresh.json is not a refresh state .*elsewhere"):
        continue_refresh(forge(path, tmp_path), Pair("2025.2", "demo"))
    assert not (tmp_path / "elsewhere").exists()
    assert path.read_text() == manifest_text


def test_a_ref_moved_by_hand_while_stopped_is_refused_before_writing(project, tmp_path):
    _, path, folder, names = project
    work = stopped(project, tmp_path)
    (work / "demo" / "data.txt").write_text(
        edit(DATA, **{"10": "line ten", "30": "line thirty (merged)"})
    )
    git(work, "add", "demo/data.txt")
    path.write_text(path.read_text().replace("demo: {ref: 1.0.2}", "demo: {ref: 1.0.1}"))
    before = snapshot(folder)
    with pytest.raises(
        ForgeError,
        match=r"is at 1.0.1 now, but the refresh started from 1.0.2; nothing was written",
    ):
        continue_refresh(forge(path, tmp_path), Pair("2025.2", "demo"))
    assert snapshot(folder) == before
    # Put back, the refresh finishes.
    path.write_text(path.read_text().replace("demo: {ref: 1.0.1}", "demo: {ref: 1.0.2}"))
    changes = continue_refresh(forge(path, tmp_path), Pair("2025.2", "demo"))
    assert changes.updated == [names[1]]


def test_a_refused_start_leaves_no_work_tree(project, tmp_path):
    repo, path, folder, names = project
    # The series does not apply at its own ref any more (someone edited a patch by hand).
    text = (folder / names[0]).read_text().replace("-line 10\n", "-line 10 changed\n")
    (folder / names[0]).write_text(text)
    upstream(repo, (edit(DATA, **{"40": "forty"}), "Upstream"))
    with pytest.raises(ForgeError):
        run(path, tmp_path)
    assert not work_dir(tmp_path / "build", Pair("2025.2", "demo")).exists()
    with pytest.raises(ForgeError, match="no refresh of demo"):
        abort_refresh(forge(path, tmp_path), Pair("2025.2", "demo"))


def test_a_refresh_and_an_edit_of_one_series_never_overlap(project, tmp_path):
    _, path, _folder, _ = project
    start_edit(forge(path, tmp_path), Pair("2025.2", "demo"))
    with pytest.raises(
        ForgeError, match=r"^an edit of demo \(2025.2\) is under way in .*: write it back"
    ):
        run(path, tmp_path)
    export(forge(path, tmp_path), Pair("2025.2", "demo"))
    import shutil

    shutil.rmtree(tmp_path / "build" / "work" / "edit-demo-2025.2")
    stopped(project, tmp_path)
    with pytest.raises(
        ForgeError, match=r"^a refresh of demo \(2025.2\) is under way in .*: finish it"
    ):
        start_edit(forge(path, tmp_path), Pair("2025.2", "demo"))


def test_a_series_moved_forward_by_hand_moves_its_ref_from_scratch(project, tmp_path):
    """The maintainers moved a patch's content forward with the ref: broken at 1.0.2, whole at 1.0.3."""
    repo, path, folder, names = project
    upstream(repo, (edit(DATA, **{"10": "line 10 upstream"}), "Upstream rewords line 10"))
    text = (folder / names[0]).read_text().replace("-line 10\n", "-line 10 upstream\n")
    (folder / names[0]).write_text(text)
    before = snapshot(folder)
    with pytest.raises(ForgeError) as caught:
        run(path, tmp_path)
    assert str(caught.value).endswith(
        "The whole series applies at 1.0.3 as it is: `inv patches.refresh -s demo -r 2025.2 "
        "--onto 1.0.3 --from-scratch` moves the ref and checks the series only there"
    )
    assert not work_dir(tmp_path / "build", Pair("2025.2", "demo")).exists()
    changes, said = run(path, tmp_path, from_scratch=True)
    assert changes.unchanged == names
    assert "applies there as it is (changed)" in said
    assert "demo: {ref: 1.0.3}" in path.read_text()
    assert snapshot(folder) == before, "the patches are kept byte for byte"


def test_from_scratch_refuses_a_series_that_does_not_apply_at_the_new_ref(project, tmp_path):
    repo, path, _folder, names = project
    upstream(repo, (edit(DATA, **{"10": "line TEN upstream"}), "Upstream"))
    manifest_text = path.read_text()
    with pytest.raises(
        RefreshStopped, match=rf"^--from-scratch: the series does not apply at 1.0.3: {names[0]}: "
    ):
        run(path, tmp_path, from_scratch=True)
    assert path.read_text() == manifest_text
