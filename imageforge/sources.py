"""Export a project's tree at its pinned ref into a build folder, atomically.

``build/sources/<release>/<project>/`` holds ``tree/`` (the build context: the
files at that commit, no .git, PKG-INFO carrying the upstream version) and
``export.json`` (what it was made from). An export is built in a temporary
folder and renamed into place, so an interrupted or failed run never leaves a
tree that a later build would take for complete.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from imageforge import git
from imageforge.errors import ForgeError
from imageforge.locks import file_lock
from imageforge.mirrors import RefError, mirror_for
from imageforge.versions import pbr_version, write_pkg_info

RECORD = "export.json"


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

    def record(self) -> dict[str, str]:
        data = asdict(self)
        data.pop("tree")
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
    offline: bool = False,
    log: Callable[[str], None] = print,
) -> Export:
    """Export ``spec`` unless an identical export is already in place; return it."""
    commit = resolve(spec, cache, offline=offline)
    folder = export_folder(build_dir, spec)
    with file_lock(folder.with_name(f".{folder.name}.lock")):
        current = read_export(folder)
        if current is not None and current.commit == commit and current.repo == spec.repo:
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
            _archive(mirror.path, commit, tree)
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
            )
            (work / RECORD).write_text(json.dumps(export.record(), indent=2) + "\n")
            _replace(work, folder)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        log(
            f"{spec.project} ({spec.release}): {spec.ref} = {commit[:12]}, "
            f"version {version}, exported to {export.tree}"
        )
        return export


def read_export(folder: Path) -> Export | None:
    """The export recorded in ``folder``, or None when there is no complete one."""
    try:
        data = json.loads((folder / RECORD).read_text())
        return Export(**data, tree=folder / "tree")
    except (OSError, ValueError, TypeError):
        return None


def _archive(git_dir: Path, commit: str, tree: Path) -> None:
    archive = git.run(["archive", "--format=tar", commit], git_dir=git_dir)
    proc = subprocess.run(
        ["tar", "-x", "-C", str(tree)], input=archive.stdout, capture_output=True, check=False
    )
    if proc.returncode != 0:
        raise ForgeError(f"unpacking {commit} into {tree} failed: {proc.stderr.decode()[-300:]}")


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
