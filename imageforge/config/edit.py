"""Change one value in releases.yaml without touching its comments or layout.

A YAML round trip would reflow the file; instead the line holding the key is
found through the parser and only the value text on that line is replaced.
"""

from __future__ import annotations

import re
from pathlib import Path

from imageforge.config.manifest import Manifest, Pair
from imageforge.config.yamlnodes import KeyPath, format_path, load_document
from imageforge.errors import ManifestError
from imageforge.host.files import write_atomically


def set_scalar(path: Path, key_path: KeyPath, old: str, new: str) -> bool:
    """Replace ``key: old`` by ``key: new`` on the line of ``key_path``; False if already new."""
    document = load_document(path)
    line_number = document.lines.get(key_path)
    if line_number is None:
        raise ManifestError(f"{path}: {format_path(key_path)}: not found")
    if old == new:
        return False
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    line = lines[line_number - 1]
    key = re.escape(key_path[-1])
    pattern = re.compile(rf"(\b{key}:\s*)(['\"]?){re.escape(old)}\2(?=\s*(?:[,}}#]|$))")
    replaced, count = pattern.subn(lambda m: f"{m.group(1)}{m.group(2)}{new}{m.group(2)}", line)
    if count != 1:
        already = pattern.pattern.replace(re.escape(old), re.escape(new), 1)
        if re.search(already, line):
            return False  # written already (a write-back that is run again)
        raise ManifestError(
            f"{path}:{line_number}: {format_path(key_path)}: cannot find the value {old!r} to replace"
        )
    lines[line_number - 1] = replaced
    _write(path, lines)
    return True


def set_ref(manifest: Manifest, pair: Pair, old: str, new: str) -> bool:
    """Point ``pair``'s project (a service or a library) at ``new`` in releases.yaml."""
    release = manifest.release(pair.release)
    library = next((lib for lib in release.libraries if lib.name == pair.project), None)
    if library is None:
        key_path: tuple[str, ...] = ("releases", pair.release, "services", pair.project, "ref")
    else:  # a patched library, or a project an image carries
        key_path = library.ref_path(pair.release)
    document = load_document(manifest.path)
    if key_path in document.lines:
        return set_scalar(manifest.path, key_path, old, new)
    # A library taken at its pinned version has no ref yet: give it one.
    return _add_ref(manifest.path, key_path[:-1], document.lines.get(key_path[:-1]), new)


def _add_ref(path: Path, key_path: KeyPath, line_number: int | None, new: str) -> bool:
    if line_number is None:
        raise ManifestError(f"{path}: {format_path(key_path)}: not found")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    line = lines[line_number - 1]
    key = re.escape(key_path[-1])
    replaced, count = re.subn(
        rf"(\b{key}:\s*)(\{{\s*\}}|$)", rf"\g<1>{{ref: {new}}}", line, count=1
    )
    if count != 1:
        raise ManifestError(
            f"{path}:{line_number}: {format_path(key_path)}: add `ref: {new}` by hand"
        )
    lines[line_number - 1] = replaced
    _write(path, lines)
    return True


def _write(path: Path, lines: list[str]) -> None:
    write_atomically(path, "".join(lines))
