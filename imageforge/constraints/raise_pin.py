"""``inv constraints.override NAME===VERSION``: one fixed version, every release, one command.

A CVE fixed in a library's new release must reach every release whose
upper-constraints pin it lower: the seed's "upper-constraints modified to
avoid security vulnerabilities", as one command instead of a pull request
per release. For each release:

- pinned at VERSION or higher (by upstream or an override): left alone;
- pinned lower: ``NAME===VERSION`` goes into constraints/<release>.txt, in
  place of an older override of NAME;
- not pinned at all: left alone (nothing of the release installs it pinned).

Each changed release's constraints must still resolve NAME and what it
requires (uv pip compile); where they do not, the release's file is put back
as it was and the outcome says uv's words.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from imageforge.config.manifest import Release
from imageforge.constraints.generate import compute
from imageforge.constraints.overrides import (
    PIN_NAME,
    ConstraintsError,
    apply_overrides,
    normalize,
    overrides_path,
    parse_overrides,
)
from imageforge.constraints.projects import upper_constraints
from imageforge.context import Forge
from imageforge.host import process
from imageforge.host.files import write_atomically

MARK = "# raised by inv constraints.override"


@dataclass(frozen=True)
class Outcome:
    release: str
    # "raised", "already met", "not pinned" or "does not resolve"
    result: str
    detail: str

    @property
    def ok(self) -> bool:
        return self.result != "does not resolve"


def parse_pin(text: str) -> tuple[str, Version]:
    """``NAME===VERSION`` (or ``==``); anything else is an error saying what is expected."""
    name, sep, version = text.partition("===")
    if not sep:
        name, sep, version = text.partition("==")
    try:
        if not sep or not PIN_NAME.fullmatch(name.strip()) or not version.strip():
            raise InvalidVersion(text)
        return name.strip(), Version(version.strip())
    except InvalidVersion:
        raise ConstraintsError(f"{text}: expected NAME===VERSION, e.g. urllib3===2.5.0") from None


def raise_everywhere(forge: Forge, text: str, releases: list[Release]) -> list[Outcome]:
    """Raise ``text``'s package to its version in each of ``releases`` that pins it lower."""
    name, version = parse_pin(text)
    return [_raise_one(forge, release, name, version) for release in releases]


def _raise_one(forge: Forge, release: Release, name: str, version: Version) -> Outcome:
    _, upstream = upper_constraints(forge, release.name)
    path = overrides_path(forge.root, release.name)
    lines, _ = apply_overrides(upstream, parse_overrides(path))
    pinned = _versions(lines, name)
    if not pinned:
        return Outcome(release.name, "not pinned", f"its constraints do not pin {name}")
    if all(found >= version for found in pinned):
        shown = ", ".join(sorted({str(v) for v in pinned}))
        return Outcome(release.name, "already met", f"{name} is pinned at {shown}")
    before = path.read_text(encoding="utf-8") if path.is_file() else None
    write_atomically(path, _with_override(before, name, version))
    problem = _unresolvable(forge, release, name)
    if problem is not None:
        if before is None:
            path.unlink()
        else:
            write_atomically(path, before)
        return Outcome(release.name, "does not resolve", problem)
    older = ", ".join(sorted({str(v) for v in pinned}))
    return Outcome(release.name, "raised", f"{name} {older} -> {version} in {path.name}")


def _versions(lines: list[str], name: str) -> list[Version]:
    key = normalize(name)
    found = []
    for line in lines:
        match = PIN_NAME.match(line)
        if match and not line.lstrip().startswith("#") and normalize(match.group(1)) == key:
            pin = line.split("===", 1)[1].split(";", 1)[0].strip()
            try:
                found.append(Version(pin))
            except InvalidVersion:
                continue
    return found


def _with_override(before: str | None, name: str, version: Version) -> str:
    """The overrides file with ``name`` replaced by one pin (older overrides of it go)."""
    key = normalize(name)
    kept = []
    for line in (before or "").splitlines():
        match = PIN_NAME.match(line.lstrip("+-"))
        if match and not line.lstrip().startswith("#") and normalize(match.group(1)) == key:
            continue
        kept.append(line)
    return "\n".join([*kept, f"{name}==={version}  {MARK}"]) + "\n"


def _unresolvable(forge: Forge, release: Release, name: str) -> str | None:
    """uv's last words when ``name`` and its requirements do not resolve under the constraints."""
    constraints = compute(forge, release)
    with tempfile.TemporaryDirectory(prefix="forge-override-") as scratch:
        pins = Path(scratch, "constraints.txt")
        pins.write_text(constraints.content)
        command = ["uv", "pip", "compile", "--quiet", "--universal", "--no-header"]
        command += ["--constraint", str(pins), "-", *(["--offline"] if forge.offline else [])]
        try:
            result = process.run(command, input=f"{name}\n".encode(), check=False)
        except process.ProcessError as err:  # no uv on this host
            return str(err)
    if result.returncode == 0:
        return None
    said = result.stderr.decode(errors="replace").strip().splitlines()
    return " ".join(line.strip() for line in said[-4:]) or f"uv exited {result.returncode}"


def summary(outcomes: list[Outcome]) -> str:
    width = max(len(o.release) for o in outcomes)
    return "\n".join(f"{o.release:<{width}}  {o.result:<16}  {o.detail}" for o in outcomes)
