"""The digest lock: a damaged file is one line, never a traceback."""

from __future__ import annotations

import pytest

from imageforge.errors import ForgeError
from imageforge.publish.lock import read_lock


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"keystone": {"digest": "sha256:ab', "Unterminated string"),
        ("", "Expecting value"),
        ('["keystone"]', "expected an object of service entries"),
        ('{"keystone": "sha256:ab"}', "expected an object of service entries"),
    ],
    ids=["truncated", "empty", "a list", "an entry that is no object"],
)
def test_a_damaged_lock_is_one_line(tmp_path, text, why):
    path = tmp_path / "2025.2.json"
    path.write_text(text)
    with pytest.raises(ForgeError) as caught:
        read_lock(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: not a digest lock (") and why in message
    assert "\n" not in message
    assert path.read_text() == text, "left as it was"


def test_a_missing_lock_is_empty_and_a_good_one_reads(tmp_path):
    assert read_lock(tmp_path / "none.json") == {}
    path = tmp_path / "2025.2.json"
    path.write_text('{"keystone": {"digest": "sha256:ab"}}')
    assert read_lock(path) == {"keystone": {"digest": "sha256:ab"}}
