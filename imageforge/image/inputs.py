"""Everything one image build consumes, prepared on disk: sources, patches, constraints.

For a service of a release: its patched export, the requirements of its
dependency layer, the patched exports of the libraries the release patches and
those requirements reach (image.reach), the patched exports of the projects
the image carries (a plugin, a dashboard), and the release's constraints with
what is built from source pinned to the versions actually built.
"""

from __future__ import annotations

from dataclasses import dataclass

from imageforge.config.manifest import Pair
from imageforge.constraints.generate import Constraints, image_constraints
from imageforge.context import Forge
from imageforge.image.deps import dependency_lines
from imageforge.image.distribution import distribution_export
from imageforge.image.reach import reached_libraries
from imageforge.patches.export import Export, export_project


@dataclass(frozen=True)
class BuildInputs:
    service: Export
    # The release's patched libraries that the requirements reach (image.reach).
    libraries: tuple[Export, ...]
    # None for an image built from C: no venv, so no constraints.
    constraints: Constraints | None
    # The dependency layer's requirements: the service's, its extras', the pip packages.
    requirements: tuple[str, ...] = ()
    # The source projects this image carries (services.<s>.projects): always
    # installed, in the dependency layer, from their patched trees.
    projects: tuple[Export, ...] = ()

    @property
    def exports(self) -> list[Export]:
        return [self.service, *self.libraries, *self.projects]

    @property
    def from_source(self) -> tuple[Export, ...]:
        """What the dependency layer builds from source: reached libraries, carried projects."""
        return (*self.libraries, *self.projects)


def plan_inputs(forge: Forge, pair: Pair) -> BuildInputs:
    """What one image consumes, computed: nothing is written when the exports are current.

    An export missing or out of date is made (it is a cache of the pinned
    tree); the constraints are computed in memory (``prepare`` writes them),
    and only the image's own projects are pinned.
    """
    rel = forge.manifest.release(pair.release)
    settings = rel.service(pair.project)
    if not settings.from_git:  # the distribution's packages, at the versions it serves
        base_image = forge.base_image or rel.base_image
        export = distribution_export(forge, pair, base_image)
        return BuildInputs(service=export, libraries=(), constraints=None)
    # nova-compute is built from nova's tree, patches and projects.
    source = Pair(pair.release, settings.project)
    export = export_project(forge, source)
    if not settings.is_python:  # built from C source: the tree is all it takes
        return BuildInputs(service=export, libraries=(), constraints=None)
    what = str(pair)
    requirements = dependency_lines(export.tree, settings.extras, settings.pip_packages, what)
    libraries = tuple(
        export_project(forge, Pair(rel.name, lib.name)) for lib in rel.patched_libraries
    )
    projects = tuple(
        export_project(forge, Pair(rel.name, lib.name)) for lib in rel.carried(source.project)
    )
    constraints = image_constraints(forge, source)
    return BuildInputs(
        service=export,
        libraries=reached_libraries(forge, requirements, constraints.content, libraries, what),
        constraints=constraints,
        requirements=tuple(requirements),
        projects=projects,
    )


def prepare(forge: Forge, pair: Pair) -> BuildInputs:
    """``plan_inputs``, with the image's constraints file written for a build to use."""
    inputs = plan_inputs(forge, pair)
    if inputs.constraints is not None:
        inputs.constraints.write()
    return inputs
