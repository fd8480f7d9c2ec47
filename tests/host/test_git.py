"""git's messages about a damaged repository, told apart from ordinary failures."""

from __future__ import annotations

import pytest

from imageforge.host import git

DAMAGED = [
    "error: unknown object type 0 at offset 155293 in /c/git/k.git/objects/pack/pack-fbd8f7.pack",
    "error: inflate: data stream error (incorrect header check)",
    "fatal: packed object ffa25e56 (stored in m.git/objects/pack/pack-aa2d.pack) is corrupt",
    "error: object file m.git/objects/ab/cdef is empty",
    "fatal: loose object 1234 (stored in m.git/objects/12/34) is corrupt",
    "error: index file m.git/objects/pack/pack-aa2d.idx is too small",
]
ORDINARY = [
    "fatal: couldn't find remote ref refs/heads/nosuch",
    "error: pathspec 'x' did not match any file(s) known to git",
    "fatal: ambiguous argument 'v9': unknown revision or path not in the working tree.",
    "error: patch failed: glance/cmd/api.py:40",
]


@pytest.mark.parametrize("stderr", DAMAGED)
def test_damage_is_recognised(stderr):
    assert git.reports_damage(stderr)


@pytest.mark.parametrize("stderr", ORDINARY)
def test_ordinary_failures_are_not_damage(stderr):
    assert not git.reports_damage(stderr)
