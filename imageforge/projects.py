"""Where each patchable project of a release comes from: a service or a patched library.

A library without an explicit ref is taken at the version the release's
constraints pin, by its tag (OpenStack libraries tag every release).
"""

from __future__ import annotations

from pathlib import Path

from imageforge.constraints import pinned_version
from imageforge.errors import ForgeError
from imageforge.manifest import Manifest
from imageforge.sources import SourceSpec


def source_spec(
    manifest: Manifest, release_name: str, project: str, cache: Path, *, offline: bool = False
) -> SourceSpec:
    release = manifest.release(release_name)
    for service in release.services:
        if service.name == project:
            return SourceSpec(service.name, release.name, service.repo, service.ref)
    for library in release.libraries:
        if library.name == project:
            ref = library.ref or pinned_version(
                release, manifest.root, cache, library.name, offline=offline
            )
            return SourceSpec(library.name, release.name, library.repo, ref)
    raise ForgeError(f"{project} is neither a service nor a library of release {release.name}")
