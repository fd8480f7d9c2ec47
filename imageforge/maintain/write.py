"""Write a series back from commits, with output that does not churn.

``git format-patch`` output depends on user configuration (diff.noprefix,
diff.algorithm, core.abbrev, format.signature...) and on the commit hash.
Here every such knob is fixed and user/system config is ignored, the commit
hash is zeroed and the signature dropped, so the same commits give the same
bytes on every machine. Existing files keep their names (their numbers never
shift); only files whose content changed are rewritten.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from imageforge.host import git
from imageforge.host.files import write_atomically
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
FORMAT_PATCH = [
    "-c",
    "core.abbrev=12",
    "-c",
    "diff.algorithm=myers",
    "-c",
    "diff.noprefix=false",
    "-c",
    "diff.mnemonicPrefix=false",
    "-c",
    "diff.renames=true",
    "-c",
    "core.autocrlf=false",
    "format-patch",
    "--zero-commit",
    "--no-signature",
    "--no-numbered",
    "--binary",
]


@dataclass
class SeriesChanges:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (name, why)
    unchanged: list[str] = field(default_factory=list)

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
        return "\n".join(lines)


def format_patches(work: Path, base: str) -> list[bytes]:
    """The commits base..HEAD of the work tree as stable patch texts, in order."""
    with tempfile.TemporaryDirectory(prefix="forge-format-") as out:
        git.run(
            [*FORMAT_PATCH, "-o", out, f"{base}..HEAD"],
            cwd=work,
            env=STABLE_ENV,
        )
        return [p.read_bytes() for p in sorted(Path(out).glob("*.patch"))]


_SLUG = re.compile(r"[^A-Za-z0-9]+")


def slug_name(number: int, text: bytes) -> str:
    """NNNN-subject.patch, the way format-patch names files."""
    match = re.search(rb"^Subject: (?:\[PATCH[^\]]*\] )?(.*)$", text, re.MULTILINE)
    subject = match.group(1).decode(errors="replace") if match else "patch"
    slug = _SLUG.sub("-", subject).strip("-")[:52].rstrip("-") or "patch"
    return f"{number:04d}-{slug}.patch"


def write_series(
    folder: Path,
    texts: list[bytes],
    names: list[str | None],
    dropped: list[tuple[str, str]],
    *,
    dry_run: bool = False,
) -> SeriesChanges:
    """Write ``texts`` under ``names`` (None: a new patch, named after its subject).

    Files not named any more are removed; the series file lists the result in
    order. Nothing is written when ``dry_run``.
    """
    changes = SeriesChanges(dropped=list(dropped))
    used_numbers = {int(m.group(1)) for n in names if n and (m := re.match(r"(\d+)-", n))}
    next_number = max(used_numbers, default=0) + 1
    final: list[tuple[str, bytes]] = []
    for text, name in zip(texts, names, strict=True):
        if name is None:
            name = slug_name(next_number, text)
            next_number += 1
            changes.added.append(name)
        elif (folder / name).is_file() and (folder / name).read_bytes() == text:
            changes.unchanged.append(name)
        else:
            changes.updated.append(name)
        final.append((name, text))
    if dry_run:
        return changes
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in final:
        if name in changes.added or name in changes.updated:
            write_atomically(folder / name, text)
    keep = {name for name, _ in final}
    for old, _ in dropped:
        if old not in keep:
            (folder / old).unlink(missing_ok=True)
    series_text = "".join(f"{name}\n" for name, _ in final).encode()
    series_file = folder / SERIES_FILE
    if not series_file.is_file() or _series_names(series_file) != [n for n, _ in final]:
        write_atomically(series_file, series_text)
    return changes


def _series_names(series_file: Path) -> list[str]:
    lines = series_file.read_text().splitlines()
    return [n for line in lines if (n := line.split("#", 1)[0].strip())]
