"""Lint patch files before anything applies them.

Each problem is one line naming the patch file (and the file inside it):
malformed or truncated hunks, CRLF damage, diffs without a/ b/ prefixes (they
would apply with -p1 to the wrong paths), paths outside the tree, symlinks
pointing out of the tree, conflict markers left by a bad merge, and binary
changes that cannot be applied because they lack their content or full index.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from imageforge.errors import ForgeError
from imageforge.patches.series import Series

_DIFF_HEADER = re.compile(r"^diff --git a/(\S+) b/(\S+)$", re.MULTILINE)
# With prefixes the two paths differ (a/x b/x); without (--no-prefix) they are the same.
_NO_PREFIX_HEADER = re.compile(r"^diff --git (\S+) \1$", re.MULTILINE)
_PATH_LINE = re.compile(r"^(?:---|\+\+\+) (\S+)", re.MULTILINE)
_FULL_INDEX = re.compile(r"^index [0-9a-f]{40}\.\.[0-9a-f]{40}", re.MULTILINE)
_SYMLINK_MODE = re.compile(r"^(?:new file|new) mode 120000$", re.MULTILINE)
# Only the opening, base and closing markers: a line of seven '=' alone is an
# RST heading underline far more often than a conflict separator.
_CONFLICT_MARKER = re.compile(r"^\+((?:<{7}|\|{7}|>{7})(?: .*)?)$", re.MULTILINE)


class PatchLintError(ForgeError):
    """One or more patch files are damaged or unsafe."""


def lint_patch(patch: Path) -> list[str]:
    """The problems of one patch file, each naming the file; empty when it is sound."""
    raw = patch.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    problems: list[str] = []
    if b"\r\n" in raw:
        problems.append(f"{patch}: CRLF line endings (damaged by an editor or mail client?)")
    for path in dict.fromkeys(_NO_PREFIX_HEADER.findall(text)):
        problems.append(
            f"{patch}: {path}: a diff without a/ and b/ prefixes (--no-prefix or diff.noprefix); "
            "patches apply with -p1: regenerate it with the prefixes"
        )
    if not _DIFF_HEADER.search(text) and "\n--- " not in text:
        return [*problems, f"{patch}: no diff in the file"]
    for path in sorted(set(_paths(text))):
        if _outside(path):
            problems.append(f"{patch}: {path}: path outside the source tree")
    for section in re.split(r"(?=^diff --git )", text, flags=re.MULTILINE):
        header = _DIFF_HEADER.match(section)
        if header:
            problems += [
                f"{patch}: {header.group(2)}: {p}"
                for p in _section_problems(section, header.group(2))
            ]
    try:
        PatchSet(text.replace("\r\n", "\n"))
    except UnidiffParseError as err:
        problems.append(f"{patch}: malformed or truncated hunk: {err}")
    return problems


def _section_problems(section: str, name: str) -> list[str]:
    """What is wrong with one file's diff inside a patch."""
    problems = []
    if re.search(r"^Binary files .* differ$", section, re.MULTILINE):
        problems.append("binary change without its content (regenerate with --binary)")
    elif "GIT binary patch" in section and not _FULL_INDEX.search(section):
        problems.append("binary patch without a full index (use --full-index)")
    if _SYMLINK_MODE.search(section):
        for target in _added_lines(section):
            if target.startswith("/") or _outside(posixpath.join(posixpath.dirname(name), target)):
                problems.append(f"symlink to {target} points outside the source tree")
    for marker in _CONFLICT_MARKER.findall(section):
        problems.append(f"adds a conflict marker line {marker[:40]!r} (an unresolved merge)")
    return problems


def _added_lines(section: str) -> list[str]:
    return [
        line[1:]
        for line in section.splitlines()
        if line.startswith("+") and not line.startswith("+++ ")
    ]


def _outside(path: str) -> bool:
    return path.startswith("/") or posixpath.normpath(path).split("/")[0] == ".."


def lint_series(series: Series) -> list[str]:
    return [problem for patch in series.patches for problem in lint_patch(patch)]


def require_clean(series_list: list[Series]) -> None:
    problems = [problem for series in series_list for problem in lint_series(series)]
    if problems:
        raise PatchLintError("; ".join(problems))


def _paths(text: str) -> list[str]:
    paths = []
    for match in _DIFF_HEADER.finditer(text):
        paths += [match.group(1), match.group(2)]
    for match in _PATH_LINE.finditer(text):
        value = match.group(1)
        if value != "/dev/null":
            paths.append(value[2:] if value[:2] in ("a/", "b/") else value)
    return paths


def touched_paths(patches: tuple[Path, ...]) -> list[str]:
    """Every path a series reads or writes (for fetching just those blobs)."""
    paths: set[str] = set()
    for patch in patches:
        paths.update(_paths(patch.read_text(encoding="utf-8", errors="replace")))
    return sorted(paths)
