"""Constraints: upstream upper-constraints at a ref, plus overrides, as data."""

from __future__ import annotations

import textwrap

import pytest

from imageforge.constraints import (
    ConstraintsError,
    apply_overrides,
    generate,
    normalize,
    parse_overrides,
)
from imageforge.manifest import Release, Requirements
from tests.gitrepos import git

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


def apply(tmp_path, text, **kwargs):
    lines, changes = apply_overrides(UPSTREAM, overrides(tmp_path, text), **kwargs)
    return lines, [(c.action, c.name, c.old, c.new) for c in changes]


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


@pytest.fixture
def requirements_repo(tmp_path):
    path = tmp_path / "upstream" / "requirements"
    path.mkdir(parents=True)
    git(path, "init", "--quiet", "--initial-branch=master")
    (path / "upper-constraints.txt").write_text(UPSTREAM)
    git(path, "add", "--all")
    git(path, "commit", "--quiet", "-m", "Initial constraints")
    git(path, "branch", "stable/2025.2")
    return path


def test_generate_reads_upstream_at_the_ref_and_applies_overrides(tmp_path, requirements_repo):
    release = Release(
        name="2025.2",
        requirements=Requirements(repo=requirements_repo.as_uri(), ref="stable/2025.2"),
        base_image="debian:bookworm",
        registry="registry.test",
        services=(),
    )
    overrides(tmp_path, "-horizon\nalembic===1.15.0\n")
    # Upstream moves on master; the release's branch stays put.
    (requirements_repo / "upper-constraints.txt").write_text("alembic===9.9.9\n")
    git(requirements_repo, "commit", "--quiet", "-am", "Bump on master")
    logged = []
    result = generate(release, tmp_path, tmp_path / "cache", tmp_path / "build", log=logged.append)
    text = result.path.read_text()
    commit = git(requirements_repo, "rev-parse", "stable/2025.2")
    assert result.path == tmp_path / "build" / "constraints" / "2025.2" / "upper-constraints.txt"
    assert text.splitlines()[:3] == [
        "# Generated by imageforge; do not edit.",
        f"# upstream: {requirements_repo.as_uri()} {commit} upper-constraints.txt",
        "# overrides: constraints/2025.2.txt",
    ]
    assert (
        text.splitlines()[3:]
        == UPSTREAM.replace("horizon===25.1.0\n", "").replace("1.14.0", "1.15.0").splitlines()
    )
    summary = logged[0].splitlines()
    assert (
        summary[0]
        == f"constraints 2025.2: 7 upstream pins at requirements {commit[:12]}; 2 changed by overrides"
    )
    assert summary[1].split() == ["removed", "horizon", "horizon===25.1.0", "->", "-"]
    assert summary[2].split() == [
        "replaced",
        "alembic",
        "alembic===1.14.0",
        "->",
        "alembic===1.15.0",
    ]
    # No churn: a second run writes the same bytes.
    again = generate(release, tmp_path, tmp_path / "cache", tmp_path / "build", log=logged.append)
    assert again.digest == result.digest and again.path.read_text() == text
