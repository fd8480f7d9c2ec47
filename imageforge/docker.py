"""The one way the forge calls the Docker CLI.

Every call goes through ``run`` so that a missing CLI, a daemon that is down
or a failing command all become one-line ForgeErrors.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence

from imageforge.errors import ForgeError


class DockerError(ForgeError):
    """Docker is missing, its daemon is down, or a docker command failed."""


def run(
    args: Sequence[str], *, input: bytes | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``docker ARGS``; on failure raise DockerError with docker's own last words."""
    if shutil.which("docker") is None:
        raise DockerError("docker: command not found (install Docker: scripts/install-docker.sh)")
    proc = subprocess.run(
        ["docker", *args],
        input=input,
        capture_output=True,
        check=False,
    )
    result = subprocess.CompletedProcess(
        proc.args,
        proc.returncode,
        proc.stdout.decode(errors="replace"),
        proc.stderr.decode(errors="replace"),
    )
    if check and result.returncode != 0:
        raise DockerError(f"docker {' '.join(args[:2])}: {last_words(result.stderr)}")
    return result


def require_daemon() -> None:
    """Fail clearly when the daemon is not reachable (rather than on the first build step)."""
    result = run(["info", "--format", "{{.ServerVersion}}"], check=False)
    if result.returncode != 0:
        raise DockerError(f"the Docker daemon is not reachable: {last_words(result.stderr)}")


def image_exists(reference: str) -> bool:
    return run(["image", "inspect", reference], check=False).returncode == 0


def image_label(reference: str, label: str) -> str | None:
    result = run(
        ["image", "inspect", "--format", f'{{{{index .Config.Labels "{label}"}}}}', reference],
        check=False,
    )
    if result.returncode != 0:
        return None
    value = result.stdout.strip()
    return None if value in ("", "<no value>") else value


def last_words(stderr: str) -> str:
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "failed with no message"
