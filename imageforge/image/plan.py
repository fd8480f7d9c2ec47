"""The exact ``docker buildx build`` commands of a build, computed before anything runs.

A plan is plain data (contexts, arguments, labels, tags, the CA secret), so
``inv build --dry-run`` prints exactly what a real build would run.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

SHARED_REPOSITORY = "imageforge"
# The shared images' dates (SOURCE_DATE_EPOCH): fixed, as they serve every
# service; the date settle-layer gives their files (2000-01-01).
SHARED_EPOCH = "946684800"
CA_SECRET_ID = "cacert"


@dataclass(frozen=True)
class ImageBuild:
    name: str
    folder: Path  # images/<name>: the Dockerfile and the default context
    tags: tuple[str, ...]
    build_args: tuple[tuple[str, str], ...] = ()
    # A folder, or a reference such as target:NAME or docker-image://IMAGE.
    contexts: tuple[tuple[str, Path | str], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    ca_bundle: Path | None = None
    platform: str | None = None
    push: bool = False
    # Passed through verbatim, e.g. --cache-from/--cache-to for CI caches.
    extra_args: tuple[str, ...] = ()
    # A stage of the Dockerfile to build (nova-compute from nova's); None: the last.
    target: str | None = None

    def command(self) -> list[str]:
        command = ["docker", "buildx", "build", "--file", str(self.folder / "Dockerfile")]
        for name, path in self.contexts:
            command += ["--build-context", f"{name}={path}"]
        for key, value in self.build_args:
            command += ["--build-arg", f"{key}={value}"]
        for key, value in self.labels:
            command += ["--label", f"{key}={value}"]
        for tag in self.tags:
            command += ["--tag", tag]
        if self.ca_bundle is not None:
            # A secret is mounted only while a RUN step runs: it is in no layer.
            command += ["--secret", f"id={CA_SECRET_ID},src={self.ca_bundle}"]
        if self.platform:
            command += ["--platform", self.platform]
        if self.target:
            command += ["--target", self.target]
        command.extend(self.extra_args)
        command.append("--push" if self.push else "--load")
        command.append(str(self.folder))
        return command

    def shell(self) -> str:
        return shlex.join(self.command())


def base_slug(base_image: str) -> str:
    """A tag-safe name for a base image: ubuntu:noble -> ubuntu-noble."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", base_image).strip("-.")[:100]


def shared_image_tag(name: str, base_image: str, registry: str | None = None) -> str:
    """Local name of a shared image, or its name in ``registry`` when builds push.

    A pushed (e.g. multi-arch) build runs in a BuildKit container that cannot
    see the local image store, so the shared images it builds FROM must be in
    the registry too.
    """
    repository = f"{registry.rstrip('/')}/{name}" if registry else f"{SHARED_REPOSITORY}/{name}"
    return f"{repository}:{base_slug(base_image)}"


def shared_image_build(
    images: Path,
    name: str,
    base_image: str,
    ca_bundle: Path | None,
    platform: str | None,
    *,
    registry: str | None = None,
    extra_args: tuple[str, ...] = (),
) -> ImageBuild:
    """python-base or venv-builder on top of ``base_image`` (pushed to ``registry`` if given)."""
    return ImageBuild(
        name=name,
        folder=images / name,
        tags=(shared_image_tag(name, base_image, registry),),
        build_args=(("BASE_IMAGE", base_image), ("SOURCE_DATE_EPOCH", SHARED_EPOCH)),
        ca_bundle=ca_bundle,
        platform=platform,
        push=registry is not None,
        extra_args=extra_args,
    )
