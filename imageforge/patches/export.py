"""Export a project's tree at its pinned ref into a build folder, atomically.

``build/sources/<release>/<project>/`` holds ``tree/`` (the build context: the
files at that commit with the project's patch series applied, no .git,
PKG-INFO carrying the upstream version) and ``export.json`` (what it was made
from: commit, version, the patches applied, the series digest and a digest of
the tree itself). An export is built in a temporary folder and renamed into
place, so an interrupted or failed run never leaves a tree that a later build
would take for complete; the temporary folders of a run killed outright are
removed by the next one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path

from imageforge.config.manifest import Pair
from imageforge.constraints.projects import pinned
from imageforge.context import Forge
from imageforge.host.files import file_lock, under, write_atomically
from imageforge.patches.apply import APPLIES, PatchError, apply_series
from imageforge.patches.lint import require_clean, touched_paths
from imageforge.patches.series import Series, series_for
from imageforge.upstream.pinned import Pinned
from imageforge.upstream.versions import write_pkg_info

RECORD = "export.json"
# Bumped whenever an export's content changes shape (e.g. SOURCES.txt was
# added): older exports are then made again instead of being taken as current.
# 4: files are written byte-exact whatever the user's git config (a tree made
# under core.autocrlf=true was CRLF and must not be trusted).
# 5: the record says whether the tree is a Python package, and names submodules.
# 6: a Python project tagged vX.Y.Z only (nova-scheduler-filters) gets its version
# from those tags, as pbr does, not 0.0.1.devN.
EXPORT_FORMAT = 6
# The date settle-layer gives what an image step writes (images/python-base).
FIXED_EPOCH = 946684800


@dataclass(frozen=True)
class Export:
    project: str
    release: str
    repo: str
    ref: str
    commit: str
    version: str
    package: str
    tree: Path
    # Names of the patches applied, in order (those already upstream are skipped).
    patches: tuple[str, ...] = ()
    # Digest of the whole series (see Series.digest); empty without a series.
    series_digest: str = ""
    # The upstream commit's date (ISO 8601): the image's "created" label.
    committed: str = ""
    # Files of the tree that the applied patches changed or created.
    patched_files: tuple[str, ...] = ()
    # The tree as exported: a cheap stamp (paths, sizes, mtimes) checked on
    # every use, and the content digest checked when the stamp differs.
    tree_stamp: str = ""
    tree_digest: str = ""
    # Submodules exported in place: "<path> <commit> <repo>" each (OVN's ovs).
    submodules: tuple[str, ...] = ()
    # A Python package (pbr, setup.cfg) or a C source tree (OVS, OVN).
    python: bool = True

    @property
    def committed_epoch(self) -> int:
        """The commit's date in seconds (SOURCE_DATE_EPOCH); 2000-01-01 when not known."""
        if not self.committed:
            return FIXED_EPOCH
        return int(datetime.fromisoformat(self.committed).timestamp())

    def record(self) -> dict:
        data = asdict(self)
        data.pop("tree")
        data["patches"] = list(self.patches)
        data["patched_files"] = list(self.patched_files)
        data["submodules"] = list(self.submodules)
        data["format"] = EXPORT_FORMAT
        return data


def export_folder(build_dir: Path, pair: Pair) -> Path:
    return under(build_dir / "sources", pair.release, pair.project)


def export_project(forge: Forge, pair: Pair) -> Export:
    """Export one service or library of a release at its pinned ref with its series applied."""
    series = series_for(forge.manifest, pair)
    if series:
        require_clean([series])
    return export_source(forge, pinned(forge, pair), series)


def export_source(
    forge: Forge, target: Pinned, series: Series | None = None, folder: Path | None = None
) -> Export:
    """Export ``target`` with ``series`` applied, unless that export is already in place.

    A patch that does not apply raises PatchError naming the patch, file and
    hunk, and leaves no tree behind (the previous complete export, if any, stays).
    ``folder`` puts the export elsewhere than the build's (the unpatched baseline
    of inv patches.test).
    """
    patches = series.patches if series else ()
    series_digest = series.digest if series else ""
    folder = folder or export_folder(forge.build_dir, target.pair)
    with file_lock(folder.with_name(f".{folder.name}.lock")):
        _remove_stale_work(folder, forge.log)
        current = read_export(folder)
        if current is not None and (current.commit, current.repo, current.series_digest) != (
            target.commit,
            target.repo,
            series_digest,
        ):
            current = None
        if current is not None:
            current = _intact(current, folder, forge.log)
        if current is not None:
            forge.log(
                f"{target.name}: {target.ref} = {target.commit[:12]}, "
                f"version {current.version}, up to date in {current.tree}"
            )
            return current
        target.prefetch()
        version = target.version()
        folder.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=_work_prefix(folder), dir=folder.parent))
        try:
            tree = work / "tree"
            tree.mkdir()
            try:
                # The earlier export (another series or ref) saves writing the files it shares.
                earlier = folder / "tree"
                results = apply_series(
                    target.git_dir,
                    target.commit,
                    patches,
                    tree,
                    reuse=earlier if earlier.is_dir() and not earlier.is_symlink() else None,
                    grafts=target.grafts,
                )
            except PatchError as err:
                raise PatchError(f"{target.name} at {target.ref}: {err}") from err
            applied = [r.patch for r in results if r.status == APPLIES]
            patched_files = tuple(p for p in touched_paths(tuple(applied)) if (tree / p).is_file())
            export = Export(
                project=target.project,
                release=target.release,
                repo=target.repo,
                ref=target.ref,
                commit=target.commit,
                version=version,
                # pbr reads PKG-INFO; a C tree has no package to name.
                package=write_pkg_info(tree, version) if target.is_python else target.project,
                tree=folder / "tree",
                patches=tuple(p.name for p in applied),
                series_digest=series_digest,
                committed=target.committed(),
                patched_files=patched_files,
                tree_stamp=tree_stamp(tree),
                tree_digest=tree_digest(tree),
                submodules=tuple(graft.describe() for graft in target.grafts),
                python=target.is_python,
            )
            (work / RECORD).write_text(json.dumps(export.record(), indent=2) + "\n")
            _replace(work, folder)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        patched = f", {len(applied)} patches applied" if patches else ""
        forge.log(
            f"{target.name}: {target.ref} = {target.commit[:12]}, "
            f"version {version}{patched}, exported to {export.tree}"
        )
        return export


def read_export(folder: Path) -> Export | None:
    """The export recorded in ``folder``, or None when there is no complete one."""
    try:
        data = json.loads((folder / RECORD).read_text())
        if data.pop("format", None) != EXPORT_FORMAT:
            return None  # made by an older forge: export again
        data["patches"] = tuple(data.get("patches", ()))
        data["patched_files"] = tuple(data.get("patched_files", ()))
        data["submodules"] = tuple(data.get("submodules", ()))
        return Export(**data, tree=folder / "tree")
    except (OSError, ValueError, TypeError):
        return None


def _files(tree: Path) -> list[Path]:
    found = []
    for top, dirs, files in os.walk(tree):
        dirs.sort()
        found += [Path(top, name) for name in sorted(files)]
    return found


def tree_stamp(tree: Path) -> str:
    """A digest of every file's path, size and mtime: cheap, and changed by any edit."""
    digest = hashlib.sha256()
    for path in _files(tree):
        info = path.lstat()
        digest.update(
            f"{path.relative_to(tree)}\0{info.st_size}\0{info.st_mtime_ns}\n".encode(
                errors="surrogateescape"
            )
        )
    return digest.hexdigest()


def tree_digest(tree: Path, skip: frozenset[str] = frozenset()) -> str:
    """A digest of every file's path, mode and content (a symlink: its target).

    ``skip`` names files (paths relative to ``tree``) left out.
    """
    digest = hashlib.sha256()
    for path in _files(tree):
        if str(path.relative_to(tree)) in skip:
            continue
        info = path.lstat()
        content = os.fsencode(os.readlink(path)) if path.is_symlink() else path.read_bytes()
        digest.update(
            f"{path.relative_to(tree)}\0{info.st_mode & 0o111:o}\0".encode(errors="surrogateescape")
        )
        digest.update(hashlib.sha256(content).digest())
    return digest.hexdigest()


def _intact(export: Export, folder: Path, log) -> Export | None:
    """``export`` if its tree is still what was exported; None when a hand edit made it stale."""
    stamp = tree_stamp(export.tree)
    if stamp == export.tree_stamp:
        return export
    # Sizes or mtimes moved (a copy, a touch): only the content decides.
    if tree_digest(export.tree) == export.tree_digest:
        export = replace(export, tree_stamp=stamp)
        write_atomically(folder / RECORD, json.dumps(export.record(), indent=2) + "\n")
        return export
    log(f"{export.project} ({export.release}): {export.tree} was changed by hand; exporting again")
    return None


def _work_prefix(folder: Path) -> str:
    # ".nova.work-": no other project's folder name can start with it
    # (".neutron-" would also match neutron-lib's temporary folders).
    return f".{folder.name}.work-"


def _remove_stale_work(folder: Path, log) -> None:
    """Remove the temporary folders of exports that were killed before they finished.

    Called under the folder's lock: any export of this folder still running
    would hold that lock, so every temporary folder found here is orphaned.
    """
    # Older forges named them ".nova-" plus mkdtemp's eight characters.
    legacy = re.compile(rf"\.{re.escape(folder.name)}-[a-z0-9_]{{8}}")
    for stale in sorted(folder.parent.glob(".*")):
        if not (stale.name.startswith(_work_prefix(folder)) or legacy.fullmatch(stale.name)):
            continue
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
        log(f"removed {stale}, left by an export that was interrupted")


def _replace(new: Path, folder: Path) -> None:
    """Put ``new`` at ``folder``; the record is renamed in last, so a reader never sees half."""
    if folder.exists():
        # Remove the old record first: from here on the folder is not complete.
        (folder / RECORD).unlink(missing_ok=True)
        trash = folder.with_name(f"{_work_prefix(folder)}old")
        shutil.rmtree(trash, ignore_errors=True)
        folder.rename(trash)
        shutil.rmtree(trash, ignore_errors=True)
    record = new / RECORD
    staged = new.with_name(f"{new.name}-record")
    record.rename(staged)
    new.rename(folder)
    staged.rename(folder / RECORD)
