"""What a person sees while a selection builds: a live table on a terminal, plain lines elsewhere.

On a terminal (and not in CI) rich redraws one row per image in place, with
its state, elapsed time and current step. In CI, a pipe or a log file, each
change of state is one plain line, so a 36-image matrix gives a few lines per
image instead of BuildKit's ten thousand (those go to build/logs/).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from imageforge.image.progress import Image, State


class Board(Protocol):
    def start(self, images: Sequence[Image]) -> None: ...
    def update(self, image: Image) -> None: ...
    def stop(self) -> None: ...


class PlainBoard:
    """One line per change of state, through the forge's log."""

    def __init__(self, log: Callable[[str], None], clock: Callable[[], float] = time.monotonic):
        self.log = log
        self.clock = clock

    def start(self, images: Sequence[Image]) -> None:
        self.log(f"planned: {', '.join(image.name for image in images)}")

    def update(self, image: Image) -> None:
        seconds = image.seconds(self.clock())
        started = image.started is not None
        timing = f" after {seconds:.0f} s" if image.state.final and started else ""
        self.log(f"{image.name}: {image.state.value}{timing}")

    def stop(self) -> None:
        pass


class LiveBoard:
    """rich's live table, redrawn in place twice a second."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.images: list[Image] = []
        self.live: Any = None  # rich.live.Live while drawing

    def start(self, images: Sequence[Image]) -> None:
        from rich.live import Live  # only a terminal pays for the import

        self.images = list(images)
        self.live = Live(get_renderable=self._table, refresh_per_second=2, transient=False)
        self.live.start()

    def update(self, image: Image) -> None:
        if self.live is not None:
            self.live.refresh()

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    def _table(self):
        from rich.table import Table

        styles = {
            State.BUILT: "green",
            State.UP_TO_DATE: "green",
            State.FAILED: "bold red",
            State.STOPPED: "yellow",
            State.BUILDING: "cyan",
        }
        table = Table(box=None, pad_edge=False)
        for column in ("IMAGE", "STATE", "TIME", "STEP"):
            table.add_column(column, no_wrap=True, overflow="ellipsis")
        now = self.clock()
        for image in self.images:
            table.add_row(
                image.name,
                f"[{styles.get(image.state, '')}]{image.state.value}[/]",
                f"{image.seconds(now):.0f} s" if image.started is not None else "",
                image.step[:70],
            )
        return table


def board_for(interactive: bool, log: Callable[[str], None]) -> Board:
    return LiveBoard() if interactive else PlainBoard(log)
