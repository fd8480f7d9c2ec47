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
from dataclasses import asdict, dataclass
from pathlib import Path

from imageforge.context import Forge
from imageforge.host.files import file_lock
from imageforge.patches.apply import APPLIES, PatchError, apply_series
from imageforge.patches.lint import require_clean, touched_paths
from imageforge.patches.series import Series, series_for
from imageforge.upstream.pinned import Pinned
from imageforge.upstream.projects import pinned
from imageforge.upstream.versions import write_pkg_info

RECORD = "export.json"
# Bumped whenever an export's content changes shape (e.g. SOURCES.txt was
# added): older exports are then made again instead of being taken as current.
EXPORT_FORMAT = 2


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


def export_folder(build_dir: Path, release: str, project: str) -> Path:
    return build_dir / "sources" / release / project


def export_project(forge: Forge, release: str, project: str) -> Export:
    """Export one service or library of ``release`` at its pinned ref with its series applied."""
    series = series_for(forge.manifest, project, release)
    if series:
        require_clean([series])
    return export_source(forge, pinned(forge, release, project), series)


def export_source(forge: Forge, target: Pinned, series: Series | None = None) -> Export:
    """Export ``target`` with ``series`` applied, unless that export is already in place.

    A patch that does not apply raises PatchError naming the patch, file and
    hunk, and leaves no tree behind (the previous complete export, if any, stays).
    """
    patches = series.patches if series else ()
    series_digest = series.digest if series else ""
    folder = export_folder(forge.build_dir, target.release, target.project)
    with file_lock(folder.with_name(f".{folder.name}.lock")):
        current = read_export(folder)
        if (
            current is not None
            and current.commit == target.commit
            and current.repo == target.repo
            and current.series_digest == series_digest
        ):
            forge.log(
                f"{target.name}: {target.ref} = {target.commit[:12]}, "
                f"version {current.version}, up to date in {current.tree}"
            )
            return current
        target.prefetch()
        version = target.version()
        folder.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        try:
            tree = work / "tree"
            tree.mkdir()
            try:
                results = apply_series(target.git_dir, target.commit, patches, tree)
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
                package=write_pkg_info(tree, version),
                tree=folder / "tree",
                patches=tuple(p.name for p in applied),
                series_digest=series_digest,
                committed=target.committed(),
                patched_files=patched_files,
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
        return Export(**data, tree=folder / "tree")
    except (OSError, ValueError, TypeError):
        return None


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
