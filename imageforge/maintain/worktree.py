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
import subprocess
from dataclasses import dataclass
from pathlib import Path

from imageforge.context import Forge
from imageforge.errors import ForgeError
from imageforge.host import git
from imageforge.maintain.write import STABLE_ENV, commits
from imageforge.patches.apply import put_grafts
from imageforge.patches.patchfile import PatchFile, read_patch
from imageforge.upstream.pinned import Pinned

# Patches without an author (free text) are committed as this.
NO_AUTHOR = ("imageforge", "imageforge@localhost")


# What a stopped git operation leaves in .git, and how to end it.
IN_PROGRESS = {
    "rebase-merge": "a rebase (git rebase --continue or --abort)",
    "rebase-apply": "a rebase or am (git rebase --continue / git am --continue, or --abort)",
    "CHERRY_PICK_HEAD": "a cherry-pick (git cherry-pick --continue or --abort)",
    "REVERT_HEAD": "a revert (git revert --continue or --abort)",
    "MERGE_HEAD": "a merge (git merge --continue or --abort)",
    "BISECT_LOG": "a bisect (git bisect reset)",
}


@dataclass(frozen=True)
class WorkTree:
    """A work tree under build/work/ and the questions refresh and edit ask of it.

    Every git command runs in it with the stable environment (no user or
    system config, the forge's identity, no editor).
    """

    path: Path

    def __str__(self) -> str:
        return str(self.path)

    @property
    def git_dir(self) -> Path:
        return self.path / ".git"

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return git.run(list(args), cwd=self.path, env=STABLE_ENV, check=check)

    def text(self, *args: str) -> str:
        return git.text(list(args), cwd=self.path, env=STABLE_ENV)

    def text_raw(self, *args: str) -> str:
        return git.text_raw(list(args), cwd=self.path, env=STABLE_ENV)

    def succeeds(self, *args: str) -> bool:
        return self.git(*args, check=False).returncode == 0

    def head(self) -> str:
        return self.text("rev-parse", "HEAD")

    def tree(self, rev: str) -> str:
        return self.text("rev-parse", f"{rev}^{{tree}}")

    def commits(self, base: str) -> list[str]:
        return commits(self.path, base)

    def subject(self, commit: str) -> str:
        return self.text("log", "-1", "--format=%s", commit)

    def unresolved(self) -> list[str]:
        return self.text("diff", "--name-only", "--diff-filter=U").split()

    def staged_changes(self) -> bool:
        return not self.succeeds("diff", "--cached", "--quiet", "HEAD")

    def unstaged_changes(self) -> bool:
        return not self.succeeds("diff", "--quiet")

    @property
    def picking(self) -> bool:
        """A cherry-pick is stopped here."""
        return (self.git_dir / "CHERRY_PICK_HEAD").is_file()

    @property
    def pick_conflicted(self) -> bool:
        """The stopped cherry-pick met conflicts (resolved since, by hand or by rerere).

        git lists them in the message it prepares (MERGE_MSG, "# Conflicts:");
        a pick that stopped only because it left nothing to commit has none.
        """
        message = self.git_dir / "MERGE_MSG"
        return message.is_file() and "\n# Conflicts:\n" in message.read_text(errors="replace")

    def operation_in_progress(self) -> str | None:
        """The git operation stopped here (with how to end it), if any."""
        for marker, operation in IN_PROGRESS.items():
            if (self.git_dir / marker).exists():
                return operation
        return None

    def reverse_applies(self, patch: Path) -> bool:
        return self.succeeds("apply", "--check", "--reverse", str(patch.resolve()))

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def create(forge: Forge, path: Path, target: Pinned, *others: Pinned) -> WorkTree:
    """An empty repository at ``path`` that sees every object of the mirrors of
    ``target`` and ``others`` (the new ref of a refresh), and of their submodules."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    git.run(["init", "--quiet", str(path)], env=STABLE_ENV)
    work = WorkTree(path)
    git.pin_attributes(work.git_dir)
    borrowed = [target.git_dir]
    for pinned_ in (target, *others):
        borrowed += [graft.mirror.path for graft in pinned_.grafts]
    alternates = work.git_dir / "objects" / "info" / "alternates"
    alternates.write_text(
        "".join(f"{(d / 'objects').resolve()}\n" for d in dict.fromkeys(borrowed))
    )
    resolutions = forge.cache / "rerere" / target.project
    resolutions.mkdir(parents=True, exist_ok=True)
    (work.git_dir / "rr-cache").symlink_to(resolutions.resolve())
    for key, value in (("rerere.enabled", "true"), ("rerere.autoUpdate", "true")):
        work.git("config", key, value)
    return work


def base_commit(work: WorkTree, target: Pinned) -> str:
    """The commit a series applies to in a work tree: the pinned commit, or with submodules,
    a commit on it that puts each submodule's tree in place of its gitlink.

    A patch to OVN's embedded OVS touches ``ovs/...``, as in a recursive
    clone; git cannot apply or cherry-pick it onto a gitlink. The commit is
    made with the forge's fixed identity and date, so the same pin gives the
    same commit, and its message names each submodule's commit.
    """
    if not target.grafts:
        return target.commit
    index = work.git_dir / "forge-graft-index"
    env = {**STABLE_ENV, "GIT_INDEX_FILE": str(index)}
    git.run(["read-tree", target.commit], cwd=work.path, env=env)
    put_grafts(work.git_dir, env, target.grafts)
    tree = git.text(["write-tree"], cwd=work.path, env=env)
    index.unlink()
    lines = "".join(f"\n{graft.describe()}" for graft in target.grafts)
    message = f"imageforge: submodules in place at {target.ref}\n{lines}\n"
    dated = {**STABLE_ENV, **{f"GIT_{who}_DATE": "@0 +0000" for who in ("AUTHOR", "COMMITTER")}}
    dated |= {"GIT_AUTHOR_NAME": NO_AUTHOR[0], "GIT_AUTHOR_EMAIL": NO_AUTHOR[1]}
    return git.text(
        ["commit-tree", tree, "-p", target.commit, "-m", message], cwd=work.path, env=dated
    )


def import_series(
    work: WorkTree, base: str, patches: tuple[Path, ...], ref: str, branch: str = "forge-series"
) -> list[str]:
    """Commit each patch on ``base`` (strictly, as the gate checks); return the commits.

    A patch already upstream at ``base`` (it reverse-applies) gets "" instead of a commit.
    """
    work.git("checkout", "--quiet", "-b", branch, base)
    commits = []
    for path in patches:
        patch = read_patch(path)
        applied = work.git(
            "apply", "--index", "--whitespace=nowarn", str(path.resolve()), check=False
        )
        if applied.returncode != 0:
            if work.reverse_applies(path):
                commits.append("")
                continue
            raise ForgeError(
                f"{path.name} does not apply to the current ref {ref}; "
                f"fix the series first (inv patches.check shows why): "
                f"{git.last_words(applied.stderr.decode(errors='replace'))}"
            )
        commit(work, patch)
        commits.append(work.head())
    return commits


def commit(work: WorkTree, patch: PatchFile) -> None:
    """Commit the index as ``patch``: its author and date when it is a mail."""
    name, email = NO_AUTHOR
    if patch.author and "<" in patch.author:
        name, email = (part.strip(" >") for part in patch.author.rsplit("<", 1))
    env = {**STABLE_ENV, "GIT_AUTHOR_NAME": name or NO_AUTHOR[0], "GIT_AUTHOR_EMAIL": email}
    if patch.date:
        env["GIT_AUTHOR_DATE"] = patch.date
    git.run(
        ["commit", "--quiet", "--no-verify", "--allow-empty", "--cleanup=verbatim", "-F", "-"],
        cwd=work.path,
        env=env,
        input=patch.message.encode() + b"\n",
    )
