"""What a functional or cloud run left behind, counted by its own label only."""

from __future__ import annotations

import os

from imageforge.host import docker
from imageforge.verify.functional.stack import RUN_LABEL


def leftovers(prefix: str, pid: int | None = None) -> list[str]:
    """Containers, networks and volumes left by runs of process ``pid`` (this one by default).

    A run's label value starts with <prefix>-<pid>-, so other runs on the same
    engine (another suite, a maintainer's inv functional) are not counted.
    """
    start = f"{prefix}-{pid or os.getpid()}-"
    found = []
    for kind in (["ps", "--all"], ["network", "ls"], ["volume", "ls"]):
        listed = docker.run(
            [*kind, "--filter", f"label={RUN_LABEL}", "--format", f'{{{{.Label "{RUN_LABEL}"}}}}']
        ).stdout.split()
        found += [value for value in listed if value.startswith(start)]
    return found
