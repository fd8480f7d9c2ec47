"""``inv build``: prepare the inputs, build the shared images, then the service image.

Checkout, patches and constraints come from buildinputs; the release's
python-base and venv-builder are built (BuildKit reuses them from its cache)
on the release's base image; then the service image is built from its
Dockerfile with the exported source, the constraints and the patched
libraries as named build contexts, and the CA bundle as a secret.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from imageforge import docker
from imageforge.buildinputs import BuildInputs, prepare
from imageforge.buildplan import ImageBuild, shared_image_build
from imageforge.cabundle import host_ca_bundle
from imageforge.errors import ForgeError
from imageforge.manifest import Manifest
from imageforge.tags import forge_revision, image_references, tag_names

LABEL_PREFIX = "org.imageforge"


@dataclass(frozen=True)
class BuildOptions:
    base_image: str | None = None  # overrides the release's base image
    push: bool = False
    platform: str | None = None
    dry_run: bool = False


@dataclass(frozen=True)
class BuildResult:
    reference: str
    tags: tuple[str, ...]
    size: int | None
    base_size: int | None
    inputs: BuildInputs


def base_image_for(manifest: Manifest, release: str, options: BuildOptions) -> str:
    """--base-image, else FORGE_BASE_IMAGE, else the release's base_image."""
    return (
        options.base_image
        or os.environ.get("FORGE_BASE_IMAGE")
        or manifest.release(release).base_image
    )


def plan_service_build(
    manifest: Manifest,
    release_name: str,
    service_name: str,
    inputs: BuildInputs,
    base_image: str,
    build_dir: Path,
    options: BuildOptions,
) -> list[ImageBuild]:
    """The shared images and the service image, in build order."""
    release = manifest.release(release_name)
    service = release.service(service_name)
    images = manifest.root / "images"
    ca_bundle = host_ca_bundle()
    shared_registry = release.registry if options.push else None
    extra_args = tuple(shlex.split(os.environ.get("FORGE_BUILDX_ARGS", "")))
    shared = [
        shared_image_build(
            images,
            name,
            base_image,
            ca_bundle,
            options.platform,
            registry=shared_registry,
            extra_args=extra_args,
        )
        for name in ("python-base", "venv-builder")
    ]
    export = inputs.service
    revision = forge_revision(manifest.root)
    names = tag_names(export.version, len(export.patches), release.branch, revision)
    labels = {
        "org.opencontainers.image.title": service.name,
        "org.opencontainers.image.source": service.repo,
        "org.opencontainers.image.revision": export.commit,
        "org.opencontainers.image.version": export.version,
        "org.opencontainers.image.created": export.committed,
        "org.opencontainers.image.base.name": base_image,
        f"{LABEL_PREFIX}.release": release.name,
        f"{LABEL_PREFIX}.upstream-ref": export.ref,
        f"{LABEL_PREFIX}.upstream-commit": export.commit,
        f"{LABEL_PREFIX}.patches": str(len(export.patches)),
        f"{LABEL_PREFIX}.patch-series-digest": export.series_digest or "none",
        f"{LABEL_PREFIX}.constraints-digest": inputs.constraints.digest,
        f"{LABEL_PREFIX}.forge-revision": revision,
    }
    for library in inputs.libraries:
        labels[f"{LABEL_PREFIX}.library.{library.project}"] = (
            f"{library.version} {library.commit} p{len(library.patches)} "
            f"{library.series_digest or 'none'}"
        )
    service_build = ImageBuild(
        name=service.name,
        folder=images / service.name,
        tags=tuple(image_references(release.registry, service.name, names)),
        build_args=(
            ("BUILDER_IMAGE", shared[1].tags[0]),
            ("RUNTIME_IMAGE", shared[0].tags[0]),
            ("EXTRAS", ",".join(service.extras)),
            ("PIP_PACKAGES", " ".join(service.pip_packages)),
            ("RUNTIME_PACKAGES", " ".join(service.runtime_packages)),
        ),
        contexts=(
            ("source", export.tree),
            ("constraints", inputs.constraints.path.parent),
            ("libraries", _libraries_context(build_dir, release.name, inputs, options.dry_run)),
        ),
        labels=tuple(labels.items()),
        ca_bundle=ca_bundle,
        platform=options.platform,
        push=options.push,
        extra_args=extra_args,
    )
    return [*shared, service_build]


def build_service(
    manifest: Manifest,
    release: str,
    service: str,
    cache: Path,
    build_dir: Path,
    options: BuildOptions,
    *,
    log: Callable[[str], None] = print,
) -> BuildResult | None:
    """Build one service image; with ``dry_run`` print the plan and return None."""
    if not options.dry_run:
        require_buildx()
    base_image, inputs, plan = _prepare_and_plan(
        manifest, release, service, cache, build_dir, options, log
    )
    if options.dry_run:
        for step in plan:
            log(f"would run: {step.shell()}")
        return None
    _require_base_image(base_image)
    for step in plan:
        log(f"building {step.name} ({step.tags[0]})")
        _run_build(step)
    service_build = plan[-1]
    reference = service_build.tags[0]
    size = None if options.push else _image_size(reference)
    base_size = _image_size(plan[0].tags[0])
    result = BuildResult(reference, service_build.tags, size, base_size, inputs)
    log(_describe(result, pushed=options.push))
    return result


def _describe(result: BuildResult, *, pushed: bool) -> str:
    lines = [f"{'pushed' if pushed else 'built'} {result.reference}"]
    lines += [f"  tag {tag}" for tag in result.tags]
    if result.size is not None:
        share = (
            f" ({result.base_size / result.size:.0%} of it python-base)" if result.base_size else ""
        )
        lines.append(f"  size {result.size / 1e6:.1f} MB{share}")
    return "\n".join(lines)


def _libraries_context(build_dir: Path, release: str, inputs: BuildInputs, dry_run: bool) -> Path:
    """One folder holding every patched library tree (empty when the release patches none)."""
    folder = build_dir / "contexts" / release / "libraries"
    if dry_run:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for library in inputs.libraries:
        shutil.copytree(library.tree, folder / library.project, symlinks=True)
    return folder


def require_buildx() -> None:
    docker.require_daemon()
    if docker.run(["buildx", "version"], check=False).returncode != 0:
        raise docker.DockerError(
            "docker buildx is not installed (scripts/install-docker.sh installs it)"
        )


def _require_base_image(base_image: str) -> None:
    if docker.image_exists(base_image):
        return
    pulled = docker.run(["pull", "--quiet", base_image], check=False)
    if pulled.returncode != 0:
        raise docker.DockerError(
            f"base image {base_image} is not here and cannot be pulled "
            f"({docker.last_words(pulled.stderr)}); on a host that cannot pull, create one with "
            "`inv base-image` and pass --base-image imageforge/debian:bookworm"
        )


def _run_build(step: ImageBuild) -> None:
    """Run buildx with its progress on the terminal; on failure, one line that says which image."""
    proc = subprocess.run(step.command(), check=False)
    if proc.returncode != 0:
        raise ForgeError(
            f"building {step.name} failed (exit {proc.returncode}); the output above shows the step"
        )


def _image_size(reference: str) -> int | None:
    result = docker.run(["image", "inspect", "--format", "{{.Size}}", reference], check=False)
    return int(result.stdout.strip()) if result.returncode == 0 else None


def service_image(
    manifest: Manifest,
    release: str,
    service: str,
    cache: Path,
    build_dir: Path,
    options: BuildOptions,
    *,
    log: Callable[[str], None] = print,
) -> tuple[str, BuildInputs]:
    """The reference a build of ``service`` would produce now, and its prepared inputs."""
    dry = BuildOptions(base_image=options.base_image, platform=options.platform, dry_run=True)
    _, inputs, plan = _prepare_and_plan(manifest, release, service, cache, build_dir, dry, log)
    return plan[-1].tags[0], inputs


def _prepare_and_plan(
    manifest: Manifest,
    release: str,
    service: str,
    cache: Path,
    build_dir: Path,
    options: BuildOptions,
    log: Callable[[str], None],
) -> tuple[str, BuildInputs, list[ImageBuild]]:
    base_image = base_image_for(manifest, release, options)
    inputs = prepare(manifest, release, service, cache, build_dir, log=log)
    plan = plan_service_build(manifest, release, service, inputs, base_image, build_dir, options)
    return base_image, inputs, plan
