"""The image a project's unit tests run in: the image's own deps stage plus test requirements.

For a service it is the service's ``deps`` stage (the venv its image ships,
without the service), built in the same bake graph as the image (python-base,
venv-builder and the release's shared layers are shared with it, so a built
image leaves everything cached), and ``images/unit-tests`` on top: the
project's test requirements under the release's constraints. A library
(oslo.messaging) takes the deps stage of the first service of the release
that installs it from its patched tree, and a carried project (a plugin)
that of the service carrying it: the versions around it are those an image
ships.

The environment has a content key of its own (the deps stage's inputs, the
test requirements); an image already labelled with it is not built again.
The project's tree is not part of it: run-unit-tests installs whichever tree
it is given, patched or not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from imageforge.config.manifest import Pair
from imageforge.context import Forge
from imageforge.errors import ForgeError
from imageforge.host import docker
from imageforge.host.files import under, write_atomically
from imageforge.image.bake import (
    BakeImage,
    bake_command,
    bake_definition,
    target_context,
    target_name,
    write_bake_file,
)
from imageforge.image.build import BuildOptions, base_image_for, prepared_plan
from imageforge.image.deps import test_requirement_lines
from imageforge.image.inputs import plan_inputs
from imageforge.image.key import KEY_LABEL, content_key
from imageforge.image.plan import ImageBuild
from imageforge.image.progress import Image, run_bake, tail
from imageforge.image.tags import image_references

NAME = "unit-tests"


@dataclass(frozen=True)
class Environment:
    """A built test image: its reference and its key (which results are cached under)."""

    image: str
    key: str


def environment_for(forge: Forge, pair: Pair, tree: Path) -> Environment:
    """The test image of ``pair``'s project (``tree``: its source, for the test requirements)."""
    service = host_service(forge, pair)
    planned = prepared_plan(forge, Pair(pair.release, service), BuildOptions())
    *shared, image = planned.steps
    release = forge.manifest.release(pair.release)
    deps_tag = image_references(release.registry, f"{pair.project}-{NAME}-deps", [pair.release])[0]
    deps = replace(
        image,
        target="deps",
        tags=(deps_tag,),
        labels=(),
        push=False,
        # FROM ${SHARED_DEPS_IMAGE}: from this graph, as the image's own build takes it.
        contexts=(*image.contexts, *(target_context(s) for s in shared)),
    )
    lines = test_requirement_lines(tree, str(pair))
    folder = under(forge.build_dir / "contexts", pair.release, pair.project, NAME)
    requirements = folder / "requirements.txt"
    text = "".join(f"{line}\n" for line in lines)
    if not requirements.is_file() or requirements.read_text() != text:
        requirements.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(requirements, text)
    constraints = planned.inputs.constraints
    assert constraints is not None  # a Python service (host_service)
    reference = image_references(release.registry, f"{pair.project}-{NAME}", [pair.release])[0]
    unit = ImageBuild(
        name=NAME,
        folder=forge.root / "images" / NAME,
        tags=(reference,),
        build_args=(("DEPS_IMAGE", deps_tag),),
        contexts=(("test-requirements", folder), ("constraints", constraints.path.parent)),
        ca_bundle=forge.ca_bundle,
        extra_args=forge.buildx_args,
    )
    if not (unit.folder / "Dockerfile").is_file():
        raise ForgeError(f"{unit.folder / 'Dockerfile'}: missing (the unit-test environment)")
    inputs = planned.inputs
    key = content_key(
        [*shared, deps, unit],
        base_image_for(forge, pair.release),
        # The deps stage's trees (reached libraries, carried projects), not the service's.
        [export.tree_digest for export in inputs.from_source],
        constraints.digest,
        [*inputs.requirements, "--tests--", *lines],
    )
    unit = replace(unit, labels=((KEY_LABEL, key),))
    if docker.image_label(reference, KEY_LABEL) == key:
        forge.log(f"{pair}: the unit-test environment {reference} is up to date")
        return Environment(reference, key)
    target = target_name(NAME, pair.project, pair.release)
    definition = bake_definition([BakeImage(target, [*shared, deps, unit])], forge.buildx_args)
    bake_file = write_bake_file(forge.build_dir / "bake", definition)
    log = under(forge.build_dir / "logs", pair.release, f"{target}.log")
    forge.log(f"{pair}: building the unit-test environment {reference} (log: {log})")
    progress = Image(target, f"{pair.project} unit tests ({pair.release})", log)
    command = [*bake_command(bake_file, forge.buildx_args), "--progress=plain"]
    if not run_bake(command, [progress], log.with_suffix(".bake.log"), lambda _image: None):
        raise docker.DockerError(
            f"{pair}: the unit-test environment did not build "
            f"({progress.error or 'see the log'}; {log}):\n{tail(log)}"
        )
    return Environment(reference, key)


def host_service(forge: Forge, pair: Pair) -> str:
    """The service whose deps stage the tests of ``pair``'s project run on.

    A service's own; for a project a service carries (a plugin), that
    service's; for a patched library, the first service of the release that
    installs it from its patched tree. Anything else is one line.
    """
    release = forge.manifest.release(pair.release)
    names = {s.name: s for s in release.services}
    if pair.project in names:
        service = names[pair.project]
        if not (service.from_git and service.is_python):
            raise ForgeError(
                f"{pair}: built from {'C' if service.from_git else 'distribution packages'}, "
                "it has no Python unit tests to run"
            )
        if service.source:
            raise ForgeError(f"{pair}: built from {service.source}'s tree: test {service.source}")
        return service.name
    python = [s for s in release.services if s.from_git and s.is_python and not s.source]
    for service in python:
        if pair.project in {p.name for p in release.carried(service.name)}:
            return service.name
    if pair.project not in {lib.name for lib in release.patched_libraries}:
        raise ForgeError(
            f"{pair}: not a service, carried project or patched library of the release "
            f"({forge.manifest.path})"
        )
    for service in python:
        inputs = plan_inputs(forge, Pair(pair.release, service.name))
        if pair.project in {lib.project for lib in inputs.libraries}:
            return service.name
    raise ForgeError(
        f"{pair}: no service of the release installs it, so no image's dependencies "
        "can host its tests"
    )
