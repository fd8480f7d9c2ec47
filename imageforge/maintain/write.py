"""Write a series back from commits, with output that does not churn.

A patch whose bytes still do the job is kept as it is: refresh keeps a file
that still applies to the new ref with plain ``git apply`` and gives the same
tree as the 3-way result, and edit keeps the file of a commit nobody touched.
Only patches that needed a merge, a resolution or an edit are rewritten, in
the patch's own format: a mail through ``git format-patch`` with every knob
fixed (no user or system config, zeroed From hash, no signature, abbrev 12,
myers, a/ b/ prefixes), a free-text patch as its preamble byte for byte
followed by the new diff. Names and numbers never shift; the series file keeps
its comments; a series with nothing left is removed.

The write-back has one commit point: every new file is staged beside its
target first, then all are renamed into place, and only then is anything
removed, so an interrupted write never leaves a half series.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from imageforge.errors import ForgeError
from imageforge.host import git
from imageforge.patches.patchfile import PatchFile
from imageforge.patches.series import SERIES_FILE

# No user or system config, a fixed identity for commits the forge makes.
STABLE_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_COMMITTER_NAME": "imageforge",
    "GIT_COMMITTER_EMAIL": "imageforge@localhost",
    # cherry-pick --continue must not wait for an editor.
    "GIT_EDITOR": "true",
}
_STABLE_CONFIG = [
    *("-c", "core.abbrev=12", "-c", "diff.algorithm=myers", "-c", "diff.noprefix=false"),
    *("-c", "diff.mnemonicPrefix=false", "-c", "diff.renames=true", "-c", "core.autocrlf=false"),
]
FORMAT_PATCH = [
    *_STABLE_CONFIG,
    "format-patch",
    "--zero-commit",
    "--no-signature",
    "--no-numbered",
    "--binary",
]
_NUMBER = re.compile(r"^(\d+)-")


@dataclass
class SeriesChanges:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (name, why)
    unchanged: list[str] = field(default_factory=list)
    removed_folder: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.dropped)

    def summary(self) -> str:
        lines = [
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.dropped)} dropped, {len(self.unchanged)} unchanged"
        ]
        lines += [f"  added      {name}" for name in self.added]
        lines += [f"  updated    {name}" for name in self.updated]
        lines += [f"  dropped    {name}: {why}" for name, why in self.dropped]
        lines += [f"  unchanged  {name}" for name in self.unchanged]
        if self.removed_folder:
            lines.append("  every patch is gone: the series folder is removed")
        return "\n".join(lines)


@dataclass(frozen=True)
class Entry:
    """One patch of the new series: its name (None: new), and its bytes."""

    name: str | None
    text: bytes
    keep: bool = False  # the file's bytes are kept as they are


def stable_text(work: Path, commit: str, original: PatchFile | None) -> bytes:
    """``commit`` as a patch in ``original``'s format (a stable mail when there is none).

    A file of several mails was imported as one commit with the first mail's
    message: written back, the others' messages and authors would be lost, so
    it is refused by name instead (it is kept as it is while it applies).
    """
    if original is not None and original.mails > 1:
        raise ForgeError(
            f"{original.path} holds {original.mails} mails (git format-patch --stdout) and "
            "would be rewritten as one, keeping the first message only: split it into one "
            "patch per mail (git mailsplit, or git am and inv patches.export), list them in "
            "the series, and run again"
        )
    if original is not None and not original.is_mail:
        diff = git.run(
            [*_STABLE_CONFIG, "diff-tree", "-p", "--binary", "--no-color", f"{commit}^", commit],
            cwd=work,
            env=STABLE_ENV,
        ).stdout
        return original.preamble + diff
    with tempfile.TemporaryDirectory(prefix="forge-format-") as out:
        git.run([*FORMAT_PATCH, "-o", out, "-1", commit], cwd=work, env=STABLE_ENV)
        [text] = [p.read_bytes() for p in Path(out).glob("*.patch")]
        return text


def commits(work: Path, base: str) -> list[str]:
    """The commits base..HEAD, oldest first."""
    return git.text(["rev-list", "--reverse", f"{base}..HEAD"], cwd=work).split()


_SLUG = re.compile(r"[^A-Za-z0-9]+")


def slug_name(number: int, text: bytes) -> str:
    """NNNN-subject.patch, the way format-patch names files."""
    match = re.search(rb"^Subject: (?:\[PATCH[^\]]*\] )?(.*)$", text, re.MULTILINE)
    subject = match.group(1).decode(errors="replace") if match else "patch"
    slug = _SLUG.sub("-", subject).strip("-")[:52].rstrip("-") or "patch"
    return f"{number:04d}-{slug}.patch"


def plan_series(
    folder: Path, entries: list[Entry], dropped: list[tuple[str, str]]
) -> tuple[SeriesChanges, list[tuple[str, bytes]]]:
    """What writing ``entries`` would change, and the final (name, bytes) list."""
    changes = SeriesChanges(dropped=list(dropped))
    used = {int(m.group(1)) for e in entries if e.name and (m := _NUMBER.match(e.name))}
    next_number = max(used, default=0) + 1
    final: list[tuple[str, bytes]] = []
    for entry in entries:
        name = entry.name
        if not entry.keep and b"\ndiff --git " not in b"\n" + entry.text:
            # Never write a patch that changes nothing (it would fail check and lint).
            raise ForgeError(f"refusing to write {name or 'a new patch'}: it holds no diff")
        if name is None:
            name = slug_name(next_number, entry.text)
            next_number += 1
            changes.added.append(name)
        elif entry.keep or (
            (folder / name).is_file() and (folder / name).read_bytes() == entry.text
        ):
            changes.unchanged.append(name)
        else:
            changes.updated.append(name)
        final.append((name, (folder / name).read_bytes() if entry.keep else entry.text))
    changes.removed_folder = not final and folder.is_dir()
    return changes, final


def write_series(
    folder: Path,
    entries: list[Entry],
    dropped: list[tuple[str, str]],
    *,
    dry_run: bool = False,
) -> SeriesChanges:
    """Write ``entries`` into ``folder``; drop the rest; keep the series file's comments."""
    changes, final = plan_series(folder, entries, dropped)
    if dry_run:
        return changes
    if not final:
        if folder.is_dir():
            shutil.rmtree(folder)
        return changes
    folder.mkdir(parents=True, exist_ok=True)
    series_file = folder / SERIES_FILE
    old_lines = (
        series_file.read_text(encoding="utf-8-sig").splitlines() if series_file.is_file() else []
    )
    staged: list[tuple[Path, Path]] = []
    for name, text in final:
        if name in changes.added or name in changes.updated:
            staged.append(_stage(folder / name, text))
    names = [name for name, _ in final]
    new_series = series_text(old_lines, names)
    if new_series != "\n".join(old_lines) + ("\n" if old_lines else ""):
        staged.append(_stage(series_file, new_series.encode()))
    # The commit point: everything is on disk beside its target; rename it in.
    for partial, target in staged:
        partial.replace(target)
    for old, _ in dropped:
        if old not in names:
            (folder / old).unlink(missing_ok=True)
    return changes


def series_text(old_lines: list[str], names: list[str]) -> str:
    """The series file for ``names``: old comment lines kept, dropped names gone.

    A new name goes after the name before it; when the order changed, the
    names follow the leading comment block in their new order.
    """
    listed = [_name(line) for line in old_lines]
    kept = [n for n in listed if n in names]
    if kept != [n for n in names if n in listed]:
        head = []
        for line in old_lines:
            if _name(line):
                break
            head.append(line)
        return "".join(f"{line}\n" for line in [*head, *names])
    lines = [line for line, n in zip(old_lines, listed, strict=True) if not n or n in names]
    for index, name in enumerate(names):
        if name in listed:
            continue
        before = names[index - 1] if index else None
        at = next((i + 1 for i, ln in enumerate(lines) if before and _name(ln) == before), None)
        if at is None:  # first in the series: after the leading comments
            at = next((i for i, ln in enumerate(lines) if _name(ln)), len(lines))
        lines.insert(at, name)
    return "".join(f"{line}\n" for line in lines)


def _name(line: str) -> str:
    return line.split("#", 1)[0].strip()


def _stage(target: Path, data: bytes) -> tuple[Path, Path]:
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(data)
    return partial, target
