"""The version pbr would give a commit, computed from a mirror's tags.

pbr takes a package's version from git: a commit tagged X.Y.Z is X.Y.Z; a
commit N commits past its last tag X.Y.Z is X.Y.(Z+1).devN, or a bigger bump
when a commit message carries a ``Sem-Ver: feature`` (minor) or
``Sem-Ver: api-break`` (major) header. The export has no .git, so the forge
computes this once and writes it where pbr looks next: PKG-INFO.
"""

from __future__ import annotations

import configparser
import os
import re
from pathlib import Path

from packaging.version import Version

from imageforge.errors import ForgeError
from imageforge.host import git

_RELEASE_TAG = re.compile(r"^\d+(\.\d+)*$")
_PRE_RELEASE_TAG = re.compile(r"^\d+(\.\d+)*(\.0)?(a|b|rc)\d+$")
_SEM_VER = re.compile(r"^sem-ver:\s*(.+)$", re.IGNORECASE | re.MULTILINE)


def pbr_version(git_dir: Path, commit: str, *, prefix: str = "") -> str:
    """The version of ``commit`` as pbr would compute it from the repository's tags.

    ``prefix``: the release tags' prefix (C projects such as OVS and OVN tag
    v3.4.6); the version is the tag without it.
    """
    on_commit = _version_tags(git_dir, ["tag", "--points-at", commit], prefix)
    if on_commit:
        return max(on_commit, key=_sort_key)
    described = git.run(
        ["describe", "--tags", "--abbrev=0", "--match", f"{prefix}[0-9]*", commit],
        git_dir=git_dir,
        check=False,
    )
    if described.returncode != 0:
        # pbr itself gives 0.0.1.devN when no tag is reachable.
        count = int(git.text(["rev-list", "--count", commit], git_dir=git_dir))
        return f"0.0.1.dev{count}"
    last_tag = described.stdout.decode().strip()
    distance = int(git.text(["rev-list", "--count", f"{last_tag}..{commit}"], git_dir=git_dir))
    messages = git.text(["log", "--format=%B", f"{last_tag}..{commit}"], git_dir=git_dir)
    return f"{_bump(last_tag.removeprefix(prefix), messages)}.dev{distance}"


def _version_tags(git_dir: Path, args: list[str], prefix: str = "") -> list[str]:
    names = [n.removeprefix(prefix) for n in git.text(args, git_dir=git_dir).split()]
    return [n for n in names if _RELEASE_TAG.match(n) or _PRE_RELEASE_TAG.match(n)]


def _sort_key(tag: str) -> Version:
    # Version, not digits: a release sorts above its own candidates
    # (14.0.0 > 14.0.0.0rc1), which often tag the same commit.
    return Version(tag)


def _bump(tag: str, messages: str) -> str:
    numbers = [int(n) for n in re.match(r"^[\d.]+", tag).group(0).strip(".").split(".")]  # type: ignore[union-attr]
    major, minor, patch = [*numbers, 0, 0, 0][:3]
    if _PRE_RELEASE_TAG.match(tag):
        # Past a pre-release the next version is the release itself.
        return f"{major}.{minor}.{patch}"
    headers = {value.strip().lower() for value in _SEM_VER.findall(messages)}
    if "api-break" in headers:
        return f"{major + 1}.0.0"
    if "feature" in headers or "deprecation" in headers:
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def write_pkg_info(tree: Path, version: str) -> str:
    """Write PKG-INFO so pbr reports ``version`` for this package and no other.

    PBR_VERSION would also apply to every other pbr package built in the same
    install (oslo.*, the clients...), so the version goes into the package's
    own PKG-INFO instead, which pbr reads when there is no git metadata. Its
    Name must be the package's own name, read from setup.cfg.
    """
    name = package_name(tree)
    (tree / "PKG-INFO").write_text(f"Metadata-Version: 1.1\nName: {name}\nVersion: {version}\n")
    write_sources_list(tree, name)
    return name


def write_sources_list(tree: Path, name: str) -> Path:
    """List every file of the tree in <name>.egg-info/SOURCES.txt, as an sdist carries it.

    pbr finds a package's modules and data through ``git ls-files``; with no
    .git, setuptools falls back to this list (it is how sdists build). Without
    it, projects that declare no packages explicitly (keystone from 2026.1)
    install their top-level modules only, and package data (alembic
    templates, JSON schemas...) is lost everywhere.
    """
    egg_info = tree / f"{re.sub(r'[^A-Za-z0-9.]+', '_', name)}.egg-info"
    files = []
    for top, dirs, names in os.walk(tree):  # os.walk: pathlib's rglob is ten times slower
        if Path(top) == egg_info:
            dirs.clear()
            continue
        folder = os.path.relpath(top, tree)
        # Symlinks to folders are listed as files, as rglob did (os.walk does not follow them).
        links = [d for d in dirs if os.path.islink(os.path.join(top, d))]
        files += [name if folder == "." else f"{folder}/{name}" for name in names + links]
    files.sort()
    egg_info.mkdir(exist_ok=True)
    sources = egg_info / "SOURCES.txt"
    sources.write_bytes("".join(f"{f}\n" for f in files).encode(errors="surrogateescape"))
    return sources


def package_name(tree: Path) -> str:
    setup_cfg = tree / "setup.cfg"
    try:
        text = setup_cfg.read_text(encoding="utf-8")
    except OSError as err:
        raise ForgeError(f"{setup_cfg}: cannot read [metadata] name: {err}") from err
    return package_name_of(text, str(setup_cfg))


def package_name_of(setup_cfg: str, where: str) -> str:
    """The distribution name in a setup.cfg's [metadata] section."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(setup_cfg)
        return parser.get("metadata", "name").strip()
    except configparser.Error as err:
        raise ForgeError(f"{where}: setup.cfg has no [metadata] name: {err}") from err
