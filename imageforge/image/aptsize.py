"""What installing OS packages adds to an image, in bytes, estimated from the host's apt index.

The release's shared runtime layers (image.runtimeshare) are planned by the
bytes they save, before anything is built. A package's share is its
``Installed-Size`` plus that of its dependencies (``Depends`` and
``Pre-Depends``, the first alternative the index has, a virtual package by
its first provider), less what every image already has: the packages the
distribution marks essential or required, and python-base's own.

It is an estimate for choosing between layers, never for what goes into
one: a layer installs packages the images it serves ask for themselves, so
a wrong estimate costs bytes, not correctness. The index is the host's (or
FORGE_APT_INDEX), read once per index state; a package it does not know
counts as ``UNKNOWN_BYTES``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from imageforge.context import Forge
from imageforge.host.files import write_atomically
from imageforge.image import aptindex

# What python-base installs on the base image (images/python-base/Dockerfile).
PYTHON_BASE_PACKAGES = ("ca-certificates", "python3", "tzdata")
UNKNOWN_BYTES = 1 << 20
# "libc6 (>= 2.34)", "python3:any", "foo [amd64] <!nocheck>": the name alone.
_NAME = re.compile(r"^\s*([A-Za-z0-9.+-]+)")


class PackageSizes:
    """Sizes and dependencies of the index's packages, and the closure of a set of them."""

    def __init__(self, table: dict[str, list]) -> None:
        # name -> [installed bytes, [dependency alternatives...], in every image]
        self._table = table
        self._baseline = self.closure(PYTHON_BASE_PACKAGES, baseline=frozenset())

    @property
    def known(self) -> bool:
        return bool(self._table)

    def closure(
        self, packages: Iterable[str], baseline: frozenset[str] | None = None
    ) -> frozenset[str]:
        """``packages`` and everything they depend on, less what every image has."""
        present = self._baseline if baseline is None else baseline
        seen: set[str] = set()
        todo = [p for p in packages if p not in present]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            entry = self._table.get(name)
            if entry is None:
                continue
            for alternatives in entry[1]:
                chosen = next((a for a in alternatives if a in self._table), None)
                if chosen and chosen not in present and not self._table[chosen][2]:
                    todo.append(chosen)
        return frozenset(seen)

    def bytes_of(self, packages: Iterable[str]) -> int:
        """The estimated bytes that installing ``packages`` adds to python-base."""
        return sum(
            self._table[name][0] if name in self._table else UNKNOWN_BYTES
            for name in self.closure(packages)
        )


# Per index state, for the life of the process: planning asks once per
# release, and a test session plans many projects on one host index.
_LOADED: dict[str, PackageSizes] = {}


def package_sizes(forge: Forge) -> PackageSizes:
    """The host's index as sizes and dependencies, parsed once per index state.

    Parsing takes seconds; the result is kept under build/apt-index/ and in
    the process.
    """
    files = aptindex.index_files(forge)
    state = aptindex.index_state(files)
    if state in _LOADED:
        return _LOADED[state]
    path = forge.build_dir / "apt-index" / f"{state}-sizes.json"
    if path.is_file():
        table = json.loads(path.read_text(encoding="utf-8"))
    else:
        table = {}
        for each in files:
            table.update(parse_sizes(aptindex.read_index(each.path)))
        if files:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, json.dumps(table, sort_keys=True))
    _LOADED[state] = PackageSizes(table)
    return _LOADED[state]


def parse_sizes(text: str) -> dict[str, list]:
    """Each stanza's package: [bytes, dependency alternatives, essential or required]."""
    table: dict[str, list] = {}
    providers: dict[str, str] = {}
    for stanza in text.split("\n\n"):
        fields = _fields(stanza)
        name = fields.get("Package", "")
        if not name:
            continue
        depends = [
            [m.group(1) for m in map(_NAME.match, group.split("|")) if m]
            for key in ("Pre-Depends", "Depends")
            for group in fields.get(key, "").split(",")
            if group.strip()
        ]
        everywhere = fields.get("Essential") == "yes" or fields.get("Priority") == "required"
        size = int(fields.get("Installed-Size", "0") or 0) * 1024
        table[name] = [size, depends, everywhere]
        for provided in fields.get("Provides", "").split(","):
            match = _NAME.match(provided)
            if match:
                providers.setdefault(match.group(1), name)
    # A virtual package stands for its first provider: no bytes of its own.
    for virtual, provider in providers.items():
        table.setdefault(virtual, [0, [[provider]], False])
    return table


def _fields(stanza: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    key = ""
    for line in stanza.splitlines():
        if line[:1] in (" ", "\t"):
            if key:
                fields[key] += " " + line.strip()
        elif ": " in line or line.endswith(":"):
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields
