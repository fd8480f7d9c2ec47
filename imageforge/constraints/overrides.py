"""constraints/<release>.txt: the maintainer's overrides of upper-constraints, parsed and applied.

One override per line::

    # replace upstream's pin(s) of a package; several lines with distinct
    # markers replace all of upstream's lines for that package together
    oslo.messaging===14.9.2
    +my-extra-lib===1.0        # add a pin upstream does not have
    -horizon                   # remove upstream's pin(s)

Names compare by PEP 503 normalisation (glance_store == glance-store ==
Glance.Store). Replacing or removing a package upstream does not pin, or
adding one it does, is an error naming the file and line: a silent no-op
would hide a stale override. Two pins of one package whose markers overlap
could never both be satisfied: an error naming both lines.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from imageforge.errors import ForgeError

# A pin line's package name (comments excluded by the caller).
PIN_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class ConstraintsError(ForgeError):
    """An overrides file is malformed or does not fit upstream's constraints."""


class Action(enum.Enum):
    """What an override line asks for."""

    REPLACE = "replace"
    ADD = "add"
    REMOVE = "remove"


class ChangeKind(enum.Enum):
    """What happened to one package of upstream's constraints."""

    REPLACED = "replaced"
    ADDED = "added"
    REMOVED = "removed"
    FROM_SOURCE = "from source"


@dataclass(frozen=True)
class Pin:
    line: str  # NAME===VERSION[;MARKER]
    marker: str  # normalised marker text, "" for none
    where: str  # file:line


@dataclass(frozen=True)
class Override:
    action: Action
    name: str  # normalised
    pins: tuple[Pin, ...]  # the pins to write (none for remove)
    where: str  # file:line of the first line, for messages

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(pin.line for pin in self.pins)


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    name: str
    old: tuple[str, ...]
    new: tuple[str, ...]


def normalize(name: str) -> str:
    """PEP 503: runs of -, _ and . are one -, case does not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


def overrides_path(project_root: Path, release: str) -> Path:
    return project_root / "constraints" / f"{release}.txt"


def parse_overrides(path: Path) -> list[Override]:
    """Read an overrides file; a missing file means no overrides."""
    if not path.is_file():
        return []
    groups: dict[str, Override] = {}
    # Comments are the maintainer's own (a latin-1 editor's é among them);
    # only the part that is read must be UTF-8.
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    for number, read in enumerate(text.splitlines(), start=1):
        line = read.split("#", 1)[0].strip()
        # As messages show it (a lone surrogate cannot be printed).
        raw = read.encode(errors="surrogateescape").decode(errors="replace")
        if not line:
            continue
        where = f"{path}:{number}"
        if any("\udc80" <= char <= "\udcff" for char in line):
            raise ConstraintsError(
                f"{where}: not UTF-8 text: {line.encode(errors='surrogateescape')!r}"
            )
        if line.startswith("-"):
            name = line[1:].strip()
            if not _PLAIN_NAME.fullmatch(name):
                raise _malformed(where, raw)
            override = Override(Action.REMOVE, normalize(name), (), where)
        else:
            action = Action.ADD if line.startswith("+") else Action.REPLACE
            name, pin = _parse_pin(line.lstrip("+").strip(), where, raw)
            override = Override(action, normalize(name), (pin,), where)
        previous = groups.get(override.name)
        if previous is None:
            groups[override.name] = override
        elif previous.action == override.action != Action.REMOVE:
            _require_disjoint(previous, override)
            # Several marker variants of one package form one replacement.
            groups[override.name] = Override(
                previous.action, previous.name, previous.pins + override.pins, previous.where
            )
        else:
            raise ConstraintsError(
                f"{where}: {override.name} is already overridden at {previous.where}"
            )
    return list(groups.values())


def _require_disjoint(previous: Override, new: Override) -> None:
    """Two pins of one package must apply to different environments (distinct markers)."""
    pin = new.pins[0]
    for other in previous.pins:
        # Without a marker a pin applies everywhere; the same marker twice overlaps too.
        if not pin.marker or not other.marker or pin.marker == other.marker:
            raise ConstraintsError(
                f"{pin.where}: {new.name} is pinned twice for the same environments "
                f"({other.where}: {other.line}; {pin.where}: {pin.line}); keep one"
            )


def _parse_pin(text: str, where: str, raw: str) -> tuple[str, Pin]:
    try:
        requirement = Requirement(text)
    except InvalidRequirement as err:
        raise _malformed(where, raw) from err
    specs = list(requirement.specifier)
    if (
        requirement.url
        or requirement.extras
        or len(specs) != 1
        or specs[0].operator not in ("==", "===")
    ):
        raise _malformed(where, raw)
    try:
        Version(specs[0].version)
    except InvalidVersion as err:
        raise _malformed(where, raw) from err
    marker = str(requirement.marker) if requirement.marker else ""
    suffix = f";{marker}" if marker else ""
    line = f"{requirement.name}==={specs[0].version}{suffix}"
    return requirement.name, Pin(line, marker, where)


def _malformed(where: str, raw: str) -> ConstraintsError:
    return ConstraintsError(
        f"{where}: malformed override {raw.strip()!r} "
        "(expected NAME===VERSION, +NAME===VERSION or -NAME, optionally ;MARKER)"
    )


def pinned_names(lines: list[str]) -> dict[str, list[int]]:
    """The indices of each (normalised) package's pin lines."""
    by_name: dict[str, list[int]] = {}
    for index, line in enumerate(lines):
        match = PIN_NAME.match(line)
        if match and not line.lstrip().startswith("#"):
            by_name.setdefault(normalize(match.group(1)), []).append(index)
    return by_name


def apply_overrides(
    upstream: str,
    overrides: list[Override],
    built_from_source: Mapping[str, str] | None = None,
) -> tuple[list[str], list[Change]]:
    """Upstream's lines with the overrides applied, and what changed."""
    lines = upstream.splitlines()
    by_name = pinned_names(lines)
    replacement: dict[int, tuple[str, ...]] = {}  # first index -> new lines; others dropped
    dropped: set[int] = set()
    added: list[str] = []
    changes: list[Change] = []

    def replace_all(name: str, new: tuple[str, ...], kind: ChangeKind) -> None:
        indices = by_name[name]
        changes.append(Change(kind, name, tuple(lines[i] for i in indices), new))
        replacement[indices[0]] = new
        dropped.update(indices[1:])

    for override in overrides:
        present = override.name in by_name
        if override.action == Action.ADD:
            if present:
                raise ConstraintsError(
                    f"{override.where}: +{override.name}: upstream already pins it "
                    f"({lines[by_name[override.name][0]]}); drop the + to replace it"
                )
            added.extend(override.lines)
            changes.append(Change(ChangeKind.ADDED, override.name, (), override.lines))
            continue
        if not present:
            verb = override.action.value
            hint = "" if override.action == Action.REMOVE else "; write +NAME===VERSION to add it"
            raise ConstraintsError(
                f"{override.where}: cannot {verb} {override.name}: upstream does not pin it{hint}"
            )
        kind = ChangeKind.REPLACED if override.action == Action.REPLACE else ChangeKind.REMOVED
        replace_all(override.name, override.lines, kind)

    for name, version in sorted((built_from_source or {}).items()):
        key = normalize(name)
        if key in by_name and not any(c.name == key for c in changes):
            replace_all(key, (f"{name}==={version}",), ChangeKind.FROM_SOURCE)

    result: list[str] = []
    for index, line in enumerate(lines):
        if index in replacement:
            result.extend(replacement[index])
        elif index not in dropped:
            result.append(line)
    return result + added, changes


def pinned_version(lines: list[str], name: str, release: str) -> str:
    """The single version ``lines`` pin ``name`` to (a library taken at its pin)."""
    key = normalize(name)
    versions = []
    for line in lines:
        match = PIN_NAME.match(line)
        if match and not line.lstrip().startswith("#") and normalize(match.group(1)) == key:
            versions.append(line.split("===", 1)[1].split(";", 1)[0].strip())
    if len(set(versions)) == 1:
        return versions[0]
    if not versions:
        raise ConstraintsError(
            f"release {release}: upper-constraints does not pin {name}; "
            f"give releases.{release}.libraries.{name}.ref"
        )
    raise ConstraintsError(
        f"release {release}: upper-constraints pins {name} differently per marker "
        f"({', '.join(versions)}); give releases.{release}.libraries.{name}.ref"
    )
