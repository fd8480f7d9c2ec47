"""Debian version ordering, as dpkg compares versions (deb-version(7)).

``[epoch:]upstream[-revision]``: epochs compare as numbers; upstream and
revision compare as alternating runs of non-digits (letters sort before
non-letters, and ``~`` before anything, even the end) and digits (as numbers).
"""

from __future__ import annotations


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` is older than, the same as, or newer than ``b``."""
    epoch_a, upstream_a, revision_a = _split(a)
    epoch_b, upstream_b, revision_b = _split(b)
    if epoch_a != epoch_b:
        return -1 if epoch_a < epoch_b else 1
    return _compare_part(upstream_a, upstream_b) or _compare_part(revision_a, revision_b)


def newest(a: str, b: str) -> str:
    return b if compare(a, b) < 0 else a


def _split(version: str) -> tuple[int, str, str]:
    epoch, colon, rest = version.partition(":")
    if not colon:
        epoch, rest = "0", version
    upstream, dash, revision = rest.rpartition("-")
    if not dash:
        upstream, revision = rest, ""
    return int(epoch) if epoch.isdigit() else 0, upstream, revision


def _order(char: str) -> int:
    if char == "~":
        return -1
    if char.isalpha():
        return ord(char)
    return ord(char) + 256


def _compare_part(a: str, b: str) -> int:
    while a or b:
        text_a, a = _take(a, digits=False)
        text_b, b = _take(b, digits=False)
        # The end of a string sorts after "~" and before everything else.
        for x, y in zip(text_a + "\0", text_b + "\0", strict=False):
            ox = 0 if x == "\0" else _order(x)
            oy = 0 if y == "\0" else _order(y)
            if ox != oy:
                return -1 if ox < oy else 1
        number_a, a = _take(a, digits=True)
        number_b, b = _take(b, digits=True)
        if int(number_a or 0) != int(number_b or 0):
            return -1 if int(number_a or 0) < int(number_b or 0) else 1
    return 0


def _take(text: str, *, digits: bool) -> tuple[str, str]:
    end = 0
    while end < len(text) and text[end].isdigit() == digits:
        end += 1
    return text[:end], text[end:]
