"""Where each project of a release comes from: a service, a patched library, or requirements.

A library without an explicit ref is taken at the version the release's
constraints pin, by its tag (OpenStack libraries tag every release); that
needs upper-constraints.txt, which is read here, once per release and
command. It lives in the constraints room because of that: the export
(patches/) and the image ask it, and it asks only upstream/ and config/.
"""

from __future__ import annotations

from imageforge.config.manifest import Pair
from imageforge.constraints.overrides import (
    ConstraintsError,
    apply_overrides,
    overrides_path,
    parse_overrides,
    pinned_version,
)
from imageforge.context import Forge
from imageforge.errors import ForgeError
from imageforge.host import git
from imageforge.upstream.pinned import Pinned, pin

UPPER_CONSTRAINTS = "upper-constraints.txt"
REQUIREMENTS = "requirements"


def pinned(forge: Forge, pair: Pair, ref: str | None = None) -> Pinned:
    """``pair``'s project (a service or library of the release) at its pinned ref, or at ``ref``."""
    release = forge.manifest.release(pair.release)
    for service in release.services:
        if service.name == pair.project:
            if not service.from_git:
                raise ForgeError(
                    f"{pair.project} is built from the distribution's packages "
                    f"(build: distribution in {forge.manifest.path}): it has no git source "
                    "to check out, pin or patch"
                )
            if service.source:
                raise ForgeError(
                    f"{pair.project} is built from {service.source}'s tree, patches and "
                    f"projects (services.{service.source}.images in {forge.manifest.path}): "
                    f"check, refresh or edit {service.source}"
                )
            return pin(forge, pair, service.repo, ref or service.ref)
    for library in release.libraries:
        if library.name == pair.project:
            chosen = ref or library.ref or constrained_version(forge, release.name, library.name)
            return pin(forge, pair, library.repo, chosen)
    raise ForgeError(
        f"{pair.project} is neither a service nor a library of release {release.name} "
        f"in {forge.manifest.path}"
    )


def requirements(forge: Forge, release_name: str) -> Pinned:
    """openstack/requirements at the release's requirements ref."""
    release = forge.manifest.release(release_name)
    return pin(
        forge, Pair(release.name, REQUIREMENTS), release.requirements.repo, release.requirements.ref
    )


def upper_constraints(forge: Forge, release_name: str) -> tuple[Pinned, str]:
    """The release's requirements handle and its upper-constraints.txt text (read once)."""
    key = ("upper-constraints", release_name)
    if key not in forge.memo:
        handle = requirements(forge, release_name)
        try:
            text = handle.show(UPPER_CONSTRAINTS)
        except git.GitError as err:
            raise ConstraintsError(
                f"requirements ({release_name}): {handle.repo} at {handle.ref!r} "
                f"has no {UPPER_CONSTRAINTS}"
            ) from err
        forge.memo[key] = (handle, text)
    return forge.memo[key]


def constrained_version(forge: Forge, release: str, name: str) -> str:
    """The version of ``name`` that the release's constraints pin (after the overrides)."""
    _, upstream = upper_constraints(forge, release)
    lines, _ = apply_overrides(upstream, parse_overrides(overrides_path(forge.root, release)))
    return pinned_version(lines, name, release)
