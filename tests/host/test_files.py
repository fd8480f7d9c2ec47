"""File-system helpers: paths made from names stay under their root."""

from __future__ import annotations

import pytest

from imageforge.errors import ForgeError


def test_a_path_made_from_names_stays_under_its_root(tmp_path):
    from imageforge.host.files import under

    assert under(tmp_path, "2025.2", "oslo.messaging") == tmp_path / "2025.2" / "oslo.messaging"
    for names in (("..", "x"), ("2025.2", "../../evil"), ("/etc",), (".",)):
        with pytest.raises(ForgeError, match="not a plain name"):
            under(tmp_path, *names)
