"""Everything one image build consumes, prepared on disk: sources, patches, constraints.

For a service of a release: its patched export, the patched export of every
library the release patches, and the release's constraints with what is built
from source pinned to the versions actually built.
"""

from __future__ import annotations

from dataclasses import dataclass

from imageforge.constraints.generate import Constraints, generate
from imageforge.context import Forge
from imageforge.patches.export import Export, export_project
from imageforge.upstream.projects import pinned
from imageforge.upstream.versions import package_name_of


@dataclass(frozen=True)
class BuildInputs:
    service: Export
    libraries: tuple[Export, ...]
    constraints: Constraints

    @property
    def exports(self) -> list[Export]:
        return [self.service, *self.libraries]


def source_versions(forge: Forge, release: str) -> dict[str, str]:
    """The version each package built from source in ``release`` is built at.

    Patched libraries and the services themselves, by their distribution name
    (setup.cfg's, e.g. openstack-placement), at the version pbr gives their ref.
    upper-constraints must not pin any of them to a PyPI release.
    """
    rel = forge.manifest.release(release)
    versions = {}
    for project in [*(lib.name for lib in rel.libraries), *(svc.name for svc in rel.services)]:
        target = pinned(forge, release, project)
        versions[package_name_of(target.show("setup.cfg"), project)] = target.version()
    return versions


def release_constraints(forge: Forge, release: str) -> Constraints:
    """The release's constraints, with what it builds from source pinned to the built versions."""
    return generate(forge, forge.manifest.release(release), source_versions(forge, release))


def prepare(forge: Forge, release: str, service: str) -> BuildInputs:
    """Export the service and the release's patched libraries; generate the constraints."""
    libraries = forge.manifest.release(release).libraries
    return BuildInputs(
        service=export_project(forge, release, service),
        libraries=tuple(export_project(forge, release, lib.name) for lib in libraries),
        constraints=release_constraints(forge, release),
    )
