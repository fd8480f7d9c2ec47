"""Refresh a patch series onto a new ref: replay, drop what landed, rewrite what changed.

In a work tree under build/work/, the series is first imported as commits on
the current ref (so every blob a 3-way merge needs exists, even for patches
made on top of earlier ones), then cherry-picked one by one onto the new ref.
A patch that reverse-applies to the new ref, or that a 3-way merge leaves
empty, has landed upstream and is dropped (and said so).
A conflict stops the refresh with the work tree left for the maintainer and
the commands to continue or abort. When every patch is through, the series
is written back with stable output (see patchwrite), only changed files are
rewritten, the ref in releases.yaml is updated in place, and a summary says
what was added, updated and dropped.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from imageforge.config.edit import set_ref
from imageforge.context import Forge
from imageforge.errors import ForgeError
from imageforge.host import git
from imageforge.maintain import worktree
from imageforge.maintain.write import STABLE_ENV, SeriesChanges, format_patches, write_series
from imageforge.patches.series import load_series
from imageforge.upstream.projects import pinned

STATE_FILE = "forge-refresh.json"


class RefreshStopped(ForgeError):
    """A patch conflicts; the work tree waits for the maintainer."""


@dataclass
class RefreshState:
    project: str
    release: str
    onto: str
    onto_commit: str
    old_ref: str
    folder: str
    patches: list[str]  # names, in series order
    commits: list[str]  # the patches imported as commits on the old ref, same order
    position: int = 0  # index of the next patch to replay
    kept: list[str] = field(default_factory=list)
    dropped: list[list[str]] = field(default_factory=list)  # [name, why]
    dry_run: bool = False


def work_dir(build_dir: Path, project: str, release: str) -> Path:
    return build_dir / "work" / f"refresh-{project}-{release}"


def refresh(
    forge: Forge, project: str, release: str, onto: str, *, dry_run: bool = False
) -> SeriesChanges:
    """Start a refresh of ``project``'s series in ``release`` onto ``onto``."""
    forge.manifest.require_projects((release,), (project,))
    work = work_dir(forge.build_dir, project, release)
    if (work / ".git" / STATE_FILE).is_file():
        raise ForgeError(
            f"a refresh of {project} ({release}) is already under way in {work}: "
            f"finish it with --continue or drop it with --abort"
        )
    folder = forge.root / "patches" / project / release
    series = load_series(folder, project, release)
    current = pinned(forge, release, project)
    target = pinned(forge, release, project, ref=onto)
    onto_commit = target.commit
    # The new base's blobs for the checkout, the old base's for 3-way merges.
    target.prefetch()
    current.prefetch()
    worktree.create(work, current)
    commits = worktree.import_series(work, current.commit, series.patches, current.ref)
    _git(work, "checkout", "--quiet", "-b", "forge-refresh", onto_commit)
    state = RefreshState(
        project=project,
        release=release,
        onto=onto,
        onto_commit=onto_commit,
        old_ref=current.ref,
        folder=str(folder),
        patches=[p.name for p in series.patches],
        commits=commits,
        dry_run=dry_run,
    )
    forge.log(f"refreshing {project} ({release}): {current.ref} -> {onto} ({onto_commit[:12]})")
    return _replay(forge, work, state)


def continue_refresh(forge: Forge, project: str, release: str) -> SeriesChanges:
    """Carry on after the maintainer resolved a conflict (and ``git add``-ed the result)."""
    work = work_dir(forge.build_dir, project, release)
    state = _load_state(work, project, release)
    if (work / ".git" / "CHERRY_PICK_HEAD").is_file():
        done = git.run(["cherry-pick", "--continue"], cwd=work, env=STABLE_ENV, check=False)
        if done.returncode != 0:
            raise RefreshStopped(
                f"{state.patches[state.position]} is not resolved yet in {work}: "
                f"{git.last_words(done.stderr.decode() + done.stdout.decode())}"
            )
    state.kept.append(state.patches[state.position])
    state.position += 1
    return _replay(forge, work, state)


def abort_refresh(forge: Forge, project: str, release: str) -> None:
    """Drop a refresh under way; nothing outside its work tree was changed."""
    work = work_dir(forge.build_dir, project, release)
    _load_state(work, project, release)
    shutil.rmtree(work)
    forge.log(f"refresh of {project} ({release}) aborted; patches/ and releases.yaml are untouched")


def _replay(forge: Forge, work: Path, state: RefreshState) -> SeriesChanges:
    folder = Path(state.folder)
    while state.position < len(state.patches):
        name = state.patches[state.position]
        patch = folder / name
        landed = git.run(["apply", "--check", "--reverse", str(patch)], cwd=work, check=False)
        commit = state.commits[state.position]
        if not commit:
            state.dropped.append([name, f"already upstream in {state.old_ref} (reverse-applies)"])
        elif landed.returncode == 0:
            state.dropped.append([name, f"already upstream in {state.onto} (reverse-applies)"])
        else:
            pick = git.run(["cherry-pick", commit], cwd=work, env=STABLE_ENV, check=False)
            said = pick.stdout.decode(errors="replace") + pick.stderr.decode(errors="replace")
            if pick.returncode == 0:
                state.kept.append(name)
            elif "is now empty" in said or "nothing to commit" in said:
                _git(work, "cherry-pick", "--skip")
                state.dropped.append(
                    [name, f"already upstream in {state.onto} (3-way merge left nothing)"]
                )
            else:
                return _stop(work, state, name, said)
        state.position += 1
    texts = format_patches(work, state.onto_commit)
    changes = write_series(
        folder,
        texts,
        list(state.kept),
        [(n, why) for n, why in state.dropped],
        dry_run=state.dry_run,
    )
    if not state.dry_run:
        set_ref(forge.manifest, state.release, state.project, state.old_ref, state.onto)
    shutil.rmtree(work)
    verb = (
        "would change" if state.dry_run else "changed" if changes.changed else "nothing to change"
    )
    forge.log(f"{state.project} ({state.release}) onto {state.onto}: {verb}: {changes.summary()}")
    return changes


def _stop(work: Path, state: RefreshState, name: str, said: str) -> SeriesChanges:
    conflicted = git.text(["diff", "--name-only", "--diff-filter=U"], cwd=work).split()
    if state.dry_run:
        shutil.rmtree(work)
        raise RefreshStopped(
            f"{name} conflicts on {state.onto} in {', '.join(conflicted) or 'the tree'} "
            f"(dry run: nothing left behind)"
        )
    (work / ".git" / STATE_FILE).write_text(json.dumps(asdict(state), indent=2))
    files = ", ".join(conflicted) or git.last_words(said)
    task = f"inv patches.refresh -s {state.project} -r {state.release}"
    raise RefreshStopped(
        f"{name} conflicts on {state.onto} ({files}). Resolve in {work}, `git add` the files, "
        f"then `{task} --continue`; or `{task} --abort` to drop the refresh"
    )


def _load_state(work: Path, project: str, release: str) -> RefreshState:
    state_file = work / ".git" / STATE_FILE
    if not state_file.is_file():
        raise ForgeError(f"no refresh of {project} ({release}) is under way (nothing in {work})")
    return RefreshState(**json.loads(state_file.read_text()))


def _git(work: Path, *args: str) -> None:
    git.run(list(args), cwd=work, env=STABLE_ENV)
