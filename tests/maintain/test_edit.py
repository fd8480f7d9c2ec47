"""Editing a series as commits and exporting it back (gbp pq / devtool model)."""

from __future__ import annotations

import subprocess

import pytest

from imageforge.config.manifest import Pair
from imageforge.errors import ForgeError
from imageforge.maintain.edit import edit, export
from tests.maintain.conftest import DATA
from tests.maintain.conftest import edit as edit_lines
from tests.support.gitrepos import git
from tests.support.projects import make_forge


def start(path, tmp_path):
    return edit(make_forge(path, tmp_path), Pair("2025.2", "demo"))


def out(tmp_path, **kwargs):
    return export(
        make_forge(tmp_path / "releases.yaml", tmp_path), Pair("2025.2", "demo"), **kwargs
    )


def test_edit_gives_the_series_as_commits_on_the_ref(project, tmp_path):
    repo, path, _folder, _names = project
    work = start(path, tmp_path)
    subjects = git(work, "log", "--reverse", "--format=%s", "HEAD~2..HEAD").splitlines()
    assert subjects == ["Name line ten", "Name line thirty"]
    assert git(work, "rev-parse", "HEAD~2") == repo.head("1.0.2")
    assert (work / "demo" / "data.txt").read_text() == edit_lines(
        DATA, **{"10": "line ten", "30": "line thirty"}
    )


def test_export_keeps_names_adds_and_drops(project, tmp_path):
    _repo, path, folder, names = project
    work = start(path, tmp_path)
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert not out(tmp_path).changed, "nothing edited: nothing changes, not even the format"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files

    # Add a new patch.
    (work / "demo" / "data.txt").write_text(
        edit_lines(DATA, **{"10": "line ten", "30": "line thirty", "35": "line 35!"})
    )
    git(work, "commit", "--quiet", "-am", "Shout line 35")
    changes = out(tmp_path)
    assert changes.added == ["0003-Shout-line-35.patch"]
    assert changes.unchanged == names
    assert (folder / "series").read_text().splitlines() == [
        "# our fixes",
        *names,
        "0003-Shout-line-35.patch",
    ], "the comment is kept, the new patch goes after the last one"
    assert (folder / names[0]).read_bytes() == files[names[0]]

    # Amend it: same subject, so it keeps its name and is updated.
    (work / "demo" / "data.txt").write_text(
        edit_lines(DATA, **{"10": "line ten", "30": "line thirty", "35": "line 35!!"})
    )
    git(work, "commit", "--quiet", "--amend", "-a", "--no-edit")
    changes = out(tmp_path)
    assert changes.updated == ["0003-Shout-line-35.patch"] and not changes.added
    assert "+line 35!!" in (folder / "0003-Shout-line-35.patch").read_text()

    # Drop the first patch: its file goes, the others keep their names.
    git(work, "rebase", "--quiet", "--onto", "HEAD~3", "HEAD~2")
    changes = out(tmp_path)
    assert [n for n, _ in changes.dropped] == [names[0]]
    assert not (folder / names[0]).exists()
    assert (folder / "series").read_text().splitlines() == [
        "# our fixes",
        names[1],
        "0003-Shout-line-35.patch",
    ]


def test_export_refuses_uncommitted_work(project, tmp_path):
    _repo, path, _folder, _names = project
    work = start(path, tmp_path)
    (work / "demo" / "data.txt").write_text("dirty\n")
    with pytest.raises(ForgeError, match="uncommitted changes"):
        out(tmp_path)


@pytest.mark.parametrize(
    ("start_operation", "named"),
    [
        (["rebase", "-i", "HEAD~2"], "a rebase"),
        (["cherry-pick", "HEAD~1"], "a cherry-pick"),
    ],
)
def test_export_refuses_while_a_git_operation_is_stopped(project, tmp_path, start_operation, named):
    """A rebase -i stopped at "edit" hides the later commits: exporting would drop them."""
    _, path, folder, _ = project
    work = start(path, tmp_path)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    env = {"GIT_SEQUENCE_EDITOR": "sed -i 's/^pick/edit/'", "GIT_EDITOR": "true"}
    import os

    subprocess.run(
        ["git", *start_operation], cwd=work, env={**os.environ, **env}, capture_output=True
    )
    with pytest.raises(
        ForgeError, match=rf"is in the middle of {named}: finish it .*nothing was written"
    ):
        out(tmp_path)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_export_of_a_branch_reset_onto_another_ref_is_refused(project, tmp_path):
    repo, path, _folder, _ = project
    work = start(path, tmp_path)
    git(work, "reset", "--quiet", "--hard", repo.head("1.0.1"))
    with pytest.raises(ForgeError, match=r"no longer starts from .* rebase it back"):
        out(tmp_path)
