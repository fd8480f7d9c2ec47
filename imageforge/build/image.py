"""``inv build``: prepare the inputs, build the shared images, then the service image.

Checkout, patches and constraints come from buildinputs; the release's
python-base and venv-builder are built (BuildKit reuses them from its cache)
on the release's base image; then the service image is built from its
Dockerfile with the exported source, the constraints and the patched
libraries as named build contexts, and the CA bundle as a secret.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from imageforge.build.deps import dependency_lines, write_context
from imageforge.build.inputs import BuildInputs, prepare
from imageforge.build.plan import ImageBuild, shared_image_build
from imageforge.build.tags import forge_revision, image_references, tag_names
from imageforge.config.manifest import Service
from imageforge.context import Forge
from imageforge.errors import ForgeError
from imageforge.host import docker
from imageforge.patches.export import Export

LABEL_PREFIX = "org.imageforge"
# os/arch[/variant], as buildx takes them (linux/amd64, linux/arm64, linux/arm/v7).
_PLATFORM = re.compile(r"^(linux|windows|darwin)/[a-z0-9_]+(/v[0-9]+)?$")


@dataclass(frozen=True)
class BuildOptions:
    push: bool = False
    platform: str | None = None
    dry_run: bool = False

    def __post_init__(self) -> None:
        for platform in (self.platform or "").split(",") if self.platform else ():
            if not _PLATFORM.match(platform.strip()):
                raise ForgeError(
                    f"--platform {self.platform}: {platform.strip()!r} is not a platform "
                    "(expected os/arch[/variant], e.g. linux/amd64,linux/arm64)"
                )


@dataclass(frozen=True)
class BuildResult:
    reference: str
    tags: tuple[str, ...]
    size: int | None
    base_size: int | None
    inputs: BuildInputs


def base_image_for(forge: Forge, release: str) -> str:
    """--base-image or FORGE_BASE_IMAGE (the context's), else the release's base_image."""
    return forge.base_image or forge.manifest.release(release).base_image


def plan_service_build(
    forge: Forge, release_name: str, service_name: str, inputs: BuildInputs, options: BuildOptions
) -> list[ImageBuild]:
    """The shared images and the service image, in build order."""
    release = forge.manifest.release(release_name)
    service = release.service(service_name)
    images = forge.root / "images"
    base_image = base_image_for(forge, release_name)
    ca_bundle = forge.ca_bundle
    shared_registry = release.registry if options.push else None
    extra_args = forge.buildx_args
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
    revision = forge_revision(forge.root)
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
            ("RUNTIME_PACKAGES", " ".join(service.runtime_packages)),
        ),
        contexts=(
            ("source", export.tree),
            ("requirements", _deps_context(forge, release.name, service, export, options.dry_run)),
            ("constraints", inputs.constraints.path.parent),
            ("libraries", _libraries_context(forge, release.name, inputs, options.dry_run)),
        ),
        labels=tuple(labels.items()),
        ca_bundle=ca_bundle,
        platform=options.platform,
        push=options.push,
        extra_args=extra_args,
    )
    return [*shared, service_build]


def build_service(
    forge: Forge, release: str, service: str, options: BuildOptions
) -> BuildResult | None:
    """Build one service image; with ``dry_run`` print the plan and return None."""
    if not options.dry_run:
        require_buildx()
    inputs, plan = _prepare_and_plan(forge, release, service, options)
    if options.dry_run:
        for step in plan:
            forge.log(f"would run: {step.shell()}")
        return None
    _require_base_image(base_image_for(forge, release))
    for step in plan:
        forge.log(f"building {step.name} ({step.tags[0]})")
        docker.stream(step.command()[1:], what=f"building {step.name}")
    service_build = plan[-1]
    reference = service_build.tags[0]
    size = None if options.push else _image_size(reference)
    base_size = _image_size(plan[0].tags[0])
    result = BuildResult(reference, service_build.tags, size, base_size, inputs)
    forge.log(_describe(result, pushed=options.push))
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


def _deps_context(
    forge: Forge, release: str, service: Service, export: Export, dry_run: bool
) -> Path:
    """The folder with requirements.txt: everything the venv needs besides the service."""
    folder = forge.build_dir / "contexts" / release / service.name / "deps"
    if dry_run:
        return folder
    name = f"{export.project} ({export.release})"
    return write_context(
        folder,
        dependency_lines(export.tree, service.extras, service.pip_packages, name),
        export.package,
    )


def _libraries_context(forge: Forge, release: str, inputs: BuildInputs, dry_run: bool) -> Path:
    """One folder holding every patched library tree (empty when the release patches none)."""
    folder = forge.build_dir / "contexts" / release / "libraries"
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


def _image_size(reference: str) -> int | None:
    result = docker.run(["image", "inspect", "--format", "{{.Size}}", reference], check=False)
    return int(result.stdout.strip()) if result.returncode == 0 else None


def planned_image(
    forge: Forge, release: str, service: str, options: BuildOptions | None = None
) -> tuple[ImageBuild, BuildInputs]:
    """The service image a build would produce now (tags and labels), and its inputs."""
    platform = options.platform if options else None
    dry = BuildOptions(platform=platform, dry_run=True)
    inputs, plan = _prepare_and_plan(forge, release, service, dry)
    return plan[-1], inputs


def stale_labels(planned: ImageBuild, found: dict[str, str]) -> list[str]:
    """How the labels of a built image differ from those a build would give it now.

    The forge revision is left out: committing a README does not make an image
    stale, while a new patch, constraint, upstream commit or base does.
    """
    wanted = {k: v for k, v in planned.labels if k != f"{LABEL_PREFIX}.forge-revision"}
    keys = set(wanted) | {k for k in found if k.startswith(f"{LABEL_PREFIX}.library.")}
    return [
        f"{key.removeprefix(LABEL_PREFIX + '.')} is {found.get(key, 'absent')!r}, "
        f"the current inputs give {wanted.get(key, 'none')!r}"
        for key in sorted(keys)
        if found.get(key) != wanted.get(key)
    ]


def _prepare_and_plan(
    forge: Forge, release: str, service: str, options: BuildOptions
) -> tuple[BuildInputs, list[ImageBuild]]:
    inputs = prepare(forge, release, service)
    return inputs, plan_service_build(forge, release, service, inputs, options)
