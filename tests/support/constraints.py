"""An upstream upper-constraints text and overrides files for constraints tests."""

from __future__ import annotations

import textwrap

from imageforge.constraints.overrides import parse_overrides

UPSTREAM = textwrap.dedent(
    """\
    # a comment upstream keeps
    alembic===1.14.0
    glance_store===4.9.1
    horizon===25.1.0
    numpy===1.26.4;python_version=='3.9'
    numpy===2.2.1;python_version>='3.10'
    oslo.messaging===16.0.0
    zipp===3.21.0
    """
)


def overrides(tmp_path, text):
    path = tmp_path / "constraints" / "2025.2.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return parse_overrides(path)
