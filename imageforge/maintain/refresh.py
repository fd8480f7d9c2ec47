"""Refresh a patch series onto a new ref: replay, drop what landed, rewrite only what changed.

In a work tree under build/work/, the series is imported as commits on the
current ref (so every blob a 3-way merge needs exists), then replayed one by
one onto the new ref. Each patch gets a fate:

* landed upstream: it reverse-applies to the new ref, or the upstream history
  between the two refs shows it (Change-Id, cherry-picked-from, patch-id), or
  the 3-way merge leaves nothing;
* unchanged: the file still applies with plain git apply and gives the same
  tree as the 3-way merge, so its bytes are kept;
* rebased (3-way): the merge moved it; the file is rewritten;
* resolved by hand / from a recorded resolution (rerere), after a conflict;
* dropped by hand (--skip), or empty after resolution.

A conflict stops the refresh with the work tree left for the maintainer and
the commands to go on (--continue, --skip, --abort); whatever state the work
tree is then left in is read and said, never a traceback. A dry run never
stops: a conflicting patch is left out for the rest of the run and reported.
Nothing under patches/ or in releases.yaml changes until every patch is
through; the write-back then has one commit point (see write.py), and the
state file goes last, so --continue and --abort always tell the truth.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from imageforge.config.edit import set_ref
from imageforge.config.manifest import Pair
from imageforge.constraints.projects import pinned
from imageforge.context import Forge
from imageforge.errors import ForgeError
from imageforge.host import git
from imageforge.host.files import under
from imageforge.maintain import worktree
from imageforge.maintain.pairlock import pair_lock, require_not_waiting, work_tree
from imageforge.maintain.worktree import WorkTree
from imageforge.maintain.write import (
    Entry,
    SeriesChanges,
    stable_text,
    write_series,
)
from imageforge.patches.apply import check_series, scratch_index
from imageforge.patches.landed import find_landing, find_landing_in_submodule, find_same_bug
from imageforge.patches.patchfile import read_patch
from imageforge.patches.series import load_series, series_folder
from imageforge.upstream.pinned import mirror
from imageforge.upstream.submodules import grafts_of

STATE_FILE = "forge-refresh.json"
_MARKERS = ("<<<<<<< ", ">>>>>>> ")


class RefreshStopped(ForgeError):
    """The refresh stops; nothing under patches/ or in releases.yaml changed."""


class PatchConflicts(RefreshStopped):
    """A patch conflicts on the new ref; the work tree waits for the maintainer."""


class NotResolved(RefreshStopped):
    """--continue: files still conflict, or still hold conflict markers."""


class WorkTreeMoved(RefreshStopped):
    """--continue: the work tree is in a state the refresh cannot follow."""


class SeriesChanged(RefreshStopped):
    """The series folder changed while the refresh was stopped."""


class DryRunConflicts(RefreshStopped):
    """A dry run went past conflicts: it reports them and fails."""


class SeriesDoesNotApply(RefreshStopped):
    """--from-scratch: the series does not apply at the new ref as it is."""


class Fate(enum.Enum):
    UNCHANGED = "unchanged"
    REBASED = "rebased (3-way)"
    RESOLVED = "resolved by hand"
    RECORDED = "resolved from a recorded resolution"
    LANDED = "landed upstream"
    DROPPED = "dropped by hand"
    EMPTY = "empty after resolution"
    CONFLICTS = "conflicts"  # dry run: left out for the rest of the run

    @property
    def kept(self) -> bool:
        return self in (Fate.UNCHANGED, Fate.REBASED, Fate.RESOLVED, Fate.RECORDED)


@dataclass(frozen=True)
class FateRecord:
    """What happened to one patch of the series."""

    name: str
    fate: Fate
    detail: str = ""


@dataclass
class RefreshState:
    project: str
    release: str
    repo: str
    onto: str
    onto_commit: str
    old_ref: str
    old_commit: str
    folder: str
    patches: list[str]  # names, in series order
    commits: list[str]  # the patches imported as commits on the old ref ("" if upstream there)
    position: int = 0  # index of the patch being replayed
    head_before: str = ""  # HEAD before that patch was picked
    fates: list[FateRecord] = field(default_factory=list)
    dry_run: bool = False
    normalize: bool = False
    writing: bool = False  # the write-back has started
    # The replay was picking on its own (not stopped for the maintainer): a
    # --continue after a crash there resumes it from head_before.
    picking: bool = False
    # Every file of the series folder and its digest when the refresh started:
    # a series changed meanwhile (an edit exported) is named, never overwritten.
    series_files: dict[str, str] = field(default_factory=dict)
    # The commit the series is replayed on in the work tree: onto_commit, or
    # with submodules, the commit that puts them in place (worktree.base_commit).
    onto_base: str = ""

    @property
    def base(self) -> str:
        return self.onto_base or self.onto_commit

    @property
    def pair(self) -> Pair:
        return Pair(self.release, self.project)


def work_dir(build_dir: Path, pair: Pair) -> Path:
    return work_tree(build_dir, "refresh", pair)


def refresh(
    forge: Forge,
    pair: Pair,
    onto: str,
    *,
    dry_run: bool = False,
    normalize: bool = False,
    from_scratch: bool = False,
) -> SeriesChanges:
    """Start a refresh of ``project``'s series in ``release`` onto ``onto``.

    ``from_scratch``: the series is taken as it is at ``onto`` (checked there
    only) and the ref moves; for a series that no longer applies at its old
    ref because its patches were already moved forward by hand.
    """
    forge.manifest.require_projects((pair.release,), (pair.project,))
    with pair_lock(forge.build_dir, pair, "a refresh"):
        require_not_waiting(forge.build_dir, "edit", pair)
        if from_scratch:
            return _move_ref_only(forge, pair, onto, dry_run=dry_run)
        return _start(forge, pair, onto, dry_run=dry_run, normalize=normalize)


def _move_ref_only(forge: Forge, pair: Pair, onto: str, *, dry_run: bool) -> SeriesChanges:
    folder = series_folder(forge.root, pair)
    current = pinned(forge, pair)
    target = pinned(forge, pair, ref=onto)
    series = load_series(folder, pair) if folder.is_dir() else None
    patches = series.patches if series else ()
    target.prefetch()
    failed = [
        r for r in check_series(target.git_dir, target.commit, patches, target.grafts) if not r.ok
    ]
    if failed:
        raise SeriesDoesNotApply(
            f"--from-scratch: the series does not apply at {onto}: "
            + "; ".join(f"{r.patch.name}: {r.detail}" for r in failed)
            + "; nothing was written"
        )
    if not dry_run:
        set_ref(forge.manifest, pair, current.ref, onto)
    verb = "dry run, nothing written" if dry_run else "changed"
    forge.log(
        f"{pair} onto {onto} from scratch: ref {current.commit[:8]} -> "
        f"{target.commit[:8]}; the series ({len(patches)} patches) applies there as it is ({verb})"
    )
    return SeriesChanges(unchanged=[p.name for p in patches])


def _start(
    forge: Forge,
    pair: Pair,
    onto: str,
    *,
    dry_run: bool = False,
    normalize: bool = False,
) -> SeriesChanges:
    work = WorkTree(work_dir(forge.build_dir, pair))
    if (work.git_dir / STATE_FILE).is_file():
        raise ForgeError(
            f"a refresh of {pair} is already under way in {work}: "
            f"finish it with --continue, drop a patch with --skip, or drop it all with --abort"
        )
    folder = series_folder(forge.root, pair)
    current = pinned(forge, pair)
    target = pinned(forge, pair, ref=onto)
    if not folder.exists():
        # No patches: a refresh is only the ref moving (as inv bump would move it).
        if not dry_run:
            set_ref(forge.manifest, pair, current.ref, onto)
        verb = "dry run, nothing written" if dry_run else "changed"
        forge.log(
            f"{pair} onto {onto}: ref {current.commit[:8]} -> "
            f"{target.commit[:8]}; no patches ({verb})"
        )
        return SeriesChanges()
    series = load_series(folder, pair)
    # The new base's blobs for the checkout, the old base's for 3-way merges.
    target.prefetch()
    current.prefetch()
    try:
        worktree.create(forge, work.path, current, target)
        old_base = worktree.base_commit(work, current)
        onto_base = worktree.base_commit(work, target)
        imported = worktree.import_series(work, old_base, series.patches, current.ref)
        work.git("checkout", "--quiet", "-b", "forge-refresh", onto_base)
    except BaseException as err:
        work.remove()  # a refused start leaves nothing behind
        if isinstance(err, ForgeError) and "does not apply to the current ref" in str(err):
            _offer_from_scratch(err, target, series.patches, pair, onto)
        raise
    state = RefreshState(
        project=pair.project,
        release=pair.release,
        repo=current.repo,
        onto=onto,
        onto_commit=target.commit,
        old_ref=current.ref,
        old_commit=current.commit,
        folder=str(folder),
        patches=[p.name for p in series.patches],
        commits=imported,
        dry_run=dry_run,
        normalize=normalize,
        series_files=_series_files(folder),
        onto_base=onto_base,
    )
    forge.log(f"refreshing {pair}: {current.ref} -> {onto} ({target.commit[:12]})")
    if not dry_run:
        return _replay(forge, work, state)
    try:
        return _replay(forge, work, state)
    finally:
        work.remove()  # a dry run leaves nothing, even when it fails


def continue_refresh(forge: Forge, pair: Pair) -> SeriesChanges:
    """Carry on after the maintainer resolved a conflict (whatever they did in the work tree)."""
    with pair_lock(forge.build_dir, pair, "a refresh --continue"):
        return _continue(forge, pair)


def _continue(forge: Forge, pair: Pair) -> SeriesChanges:
    work = WorkTree(work_dir(forge.build_dir, pair))
    state = _load_state(forge, work, pair)
    if state.writing:
        return _finish(forge, work, state)  # an interrupted write-back: do it again
    _require_series_unchanged(state, work)
    name = state.patches[state.position]
    if state.picking:
        # Killed while replaying on its own: every hand resolution is below
        # head_before, so going back there loses none of them.
        if work.picking:
            work.git("cherry-pick", "--abort")
        work.git("reset", "--quiet", "--hard", state.head_before)
        forge.log(f"resuming the replay interrupted at {name}")
        return _replay(forge, work, state)
    head = work.head()
    if work.picking:
        _require_resolved(work, name)
        if not work.staged_changes():
            work.git("cherry-pick", "--skip")
            _record(state, Fate.EMPTY, "resolved to upstream's side")
        else:
            work.git("cherry-pick", "--continue")
            _record(state, Fate.RESOLVED)
    elif head == state.head_before:
        if work.staged_changes() or work.unstaged_changes():
            raise WorkTreeMoved(
                f"{name}: the work tree {work} has changes but no commit and no cherry-pick "
                "under way: commit them (git commit), or --skip to drop the patch"
            )
        _record(state, Fate.DROPPED, "skipped in the work tree (git cherry-pick --skip)")
    elif work.text("rev-parse", "HEAD^") == state.head_before:
        _require_no_markers(work, name, "HEAD^", "HEAD")
        if work.tree("HEAD") == work.tree("HEAD^"):
            work.git("reset", "--quiet", "--hard", "HEAD^")
            _record(state, Fate.EMPTY, "committed empty")
        else:
            _record(state, Fate.RESOLVED)
    else:
        # No destructive advice: the commits above head_before may hold resolutions.
        raise WorkTreeMoved(
            f"{name}: the work tree {work} moved in a way the refresh cannot follow "
            f"(HEAD is {head[:12]}; expected {state.head_before[:12]} or one commit on it "
            "holding this patch's resolution): squash your commits into one there "
            "(git reset --soft " + state.head_before[:12] + " && git commit), then --continue"
        )
    state.position += 1
    return _replay(forge, work, state)


def skip_refresh(forge: Forge, pair: Pair) -> SeriesChanges:
    """Drop the patch the refresh stopped on, and carry on with the next."""
    with pair_lock(forge.build_dir, pair, "a refresh --skip"):
        return _skip(forge, pair)


def _skip(forge: Forge, pair: Pair) -> SeriesChanges:
    work = WorkTree(work_dir(forge.build_dir, pair))
    state = _load_state(forge, work, pair)
    if state.writing:
        raise ForgeError(f"the refresh of {pair} is writing back: run --continue")
    _require_series_unchanged(state, work)
    if work.picking:
        work.git("cherry-pick", "--abort")
    work.git("reset", "--quiet", "--hard", state.head_before)
    _record(state, Fate.DROPPED)
    state.position += 1
    return _replay(forge, work, state)


def abort_refresh(forge: Forge, pair: Pair) -> None:
    """Drop a refresh under way (resolutions made so far are remembered)."""
    with pair_lock(forge.build_dir, pair, "a refresh --abort"):
        _abort(forge, pair)


def _abort(forge: Forge, pair: Pair) -> None:
    work = WorkTree(work_dir(forge.build_dir, pair))
    state = _load_state(forge, work, pair)
    if state.writing:
        raise ForgeError(
            f"the refresh of {pair} was interrupted while writing patches/ "
            "and releases.yaml: run --continue to finish it (it is safe to run again)"
        )
    # Record what the maintainer resolved and staged, for the next run.
    work.git("rerere", check=False)
    work.remove()
    forge.log(f"refresh of {pair} aborted; patches/ and releases.yaml are untouched")


def _replay(forge: Forge, work: WorkTree, state: RefreshState) -> SeriesChanges:
    folder = Path(state.folder)
    source = mirror(forge, state.repo)
    # The submodules at the old and new ref: a patch under one may have landed there.
    grafts = tuple(
        grafts_of(forge, source, commit, str(state.pair))
        for commit in (state.old_commit, state.onto_commit)
    )
    while state.position < len(state.patches):
        name = state.patches[state.position]
        patch = folder / name
        state.head_before = work.head()
        if not state.dry_run:
            state.picking = True
            _save(work, state)  # a crash from here on is resumed by --continue
        landing = None
        if not state.commits[state.position]:
            _record(state, Fate.LANDED, f"already upstream in {state.old_ref} (reverse-applies)")
        # The strongest evidence first: the upstream commit (Change-Id, cherry-picked
        # from, patch-id) names what landed; reverse-applying only says that it did.
        # A patch under a submodule (ovs/...) lands in the submodule's own history.
        elif landing := (
            find_landing(source, state.onto_commit, read_patch(patch), since=state.old_commit)
            or find_landing_in_submodule(read_patch(patch), *grafts)
        ):
            _record(state, Fate.LANDED, landing.describe())
        elif work.reverse_applies(patch):
            _record(state, Fate.LANDED, f"already upstream in {state.onto} (reverse-applies)")
        else:
            lead = find_same_bug(
                source, state.onto_commit, read_patch(patch), since=state.old_commit
            )
            _pick(work, state, name, patch, lead.describe() if lead else "")
        state.position += 1
    return _finish(forge, work, state)


def _pick(work: WorkTree, state: RefreshState, name: str, patch: Path, lead: str = "") -> None:
    """Cherry-pick the patch onto the new ref; ``lead`` (an upstream fix of its bug) goes along.

    What happened is read from the work tree, not from git's output: a pick
    that stopped without meeting a conflict stopped because the 3-way merge
    left nothing to commit.
    """
    if work.succeeds("cherry-pick", state.commits[state.position]):
        same = _applies_as_is(work, patch, state.head_before)
        _record(state, Fate.UNCHANGED if same else Fate.REBASED, lead)
    elif not work.pick_conflicted:
        work.git("cherry-pick", "--skip")
        _record(state, Fate.LANDED, f"already upstream in {state.onto} (3-way merge left nothing)")
    elif not work.unresolved():
        # rerere replayed a recorded resolution for every conflicting file.
        if work.staged_changes():
            work.git("cherry-pick", "--continue")
            _record(state, Fate.RECORDED, lead)
        else:
            work.git("cherry-pick", "--skip")
            _record(state, Fate.EMPTY, "a recorded resolution left nothing")
    elif state.dry_run:
        detail = _conflict_detail(work, patch, state.head_before)
        work.git("cherry-pick", "--abort")
        lead = f"; {lead}" if lead else ""
        _record(state, Fate.CONFLICTS, f"{detail} (left out for the rest of the dry run){lead}")
    else:
        _stop(work, state, name, lead)


def _finish(forge: Forge, work: WorkTree, state: RefreshState) -> SeriesChanges:
    folder = Path(state.folder)
    if not state.dry_run and not state.writing:
        _require_ref_unmoved(forge, state)  # checked before anything is written
    kept = [record for record in state.fates if record.fate.kept]
    picked = work.commits(state.base)
    if len(picked) != len(kept):
        raise ForgeError(
            f"the work tree {work} holds {len(picked)} commits on {state.onto} but "
            f"{len(kept)} patches were kept: reset it or --abort"
        )
    entries = []
    for record, commit in zip(kept, picked, strict=True):
        original = read_patch(folder / record.name)
        if record.fate == Fate.UNCHANGED and not state.normalize:
            entries.append(Entry(record.name, original.raw, keep=True))
        else:
            entries.append(Entry(record.name, stable_text(work.path, commit, original)))
    dropped = [
        (r.name, f"{r.fate.value}: {r.detail}" if r.detail else r.fate.value)
        for r in state.fates
        if not r.fate.kept and r.fate != Fate.CONFLICTS
    ]
    if not state.dry_run:
        state.writing = True
        _save(work, state)
    changes = write_series(folder, entries, dropped, dry_run=state.dry_run)
    if not state.dry_run:
        set_ref(forge.manifest, state.pair, state.old_ref, state.onto)
    forge.log(_report(state, changes))
    work.remove()  # the state goes last: until here --continue redoes the write-back
    conflicts = [r.name for r in state.fates if r.fate == Fate.CONFLICTS]
    if conflicts:  # only a dry run gets here with conflicts: it must not pass
        raise DryRunConflicts(
            f"dry run: {', '.join(conflicts)} conflict{'s' if len(conflicts) == 1 else ''} "
            f"on {state.onto}; a refresh would stop there for a resolution"
        )
    return changes


def _report(state: RefreshState, changes: SeriesChanges) -> str:
    counts = [
        f"{len(items)} {word}"
        for word, items in (
            ("added", changes.added),
            ("updated", changes.updated),
            ("dropped", changes.dropped),
            ("unchanged", changes.unchanged),
        )
        if items
    ]
    left_out = [r for r in state.fates if r.fate == Fate.CONFLICTS]
    if left_out:
        counts.append(f"{len(left_out)} conflict{'s' if len(left_out) > 1 else ''}")
    if state.dry_run:
        verb = "dry run, nothing written"
    else:
        verb = "changed" if changes.changed else "unchanged"
    head = (
        f"{state.pair} onto {state.onto}: ref {state.old_commit[:8]} -> "
        f"{state.onto_commit[:8]}; {', '.join(counts) or 'no patches'} ({verb})"
    )
    lines = [head]
    for r in state.fates:
        lines.append(f"  {r.fate.value:<36} {r.name}" + (f": {r.detail}" if r.detail else ""))
    if changes.removed_folder and not left_out:
        removed = "would be removed" if state.dry_run else "is removed"
        lines.append(f"  every patch is gone: {state.folder} {removed}")
    return "\n".join(lines)


def _stop(work: WorkTree, state: RefreshState, name: str, lead: str = "") -> None:
    files = ", ".join(work.unresolved()) or "the tree"
    state.picking = False  # stopped for the maintainer: --continue reads the work tree
    _save(work, state)
    task = f"inv patches.refresh -s {state.project} -r {state.release}"
    lead = f" ({lead})" if lead else ""
    raise PatchConflicts(
        f"{name} conflicts on {state.onto} in {files}{lead}. Resolve it in {work} and `git add` the "
        f"files, then `{task} --continue`; or `{task} --skip` to drop this patch; "
        f"or `{task} --abort` to drop the refresh"
    )


def _record(state: RefreshState, fate: Fate, detail: str = "") -> None:
    state.fates.append(FateRecord(state.patches[state.position], fate, detail))


def _applies_as_is(work: WorkTree, patch: Path, base: str) -> bool:
    """The file applies to ``base`` with plain git apply and gives the 3-way result's tree."""
    with scratch_index(work.git_dir, base) as env:
        applied = git.run(
            ["apply", "--cached", "--whitespace=nowarn", str(patch.resolve())],
            git_dir=work.git_dir,
            env=env,
            check=False,
        )
        if applied.returncode != 0:
            return False
        tree = git.text(["write-tree"], git_dir=work.git_dir, env=env)
    return tree == work.tree("HEAD")


def _conflict_detail(work: WorkTree, patch: Path, base: str) -> str:
    files = ", ".join(work.unresolved())
    [result] = check_series(work.git_dir, base, (patch,))
    return result.detail if result.detail else f"conflicts in {files}"


def _require_resolved(work: WorkTree, name: str) -> None:
    unresolved = work.unresolved()
    if unresolved:
        raise NotResolved(
            f"{name} is not resolved yet in {work}: {', '.join(unresolved)} still conflict; "
            "edit them and `git add` them, then --continue (or --skip to drop the patch)"
        )
    _require_no_markers(work, name, "HEAD", None)


def _require_no_markers(work: WorkTree, name: str, base: str, head: str | None) -> None:
    """Refuse a resolution that still holds conflict markers."""
    diff = work.text_raw(*(["diff", "--cached", base] if head is None else ["diff", base, head]))
    current, marked = "", set()
    for line in diff.splitlines():
        if line.startswith("+++ b/"):
            current = line[6:]
        elif line.startswith("+") and (line[1:].startswith(_MARKERS) or line[1:] == "======="):
            marked.add(current)
    if marked:
        raise NotResolved(
            f"{name}: {', '.join(sorted(marked))} still hold conflict markers "
            "(<<<<<<<, =======, >>>>>>>): finish the resolution, `git add`, then --continue"
        )


def _save(work: WorkTree, state: RefreshState) -> None:
    """The state as JSON (fates as [name, fate, detail]): the only place it becomes text."""
    data = asdict(state)
    data["fates"] = [[r.name, r.fate.value, r.detail] for r in state.fates]
    (work.git_dir / STATE_FILE).write_text(json.dumps(data, indent=2))


def _load_state(forge: Forge, work: WorkTree, pair: Pair) -> RefreshState:
    state_file = work.git_dir / STATE_FILE
    if not state_file.is_file():
        raise ForgeError(f"no refresh of {pair} is under way (nothing in {work})")
    try:
        data = json.loads(state_file.read_text())
        # A hand-edited fate is refused here, not later.
        data["fates"] = [FateRecord(n, Fate(f), d) for n, f, d in data.get("fates", [])]
        state = RefreshState(**data)
        if not 0 <= state.position <= len(state.patches) == len(state.commits):
            raise ValueError(f"position {state.position} outside the series")
        # Every path in the state is the pair's own: a hand-edited folder
        # would have the write-back land outside the project.
        if state.pair != pair:
            raise ValueError(f"it is the state of {state.pair}")
        expected = series_folder(forge.root, pair)
        if Path(state.folder) != expected:
            raise ValueError(f"folder {state.folder!r} is not {expected}")
        for name in state.patches:
            under(expected, name)
        return state
    except (ValueError, TypeError, ForgeError) as err:
        raise ForgeError(
            f"{state_file} is not a refresh state this forge can read ({err}): --abort "
            f"does not need it; delete {work} to start over"
        ) from err


def _offer_from_scratch(err, target, patches, pair: Pair, onto: str) -> None:
    """A series broken at its ref but whole at ``onto`` (moved forward by hand): say the way out."""
    if all(r.ok for r in check_series(target.git_dir, target.commit, patches, target.grafts)):
        raise ForgeError(
            f"{err}. The whole series applies at {onto} as it is: "
            f"`inv patches.refresh -s {pair.project} -r {pair.release} --onto {onto} --from-scratch` "
            "moves the ref and checks the series only there"
        ) from err


def _series_files(folder: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
        if path.is_file()
    }


def _require_series_unchanged(state: RefreshState, work: WorkTree) -> None:
    """The series must be as the refresh found it: a change made meanwhile is never overwritten."""
    if not state.series_files:
        return  # a state written before the series was recorded
    folder = Path(state.folder)
    now = _series_files(folder) if folder.is_dir() else {}
    changed = sorted(
        n for n in now.keys() | state.series_files.keys() if now.get(n) != state.series_files.get(n)
    )
    if changed:
        raise SeriesChanged(
            f"{folder} changed while the refresh was stopped ({', '.join(changed)}): "
            f"the refresh would overwrite it. Keep your change and --abort, then refresh again"
        )


def _require_ref_unmoved(forge: Forge, state: RefreshState) -> None:
    """releases.yaml must still name the ref the refresh started from (checked before writing)."""
    release = forge.manifest.release_or_none(state.release)
    refs: dict[str, str | None] = {}
    if release is not None:
        refs = {s.name: s.ref for s in release.services}
        refs |= {lib.name: lib.ref for lib in release.libraries}
    if state.project not in refs:
        raise ForgeError(
            f"{forge.manifest.path}: {state.pair} is no longer there; "
            "nothing was written: put it back and --continue, or --abort"
        )
    ref = refs[state.project]
    if ref is not None and ref != state.old_ref:
        raise ForgeError(
            f"{forge.manifest.path}: {state.pair} is at {ref} now, but the "
            f"refresh started from {state.old_ref}; nothing was written: set it back to "
            f"{state.old_ref} and --continue, or --abort"
        )
