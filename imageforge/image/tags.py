"""Image tags, computed from the build's inputs, never typed by hand.

``<version>``, ``<version>-p<N>`` when N patches are applied, the release
branch (``stable-2025.2``) and the short SHA of this repository's commit
(``-dirty`` when its tree has uncommitted changes, or untracked files among
the build's inputs).
"""

from __future__ import annotations

import re
from pathlib import Path

from imageforge.host import git

# An uncommitted patch folder changes the image as much as an edited file does;
# an untracked scratch file elsewhere (notes, benchmark output) does not.
BUILD_INPUTS = ("patches", "images", "constraints", "releases.yaml")


def forge_revision(root: Path) -> str:
    """Short SHA of the forge repository's HEAD, marked -dirty when the tree is not clean."""
    proc = git.run(["rev-parse", "--short=12", "HEAD"], cwd=root, check=False)
    if proc.returncode != 0:
        return "unversioned"
    sha = proc.stdout.decode().strip()
    changed = git.text(["status", "--porcelain", "--untracked-files=no"], cwd=root)
    untracked = git.text(
        ["ls-files", "--others", "--exclude-standard", "--", *BUILD_INPUTS], cwd=root
    )
    return f"{sha}-dirty" if changed or untracked else sha


def tag_names(version: str, patch_count: int, release_branch: str, revision: str) -> list[str]:
    names = [version]
    if patch_count:
        names.append(f"{version}-p{patch_count}")
    names += [release_branch.replace("/", "-"), revision]
    # Docker tags: [A-Za-z0-9_.-], at most 128 characters, not starting with . or -.
    return [re.sub(r"[^A-Za-z0-9_.-]", "-", name)[:128].lstrip(".-") for name in names]


def image_references(registry: str, service: str, names: list[str]) -> list[str]:
    repository = f"{registry.rstrip('/')}/{service}" if registry else service
    return [f"{repository}:{name}" for name in names]
