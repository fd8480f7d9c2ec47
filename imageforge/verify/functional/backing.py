"""The functional checks' backing services: MariaDB, RabbitMQ and memcached.

Each is an image the forge builds (images/backing/<name>/) from the release's
base with the distribution's own packages, so a host without a registry can
run the checks. ``--backing-image name=ref`` points at another image instead
(the official ones, for a user with a registry), provided it answers the same
readiness command.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from imageforge.context import Forge
from imageforge.errors import ForgeError
from imageforge.host import docker
from imageforge.image.plan import ImageBuild, base_slug
from imageforge.verify.functional.stack import Container, Stack

DATABASE_PASSWORD = "forge-db-secret"
RABBIT_PASSWORD = "forge-rabbit-secret"


@dataclass(frozen=True)
class Backing:
    name: str
    # Run in the container until it exits 0; the service is then usable.
    ready: tuple[str, ...]
    user: str | None = None
    # For the official images, which want to be told; the forge's own ignore it.
    env: tuple[tuple[str, str], ...] = ()


BACKINGS = {
    # root over the local socket: socket authentication in the forge's image,
    # an empty root password in the official one.
    "mariadb": Backing(
        "mariadb",
        ("mariadb-admin", "--silent", "ping"),
        user="root",
        env=(("MARIADB_ALLOW_EMPTY_ROOT_PASSWORD", "1"),),
    ),
    "rabbitmq": Backing("rabbitmq", ("rabbitmq-diagnostics", "--quiet", "ping")),
    "memcached": Backing(
        "memcached", ("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/11211"), user="memcache"
    ),
}


def backing_tag(name: str, base_image: str) -> str:
    return f"imageforge/backing-{name}:{base_slug(base_image)}"


def backing_build(forge: Forge, name: str, base_image: str) -> ImageBuild:
    folder = forge.root / "images" / "backing" / name
    return ImageBuild(
        name=f"backing-{name}",
        folder=folder,
        tags=(backing_tag(name, base_image),),
        build_args=(("BASE_IMAGE", base_image),),
        ca_bundle=forge.ca_bundle,
        extra_args=forge.buildx_args,
    )


def require_known(names: list[str], where: Path) -> None:
    unknown = sorted(set(names) - set(BACKINGS))
    if unknown:
        raise ForgeError(
            f"{where}: backing: unknown {', '.join(unknown)} (known: {', '.join(BACKINGS)})"
        )


def start(stack: Stack, name: str, image: str) -> Container:
    return stack.start(name, image, env=BACKINGS[name].env)


def wait_ready(stack: Stack, container: Container, name: str, timeout: float = 120) -> float:
    """Seconds until ``container`` answers its readiness command; an error with its log if never."""
    backing = BACKINGS[name]
    started = time.monotonic()
    while True:
        status, _out, _err = stack.exec(container, backing.ready, user=backing.user, timeout=30)
        if status == 0:
            return time.monotonic() - started
        if not stack.running(container) or time.monotonic() - started > timeout:
            raise ForgeError(
                f"{name} did not become ready ({' '.join(backing.ready)}); its log:\n"
                + stack.logs(container)
            )
        time.sleep(0.5)


def create_database(stack: Stack, mariadb: Container, database: str, user: str) -> None:
    """A database and a user with every right on it, reachable from the run's network."""
    sql = (
        f"CREATE DATABASE IF NOT EXISTS `{database}`;"
        f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{DATABASE_PASSWORD}';"
        f"GRANT ALL PRIVILEGES ON `{database}`.* TO '{user}'@'%';"
    )
    status, out, err = stack.exec(mariadb, ("mariadb", "-uroot", "-e", sql), user="root")
    if status != 0:
        raise ForgeError(f"mariadb: cannot create database {database}: {err or out}")


def add_rabbit_user(stack: Stack, rabbitmq: Container, user: str) -> None:
    for command in (
        ("rabbitmqctl", "add_user", user, RABBIT_PASSWORD),
        ("rabbitmqctl", "set_permissions", user, ".*", ".*", ".*"),
    ):
        status, out, err = stack.exec(rabbitmq, command)
        if status != 0 and "already exists" not in (err + out):
            raise ForgeError(f"rabbitmq: {' '.join(command[:2])} {user}: {err or out}")


def images_for(
    forge: Forge, names: list[str], base_image: str, overrides: Mapping[str, str]
) -> dict[str, str]:
    """The image of each backing service: an override, else the forge's (built if needed)."""
    images = {}
    for name in names:
        if name in overrides:
            images[name] = overrides[name]
            continue
        build = backing_build(forge, name, base_image)
        forge.log(f"building {build.name} ({build.tags[0]})")
        docker.stream(build.command()[1:], what=f"building {build.name}")
        images[name] = build.tags[0]
    return images
