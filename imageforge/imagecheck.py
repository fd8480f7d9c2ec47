"""Checks and records of a service's current image: smoke checks and SBOM.

Both take the image a build of the service would produce now (the tags are
computed from the prepared inputs), building it first when asked.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from imageforge import docker, imagebuild, sbom, smoke
from imageforge.buildinputs import BuildInputs
from imageforge.manifest import Manifest


def smoke_service(
    manifest: Manifest,
    release: str,
    service: str,
    cache: Path,
    build_dir: Path,
    options: imagebuild.BuildOptions,
    *,
    build: bool = False,
    log: Callable[[str], None] = print,
) -> bool:
    """Run the service's smoke.yaml and the policy checks; print the table; True if all pass."""
    if build:
        imagebuild.build_service(manifest, release, service, cache, build_dir, options, log=log)
    image, inputs = imagebuild.service_image(
        manifest, release, service, cache, build_dir, options, log=lambda _: None
    )
    checks_file = manifest.root / "images" / service / "smoke.yaml"
    checks = smoke.load_checks(checks_file) if checks_file.is_file() else []
    results = smoke.smoke_image(
        image,
        inputs.service.version,
        checks,
        [inputs.service, *inputs.libraries],
        inputs.constraints.path,
    )
    log(smoke.report(image, results))
    return all(r.ok for r in results)


def write_sbom(
    manifest: Manifest,
    release: str,
    image: str,
    inputs: BuildInputs,
    build_dir: Path,
    *,
    pushed: bool = False,
    log: Callable[[str], None] = print,
) -> Path:
    """The SBOM of ``image`` under build/sbom/ (a pushed image is pulled back to be read)."""
    if pushed:
        docker.run(["pull", "--quiet", image])
    return sbom.sbom_for_image(
        image,
        release,
        inputs.service,
        list(inputs.libraries),
        inputs.constraints,
        manifest.root / "patches",
        build_dir / "sbom",
        pushed=pushed,
        log=log,
    )


def sbom_service(
    manifest: Manifest,
    release: str,
    service: str,
    cache: Path,
    build_dir: Path,
    options: imagebuild.BuildOptions,
    *,
    log: Callable[[str], None] = print,
) -> Path:
    image, inputs = imagebuild.service_image(
        manifest, release, service, cache, build_dir, options, log=lambda _: None
    )
    return write_sbom(manifest, release, image, inputs, build_dir, log=log)
