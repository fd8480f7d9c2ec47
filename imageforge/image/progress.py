"""A matrix build people can follow: each image's state as it moves, and a log of its own.

BuildKit's plain progress names the bake target on a step's first line
(``#7 [keystone-2025-2 builder 2/5] RUN ...``); the step's later lines carry
only its number (``#7 12.3 Collecting ...``, ``#7 DONE 1.2s``,
``#7 ERROR: ...``). That is enough to split one graph's log into one file per
image under build/logs/ and to follow each image: planned, building, then
built, failed, or stopped (the graph ended before it: another image failed).
The whole log is kept beside them. Steps BuildKit shares between images (the
python-base and venv-builder targets) belong to no image's state.
"""

from __future__ import annotations

import enum
import re
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from imageforge.host import process

# A step's first line: its number and its bake target.
_NAMED = re.compile(r"^#(\d+) \[([A-Za-z0-9_-]+)([ \]].*)$")
# Any later line of a step.
_NUMBERED = re.compile(r"^#(\d+) (.*)$")
TAIL_LINES = 25


class State(enum.Enum):
    PLANNED = "planned"
    BUILDING = "building"
    BUILT = "built"
    UP_TO_DATE = "up to date"
    FAILED = "failed"
    STOPPED = "stopped"

    @property
    def final(self) -> bool:
        return self not in (State.PLANNED, State.BUILDING)


@dataclass
class Image:
    """One bake target as the build goes: its state, its times, its log file."""

    target: str
    name: str  # as people read it: "keystone (2025.2)", "keystone (2025.2, linux/arm64)"
    log: Path
    state: State = State.PLANNED
    started: float | None = None
    ended: float | None = None
    step: str = ""  # the step it is at; the failing one once failed
    error: str = ""

    def seconds(self, now: float) -> float:
        if self.started is None:
            return 0.0
        return (self.ended if self.ended is not None else now) - self.started


@dataclass
class BakeLog:
    """Reads BuildKit's plain progress line by line; writes the logs; moves the states."""

    images: dict[str, Image]  # by bake target
    whole: TextIO
    clock: Callable[[], float] = time.monotonic
    _owner: dict[str, str] = field(default_factory=dict)  # step number -> target
    _files: dict[str, TextIO] = field(default_factory=dict)

    def feed(self, line: str) -> Image | None:
        """Take one line of progress; the image whose state changed, if any."""
        self.whole.write(line)
        named = _NAMED.match(line)
        if named and named.group(2) in self.images:
            self._owner[named.group(1)] = named.group(2)
        numbered = _NUMBERED.match(line)
        target = self._owner.get(numbered.group(1)) if numbered else None
        if target is None:
            return None
        image = self.images[target]
        self._file(image).write(line)
        if named:
            image.step = f"[{named.group(2)}{named.group(3)}".rstrip()
        changed = None
        if image.state == State.PLANNED:
            image.state, image.started, changed = State.BUILDING, self.clock(), image
        if numbered and numbered.group(2).startswith("ERROR: ") and not image.state.final:
            image.state, image.ended = State.FAILED, self.clock()
            image.error = numbered.group(2).removeprefix("ERROR: ").strip()
            changed = image
        return changed

    def finish(self, ok: bool) -> list[Image]:
        """The graph ended: what was under way is built, or stopped when the graph failed."""
        changed = []
        for image in self.images.values():
            if image.state.final:
                continue
            image.state = State.BUILT if ok else State.STOPPED
            if image.started is not None:
                image.ended = self.clock()
            changed.append(image)
        for handle in self._files.values():
            handle.close()
        return changed

    def _file(self, image: Image) -> TextIO:
        if image.target not in self._files:
            image.log.parent.mkdir(parents=True, exist_ok=True)
            self._files[image.target] = image.log.open("w", encoding="utf-8", errors="replace")
        return self._files[image.target]


def tail(path: Path, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines of a log (an image whose log is empty: nothing)."""
    if not path.is_file():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def run_bake(
    command: Sequence[str],
    images: Sequence[Image],
    whole: Path,
    on_change: Callable[[Image], None],
) -> bool:
    """Run ``command`` (a bake with --progress=plain); True when the whole graph was built."""
    if not process.found(command[0]):
        raise process.ProcessError(f"{command[0]}: command not found")
    whole.parent.mkdir(parents=True, exist_ok=True)
    with whole.open("w", encoding="utf-8", errors="replace") as log:
        bake = BakeLog({image.target: image for image in images}, log)
        proc = subprocess.Popen(
            list(command),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
        )
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                changed = bake.feed(line)
                if changed is not None:
                    on_change(changed)
            ok = proc.wait() == 0
        except BaseException:  # Ctrl-C: the build stops with us
            proc.kill()
            proc.wait()
            raise
        for image in bake.finish(ok):
            on_change(image)
    return ok
