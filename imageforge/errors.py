"""The one error type that crosses the boundary to tasks and sessions.

Everything the library knows how to explain is raised as a ForgeError (or a
subclass) with a one-line message; tasks print it and exit non-zero, never a
traceback. Lower-level errors are wrapped with ``raise ... from err``.
"""


class ForgeError(Exception):
    """A problem the user can fix, explained in one line."""


class ManifestError(ForgeError):
    """releases.yaml (or the images/ folder it describes) is not valid."""
