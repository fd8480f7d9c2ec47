"""inv constraints.override: one fixed version into every release that pins it lower, resolved."""

from __future__ import annotations

import pytest

from imageforge.config.manifest import Manifest, Release, Requirements
from imageforge.constraints.overrides import ConstraintsError
from imageforge.constraints.raise_pin import MARK, parse_pin, raise_everywhere
from imageforge.context import Forge
from tests.support.gitrepos import git

# importlib-metadata 8.x requires zipp>=3.20: raising it where zipp is pinned
# older cannot resolve.
UPSTREAM = {
    "2025.1": "importlib-metadata===7.0.0\nzipp===3.17.0\n",
    "2025.2": "importlib-metadata===8.5.0\nzipp===3.21.0\n",
    "2026.1": "six===1.17.0\n",
}


@pytest.fixture
def forge(tmp_path):
    repo = tmp_path / "upstream" / "requirements"
    repo.mkdir(parents=True)
    git(repo, "init", "--quiet", "--initial-branch=master")
    for name, text in UPSTREAM.items():
        git(repo, "checkout", "--quiet", "--orphan", f"stable/{name}")
        (repo / "upper-constraints.txt").write_text(text)
        git(repo, "add", "--all")
        git(repo, "commit", "--quiet", "-m", f"{name} constraints")
    releases = tuple(
        Release(
            name=name,
            requirements=Requirements(repo=repo.as_uri(), ref=f"stable/{name}"),
            base_image="debian:bookworm",
            registry="registry.test",
            services=(),
        )
        for name in UPSTREAM
    )
    (tmp_path / "constraints").mkdir()
    manifest = Manifest(path=tmp_path / "releases.yaml", releases=releases)
    return Forge(manifest, tmp_path / "cache", tmp_path / "build", log=lambda line: None)


def test_raised_where_lower_left_where_met_or_not_pinned(forge, tmp_path):
    # 2025.2 already overrides zipp, higher than upstream: met by the override.
    (tmp_path / "constraints" / "2025.2.txt").write_text("# kept\nzipp===3.23.0\n")
    outcomes = raise_everywhere(forge, "zipp===3.20.0", list(forge.manifest.releases))
    assert [(o.release, o.result) for o in outcomes] == [
        ("2025.1", "raised"),
        ("2025.2", "already met"),
        ("2026.1", "not pinned"),
    ]
    assert outcomes[0].detail == "zipp 3.17.0 -> 3.20.0 in 2025.1.txt"
    assert (tmp_path / "constraints" / "2025.1.txt").read_text() == f"zipp===3.20.0  {MARK}\n"
    assert (tmp_path / "constraints" / "2025.2.txt").read_text() == "# kept\nzipp===3.23.0\n"
    assert not (tmp_path / "constraints" / "2026.1.txt").exists()


def test_an_older_override_is_replaced(forge, tmp_path):
    (tmp_path / "constraints" / "2025.1.txt").write_text(
        "# why\nzipp===3.18.0\n-importlib-metadata\n"
    )
    [outcome] = raise_everywhere(forge, "Zipp==3.20.0", [forge.manifest.release("2025.1")])
    assert outcome.result == "raised"
    text = (tmp_path / "constraints" / "2025.1.txt").read_text()
    assert text == f"# why\n-importlib-metadata\nZipp===3.20.0  {MARK}\n"


def test_a_raise_that_does_not_resolve_leaves_the_release_as_it_was(forge, tmp_path):
    before = "# untouched\n"
    (tmp_path / "constraints" / "2025.1.txt").write_text(before)
    [outcome] = raise_everywhere(
        forge, "importlib-metadata===8.5.0", [forge.manifest.release("2025.1")]
    )
    assert (outcome.result, outcome.ok) == ("does not resolve", False)
    assert "zipp" in outcome.detail  # uv's words: the pin it conflicts with
    assert (tmp_path / "constraints" / "2025.1.txt").read_text() == before


@pytest.mark.parametrize("text", ["zipp", "zipp===", "===3.0", "zipp===x.y", "zipp>=3.0"])
def test_a_malformed_pin_says_what_is_expected(text):
    with pytest.raises(ConstraintsError, match="expected NAME===VERSION"):
        parse_pin(text)
