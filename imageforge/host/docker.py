"""The one way the forge calls the Docker CLI.

Every call goes through ``run`` (or ``stream`` for builds whose progress the
user watches), so that a missing CLI, a daemon that is down or a failing
command all become one-line DockerErrors.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence

from imageforge.host import process
from imageforge.host.process import last_words

__all__ = ["DockerError", "image_exists", "image_label", "last_words", "require_daemon", "run"]


class DockerError(process.ProcessError):
    """Docker is missing, its daemon is down, or a docker command failed."""


def run(
    args: Sequence[str],
    *,
    input: bytes | None = None,
    check: bool = True,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``docker ARGS``; on failure raise DockerError with docker's own last words."""
    _require_cli()
    try:
        proc = process.run(["docker", *args], input=input, check=False, timeout=timeout)
    except process.ProcessError as err:  # a timeout
        raise DockerError(f"docker {' '.join(args[:2])}: {err}") from err
    result = subprocess.CompletedProcess(
        proc.args,
        proc.returncode,
        proc.stdout.decode(errors="replace"),
        proc.stderr.decode(errors="replace"),
    )
    if check and result.returncode != 0:
        raise DockerError(
            f"docker {' '.join(args[:2])}: {last_words(result.stderr)}", result.stderr
        )
    return result


def run_bytes(args: Sequence[str]) -> bytes:
    """``docker ARGS``'s output as bytes (``docker cp ... -`` writes a tar); DockerError on failure."""
    _require_cli()
    proc = process.run(["docker", *args], check=False)
    if proc.returncode != 0:
        raise DockerError(
            f"docker {' '.join(args[:2])}: {last_words(proc.stderr.decode(errors='replace'))}"
        )
    return proc.stdout


def stream(args: Sequence[str], *, what: str) -> None:
    """Run ``docker ARGS`` with its progress on the terminal; one line naming ``what`` on failure."""
    _require_cli()
    try:
        process.stream(["docker", *args], what=what)
    except process.ProcessError as err:
        raise DockerError(str(err)) from err


def require_daemon() -> None:
    """Fail clearly when the daemon is not reachable (rather than on the first build step)."""
    result = run(["info", "--format", "{{.ServerVersion}}"], check=False)
    if result.returncode != 0:
        raise DockerError(f"the Docker daemon is not reachable: {last_words(result.stderr)}")


def image_exists(reference: str) -> bool:
    return run(["image", "inspect", reference], check=False).returncode == 0


def image_id(reference: str) -> str | None:
    """The local image's ID (its config digest), None when it is not here."""
    result = run(["image", "inspect", "--format", "{{.Id}}", reference], check=False)
    return result.stdout.strip() or None if result.returncode == 0 else None


def image_labels(reference: str) -> dict[str, str] | None:
    """Every label of a local image; None when there is no such image."""
    result = run(
        ["image", "inspect", "--format", "{{json .Config.Labels}}", reference], check=False
    )
    if result.returncode != 0:
        return None
    return json.loads(result.stdout) or {}


def image_label(reference: str, label: str) -> str | None:
    result = run(
        ["image", "inspect", "--format", f'{{{{index .Config.Labels "{label}"}}}}', reference],
        check=False,
    )
    if result.returncode != 0:
        return None
    value = result.stdout.strip()
    return None if value in ("", "<no value>") else value


def _require_cli() -> None:
    if shutil.which("docker") is None:
        raise DockerError("docker: command not found (install Docker: scripts/install-docker.sh)")
