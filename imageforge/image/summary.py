"""The end of a build: one row per image, as a table for people and as JSON for CI.

Kolla writes ``--summary-json-file``; here ``inv build`` always writes
build/summary.json (or ``--summary-json FILE``) with every image of the
selection: built, up to date (its content key was found), failed, or stopped
(the graph ended before it), with its tag, size, time, key and log file.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from imageforge.host.files import write_atomically
from imageforge.present import format_table

SUMMARY_FORMAT = 1


@dataclass(frozen=True)
class Row:
    service: str
    release: str
    platform: str | None
    result: str  # built, pushed, up to date, failed, stopped
    tag: str
    size: int | None  # bytes; None when not known here (a pushed image)
    seconds: float
    key: str
    log: str = ""  # the image's BuildKit log, when it was built


def summary_table(rows: Sequence[Row]) -> str:
    table = [["IMAGE", "TAG", "RESULT", "SIZE", "TIME", "KEY"]]
    for row in rows:
        name = f"{row.service} ({row.release}{', ' + row.platform if row.platform else ''})"
        size = f"{row.size / 1e6:.1f} MB" if row.size is not None else "-"
        table.append([name, row.tag, row.result, size, f"{row.seconds:.0f} s", row.key[:12] or "-"])
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.result] = counts.get(row.result, 0) + 1
    totals = ", ".join(f"{n} {result}" for result, n in counts.items())
    return f"{format_table(table)}\n{totals}"


def write_summary(path: Path, rows: Sequence[Row], *, started: float, seconds: float) -> Path:
    """The summary as JSON (written whole, or not at all)."""
    data = {
        "format": SUMMARY_FORMAT,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(seconds, 1),
        "ok": all(row.result not in ("failed", "stopped") for row in rows),
        "images": [{**asdict(row), "seconds": round(row.seconds, 1)} for row in rows],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(data, indent=2) + "\n")
    return path
