"""Real upstream git repositories for tests: a pbr-style package with tags and a stable branch."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

# A repo-local identity and no user or system config, so tests behave the same
# on every machine (no hooks, no signing, no diff.noprefix surprises).
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Upstream Dev",
    "GIT_AUTHOR_EMAIL": "dev@example.org",
    "GIT_COMMITTER_NAME": "Upstream Dev",
    "GIT_COMMITTER_EMAIL": "dev@example.org",
    "GIT_AUTHOR_DATE": "2025-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2025-01-01T00:00:00+00:00",
}


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


@dataclass
class UpstreamRepo:
    """A working repository standing in for an upstream project on opendev."""

    path: Path
    name: str

    @property
    def url(self) -> str:
        return self.path.as_uri()

    def git(self, *args: str) -> str:
        return git(self.path, *args)

    def commit(self, files: dict[str, str], message: str) -> str:
        for relative, content in files.items():
            target = self.path / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        self.git("add", "--all")
        self.git("commit", "--quiet", "--no-verify", "-m", message)
        return self.head()

    def head(self, ref: str = "HEAD") -> str:
        return self.git("rev-parse", f"{ref}^{{commit}}")

    def tag(self, name: str) -> None:
        self.git("tag", "--annotate", "--message", name, name)

    def checkout(self, ref: str, *, new: bool = False) -> None:
        self.git("checkout", "--quiet", *(["-b"] if new else []), ref)

    def read(self, relative: str) -> str:
        return (self.path / relative).read_text()


def pbr_package_files(name: str, module_body: str = "") -> dict[str, str]:
    """The files of a minimal pbr package: version from git or PKG-INFO, one console script."""
    module = name.replace("-", "_")
    return {
        "setup.py": "import setuptools\n\nsetuptools.setup(setup_requires=['pbr'], pbr=True)\n",
        "setup.cfg": (
            f"[metadata]\nname = {name}\nsummary = A synthetic OpenStack-like service\n"
            "author = Upstream Dev\nauthor_email = dev@example.org\n"
            "classifier =\n    Programming Language :: Python :: 3\n\n"
            f"[files]\npackages =\n    {module}\n\n"
            f"[entry_points]\nconsole_scripts =\n    {name}-manage = {module}.cmd:main\n"
        ),
        "requirements.txt": "pbr>=5.5.0\n",
        f"{module}/__init__.py": module_body or '"""A synthetic service."""\n',
        f"{module}/cmd.py": (
            "import sys\n\nfrom importlib.metadata import version\n\n\n"
            "def main():\n"
            f"    if '--version' in sys.argv:\n        print(version({name!r}))\n"
            "    return 0\n"
        ),
        f"{module}/greeting.py": 'GREETING = "hello"\n\n\ndef greet(name):\n    return f"{GREETING}, {name}"\n',
        # Package data: installed only when the build sees the full file list.
        f"{module}/templates/banner.txt": "welcome\n",
    }


def make_upstream(root: Path, name: str = "demo") -> UpstreamRepo:
    """master: 1.0.0 and later work; stable/2025.2 branched at 1.0.0 with 1.0.1 tagged on it.

    History::

        1.0.0 -- fix -- (1.0.1)            stable/2025.2
           \\
            -- feature -- more             master
    """
    path = root / name
    path.mkdir(parents=True)
    git(path, "init", "--quiet", "--initial-branch=master")
    # Serve partial clones, as opendev does, so blobless mirrors are exercised.
    git(path, "config", "uploadpack.allowFilter", "true")
    repo = UpstreamRepo(path=path, name=name)
    repo.commit(pbr_package_files(name), "Initial commit")
    repo.tag("1.0.0")
    repo.checkout("stable/2025.2", new=True)
    repo.commit({"CHANGES.txt": "fix one\n"}, "Fix a bug on stable")
    repo.tag("1.0.1")
    repo.checkout("master")
    repo.commit({"FEATURES.txt": "feature\n"}, "Add a feature")
    repo.commit({"FEATURES.txt": "feature\nmore\n"}, "Add more to the feature")
    return repo


def repo_at(path: Path, name: str, files: dict[str, str]) -> UpstreamRepo:
    """A new repository at ``path`` (serving partial clones) with one commit of ``files``."""
    path.mkdir(parents=True)
    git(path, "init", "--quiet", "--initial-branch=master")
    git(path, "config", "uploadpack.allowFilter", "true")
    repo = UpstreamRepo(path=path, name=name)
    repo.commit(files, f"{name} 1")
    return repo
