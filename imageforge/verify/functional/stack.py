"""One functional run's private Docker network and its containers, removed afterwards.

Every container of a run carries the run's label, so removal finds them all,
also after a failure or Ctrl-C (the ``with`` block's exit always runs). Only
the ports a check talks to are published, and only on loopback.
"""

from __future__ import annotations

import os
import secrets
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from imageforge.host import docker

RUN_LABEL = "org.imageforge.functional-run"
_HELD = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True)
class Container:
    name: str
    # Its name on the run's network (mariadb, keystone, ...).
    alias: str


@dataclass
class Stack:
    run_id: str
    network: str
    containers: list[Container] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)

    def start(
        self,
        alias: str,
        image: str,
        command: Sequence[str] = (),
        *,
        entrypoint: str | None = None,
        files: Sequence[tuple[Path, str]] = (),
        publish: Sequence[int] = (),
        user: str | None = None,
        env: Sequence[tuple[str, str]] = (),
        cap_add: Sequence[str] = (),
        devices: Sequence[str] = (),
        volumes: Sequence[tuple[str, str]] = (),
        init: bool = False,
        network_of: Container | None = None,
    ) -> Container:
        """Start ``image`` as ``alias`` on the run's network (files mounted read-only).

        ``volumes`` are (name, mount point) of the run's own named volumes.
        With ``network_of``, it joins that container's network namespace and
        host name instead, as processes of one host do.
        """
        name = f"{self.run_id}-{alias}"
        args = ["run", "--detach", "--name", name, "--label", f"{RUN_LABEL}={self.run_id}"]
        if network_of is not None:
            args += ["--network", f"container:{network_of.name}"]
        else:
            args += ["--network", self.network, "--network-alias", alias, "--hostname", alias]
        for source, target in files:
            args += ["--volume", f"{source}:{target}:ro"]
        for port in publish:
            args += ["--publish", f"127.0.0.1::{port}"]
        if user:
            args += ["--user", user]
        if init:
            args.append("--init")
        args += [f"--cap-add={capability}" for capability in cap_add]
        args += [f"--device={device}" for device in devices]
        for volume, target in volumes:
            args += ["--volume", f"{self.volume(volume)}:{target}"]
        for key, value in env:
            args += ["--env", f"{key}={value}"]
        if entrypoint:
            args += ["--entrypoint", entrypoint]
        docker.run([*args, image, *command])
        container = Container(name, alias)
        self.containers.append(container)
        return container

    def volume(self, name: str) -> str:
        """The run's named volume ``name``, created with the run's label on first use."""
        full = f"{self.run_id}-{name}"
        if full not in self.volumes:
            docker.run(["volume", "create", "--label", f"{RUN_LABEL}={self.run_id}", full])
            self.volumes.append(full)
        return full

    def exec(
        self,
        container: Container,
        command: Sequence[str],
        *,
        user: str | None = None,
        detach: bool = False,
        timeout: int = 300,
    ) -> tuple[int, str, str]:
        args = ["exec", *(["--user", user] if user else []), *(["--detach"] if detach else [])]
        try:
            proc = docker.run([*args, container.name, *command], check=False, timeout=timeout)
        except docker.DockerError as err:  # timed out
            return 124, "", str(err)
        return proc.returncode, proc.stdout.strip(), proc.stderr.strip()

    def running(self, container: Container) -> bool:
        proc = docker.run(
            ["inspect", "--format", "{{.State.Running}}", container.name], check=False
        )
        return proc.stdout.strip() == "true"

    def port(self, container: Container, port: int) -> int:
        """The loopback port the host reaches ``container``'s ``port`` on."""
        published = docker.run(["port", container.name, f"{port}/tcp"]).stdout.split()
        return int(published[0].rsplit(":", 1)[1])

    def logs(self, container: Container, lines: int = 40) -> str:
        proc = docker.run(["logs", "--tail", str(lines), container.name], check=False)
        return (proc.stdout + proc.stderr).strip()


@contextmanager
def private_stack(prefix: str = "forge-fn") -> Iterator[Stack]:
    """A new network for one run; every container and the network are gone afterwards."""
    run_id = f"{prefix}-{os.getpid()}-{secrets.token_hex(3)}"
    docker.run(["network", "create", "--label", f"{RUN_LABEL}={run_id}", run_id])
    stack = Stack(run_id, run_id)
    try:
        yield stack
    finally:
        with _uninterrupted():
            remove_run(run_id)


@contextmanager
def _uninterrupted() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the removal is done.

    A second signal (a repeated Ctrl-C, ``uv run`` passing the SIGTERM on to
    the process that already got it) would stop the removal half-way.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {number: signal.signal(number, signal.SIG_IGN) for number in _HELD}
    try:
        yield
    finally:
        for number, handler in held.items():
            signal.signal(number, handler)


def remove_run(run_id: str) -> None:
    """Remove a run's containers, volumes and network (also those of a run that was killed)."""
    listed = docker.run(
        ["ps", "--all", "--quiet", "--filter", f"label={RUN_LABEL}={run_id}"], check=False
    ).stdout.split()
    if listed:
        docker.run(["rm", "--force", "--volumes", *listed], check=False)
    docker.run(["network", "rm", run_id], check=False)
    volumes = docker.run(
        ["volume", "ls", "--quiet", "--filter", f"label={RUN_LABEL}={run_id}"], check=False
    ).stdout.split()
    if volumes:
        docker.run(["volume", "rm", "--force", *volumes], check=False)
