"""Following a bake: BuildKit's plain progress split into one log and one state per image."""

from __future__ import annotations

import io

from imageforge.image.board import PlainBoard
from imageforge.image.progress import BakeLog, Image, State

# What `docker buildx bake --progress=plain` prints for two images, one of which fails.
TRANSCRIPT = """\
#0 building with "default" instance using docker driver

#1 [internal] load local bake definitions
#1 reading docker-bake.json 1.2kB done
#1 DONE 0.0s

#2 [python-base-bookworm internal] load build definition from Dockerfile
#2 DONE 0.1s

#3 [keystone-2025-2 internal] load build definition from Dockerfile
#3 transferring dockerfile: 1.1kB done
#3 DONE 0.1s

#4 [glance-2025-2 internal] load build definition from Dockerfile
#4 DONE 0.1s

#7 [keystone-2025-2 deps 2/4] RUN build-venv deps
#7 0.512 Resolved 60 packages
#8 [glance-2025-2 deps 2/4] RUN build-venv deps
#8 1.020 error: no matching distribution for glance-store===9.9
#7 2.113 Installed 60 packages
#7 DONE 3.2s
#8 ERROR: process "/bin/sh -c build-venv deps" did not complete successfully: exit code: 1
------
 > [glance-2025-2 deps 2/4] RUN build-venv deps:
------
ERROR: failed to solve: process "/bin/sh -c build-venv deps" did not complete successfully
"""


def follow(tmp_path, transcript=TRANSCRIPT):
    ticks = iter(range(100))
    images = {
        name: Image(name, name, tmp_path / "logs" / f"{name}.log")
        for name in ("keystone-2025-2", "glance-2025-2", "nova-2025-2")
    }
    whole = io.StringIO()
    log = BakeLog(images, whole, clock=lambda: float(next(ticks)))
    changes = [
        (image.target, image.state)
        for line in transcript.splitlines(keepends=True)
        if (image := log.feed(line))
    ]
    return images, log, whole, changes


def test_each_image_gets_its_own_log_and_state(tmp_path):
    images, log, whole, changes = follow(tmp_path)
    assert changes == [
        ("keystone-2025-2", State.BUILDING),
        ("glance-2025-2", State.BUILDING),
        ("glance-2025-2", State.FAILED),
    ]
    finished = log.finish(ok=False)
    assert [(i.target, i.state) for i in finished] == [
        ("keystone-2025-2", State.STOPPED),
        ("nova-2025-2", State.STOPPED),
    ]
    glance = images["glance-2025-2"]
    assert glance.step == "[glance-2025-2 deps 2/4] RUN build-venv deps"
    assert glance.error.startswith('process "/bin/sh -c build-venv deps" did not complete')
    text = glance.log.read_text()
    assert "no matching distribution for glance-store===9.9" in text
    assert "Installed 60 packages" not in text, "keystone's lines stay in keystone's log"
    assert "Installed 60 packages" in images["keystone-2025-2"].log.read_text()
    assert not images["nova-2025-2"].log.exists(), "an image that never started has no log"
    assert whole.getvalue() == TRANSCRIPT, "the whole log keeps every line"


def test_a_graph_that_ends_well_builds_what_was_under_way(tmp_path):
    ok_transcript = "".join(
        line + "\n" for line in TRANSCRIPT.splitlines() if "#8" not in line and "ERROR" not in line
    )
    images, log, _, _ = follow(tmp_path, ok_transcript)
    log.finish(ok=True)
    assert images["keystone-2025-2"].state == State.BUILT
    assert images["keystone-2025-2"].seconds(99.0) > 0
    assert images["nova-2025-2"].state == State.BUILT  # nothing of its own to do: all cached


def test_plain_lines_say_each_change_once(tmp_path):
    said: list[str] = []
    board = PlainBoard(said.append, clock=lambda: 12.0)
    images, log, _, _ = follow(tmp_path)
    board.start(list(images.values()))
    for image in log.finish(ok=False):
        board.update(image)
    board.update(images["glance-2025-2"])
    assert said == [
        "planned: keystone-2025-2, glance-2025-2, nova-2025-2",
        "keystone-2025-2: stopped after 3 s",
        "nova-2025-2: stopped",
        "glance-2025-2: failed after 1 s",
    ]
