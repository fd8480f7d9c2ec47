"""One report type for every check of an image: smoke, functional and inv verify.

Each check is a ``Finding`` (pass or fail, a detail, and its time when it
was timed); an image's findings form a ``CheckReport`` with one way to be
printed. Over several images, ``overall`` gives one line per image, so
``inv smoke``, ``inv functional`` and ``inv verify`` end the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from imageforge.present import format_table


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str = ""
    seconds: float | None = None  # set by checks that are timed (functional steps)


@dataclass
class CheckReport:
    """The findings of one image, with a heading and what to add after the table."""

    name: str  # "keystone/2025.2", or with "@linux/arm64" for one platform
    heading: str  # the image, and what is known of it (size, digest)
    findings: list[Finding] = field(default_factory=list)
    column: str = "CHECK"  # what a row is: CHECK, or STEP for a functional run
    notes: list[str] = field(default_factory=list)  # e.g. the failing service's log tail
    seconds: float | None = None  # the whole run's wall time, when it matters

    @property
    def ok(self) -> bool:
        return bool(self.findings) and all(f.ok for f in self.findings)

    def table(self) -> str:
        timed = any(f.seconds is not None for f in self.findings)
        rows = [[self.column, "RESULT", *(["SECONDS"] if timed else []), "DETAIL"]]
        for f in self.findings:
            first = f.detail.splitlines()[0] if f.detail else ""
            time = [f"{f.seconds:.1f}" if f.seconds is not None else ""] if timed else []
            rows.append([f.check, "pass" if f.ok else "FAIL", *time, first])
        text = f"{self.heading}\n{format_table(rows)}"
        for f in self.findings:
            if not f.ok and "\n" in f.detail:
                text += f"\n\n{f.check}:\n{f.detail}"
        for note in self.notes:
            text += f"\n\n{note}"
        passed = sum(f.ok for f in self.findings)
        took = f" in {self.seconds:.0f} s" if self.seconds is not None else ""
        return f"{text}\n{passed} passed, {len(self.findings) - passed} failed{took}"


def overall(reports: Sequence[CheckReport], what: str) -> tuple[str, list[str]]:
    """One line per image (for several), and the names of those that failed."""
    failed = [r.name for r in reports if not r.ok]
    if len(reports) < 2:
        return "", failed
    rows = [["IMAGE", what.upper(), "PASSED", "FAILED"]]
    for r in reports:
        passed = sum(f.ok for f in r.findings)
        rows.append(
            [r.name, "pass" if r.ok else "FAIL", str(passed), str(len(r.findings) - passed)]
        )
    return format_table(rows), failed
