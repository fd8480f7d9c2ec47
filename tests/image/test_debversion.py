"""Debian version ordering, on the cases deb-version(7) and dpkg's own tests name."""

import pytest

from imageforge.image.debversion import compare, newest


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("1.0", "1.1"),
        ("1.9", "1.10"),  # digits compare as numbers
        ("1.0~rc1", "1.0"),  # ~ sorts before the end
        ("1.0~~", "1.0~"),
        ("1.0", "1.0a"),  # the end sorts before a letter
        ("1.0a", "1.0+"),  # letters before non-letters
        ("2.0", "1:1.0"),  # the epoch wins
        ("3.0.15-1~deb12u1", "3.0.17-1~deb12u3"),
        ("3.0.17-1~deb12u2", "3.0.17-1~deb12u3"),
        ("1.2.3-1~deb12u1", "1.2.3-1"),  # a backport revision sorts before the release
        ("5.2.15-2", "5.2.15-2+b13"),  # a binNMU is newer
        ("1.0-1", "1.0-1.1"),
    ],
)
def test_versions_order_as_dpkg_orders_them(older, newer):
    assert compare(older, newer) == -1
    assert compare(newer, older) == 1
    assert newest(older, newer) == newer == newest(newer, older)


def test_equal_versions_compare_equal():
    assert compare("1:2.38.1-5+deb12u3", "1:2.38.1-5+deb12u3") == 0
    assert compare("0:1.0", "1.0") == 0  # epoch 0 is the default
