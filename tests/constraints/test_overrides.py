"""Overrides of upper-constraints: parsed, checked and applied, as data."""

from __future__ import annotations

import pytest

from imageforge.constraints.overrides import (
    ConstraintsError,
    apply_overrides,
    normalize,
)
from tests.support.constraints import UPSTREAM, overrides


def apply(tmp_path, text, **kwargs):
    lines, changes = apply_overrides(UPSTREAM, overrides(tmp_path, text), **kwargs)
    return lines, [(c.kind.value, c.name, c.old, c.new) for c in changes]


def test_pep503_normalisation():
    assert (
        normalize("glance_store")
        == normalize("glance-store")
        == normalize("Glance.Store")
        == "glance-store"
    )


def test_replace_a_pin_keeps_order_and_comments(tmp_path):
    lines, changes = apply(tmp_path, "alembic===1.15.0\n")
    assert lines == UPSTREAM.replace("alembic===1.14.0", "alembic===1.15.0").splitlines()
    assert changes == [("replaced", "alembic", ("alembic===1.14.0",), ("alembic===1.15.0",))]


def test_replace_matches_by_normalised_name(tmp_path):
    lines, _ = apply(tmp_path, "Glance.Store===5.0.0\n")
    assert "Glance.Store===5.0.0" in lines
    assert not any(line.startswith("glance_store") for line in lines)
    assert lines.index("Glance.Store===5.0.0") == 2


def test_add_a_pin_upstream_does_not_list(tmp_path):
    lines, changes = apply(tmp_path, "+my-lib===1.0  # ours\n")
    assert lines[-1] == "my-lib===1.0"
    assert lines[:-1] == UPSTREAM.splitlines()
    assert changes == [("added", "my-lib", (), ("my-lib===1.0",))]


def test_remove_a_package(tmp_path):
    lines, changes = apply(tmp_path, "-horizon\n")
    assert "horizon===25.1.0" not in lines
    assert len(lines) == len(UPSTREAM.splitlines()) - 1
    assert changes == [("removed", "horizon", ("horizon===25.1.0",), ())]


def test_marker_lines_are_kept_and_replaced_together(tmp_path):
    untouched, _ = apply(tmp_path, "")
    assert "numpy===1.26.4;python_version=='3.9'" in untouched
    lines, changes = apply(
        tmp_path,
        """\
        numpy===1.26.4;python_version<'3.12'
        numpy===2.3.0;python_version>='3.12'
        """,
    )
    numpy = [line for line in lines if line.startswith("numpy")]
    assert numpy == [
        'numpy===1.26.4;python_version < "3.12"',
        'numpy===2.3.0;python_version >= "3.12"',
    ]
    assert lines.index(numpy[0]) == 4, "in upstream's place"
    assert changes[0][2] == (
        "numpy===1.26.4;python_version=='3.9'",
        "numpy===2.2.1;python_version>='3.10'",
    )


def test_removing_a_package_that_is_not_there_is_an_error(tmp_path):
    with pytest.raises(ConstraintsError) as caught:
        apply(tmp_path, "# header\n-hoizon\n")
    assert (
        str(caught.value)
        == f"{tmp_path}/constraints/2025.2.txt:2: cannot remove hoizon: upstream does not pin it"
    )


def test_replacing_a_package_that_is_not_there_is_an_error(tmp_path):
    with pytest.raises(
        ConstraintsError,
        match=r"2025\.2\.txt:1: cannot replace nope: upstream does not pin it; write \+NAME===VERSION to add it",
    ):
        apply(tmp_path, "nope===1.0\n")


def test_adding_a_package_upstream_pins_is_an_error(tmp_path):
    with pytest.raises(
        ConstraintsError,
        match=r"2025\.2\.txt:1: \+zipp: upstream already pins it \(zipp===3\.21\.0\)",
    ):
        apply(tmp_path, "+zipp===9\n")


@pytest.mark.parametrize(
    "line", ["alembic>=1.0", "alembic", "alembic===1.0===2", "-", "-foo bar", "alembic[x]===1", "+"]
)
def test_malformed_lines_name_file_and_line(tmp_path, line):
    with pytest.raises(ConstraintsError) as caught:
        overrides(tmp_path, f"\n\n{line}\n")
    assert str(caught.value).startswith(
        f"{tmp_path}/constraints/2025.2.txt:3: malformed override {line!r}"
    )


def test_the_same_package_overridden_twice_is_an_error(tmp_path):
    with pytest.raises(
        ConstraintsError, match=r"2025\.2\.txt:2: horizon is already overridden at .*2025\.2\.txt:1"
    ):
        overrides(tmp_path, "-horizon\nhorizon===1\n")


def test_built_from_source_sets_the_pin_to_the_built_version(tmp_path):
    lines, changes = apply(
        tmp_path, "", built_from_source={"oslo.messaging": "16.0.1.dev3", "keystone": "28.0.2"}
    )
    assert "oslo.messaging===16.0.1.dev3" in lines
    assert "oslo.messaging===16.0.0" not in lines
    assert not any(line.startswith("keystone") for line in lines), (
        "not pinned upstream: nothing to do"
    )
    assert changes == [
        (
            "from source",
            "oslo-messaging",
            ("oslo.messaging===16.0.0",),
            ("oslo.messaging===16.0.1.dev3",),
        )
    ]


@pytest.mark.parametrize(
    "text",
    [
        "alembic===1.15.0\nalembic===1.16.0\n",
        "alembic===1.15.0\nAlembic===1.16.0\n",
        "numpy===2.3.0;python_version>='3.12'\nnumpy===2.3.1;python_version>='3.12'\n",
        "numpy===2.3.0\nnumpy===1.26.4;python_version<'3.12'\n",
        "+newpkg===1.0\n+newpkg===2.0\n",
    ],
)
def test_two_pins_for_the_same_environments_are_refused(tmp_path, text):
    with pytest.raises(ConstraintsError) as caught:
        overrides(tmp_path, text)
    message = str(caught.value)
    assert "2025.2.txt:2:" in message and "2025.2.txt:1:" in message, "both lines named"
    assert "pinned twice for the same environments" in message


def test_a_latin1_comment_is_only_a_comment(tmp_path):
    path = tmp_path / "2025.2.txt"
    path.write_bytes(b"# r\xe9vis\xe9 par Andr\xe9\nalembic===1.15.0  # caf\xe9\n")
    from imageforge.constraints.overrides import parse_overrides

    [override] = parse_overrides(path)
    assert override.name == "alembic"


def test_a_latin1_byte_in_a_pin_is_one_line(tmp_path):
    path = tmp_path / "2025.2.txt"
    path.write_bytes(b"# ok\nalemb\xe9c===1.15.0\n")
    from imageforge.constraints.overrides import parse_overrides

    with pytest.raises(ConstraintsError) as caught:
        parse_overrides(path)
    assert str(caught.value) == f"{path}:2: not UTF-8 text: b'alemb\\xe9c===1.15.0'"
