"""A release's shared dependency layers: the venv parts its services have in common.

Most of a release's venvs are the same distributions at the same versions (the
same upper-constraints pin them): oslo.*, SQLAlchemy, cryptography, WebOb...
The ``shared-deps`` target of the bake graph resolves, once per release, base
and platform, each Python service's requirements under the release's
constraints inside the builder (``build-venv shared``: the image's own Python
and platform decide the markers), installs what two or more closures pin
alike, and stages it as layers (images/venv-builder/shared-layers plans
them): the first holds what every service needs; each other one what a group
of services needs, taken by exactly that group, the groups that save the
most bytes first, at most SHARED_LAYERS per image. No image gets a distribution its
closure lacks. Each service's deps layer then holds only the rest.

The set is fixed per release, not per selection (every Python service of the
release counts, whatever is built with it), so an image's layers never depend
on what else is built. What is built from source (the services, their
carried projects, the patched libraries) stays out: each image installs its
own. A layer is copied with ``--link`` from the same target, with the same
dated bytes (settle-layer's date), so it has one digest in every image that
takes it: a registry stores it once and a node pulls it once.

FORGE_SHARED_DEPS=0 leaves the shared set empty: every image installs its
whole venv in its own deps layer, as before (bench/shared_deps.py compares).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from imageforge.config.manifest import SHARED_LAYERS, Pair
from imageforge.constraints.generate import Constraints, compute, source_versions
from imageforge.context import Forge
from imageforge.host.files import under
from imageforge.image import platforms
from imageforge.image.bake import target_context
from imageforge.image.deps import dependency_lines
from imageforge.image.plan import ImageBuild, shared_image_tag
from imageforge.patches.export import export_project

NAME = "shared-deps"
# The folder of the context: one requirements file per service, every Python
# project of the release, and what stays out.
PROJECTS = "projects.txt"
EXCLUDE = "source-built.txt"
# A service's constraints for building sdists, beside its Dockerfile (UV_BUILD_CONSTRAINT).
BUILD_CONSTRAINTS = "build-constraints.txt"


@dataclass(frozen=True)
class SharedInputs:
    """What the release's shared layers are computed from, as files of one context folder."""

    release: str
    folder: Path
    files: tuple[tuple[str, str], ...]
    constraints: Constraints

    @property
    def digest(self) -> str:
        text = repr((self.files, self.constraints.digest))
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def write(self) -> None:
        self.constraints.write()
        self.folder.mkdir(parents=True, exist_ok=True)
        wanted = dict(self.files)
        for stale in self.folder.iterdir():
            if stale.name not in wanted:
                stale.unlink()
        for name, text in self.files:
            path = self.folder / name
            if not path.is_file() or path.read_text() != text:
                path.write_text(text)


def shared_inputs(forge: Forge, release: str) -> SharedInputs:
    """Every Python service's requirements of ``release``, and what is built from source."""
    memo_key = ("shared-inputs", release, forge.shared_deps)
    if memo_key in forge.memo:
        return forge.memo[memo_key]
    rel = forge.manifest.release(release)
    files: list[tuple[str, str]] = []
    source_built: set[str] = set()
    enabled = forge.shared_deps
    for project in dict.fromkeys(s.project for s in rel.services if s.is_python):
        settings = rel.service(project)
        export = export_project(forge, Pair(release, project))
        source_built.add(export.package)
        for carried in rel.carried(project):
            source_built.add(export_project(forge, Pair(release, carried.name)).package)
        if enabled:
            lines = dependency_lines(
                export.tree, settings.extras, settings.pip_packages, f"{project} ({release})"
            )
            files.append((f"{project}.txt", "".join(f"{line}\n" for line in lines)))
            # Constraints for building its sdists (horizon's XStatic need an older
            # setuptools): resolving reads their metadata, so it builds them too.
            build = forge.root / "images" / project / BUILD_CONSTRAINTS
            if build.is_file():
                files.append((f"{project}.build", build.read_text()))
    for library in rel.patched_libraries:
        source_built.add(export_project(forge, Pair(release, library.name)).package)
    projects = dict.fromkeys(s.project for s in rel.services if s.is_python)
    files.append((PROJECTS, "".join(f"{project}\n" for project in projects)))
    files.append((EXCLUDE, "".join(f"{name}\n" for name in sorted(source_built))))
    path = under(forge.build_dir / "constraints", release, "_shared", "upper-constraints.txt")
    libraries = [lib.name for lib in rel.patched_libraries]
    constraints = compute(forge, rel, source_versions(forge, release, libraries), path)
    found = SharedInputs(
        release,
        under(forge.build_dir / "contexts", release, "_shared", "requirements"),
        tuple(files),
        constraints,
    )
    forge.memo[memo_key] = found
    return found


def shared_step(
    images: Path,
    inputs: SharedInputs,
    base_image: str,
    builder: ImageBuild,
    ca_bundle: Path | None,
    platform: str | None,
) -> ImageBuild:
    """The shared-deps target of ``inputs.release`` on ``builder`` (the venv-builder step)."""
    tag = shared_image_tag(NAME, f"{inputs.release}-{base_image}")
    return ImageBuild(
        name=NAME,
        folder=images / NAME,
        tags=(platforms.local_tag(tag, platform),),
        # The inputs' digest as an argument: the shared layers are part of each image's key.
        build_args=(
            ("BUILDER_IMAGE", builder.tags[0]),
            ("SHARED_INPUTS", inputs.digest),
            ("SHARED_LAYERS", str(SHARED_LAYERS)),
        ),
        contexts=(
            target_context(builder),
            ("requirements", inputs.folder),
            ("constraints", inputs.constraints.path.parent),
        ),
        ca_bundle=ca_bundle,
        platform=platform,
    )
