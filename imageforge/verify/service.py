"""Checks and records of a service's current image: smoke checks and SBOM.

Both take the image a build of the service would produce now (the tags are
computed from the prepared inputs), building it first when asked.
"""

from __future__ import annotations

from pathlib import Path

from imageforge.config.manifest import Pair
from imageforge.context import Forge
from imageforge.errors import ForgeError
from imageforge.host import docker
from imageforge.image.build import BuildOptions, build_service, planned_image, stale_labels
from imageforge.image.inputs import BuildInputs
from imageforge.report import CheckReport
from imageforge.verify import sbom, smoke


def smoke_service(
    forge: Forge, pair: Pair, options: BuildOptions, *, build: bool = False
) -> CheckReport:
    """Run the service's smoke.yaml and the policy checks against the current image."""
    if build:
        build_service(forge, pair, options)
    image, inputs = current_image(forge, pair, options)
    checks_file = forge.root / "images" / pair.project / "smoke.yaml"
    checks = smoke.load_checks(checks_file) if checks_file.is_file() else []
    constraints = inputs.constraints.content if inputs.constraints else None
    python = inputs.constraints is not None  # built from C: no venv, no python to probe with
    results = smoke.smoke_image(
        image, inputs.service.version, checks, inputs.exports, constraints, python=python
    )
    platform = f"@{options.platform}" if options.platform else ""
    return smoke.report(f"{pair.project}/{pair.release}{platform}", image, results)


def write_sbom(
    forge: Forge, release: str, image: str, inputs: BuildInputs, *, pushed: bool = False
) -> Path:
    """The SBOM of ``image`` under build/sbom/ (a pushed image is pulled back to be read)."""
    if pushed:
        docker.run(["pull", "--quiet", image])
    elif not docker.image_exists(image):
        raise ForgeError(f"image {image} is not here: build it first (inv build)")
    return sbom.sbom_for_image(
        image,
        release,
        inputs.service,
        list(inputs.from_source),
        inputs.constraints,
        forge.root / "patches",
        forge.build_dir / "sbom",
        log=forge.log,
    )


def sbom_service(forge: Forge, pair: Pair, options: BuildOptions) -> Path:
    image, inputs = current_image(forge, pair, options)
    return write_sbom(forge, pair.release, image, inputs)


def current_image(forge: Forge, pair: Pair, options: BuildOptions) -> tuple[str, BuildInputs]:
    """The local image of ``service`` built from today's inputs; an error when absent or stale.

    The version tag alone is shared by every build of that upstream version, so
    an image built before a patch changed would otherwise pass for current.
    """
    planned, inputs = planned_image(forge.quiet(), pair, options)
    image = planned.tags[0]
    found = docker.image_labels(image)
    if found is None:
        raise ForgeError(f"image {image} is not here: build it first (inv build)")
    stale = stale_labels(planned, found)
    if stale:
        raise ForgeError(
            f"image {image} is stale: {'; '.join(stale)}; rebuild it "
            f"(inv build -s {pair.project} -r {pair.release}, or add --build)"
        )
    return image, inputs
