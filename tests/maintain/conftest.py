"""A maintained project: upstream demo with a two-patch series, for refresh and edit tests."""

from __future__ import annotations

import pytest

from tests.support.projects import write_project

DATA = "".join(f"line {i}\n" for i in range(1, 41))
MANIFEST = """\
# The project's releases (this comment must survive a refresh).
defaults: {{registry: r.test, base_image: debian:bookworm, requirements_repo: {url}}}
services:
  demo: {{repo: {url}}}
releases:
  2025.2:
    requirements: {{ref: master}}
    services:
      demo: {{ref: 1.0.2}}  # pinned point release
"""


def edit(text: str, **changes: str) -> str:
    for old, new in changes.items():
        text = text.replace(f"line {old}\n", f"{new}\n")
    return text


@pytest.fixture
def project(upstream, tmp_path):
    """stable/2025.2 tagged 1.0.2 with a 40-line file, and a two-patch series made against it."""
    repo = upstream("demo")
    repo.checkout("stable/2025.2")
    repo.commit({"demo/data.txt": DATA}, "Add data")
    repo.tag("1.0.2")
    repo.git("checkout", "--quiet", "-b", "maintainer", "1.0.2")
    env_author = ["-c", "core.abbrev=7"]
    (repo.path / "demo" / "data.txt").write_text(edit(DATA, **{"10": "line ten"}))
    repo.git(
        *env_author,
        "commit",
        "--quiet",
        "--author=Jane Maintainer <jane@example.org>",
        "-am",
        "Name line ten\n\nWe need line ten spelled out.\n\nChange-Id: I0123456789abcdef",
    )
    (repo.path / "demo" / "data.txt").write_text(
        edit(DATA, **{"10": "line ten", "30": "line thirty"})
    )
    repo.git(
        *env_author,
        "commit",
        "--quiet",
        "--author=Jane Maintainer <jane@example.org>",
        "-am",
        "Name line thirty",
    )
    folder = tmp_path / "patches" / "demo" / "2025.2"
    folder.mkdir(parents=True)
    names = [
        p.rsplit("/", 1)[-1]
        for p in repo.git("format-patch", "-o", str(folder), "1.0.2..maintainer").split()
    ]
    (folder / "series").write_text("# our fixes\n" + "".join(f"{n}\n" for n in names))
    repo.checkout("stable/2025.2")
    path = write_project(tmp_path, MANIFEST.format(url=repo.url), images=("demo",))
    return repo, path, folder, names
