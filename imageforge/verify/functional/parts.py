"""A functional run's own containers, and checks that are commands rather than requests.

Not every image serves an HTTP API. OVN's databases and daemons, and a
chassis made of an ovs-vswitchd beside an ovn-controller, are proven by
commands run inside containers of the release's images, in order::

    volumes: [ovs-run]                 # named volumes of this run, shared by containers
    containers:
      - name: ovs                      # its name on the run's network
        image: ovs                     # a release image (default: the image checked)
        files: [/etc/openvswitch/x]    # which of the spec's files it mounts
        init: true                     # PID 1 reaps orphaned processes
        user: root                     # only with root_because, said as data
        root_because: ovs-vswitchd creates the netdev datapath's tap devices
        cap_add: [NET_ADMIN]
        devices: [/dev/net/tun]
        volumes: {ovs-run: /var/run/openvswitch}
        network: host1                 # joins container host1's network namespace,
                                       # as daemons of one host share the host's
        steps:
          - {name: database created, run: [ovsdb-tool, create, ...]}
          - {name: ovsdb-server, start: [ovsdb-server, ...]}        # detached
          - {name: ovsdb-server answers, run: [ovs-vsctl, show], retry: 30}
    checks:
      - name: the port is bound
        in: ovn-central
        command: [ovn-sbctl, --bare, --columns=up, list, Port_Binding]
        stdout: "true"
        retry: 30

The image's own user runs everything unless a container says ``user: root``
with the reason: the policy that images run as the service user holds, and
the one daemon that needs root says so where a reader sees it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from imageforge.config.manifest import PLAIN_NAME
from imageforge.config.yamlnodes import Document
from imageforge.verify.functional.fields import (
    only,
    optional_string,
    required_string,
    seconds,
    strings,
)

_CONTAINER = {
    "name",
    "image",
    "user",
    "root_because",
    "cap_add",
    "devices",
    "volumes",
    "files",
    "init",
    "network",
    "steps",
}
_STEP = {"name", "run", "start", "retry"}
COMMAND_CHECK = {"name", "in", "command", "stdout", "stdout_contains", "retry", "logs"}
_CAPABILITY = re.compile(r"[A-Z][A-Z_]*\Z")
_DEVICE = re.compile(r"/dev/[a-z0-9/_-]+\Z")


@dataclass(frozen=True)
class Step:
    name: str
    command: tuple[str, ...]
    # Started detached (a daemon) instead of run to its end.
    start: bool = False
    # Seconds to keep running it until it exits 0 (a daemon still starting).
    retry: int = 0


@dataclass(frozen=True)
class Part:
    """One container of the run, from the checked image or another of the release."""

    name: str
    image: str | None = None
    user: str | None = None
    cap_add: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    # (run volume, mount point)
    volumes: tuple[tuple[str, str], ...] = ()
    # Which of the spec's files (their targets) this container mounts.
    files: tuple[str, ...] = ()
    # An init process as PID 1 that reaps orphans (libvirtd's QEMU probes).
    init: bool = False
    # The container whose network namespace (and name) this one shares: the
    # daemons of one compute host see the same interfaces and 127.0.0.1.
    network: str | None = None
    steps: tuple[Step, ...] = ()


@dataclass(frozen=True)
class CommandCheck:
    name: str
    container: str
    command: tuple[str, ...]
    stdout: str | None = None
    stdout_contains: str | None = None
    retry: int = 0
    # Other containers whose log tails a failure shows.
    logs: tuple[str, ...] = ()


def load_volumes(document: Document, value: Any) -> tuple[str, ...]:
    names = strings(document, ("volumes",), value if value is not None else [])
    for name in names:
        if not PLAIN_NAME.fullmatch(name):
            raise document.error(("volumes",), f"{name!r}: expected a plain name")
    return names


def load_parts(
    document: Document, value: Any, volumes: tuple[str, ...], files: tuple[str, ...] = ()
) -> tuple[Part, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise document.error(("containers",), "expected a list of containers")
    parts = tuple(_part(document, index, item, volumes, files) for index, item in enumerate(value))
    names = [part.name for part in parts]
    for name in names:
        if names.count(name) > 1:
            raise document.error(("containers",), f"two containers named {name}")
    owners = {part.name: part.network for part in parts}
    for index, part in enumerate(parts):
        if part.network is None:
            continue
        if owners.get(part.network, "") is not None:
            raise document.error(
                ("containers", str(index), "network"),
                f"{part.network}: expected a container of this run that has its own network",
            )
    return parts


def load_command_check(
    document: Document,
    where: tuple[str, ...],
    check: dict,
    parts: tuple[Part, ...],
    services: tuple[str, ...] = (),
) -> CommandCheck:
    """A command in one of the run's containers, or in a required service's (nova's)."""
    only(document, where, check, COMMAND_CHECK)
    container = required_string(document, (*where, "in"), check.get("in"))
    names = [part.name for part in parts] + list(services)
    if container not in names:
        known = ", ".join(names) or "none"
        raise document.error(
            (*where, "in"), f"no container {container} in this run (containers: {known})"
        )
    return CommandCheck(
        name=required_string(document, (*where, "name"), check.get("name")),
        container=container,
        command=strings(document, (*where, "command"), check.get("command"), empty=False),
        stdout=optional_string(document, (*where, "stdout"), check.get("stdout")),
        stdout_contains=optional_string(
            document, (*where, "stdout_contains"), check.get("stdout_contains")
        ),
        retry=seconds(document, (*where, "retry"), check.get("retry", 0)),
        logs=load_logs(document, where, check.get("logs"), names),
    )


def load_logs(
    document: Document, where: tuple[str, ...], value: Any, names: list[str]
) -> tuple[str, ...]:
    """A check's ``logs:``: containers of the run whose log tails a failure shows."""
    logs = strings(document, (*where, "logs"), value if value is not None else [])
    for name in logs:
        if name not in names:
            raise document.error((*where, "logs"), f"{name}: no such container in this run")
    return logs


def _part(
    document: Document, index: int, item: Any, volumes: tuple[str, ...], files: tuple[str, ...]
) -> Part:
    where = ("containers", str(index))
    if not isinstance(item, dict):
        raise document.error(where, f"expected a mapping ({', '.join(sorted(_CONTAINER))})")
    only(document, where, item, _CONTAINER)
    name = required_string(document, (*where, "name"), item.get("name"))
    if not PLAIN_NAME.fullmatch(name):
        raise document.error((*where, "name"), f"{name!r}: expected a plain name")
    user = optional_string(document, (*where, "user"), item.get("user"))
    because = optional_string(document, (*where, "root_because"), item.get("root_because"))
    if user in ("root", "0") and not because:
        raise document.error(
            (*where, "user"), "root only with root_because: why this process needs it"
        )
    capabilities = strings(document, (*where, "cap_add"), item.get("cap_add", []))
    for capability in capabilities:
        if not _CAPABILITY.match(capability):
            raise document.error((*where, "cap_add"), f"{capability!r}: expected e.g. NET_ADMIN")
    devices = strings(document, (*where, "devices"), item.get("devices", []))
    for device in devices:
        if not _DEVICE.match(device) or ".." in device:
            raise document.error((*where, "devices"), f"{device!r}: expected a /dev/... path")
    mounts = item.get("volumes", {})
    if not isinstance(mounts, dict):
        raise document.error((*where, "volumes"), "expected a mapping of volume: mount point")
    for volume, target in mounts.items():
        if volume not in volumes:
            raise document.error(
                (*where, "volumes", volume), f"not a volume of this run (volumes: {volumes})"
            )
        if not isinstance(target, str) or not target.startswith("/") or ":" in target:
            raise document.error((*where, "volumes", volume), "expected an absolute mount point")
    mounted = strings(document, (*where, "files"), item.get("files", []))
    for target in mounted:
        if target not in files:
            raise document.error((*where, "files"), f"{target}: not one of the spec's files")
    if item.get("init", False) not in (True, False):
        raise document.error((*where, "init"), "expected true or false")
    steps = item.get("steps", [])
    if not isinstance(steps, list) or not steps:
        raise document.error((*where, "steps"), "expected a list of steps (run or start)")
    return Part(
        name=name,
        image=optional_string(document, (*where, "image"), item.get("image")),
        user=user,
        cap_add=capabilities,
        devices=devices,
        volumes=tuple(sorted(mounts.items())),
        files=mounted,
        init=item.get("init", False) is True,
        network=optional_string(document, (*where, "network"), item.get("network")),
        steps=tuple(_step(document, (*where, "steps", str(i)), s) for i, s in enumerate(steps)),
    )


def _step(document: Document, where: tuple[str, ...], step: Any) -> Step:
    if not isinstance(step, dict):
        raise document.error(where, "expected a mapping: name, and run or start")
    only(document, where, step, _STEP)
    if ("run" in step) == ("start" in step):
        raise document.error(where, "expected one of run (to its end) or start (detached)")
    key = "run" if "run" in step else "start"
    return Step(
        name=required_string(document, (*where, "name"), step.get("name")),
        command=strings(document, (*where, key), step[key], empty=False),
        start=key == "start",
        retry=seconds(document, (*where, "retry"), step.get("retry", 0)),
    )
