"""Platforms of a build: one image per platform, each named and based for its arch.

A build for several platforms is one bake target per platform, each a
single-platform build, so any engine builds it (the docker driver on the
classic image store included, which holds one platform per tag):

- locally, the host's own platform keeps the plain tags and every other is
  loaded as ``<tag>-<arch>`` (keystone:28.0.2-arm64), so each can be run and
  smoke-tested by name;
- pushed, each platform goes to the registry as ``in-<its key>-<arch>`` and
  the release's tags name the manifest list made of them.

A foreign platform builds FROM ``<base>-<arch>`` when that image is here
(``inv base-image --arch arm64`` makes it), else from the base reference
itself, which must then be a multi-arch image in a registry.
"""

from __future__ import annotations

import re

from imageforge.errors import ForgeError
from imageforge.host import docker
from imageforge.image.baseimage import arch_of, arch_tag, native_arch

# os/arch[/variant], as buildx takes them (linux/amd64, linux/arm64, linux/arm/v7).
_PLATFORM = re.compile(r"^(linux|windows|darwin)/[a-z0-9_]+(/v[0-9]+)?$")


def parse(platform: str | None) -> list[str | None]:
    """``linux/amd64,linux/arm64`` -> both; nothing -> [None] (the builder's own platform).

    The one place a --platform list is split and checked.
    """
    if not platform:
        return [None]
    chosen: list[str | None] = list(
        dict.fromkeys(p.strip() for p in platform.split(",") if p.strip())
    )
    for one in chosen:
        if not _PLATFORM.match(one or ""):
            raise ForgeError(
                f"--platform {platform}: {one!r} is not a platform "
                "(expected os/arch[/variant], e.g. linux/amd64,linux/arm64)"
            )
    return chosen or [None]


def local_tag(tag: str, platform: str | None) -> str:
    """The name ``tag``'s image for ``platform`` is loaded under on this host."""
    return tag if platform is None else arch_tag(tag, arch_of(platform))


def is_foreign(platform: str | None) -> bool:
    return platform is not None and arch_of(platform) != native_arch()


def base_context(base_image: str, platform: str | None) -> str | None:
    """``docker-image://<base>-<arch>`` for a foreign platform whose local base is here."""
    if not is_foreign(platform):
        return None
    local = local_tag(base_image, platform)
    return f"docker-image://{local}" if docker.image_exists(local) else None
