"""One patch file as a maintainer wrote it: a git mail, or free text followed by a diff.

``git format-patch`` files are mails (From/Subject headers, the message, the
diff). Others start with free text: C5C3's patches open with SPDX lines and a
description. git apply skips either preamble, so both are valid patches;
refresh and edit need to know which, to import the message and to write the
file back in its own format (a free-text preamble is kept byte for byte).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from imageforge.host import git

_DIFF_START = re.compile(rb"^(diff --git |Index: |--- (?!-))", re.MULTILINE)
_MAIL_FROM = re.compile(rb"^From [0-9a-f]{40} ")
_MAIL_SEPARATOR = re.compile(rb"^From [0-9a-f]{40} ", re.MULTILINE)
_CHANGE_ID = re.compile(r"^Change-Id:\s*(I[0-9a-f]{8,40})\s*$", re.MULTILINE)
_CHERRY_PICKED = re.compile(r"\(cherry picked from commit ([0-9a-f]{7,40})\)")
# Launchpad bug references as OpenStack commit messages give them: the
# Closes-/Partial-/Related-Bug trailers, LP: #N, and bug URLs.
_BUG = re.compile(
    r"^(?:Closes|Partial|Related|Fixes)-Bug:\s*#?(\d+)"
    r"|\bLP:?\s*#(\d+)"
    r"|bugs\.launchpad\.net/(?:[\w.+-]+/)?\+bug/(\d+)",
    re.MULTILINE | re.IGNORECASE,
)


@dataclass(frozen=True)
class PatchFile:
    path: Path
    raw: bytes
    is_mail: bool
    preamble: bytes  # everything before the diff, as it is in the file
    message: str  # the commit message to import it with
    author: str = ""  # "Name <email>", for mails
    date: str = ""  # for mails

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def subject(self) -> str:
        return self.message.splitlines()[0] if self.message.strip() else self.name

    @property
    def mails(self) -> int:
        """How many mails the file holds (``git format-patch --stdout`` writes several to one)."""
        return len(_MAIL_SEPARATOR.findall(self.raw))

    @property
    def change_ids(self) -> tuple[str, ...]:
        return tuple(_CHANGE_ID.findall(self.message))

    @property
    def cherry_picked_from(self) -> tuple[str, ...]:
        return tuple(_CHERRY_PICKED.findall(self.message))

    @property
    def bugs(self) -> tuple[str, ...]:
        """The Launchpad bugs the message refers to, in order, each once."""
        return bug_numbers(self.message)


_CLOSES_BUG = re.compile(r"^Closes-Bug:\s*#?(\d+)", re.MULTILINE | re.IGNORECASE)


def bug_numbers(message: str, *, closing: bool = False) -> tuple[str, ...]:
    """The bugs ``message`` refers to (with ``closing``, only those it closes), each once."""
    if closing:
        return tuple(dict.fromkeys(_CLOSES_BUG.findall(message)))
    found = ("".join(groups) for groups in _BUG.findall(message))
    return tuple(dict.fromkeys(found))


def read_patch(path: Path) -> PatchFile:
    raw = path.read_bytes()
    start = _DIFF_START.search(raw)
    preamble = raw[: start.start()] if start else raw
    if _MAIL_FROM.match(raw) or _has_mail_headers(preamble):
        return _read_mail(path, raw, preamble)
    text = preamble.decode("utf-8", errors="replace").strip()
    # A free-text patch is committed with its preamble as the message.
    return PatchFile(path, raw, False, preamble, text or path.name)


def _has_mail_headers(preamble: bytes) -> bool:
    head = preamble.split(b"\n\n", 1)[0]
    return bool(re.search(rb"^From: ", head, re.M) and re.search(rb"^Subject: ", head, re.M))


def _read_mail(path: Path, raw: bytes, preamble: bytes) -> PatchFile:
    with tempfile.TemporaryDirectory(prefix="forge-mail-") as scratch:
        message, diff = Path(scratch) / "msg", Path(scratch) / "patch"
        info = git.text(["mailinfo", str(message), str(diff)], input=raw, cwd=Path(scratch))
        fields = dict(line.split(": ", 1) for line in info.splitlines() if ": " in line)
        body = message.read_text(encoding="utf-8", errors="replace").strip()
    subject = fields.get("Subject", path.name)
    author = f"{fields.get('Author', '')} <{fields.get('Email', '')}>" if "Email" in fields else ""
    return PatchFile(
        path,
        raw,
        True,
        preamble,
        f"{subject}\n\n{body}".strip(),
        author=author,
        date=fields.get("Date", ""),
    )
