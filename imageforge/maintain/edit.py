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

from imageforge.config.manifest import Pair
from imageforge.constraints.projects import pinned
from imageforge.context import Forge
from imageforge.errors import ForgeError
from imageforge.maintain import worktree
from imageforge.maintain.pairlock import pair_lock, require_not_waiting, work_tree
from imageforge.maintain.worktree import WorkTree
from imageforge.maintain.write import Entry, SeriesChanges, stable_text, write_series
from imageforge.patches.patchfile import read_patch
from imageforge.patches.series import load_series, series_folder

STATE_FILE = "forge-edit.json"


def edit_dir(build_dir: Path, pair: Pair) -> Path:
    return work_tree(build_dir, "edit", pair)


def edit(forge: Forge, pair: Pair) -> Path:
    """Create the work tree with the series as commits; return its path."""
    forge.manifest.require_projects((pair.release,), (pair.project,))
    with pair_lock(forge.build_dir, pair, "an edit"):
        require_not_waiting(forge.build_dir, "refresh", pair)
        return _edit(forge, pair)


def _edit(forge: Forge, pair: Pair) -> Path:
    work = edit_dir(forge.build_dir, pair)
    if (work / ".git" / STATE_FILE).is_file():
        raise ForgeError(f"{work} already holds an edit of {pair}; export it, or delete the folder")
    folder = series_folder(forge.root, pair)
    series = load_series(folder, pair) if folder.is_dir() else None
    target = pinned(forge, pair)
    target.prefetch()
    tree = worktree.create(forge, work, target)
    base = worktree.base_commit(tree, target)
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
        f"{pair}: {len(commits)} patches as commits on {target.ref} in {work}\n"
        f"  edit with git there (commit --amend, rebase -i, new commits), then:\n"
        f"  inv patches.export -s {pair.project} -r {pair.release}"
    )
    return work


def export(
    forge: Forge, pair: Pair, *, dry_run: bool = False, normalize: bool = False
) -> SeriesChanges:
    """Write the edit branch back to patches/<project>/<release>/."""
    forge.manifest.require_projects((pair.release,), (pair.project,))
    with pair_lock(forge.build_dir, pair, "an export"):
        return _export(forge, pair, dry_run=dry_run, normalize=normalize)


def _export(forge: Forge, pair: Pair, *, dry_run: bool, normalize: bool) -> SeriesChanges:
    work = WorkTree(edit_dir(forge.build_dir, pair))
    state_file = work.git_dir / STATE_FILE
    if not state_file.is_file():
        raise ForgeError(f"no edit of {pair} in {work}: run inv patches.edit first")
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
            f"(the pinned ref of {pair}): rebase it back onto it "
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
    forge.log(f"{pair} exported from {work}: {verb}: {changes.summary()}")
    return changes


def _series_names(folder: Path) -> list[str]:
    return [p.name for p in load_series(folder, Pair(folder.name, folder.parent.name)).patches]
