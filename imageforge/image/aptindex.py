"""What the distribution serves now: package versions from the host's apt index.

The content key of an image follows the versions the mirror serves for the
OS packages the image installed (image.packagelock). They are read from
the package index apt keeps on the host (``apt-get indextargets`` names the
files, ``apt-helper cat-file`` reads them whatever their compression), for
an image's suite and its -updates and -security suites, and cached per index
state: parsing the index takes seconds, a lookup after that a few ms.

FORGE_APT_INDEX, a folder of plain ``Packages`` files, stands in for the
host's index (tests plant a newer version there). The index state also goes
into a small build context (``apt-state``) that the steps which install
packages mount, so BuildKit runs them again exactly when the index changed.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from imageforge.context import Forge
from imageforge.errors import ForgeError
from imageforge.host.files import write_atomically
from imageforge.image.debversion import newest

APT_HELPER = "/usr/lib/apt/apt-helper"
# Suites an image of suite S reads (aptsources.host_update_suites gives it them).
_SUITE_SUFFIXES = ("", "-updates", "-security")


@dataclass(frozen=True)
class IndexFile:
    path: Path
    suite: str  # bookworm, bookworm-updates, bookworm-security; "" when not known


def index_files(forge: Forge) -> list[IndexFile]:
    """The index files of this host (or FORGE_APT_INDEX), asked once per command.

    ``apt-get indextargets`` takes a second or two; a build plans each image
    (and its apt-state) with them.
    """
    memo_key = ("apt-index-files", forge.apt_index)
    if memo_key not in forge.memo:
        forge.memo[memo_key] = host_index_files(forge.apt_index)
    return forge.memo[memo_key]


def host_index_files(override: Path | None = None) -> list[IndexFile]:
    """The Packages files apt has on this host (or every file in ``override``)."""
    if override is not None:
        if not override.is_dir():
            raise ForgeError(f"FORGE_APT_INDEX={override}: not a folder (of Packages files)")
        return [IndexFile(path, "") for path in sorted(override.iterdir()) if path.is_file()]
    try:
        proc = subprocess.run(
            ["apt-get", "indextargets", "Identifier: Packages"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:  # not a Debian host: nothing is known, recorded versions stand
        return []
    files = []
    for stanza in proc.stdout.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line)
        path = Path(fields.get("Filename", ""))
        if fields.get("Filename") and path.is_file():
            files.append(IndexFile(path, fields.get("Release") or fields.get("Codename", "")))
    return files


def index_state(files: Iterable[IndexFile]) -> str:
    """A digest of the index files' names, sizes and times: it changes when apt updates them."""
    digest = hashlib.sha256()
    for each in sorted(files, key=lambda f: str(f.path)):
        stat = each.path.stat()
        digest.update(f"{each.path} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def suite_files(files: Iterable[IndexFile], suite: str) -> list[IndexFile]:
    """The files of ``suite`` and its update suites; files of no known suite always count."""
    wanted = {suite + suffix for suffix in _SUITE_SUFFIXES}
    return [each for each in files if not each.suite or each.suite in wanted]


def served_versions(files: list[IndexFile], cache: Path) -> dict[str, str]:
    """The newest version of each package ``files`` serve, cached per index state."""
    if not files:
        return {}
    path = cache / "apt-index" / f"{index_state(files)}.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    versions: dict[str, str] = {}
    for each in files:
        for package, version in parse_packages(read_index(each.path)):
            known = versions.get(package)
            versions[package] = version if known is None else newest(known, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(versions, sort_keys=True))
    return versions


def parse_packages(text: str) -> Iterable[tuple[str, str]]:
    """(package, version) of each stanza of a Packages file."""
    package = version = ""
    for line in text.splitlines():
        if not line:
            if package and version:
                yield package, version
            package = version = ""
        elif line.startswith("Package: "):
            package = line[9:].strip()
        elif line.startswith("Version: "):
            version = line[9:].strip()
    if package and version:
        yield package, version


def read_index(path: Path) -> str:
    """An index file's text, whatever its compression."""
    if path.suffix in (".lz4", ".gz", ".xz", ".zst", ".bz2", ".lzma"):
        proc = subprocess.run([APT_HELPER, "cat-file", str(path)], capture_output=True, check=False)
        return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else ""
    return path.read_text(encoding="utf-8", errors="replace")
