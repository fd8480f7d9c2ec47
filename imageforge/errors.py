"""The one error type that crosses the boundary to tasks and sessions.

Everything the library knows how to explain is raised as a ForgeError (or a
subclass) with a one-line message; tasks print it and exit non-zero, never a
traceback. Lower-level errors are wrapped with ``raise ... from err``.
A reader that leaves early (``inv --list | head``) is no error at all.
"""

from __future__ import annotations

import os
import signal
import sys


class ForgeError(Exception):
    """A problem the user can fix, explained in one line."""


class ManifestError(ForgeError):
    """releases.yaml (or the images/ folder it describes) is not valid."""


def silence_stdout() -> None:
    """Point stdout at /dev/null: its reader is gone, and the last flush must not complain."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def leave_quietly_on_broken_pipe() -> None:
    """A broken pipe outside any task (invoke's --list, nox -l) ends the program quietly, exit 0.

    Those listings are printed by invoke and nox themselves, where no task or
    session can catch the error, so the interpreter's last word is replaced.
    """
    default = sys.excepthook

    def hook(kind, value, traceback) -> None:
        if issubclass(kind, BrokenPipeError):
            silence_stdout()
            os._exit(0)  # nothing is left to say: the reader is gone
        default(kind, value, traceback)

    sys.excepthook = hook


def interrupt_on_sigint() -> None:
    """Ctrl-C (SIGINT) always interrupts the forge, whatever the parent left it as.

    A shell without job control starts background commands with SIGINT
    ignored, and Python keeps an inherited "ignore". A check started that way
    (CI runners do) ran on through a SIGINT and reported success; with the
    default handler the interrupt reaches the task, which removes what it
    started and exits 130.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # SIGTERM (a cancelled CI job, `kill`) would end Python on the spot, and a
    # check's containers and networks would stay: it unwinds like Ctrl-C.
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _terminated)


class Terminated(KeyboardInterrupt):
    """SIGTERM: unwinds as an interrupt does (``finally`` blocks run), exit 143."""


def _terminated(signum: int, frame: object) -> None:
    raise Terminated
