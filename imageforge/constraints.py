"""A release's constraints: upper-constraints.txt at its requirements ref + its overrides.

The overrides live in ``constraints/<release>.txt``, one per line::

    # replace upstream's pin(s) of a package; several lines with markers
    # replace all of upstream's lines for that package together
    oslo.messaging===14.9.2
    +my-extra-lib===1.0        # add a pin upstream does not have
    -horizon                   # remove upstream's pin(s)

Names compare by PEP 503 normalisation (glance_store == glance-store ==
Glance.Store). Replacing or removing a package upstream does not pin, or
adding one it does, is an error naming the file and line: a silent no-op
would hide a stale override. Packages built from source (services, patched
libraries) get their pin set to the version actually built.

The output keeps upstream's order and comments and carries no timestamp, so
it changes only when its inputs do.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from imageforge import git
from imageforge.errors import ForgeError
from imageforge.manifest import Release
from imageforge.mirrors import mirror_for
from imageforge.sources import SourceSpec, resolve

UPPER_CONSTRAINTS = "upper-constraints.txt"
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class ConstraintsError(ForgeError):
    """An overrides file is malformed or does not fit upstream's constraints."""


def normalize(name: str) -> str:
    """PEP 503: runs of -, _ and . are one -, case does not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Override:
    action: str  # "replace", "add" or "remove"
    name: str  # normalised
    lines: tuple[str, ...]  # the pin lines to write (none for remove)
    where: str  # file:line of the first line, for messages


@dataclass(frozen=True)
class Change:
    action: str  # "replaced", "added", "removed" or "from source"
    name: str
    old: tuple[str, ...]
    new: tuple[str, ...]


@dataclass(frozen=True)
class Constraints:
    path: Path
    digest: str
    upstream_commit: str
    upstream_pins: int
    changes: tuple[Change, ...] = field(default=())

    def summary(self, release: str) -> str:
        lines = [
            f"constraints {release}: {self.upstream_pins} upstream pins at requirements "
            f"{self.upstream_commit[:12]}; {len(self.changes)} changed by overrides"
        ]
        width = max((len(c.name) for c in self.changes), default=0)
        for change in self.changes:
            old = ", ".join(change.old) or "-"
            new = ", ".join(change.new) or "-"
            lines.append(f"  {change.action:<11} {change.name:<{width}}  {old} -> {new}")
        lines.append(f"wrote {self.path} (sha256 {self.digest[:16]})")
        return "\n".join(lines)


def parse_overrides(path: Path) -> list[Override]:
    """Read an overrides file; a missing file means no overrides."""
    if not path.is_file():
        return []
    groups: dict[str, Override] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{path}:{number}"
        if line.startswith("-"):
            name = line[1:].strip()
            if not _PLAIN_NAME.fullmatch(name):
                raise _malformed(where, raw)
            override = Override("remove", normalize(name), (), where)
        else:
            action = "add" if line.startswith("+") else "replace"
            pin = _parse_pin(line.lstrip("+").strip(), where, raw)
            override = Override(action, normalize(pin[0]), (pin[1],), where)
        previous = groups.get(override.name)
        if previous is None:
            groups[override.name] = override
        elif previous.action == override.action and override.action != "remove":
            # Several marker variants of one package form one replacement.
            groups[override.name] = Override(
                previous.action, previous.name, previous.lines + override.lines, previous.where
            )
        else:
            raise ConstraintsError(
                f"{where}: {override.name} is already overridden at {previous.where}"
            )
    return list(groups.values())


def _parse_pin(text: str, where: str, raw: str) -> tuple[str, str]:
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
    marker = f";{requirement.marker}" if requirement.marker else ""
    return requirement.name, f"{requirement.name}==={specs[0].version}{marker}"


def _malformed(where: str, raw: str) -> ConstraintsError:
    return ConstraintsError(
        f"{where}: malformed override {raw.strip()!r} "
        "(expected NAME===VERSION, +NAME===VERSION or -NAME, optionally ;MARKER)"
    )


def apply_overrides(
    upstream: str,
    overrides: list[Override],
    built_from_source: Mapping[str, str] | None = None,
) -> tuple[list[str], list[Change]]:
    """Upstream's lines with the overrides applied, and what changed."""
    lines = upstream.splitlines()
    by_name: dict[str, list[int]] = {}
    for index, line in enumerate(lines):
        match = _NAME.match(line)
        if match and not line.lstrip().startswith("#"):
            by_name.setdefault(normalize(match.group(1)), []).append(index)

    replacement: dict[int, tuple[str, ...]] = {}  # first index -> new lines; others dropped
    dropped: set[int] = set()
    added: list[str] = []
    changes: list[Change] = []

    def replace_all(name: str, new: tuple[str, ...], action: str) -> None:
        indices = by_name[name]
        changes.append(Change(action, name, tuple(lines[i] for i in indices), new))
        replacement[indices[0]] = new
        dropped.update(indices[1:])

    for override in overrides:
        present = override.name in by_name
        if override.action == "add":
            if present:
                raise ConstraintsError(
                    f"{override.where}: +{override.name}: upstream already pins it "
                    f"({lines[by_name[override.name][0]]}); drop the + to replace it"
                )
            added.extend(override.lines)
            changes.append(Change("added", override.name, (), override.lines))
            continue
        if not present:
            verb = "remove" if override.action == "remove" else "replace"
            hint = "" if override.action == "remove" else "; write +NAME===VERSION to add it"
            raise ConstraintsError(
                f"{override.where}: cannot {verb} {override.name}: upstream does not pin it{hint}"
            )
        replace_all(override.name, override.lines, "replaced" if override.lines else "removed")

    for name, version in sorted((built_from_source or {}).items()):
        key = normalize(name)
        if key in by_name and not any(c.name == key for c in changes):
            replace_all(key, (f"{name}==={version}",), "from source")

    result: list[str] = []
    for index, line in enumerate(lines):
        if index in replacement:
            result.extend(replacement[index])
        elif index not in dropped:
            result.append(line)
    return result + added, changes


def generate(
    release: Release,
    project_root: Path,
    cache: Path,
    build_dir: Path,
    *,
    built_from_source: Mapping[str, str] | None = None,
    offline: bool = False,
    log: Callable[[str], None] = print,
) -> Constraints:
    """Write build/constraints/<release>/upper-constraints.txt and return what it holds."""
    spec = _requirements_spec(release)
    commit, upstream = read_upstream(release, cache, offline=offline)
    overrides_path = project_root / "constraints" / f"{release.name}.txt"
    lines, changes = apply_overrides(upstream, parse_overrides(overrides_path), built_from_source)
    relative = overrides_path.relative_to(project_root)
    header = [
        "# Generated by imageforge; do not edit.",
        f"# upstream: {spec.repo} {commit} {UPPER_CONSTRAINTS}",
        f"# overrides: {relative}" if overrides_path.is_file() else "# overrides: none",
    ]
    content = "\n".join(header + lines) + "\n"
    target = build_dir / "constraints" / release.name / UPPER_CONSTRAINTS
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(content)
    partial.replace(target)
    pins = sum(
        1 for line in upstream.splitlines() if _NAME.match(line) and not line.startswith("#")
    )
    result = Constraints(
        path=target,
        digest=hashlib.sha256(content.encode()).hexdigest(),
        upstream_commit=commit,
        upstream_pins=pins,
        changes=tuple(changes),
    )
    log(result.summary(release.name))
    return result


def _requirements_spec(release: Release) -> SourceSpec:
    return SourceSpec(
        "requirements", release.name, release.requirements.repo, release.requirements.ref
    )


def read_upstream(release: Release, cache: Path, *, offline: bool = False) -> tuple[str, str]:
    """The requirements commit of ``release`` and its upper-constraints.txt text."""
    spec = _requirements_spec(release)
    commit = resolve(spec, cache, offline=offline)
    mirror = mirror_for(spec.repo, cache)
    try:
        return commit, git.text_raw(["show", f"{commit}:{UPPER_CONSTRAINTS}"], git_dir=mirror.path)
    except git.GitError as err:
        raise ConstraintsError(
            f"requirements ({release.name}): {spec.repo} at {spec.ref!r} has no {UPPER_CONSTRAINTS}"
        ) from err


def pinned_version(
    release: Release, project_root: Path, cache: Path, name: str, *, offline: bool = False
) -> str:
    """The single version the release's constraints (overrides applied) pin ``name`` to."""
    _, upstream = read_upstream(release, cache, offline=offline)
    overrides = parse_overrides(project_root / "constraints" / f"{release.name}.txt")
    lines, _ = apply_overrides(upstream, overrides)
    key = normalize(name)
    versions = []
    for line in lines:
        match = _NAME.match(line)
        if match and not line.lstrip().startswith("#") and normalize(match.group(1)) == key:
            versions.append(line.split("===", 1)[1].split(";", 1)[0].strip())
    if len(set(versions)) == 1:
        return versions[0]
    if not versions:
        raise ConstraintsError(
            f"release {release.name}: upper-constraints does not pin {name}; "
            f"give releases.{release.name}.libraries.{name}.ref"
        )
    raise ConstraintsError(
        f"release {release.name}: upper-constraints pins {name} differently per marker "
        f"({', '.join(versions)}); give releases.{release.name}.libraries.{name}.ref"
    )
