"""Nox sessions. The release x service matrix comes from releases.yaml, never typed here.

nox -l                              every session, one per release x service
nox -s "checkout(keystone-2025.2)"  one pair
nox -t keystone                     every session of one service (or -t 2025.2)
"""

from __future__ import annotations

from pathlib import Path

import nox

from imageforge.config.matrix import matrix_rows, project_rows
from imageforge.context import from_environment
from imageforge.errors import ForgeError

ROOT = Path(__file__).resolve().parent
nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "tests"]


def _manifest():
    try:
        return from_environment(ROOT / "releases.yaml").manifest
    except ForgeError as err:
        raise SystemExit(f"error: {err}") from None


def _pairs() -> list[nox.param]:
    return [
        nox.param(row.release, row.project, id=row.id, tags=[row.project, row.release])
        for row in matrix_rows(_manifest())
    ]


def _projects() -> list[nox.param]:
    return [
        nox.param(row.release, row.project, id=row.id, tags=[row.project, row.release])
        for row in project_rows(_manifest())
    ]


PAIRS = _pairs()
PROJECTS = _projects()


def _sync(session: nox.Session) -> None:
    """Install the locked dependencies (requirements.lock) and the project into the session's venv."""
    session.run_install(
        "bash", str(ROOT / "scripts" / "sync-venv.sh"), session.virtualenv.location, external=True
    )


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (Docker tests need an engine; CI demands them)."""
    _sync(session)
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and common bugs with ruff, and types with mypy."""
    _sync(session)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session(default=False)
@nox.parametrize(("release", "service"), PAIRS)
def checkout(session: nox.Session, release: str, service: str) -> None:
    """Export one service's source at the ref its release pins."""
    _sync(session)
    session.run("inv", "checkout", "--release", release, "--service", service)


@nox.session(default=False)
@nox.parametrize(("release", "project"), PROJECTS)
def patches(session: nox.Session, release: str, project: str) -> None:
    """Gate: the project's patch series applies to its pinned ref (checked without a checkout)."""
    _sync(session)
    session.run("inv", "patches.check", "--release", release, "--service", project)


@nox.session(default=False)
@nox.parametrize(("release", "service"), PAIRS)
def build(session: nox.Session, release: str, service: str) -> None:
    """Build one service image (extra arguments go to inv build, e.g. -- --base-image IMAGE)."""
    _sync(session)
    session.run("inv", "build", "--release", release, "--service", service, *session.posargs)


@nox.session(default=False)
@nox.parametrize(("release", "service"), PAIRS)
def smoke(session: nox.Session, release: str, service: str) -> None:
    """Build (or reuse) one service image, then smoke-test it."""
    _sync(session)
    session.run(
        "inv",
        "smoke",
        "--release",
        release,
        "--service",
        service,
        "--build",
        *session.posargs,
    )
