"""Nox sessions. The release x service matrix comes from releases.yaml, never typed here.

nox -l                              every session, one per release x service
nox -s "checkout(keystone-2025.2)"  one pair
nox -t keystone                     every session of one service (or -t 2025.2)

Every session runs in the project's locked venv (.venv, made by
scripts/sync-venv.sh), not a venv of its own: creating and syncing one per
session cost about 4 s each, which made the 24-session patch gate take over a
minute for a check that takes a fraction of a second.
"""

from __future__ import annotations

import functools
from pathlib import Path

import nox
from nox.command import CommandFailed

from imageforge.config.matrix import matrix_rows, project_rows
from imageforge.context import Forge, from_environment
from imageforge.errors import ForgeError, interrupt_on_sigint, leave_quietly_on_broken_pipe

leave_quietly_on_broken_pipe()  # nox -l | head
interrupt_on_sigint()  # an interrupted session must never end as a success

ROOT = Path(__file__).resolve().parent
VENV_BIN = ROOT / ".venv" / "bin"
nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "tests"]


@functools.cache
def _forge() -> Forge:
    """One context for every session of this nox run, so its memo (refs, pins) is shared."""
    try:
        return from_environment(ROOT / "releases.yaml", log=print)
    except ForgeError as err:
        raise SystemExit(f"error: {err}") from None


def _params(rows) -> list[nox.param]:
    return [
        nox.param(row.release, row.project, id=row.id, tags=[row.project, row.release])
        for row in rows
    ]


PAIRS = _params(matrix_rows(_forge().manifest))
PROJECTS = _params(project_rows(_forge().manifest))


def _tool(session: nox.Session, name: str) -> str:
    """``name`` from the project's venv (an error naming the remedy when it is missing)."""
    path = VENV_BIN / name
    if not path.is_file():
        session.error(f"{path} is missing: run `bash scripts/sync-venv.sh` first")
    return str(path)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (Docker tests need an engine; CI demands them)."""
    session.run(_tool(session, "pytest"), *session.posargs, external=True)


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and common bugs with ruff, and types with mypy."""
    ruff = _tool(session, "ruff")
    session.run(ruff, "check", ".", external=True)
    session.run(ruff, "format", "--check", ".", external=True)
    session.run(_tool(session, "mypy"), external=True)


@nox.session(default=False)
def coverage(session: nox.Session) -> None:
    """Line coverage of imageforge by the tests (pass pytest options: -- -m "not docker")."""
    tool = _tool(session, "coverage")
    session.run(tool, "erase", external=True)
    session.run(tool, "run", "-m", "pytest", *session.posargs, external=True)
    session.run(tool, "report", "--show-missing", "--skip-covered", external=True)
    session.run(tool, "report", "--format=total", external=True)


@nox.session(default=False)
@nox.parametrize(("release", "service"), PAIRS)
def checkout(session: nox.Session, release: str, service: str) -> None:
    """Export one service's source at the ref its release pins."""
    session.run(_tool(session, "inv"), "checkout", "-r", release, "-s", service, external=True)


@nox.session(default=False)
@nox.parametrize(("release", "project"), PROJECTS)
def patches(session: nox.Session, release: str, project: str) -> None:
    """Gate: the project's patch series applies to its pinned ref (checked without a checkout)."""
    # In this process, not through `inv`: one pair costs a few milliseconds,
    # and the sessions share the mirrors' resolved refs and the constraints.
    from imageforge.patches.gate import check_patches, failed_series, report_table

    try:
        reports = check_patches(_forge(), releases=(release,), projects=(project,))
    except ForgeError as err:
        session.error(str(err))
    session.log(report_table(reports))
    failed = failed_series(reports)
    if failed:
        session.warn(f"error: patches do not apply: {', '.join(failed)}")
        # "failed", like a command that failed, rather than session.error's "aborted".
        raise CommandFailed("patches do not apply")


@nox.session(default=False)
@nox.parametrize(("release", "project"), PROJECTS)
def unit(session: nox.Session, release: str, project: str) -> None:
    """Upstream's unit tests near each patch of the series, with and without it (Docker)."""
    from imageforge.config.manifest import Pair
    from imageforge.patches.series import series_for

    if series_for(_forge().manifest, Pair(release, project)) is None:
        session.skip(f"{project} ({release}) carries no patch series")
    inv = _tool(session, "inv")
    session.run(inv, "patches.test", "-r", release, "-s", project, *session.posargs, external=True)


@nox.session(default=False)
@nox.parametrize(("release", "service"), PAIRS)
def build(session: nox.Session, release: str, service: str) -> None:
    """Build one service image (extra arguments go to inv build, e.g. -- --base-image IMAGE)."""
    inv = _tool(session, "inv")
    session.run(inv, "build", "-r", release, "-s", service, *session.posargs, external=True)


@nox.session(default=False)
@nox.parametrize(("release", "service"), PAIRS)
def smoke(session: nox.Session, release: str, service: str) -> None:
    """Build (or reuse) one service image, then smoke-test it."""
    inv = _tool(session, "inv")
    session.run(
        inv, "smoke", "-r", release, "-s", service, "--build", *session.posargs, external=True
    )


RELEASES = [r.name for r in _forge().manifest.releases]


@nox.session(default=False)
@nox.parametrize("release", RELEASES)
def cloud(session: nox.Session, release: str) -> None:
    """Build (or reuse) the images cloud/cloud.yaml runs, then boot a server on them."""
    inv = _tool(session, "inv")
    session.run(inv, "cloud", "-r", release, "--build", *session.posargs, external=True)


@nox.session(default=False)
@nox.parametrize(("release", "service"), PAIRS)
def functional(session: nox.Session, release: str, service: str) -> None:
    """Build (or reuse) one image and what it requires, then run its functional check."""
    inv = _tool(session, "inv")
    session.run(
        inv, "functional", "-r", release, "-s", service, "--build", *session.posargs, external=True
    )
