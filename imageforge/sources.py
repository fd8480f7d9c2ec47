"""Export a project's tree at its pinned ref into a build folder, atomically.

``build/sources/<release>/<project>/`` holds ``tree/`` (the build context: the
files at that commit with the project's patch series applied, no .git,
PKG-INFO carrying the upstream version) and ``export.json`` (what it was made
from: commit, version, the patches applied and the series digest). An export is built in a temporary
folder and renamed into place, so an interrupted or failed run never leaves a
tree that a later build would take for complete.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from imageforge import git
from imageforge.errors import ForgeError
from imageforge.locks import file_lock
from imageforge.mirrors import RefError, mirror_for
from imageforge.patchcheck import APPLIES, PatchError, PatchResult, apply_series
from imageforge.patchlint import touched_paths
from imageforge.series import Series
from imageforge.versions import pbr_version, write_pkg_info

RECORD = "export.json"
# Bumped whenever an export's content changes shape (e.g. SOURCES.txt was
# added): older exports are then made again instead of being taken as current.
EXPORT_FORMAT = 2


@dataclass(frozen=True)
class SourceSpec:
    """What to export: a project (service or library) of a release at a ref."""

    project: str
    release: str
    repo: str
    ref: str


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

    def record(self) -> dict:
        data = asdict(self)
        data.pop("tree")
        data["patches"] = list(self.patches)
        data["patched_files"] = list(self.patched_files)
        data["format"] = EXPORT_FORMAT
        return data


def export_folder(build_dir: Path, spec: SourceSpec) -> Path:
    return build_dir / "sources" / spec.release / spec.project


def resolve(spec: SourceSpec, cache: Path, *, offline: bool = False) -> str:
    """The commit ``spec.ref`` names, with an error that says which service, release and repo."""
    mirror = mirror_for(spec.repo, cache)
    try:
        return mirror.resolve(spec.ref, offline=offline)
    except ForgeError as err:
        raise RefError(
            f"{spec.project} ({spec.release}): {spec.repo} at {spec.ref!r}: {err}"
        ) from err


def export_source(
    spec: SourceSpec,
    cache: Path,
    build_dir: Path,
    *,
    series: Series | None = None,
    offline: bool = False,
    log: Callable[[str], None] = print,
) -> Export:
    """Export ``spec`` with ``series`` applied, unless that export is already in place.

    A patch that does not apply raises PatchError naming the patch, file and
    hunk, and leaves no tree behind (the previous complete export, if any, stays).
    """
    patches = series.patches if series else ()
    series_digest = series.digest if series else ""
    commit = resolve(spec, cache, offline=offline)
    folder = export_folder(build_dir, spec)
    with file_lock(folder.with_name(f".{folder.name}.lock")):
        current = read_export(folder)
        if (
            current is not None
            and current.commit == commit
            and current.repo == spec.repo
            and current.series_digest == series_digest
        ):
            log(
                f"{spec.project} ({spec.release}): {spec.ref} = {commit[:12]}, "
                f"version {current.version}, up to date in {current.tree}"
            )
            return current
        mirror = mirror_for(spec.repo, cache)
        mirror.prefetch_blobs(commit)
        version = pbr_version(mirror.path, commit)
        folder.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        try:
            tree = work / "tree"
            tree.mkdir()
            try:
                results = _write_tree(mirror.path, commit, patches, tree)
            except PatchError as err:
                raise PatchError(f"{spec.project} ({spec.release}) at {spec.ref}: {err}") from err
            applied = tuple(r.patch.name for r in results if r.status == APPLIES)
            committed = git.text(["show", "-s", "--format=%cI", commit], git_dir=mirror.path)
            applied_files = [r.patch for r in results if r.status == APPLIES]
            patched_files = tuple(
                p for p in touched_paths(tuple(applied_files)) if (tree / p).is_file()
            )
            package = write_pkg_info(tree, version)
            export = Export(
                project=spec.project,
                release=spec.release,
                repo=spec.repo,
                ref=spec.ref,
                commit=commit,
                version=version,
                package=package,
                tree=folder / "tree",
                patches=applied,
                series_digest=series_digest,
                committed=committed,
                patched_files=patched_files,
            )
            (work / RECORD).write_text(json.dumps(export.record(), indent=2) + "\n")
            _replace(work, folder)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        patched = f", {len(applied)} patches applied" if patches else ""
        log(
            f"{spec.project} ({spec.release}): {spec.ref} = {commit[:12]}, "
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
        return Export(**data, tree=folder / "tree")
    except (OSError, ValueError, TypeError):
        return None


def _write_tree(
    git_dir: Path, commit: str, patches: tuple[Path, ...], tree: Path
) -> list[PatchResult]:
    return apply_series(git_dir, commit, patches, tree)


def _replace(new: Path, folder: Path) -> None:
    """Put ``new`` at ``folder``; the record is renamed in last, so a reader never sees half."""
    if folder.exists():
        # Remove the old record first: from here on the folder is not complete.
        (folder / RECORD).unlink(missing_ok=True)
        trash = folder.with_name(f".{folder.name}-old")
        shutil.rmtree(trash, ignore_errors=True)
        folder.rename(trash)
        shutil.rmtree(trash, ignore_errors=True)
    record = new / RECORD
    staged = new.with_name(f"{new.name}-record")
    record.rename(staged)
    new.rename(folder)
    staged.rename(folder / RECORD)
