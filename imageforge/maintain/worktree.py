"""A work tree under build/work/ holding a series as commits on an upstream commit.

refresh and edit both start here: a fresh repository that borrows the
mirror's objects (no copy), and the series imported as one commit per patch,
strictly (as the gate checks), with a fixed identity and no user config.
Every patch git apply accepts is imported: a mail with its author, date and
message, a free-text patch with its preamble as the message. Conflict
resolutions are remembered (git rerere) in the forge cache, per project, so
an aborted refresh, or the same conflict in another release's series, reuses
them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from imageforge.context import Forge
from imageforge.errors import ForgeError
from imageforge.host import git
from imageforge.maintain.write import STABLE_ENV
from imageforge.patches.patchfile import PatchFile, read_patch
from imageforge.upstream.pinned import Pinned

# Patches without an author (free text) are committed as this.
NO_AUTHOR = ("imageforge", "imageforge@localhost")


def create(forge: Forge, work: Path, target: Pinned) -> None:
    """An empty repository at ``work`` that sees every object of ``target``'s mirror."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    git.run(["init", "--quiet", str(work)], env=STABLE_ENV)
    git.pin_attributes(work / ".git")
    alternates = work / ".git" / "objects" / "info" / "alternates"
    alternates.write_text(f"{(target.git_dir / 'objects').resolve()}\n")
    resolutions = forge.cache / "rerere" / target.project
    resolutions.mkdir(parents=True, exist_ok=True)
    (work / ".git" / "rr-cache").symlink_to(resolutions.resolve())
    for key, value in (("rerere.enabled", "true"), ("rerere.autoUpdate", "true")):
        run(work, "config", key, value)


def import_series(
    work: Path, base: str, patches: tuple[Path, ...], ref: str, branch: str = "forge-series"
) -> list[str]:
    """Commit each patch on ``base`` (strictly, as the gate checks); return the commits.

    A patch already upstream at ``base`` (it reverse-applies) gets "" instead of a commit.
    """
    run(work, "checkout", "--quiet", "-b", branch, base)
    commits = []
    for path in patches:
        patch = read_patch(path)
        applied = git.run(
            ["apply", "--index", "--whitespace=nowarn", str(path.resolve())],
            cwd=work,
            env=STABLE_ENV,
            check=False,
        )
        if applied.returncode != 0:
            if reverse_applies(work, path):
                commits.append("")
                continue
            raise ForgeError(
                f"{path.name} does not apply to the current ref {ref}; "
                f"fix the series first (inv patches.check shows why): "
                f"{git.last_words(applied.stderr.decode(errors='replace'))}"
            )
        commit(work, patch)
        commits.append(git.text(["rev-parse", "HEAD"], cwd=work))
    return commits


def commit(work: Path, patch: PatchFile) -> None:
    """Commit the index as ``patch``: its author and date when it is a mail."""
    name, email = NO_AUTHOR
    if patch.author and "<" in patch.author:
        name, email = (part.strip(" >") for part in patch.author.rsplit("<", 1))
    env = {**STABLE_ENV, "GIT_AUTHOR_NAME": name or NO_AUTHOR[0], "GIT_AUTHOR_EMAIL": email}
    if patch.date:
        env["GIT_AUTHOR_DATE"] = patch.date
    git.run(
        ["commit", "--quiet", "--no-verify", "--allow-empty", "--cleanup=verbatim", "-F", "-"],
        cwd=work,
        env=env,
        input=patch.message.encode() + b"\n",
    )


def reverse_applies(work: Path, patch: Path) -> bool:
    proc = git.run(["apply", "--check", "--reverse", str(patch.resolve())], cwd=work, check=False)
    return proc.returncode == 0


def run(work: Path, *args: str) -> None:
    git.run(list(args), cwd=work, env=STABLE_ENV)
