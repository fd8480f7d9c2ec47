"""Run a selection of a tree's unit tests in the test image, and read what each test did.

The tree is mounted read-only; run-unit-tests (images/unit-tests) copies it,
installs it editable without dependencies, runs the tests in CONCURRENCY
processes and writes one JSON file, which is all that leaves the container.
The container has no network: a unit test that needs one is not a unit test.
Its name and label are unique to the run, and it is removed however the run
ends (an interrupt too).
"""

from __future__ import annotations

import json
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from imageforge.errors import ForgeError
from imageforge.host import docker

RUN_LABEL = "org.imageforge.unit-run"
RESULTS = "results.json"
PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass(frozen=True)
class Outcome:
    status: str  # passed, failed or skipped
    seconds: float
    detail: str = ""  # a failure's traceback, a skip's reason


def run_tests(
    image: str, tree: Path, modules: tuple[str, ...] | None, concurrency: int, scratch: Path
) -> dict[str, Outcome]:
    """Each test id of ``modules`` (None: the whole unit suite) and what it did on ``tree``."""
    if modules == ():
        return {}
    scratch.mkdir(parents=True, exist_ok=True)
    name = f"forge-unit-{uuid.uuid4().hex[:12]}"
    with tempfile.TemporaryDirectory(prefix="unit-", dir=scratch) as out:
        command = [
            "run",
            "--rm",
            "--name",
            name,
            "--label",
            f"{RUN_LABEL}={name}",
            "--network",
            "none",
            "--volume",
            f"{tree.resolve()}:/src/tree:ro",
            "--volume",
            f"{Path(out).resolve()}:/out",
            image,
            "run-unit-tests",
            "/src/tree",
            f"/out/{RESULTS}",
            str(concurrency),
            *(modules or ()),
        ]
        try:
            ran = docker.run(command, check=False)
        finally:
            docker.run(["rm", "--force", name], check=False)
        found = Path(out) / RESULTS
        if ran.returncode != 0 or not found.is_file():
            raise ForgeError(
                f"the unit tests of {tree} did not run in {image}: "
                f"{docker.last_words(ran.stderr) or f'exit {ran.returncode}'}"
            )
        data = json.loads(found.read_text())
    return {
        test: Outcome(each["status"], float(each.get("seconds", 0.0)), each.get("detail", ""))
        for test, each in data.items()
    }
