"""Patch series on disk: ``patches/<project>/<release>/series`` and its patch files.

The ``series`` file gives the order explicitly, one patch file name a line
(``#`` starts a comment), never a filesystem glob. Every patch file must be
listed and every listed file must exist. Numbers in the file names are names,
not the order: two patches may share one (downstream series added apart do).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from imageforge.config.manifest import Manifest, Pair
from imageforge.errors import ForgeError
from imageforge.host import git
from imageforge.host.files import under

SERIES_FILE = "series"


class SeriesError(ForgeError):
    """A series file and the patch files beside it disagree."""


@dataclass(frozen=True)
class Series:
    project: str
    release: str
    folder: Path
    patches: tuple[Path, ...]

    @property
    def pair(self) -> Pair:
        return Pair(self.release, self.project)

    @property
    def digest(self) -> str:
        """sha256 over the patches' names and contents, in order: changes when any patch does."""
        h = hashlib.sha256()
        for patch in self.patches:
            h.update(patch.name.encode() + b"\0" + patch.read_bytes() + b"\0")
        return h.hexdigest()


def load_series(folder: Path, pair: Pair) -> Series:
    series_file = folder / SERIES_FILE
    if not series_file.is_file():
        raise SeriesError(f"{folder}: no {SERIES_FILE} file giving the order of the patches")
    names: list[str] = []
    for number, raw in enumerate(series_file.read_text(encoding="utf-8-sig").splitlines(), start=1):
        name = raw.split("#", 1)[0].strip()
        if not name:
            continue
        options = name.split()[1:]
        if options and all(o.startswith("-") for o in options) and not (folder / name).is_file():
            raise SeriesError(
                f"{series_file}:{number}: {name!r}: one file name a line; options after it "
                "(quilt's -pN) are not read: every patch applies with -p1 (a/ and b/ prefixes)"
            )
        if "/" in name or name == SERIES_FILE or not (folder / name).is_file():
            raise SeriesError(f"{series_file}:{number}: {name}: no such patch file in {folder}")
        if name in names:
            raise SeriesError(f"{series_file}:{number}: {name} is listed twice")
        names.append(name)
    on_disk = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name != SERIES_FILE)
    for name in on_disk:
        if name not in names:
            raise SeriesError(f"{folder / name}: not listed in {series_file}")
    return Series(pair.project, pair.release, folder, tuple(folder / n for n in names))


def discover(manifest: Manifest) -> list[Series]:
    """Every series under patches/, checked against releases.yaml."""
    root = manifest.root / "patches"
    if not root.is_dir():
        return []
    found = []
    for project_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for release_dir in sorted(p for p in project_dir.iterdir() if p.is_dir()):
            release = manifest.release_or_none(release_dir.name)
            if release is None:
                raise SeriesError(
                    f"{release_dir}: release {release_dir.name} is not in releases.yaml"
                )
            projects = {s.name for s in release.services} | {lib.name for lib in release.libraries}
            if project_dir.name not in projects:
                raise SeriesError(
                    f"{release_dir}: {project_dir.name} is not a service or library of release "
                    f"{release.name} in releases.yaml"
                )
            found.append(load_series(release_dir, Pair(release.name, project_dir.name)))
    return found


def series_for(manifest: Manifest, pair: Pair) -> Series | None:
    """The series of ``pair``, or None when it carries no patches."""
    folder = series_folder(manifest.root, pair)
    if not folder.is_dir():
        return None
    return load_series(folder, pair)


def series_folder(root: Path, pair: Pair) -> Path:
    """patches/<project>/<release>/ of the project at ``root``."""
    return under(root / "patches", pair.project, pair.release)


def select(
    manifest: Manifest, releases: tuple[str, ...] = (), projects: tuple[str, ...] = ()
) -> list[Series]:
    """The series of the named releases and projects (all when none named); unknown names fail."""
    manifest.require_projects(releases, projects)
    return [
        series
        for series in discover(manifest)
        if (not releases or series.release in releases)
        and (not projects or series.project in projects)
    ]


def changed_since(manifest: Manifest, since: str) -> list[Pair]:
    """The pairs whose series folder changed between commit ``since`` and the work tree.

    Read from the forge's own repository (``git diff``), for CI to test only
    the series a change touches. A series removed since has nothing to test.
    """
    root = manifest.root
    try:
        listing = git.text(["diff", "--name-only", since, "--", "patches/"], cwd=root)
        listing += "\n" + git.text(
            ["ls-files", "--others", "--exclude-standard", "--", "patches/"], cwd=root
        )
    except git.GitError as err:
        raise SeriesError(f"cannot tell which series changed since {since!r}: {err}") from err
    pairs: dict[Pair, None] = {}
    for path in listing.splitlines():
        parts = path.split("/")
        if len(parts) >= 4 and parts[0] == "patches":
            pair = Pair(parts[2], parts[1])
            if series_folder(root, pair).is_dir():
                pairs[pair] = None
    return list(pairs)
