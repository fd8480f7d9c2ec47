"""A work tree under build/work/ holding a series as commits on an upstream commit.

refresh and edit both start here: a fresh repository that borrows the
mirror's objects (no copy), and the series imported as one commit per patch,
strictly (as the gate checks), with a fixed identity and no user config.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from imageforge.errors import ForgeError
from imageforge.host import git
from imageforge.maintain.write import STABLE_ENV
from imageforge.upstream.pinned import Pinned


def create(work: Path, target: Pinned) -> None:
    """An empty repository at ``work`` that sees every object of ``target``'s mirror."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    git.run(["init", "--quiet", str(work)], env=STABLE_ENV)
    alternates = work / ".git" / "objects" / "info" / "alternates"
    alternates.write_text(f"{(target.git_dir / 'objects').resolve()}\n")


def import_series(
    work: Path, base: str, patches: tuple[Path, ...], ref: str, branch: str = "forge-series"
) -> list[str]:
    """Commit each patch on ``base`` (strictly, as the gate checks); return the commits.

    A patch already upstream at ``base`` (it reverse-applies) gets "" instead of a commit.
    """
    run(work, "checkout", "--quiet", "-b", branch, base)
    commits = []
    for patch in patches:
        am = git.run(["am", "--quiet", str(patch)], cwd=work, env=STABLE_ENV, check=False)
        if am.returncode != 0:
            run(work, "am", "--abort")
            landed = git.run(["apply", "--check", "--reverse", str(patch)], cwd=work, check=False)
            if landed.returncode == 0:
                commits.append("")
                continue
            raise ForgeError(
                f"{patch.name} does not apply to the current ref {ref}; "
                "fix the series first (inv patches.check shows why)"
            )
        commits.append(git.text(["rev-parse", "HEAD"], cwd=work))
    return commits


def run(work: Path, *args: str) -> None:
    git.run(list(args), cwd=work, env=STABLE_ENV)
