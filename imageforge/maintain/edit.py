"""Edit a series as commits (the gbp pq / devtool model), then export it back.

``edit`` makes a work tree under build/work/ whose branch holds the current
ref plus one commit per patch. The maintainer amends, reorders, adds or drops
commits there with plain git. ``export`` writes base..HEAD back as the series:
a commit that is still the original keeps its file, an amended commit (same
subject) keeps its file name, a new commit gets the next number, and patches
whose commit is gone are dropped. Output is as stable as refresh's.
"""

from __future__ import annotations

import json
from pathlib import Path

from imageforge.constraints.projects import pinned
from imageforge.context import Forge
from imageforge.errors import ForgeError
from imageforge.host.files import under
from imageforge.maintain import worktree
from imageforge.maintain.pairlock import pair_lock, require_not_waiting, work_tree
from imageforge.maintain.worktree import WorkTree
from imageforge.maintain.write import Entry, SeriesChanges, stable_text, write_series
from imageforge.patches.patchfile import read_patch
from imageforge.patches.series import load_series

STATE_FILE = "forge-edit.json"


def edit_dir(build_dir: Path, project: str, release: str) -> Path:
    return work_tree(build_dir, "edit", project, release)


def edit(forge: Forge, project: str, release: str) -> Path:
    """Create the work tree with the series as commits; return its path."""
    forge.manifest.require_projects((release,), (project,))
    with pair_lock(forge.build_dir, project, release, "an edit"):
        require_not_waiting(forge.build_dir, "refresh", project, release)
        return _edit(forge, project, release)


def _edit(forge: Forge, project: str, release: str) -> Path:
    work = edit_dir(forge.build_dir, project, release)
    if (work / ".git" / STATE_FILE).is_file():
        raise ForgeError(
            f"{work} already holds an edit of {project} ({release}); export it, or delete the folder"
        )
    folder = under(forge.root / "patches", project, release)
    series = load_series(folder, project, release) if folder.is_dir() else None
    target = pinned(forge, release, project)
    base = target.commit
    target.prefetch()
    tree = worktree.create(forge, work, target)
    patches = series.patches if series else ()
    commits = worktree.import_series(tree, base, patches, target.ref, branch="patches")
    state = {
        "base": base,
        "folder": str(folder),
        # Patches already upstream have no commit: the export drops them.
        "originals": {c: p.name for c, p in zip(commits, patches, strict=True) if c},
    }
    (work / ".git" / STATE_FILE).write_text(json.dumps(state, indent=2))
    forge.log(
        f"{project} ({release}): {len(commits)} patches as commits on {target.ref} in {work}\n"
        f"  edit with git there (commit --amend, rebase -i, new commits), then:\n"
        f"  inv patches.export -s {project} -r {release}"
    )
    return work


def export(
    forge: Forge, project: str, release: str, *, dry_run: bool = False, normalize: bool = False
) -> SeriesChanges:
    """Write the edit branch back to patches/<project>/<release>/."""
    forge.manifest.require_projects((release,), (project,))
    with pair_lock(forge.build_dir, project, release, "an export"):
        return _export(forge, project, release, dry_run=dry_run, normalize=normalize)


def _export(
    forge: Forge, project: str, release: str, *, dry_run: bool, normalize: bool
) -> SeriesChanges:
    work = WorkTree(edit_dir(forge.build_dir, project, release))
    state_file = work.git_dir / STATE_FILE
    if not state_file.is_file():
        raise ForgeError(f"no edit of {project} ({release}) in {work}: run inv patches.edit first")
    state = json.loads(state_file.read_text())
    # A stopped rebase -i hides the commits it set aside: exporting would drop them.
    operation = work.operation_in_progress()
    if operation:
        what, how = operation.split(" (", 1)
        raise ForgeError(
            f"{work} is in the middle of {what}: finish it ({how} before exporting; "
            "nothing was written"
        )
    if not work.succeeds("merge-base", "--is-ancestor", state["base"], "HEAD"):
        raise ForgeError(
            f"the edit branch in {work} no longer starts from {state['base'][:12]} "
            f"(the pinned ref of {project} in {release}): rebase it back onto it "
            f"(git rebase --onto {state['base'][:12]} ...), or delete {work} and edit anew"
        )
    if work.text("status", "--porcelain", "--untracked-files=no"):
        raise ForgeError(f"{work} has uncommitted changes: commit them (or stash) before exporting")
    originals: dict[str, str] = state["originals"]
    folder = Path(state["folder"])
    by_subject = {work.subject(commit): name for commit, name in originals.items()}
    entries: list[Entry] = []
    used: set[str] = set()
    for commit in work.commits(state["base"]):
        name = originals.get(commit) or by_subject.get(work.subject(commit))
        if name in used or (name and not (folder / name).is_file()):
            name = None  # a split commit, or a file removed by hand: a new patch
        if name:
            used.add(name)
        if commit in originals and name and not normalize:
            entries.append(Entry(name, b"", keep=True))  # untouched: the file as it is
        else:
            original = read_patch(folder / name) if name else None
            entries.append(Entry(name, stable_text(work.path, commit, original)))
    dropped = [
        (n, "its commit is gone from the edit branch") for n in originals.values() if n not in used
    ]
    changes = write_series(folder, entries, dropped, dry_run=dry_run)
    if not dry_run:
        head = work.text("log", "--reverse", "--format=%H", f"{state['base']}..HEAD")
        final = _series_names(folder) if folder.is_dir() else []
        state["originals"] = dict(zip(head.split(), final, strict=True))
        state_file.write_text(json.dumps(state, indent=2))
    verb = "would change" if dry_run else "changed"
    forge.log(f"{project} ({release}) exported from {work}: {verb}: {changes.summary()}")
    return changes


def _series_names(folder: Path) -> list[str]:
    return [p.name for p in load_series(folder, folder.parent.name, folder.name).patches]
