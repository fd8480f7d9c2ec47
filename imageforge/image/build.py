"""``inv build``: prepare the inputs, skip what is built, bake the rest in one graph.

Checkout, patches and constraints come from image.inputs. Each service image
is planned on the release's python-base and venv-builder, with the exported
source, its requirements, the constraints and the patched libraries as named
build contexts and the CA bundle as a secret. Its content key (image.key)
says whether it exists already: in the registry as ``in-<key>`` when pushing,
as the local image's label otherwise. What is left is built by one
``docker buildx bake`` (image.bake) for the whole selection.
"""

from __future__ import annotations

import json
import shlex
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from imageforge.config.manifest import BUILD_KINDS, Pair
from imageforge.context import Forge
from imageforge.host import docker
from imageforge.host.files import under
from imageforge.image import packagelock, platforms, registry
from imageforge.image.aptstate import AptState, apt_state
from imageforge.image.bake import (
    BakeImage,
    bake_command,
    bake_definition,
    target_name,
    write_bake_file,
)
from imageforge.image.baseimage import arch_of, require_emulation
from imageforge.image.board import board_for
from imageforge.image.deps import write_context
from imageforge.image.distribution import PACKAGES_FILE
from imageforge.image.inputs import BuildInputs, plan_inputs
from imageforge.image.key import KEY_LABEL, content_key, final_key, key_tag, list_key
from imageforge.image.plan import ImageBuild, shared_image_build, shared_image_tag
from imageforge.image.progress import Image, State, run_bake, tail
from imageforge.image.runtimeshare import runtime_plan, runtime_steps
from imageforge.image.shared import shared_inputs, shared_step
from imageforge.image.summary import Row, summary_table, write_summary
from imageforge.image.tags import forge_revision, image_references, tag_names

LABEL_PREFIX = "org.imageforge"


@dataclass(frozen=True)
class BuildOptions:
    push: bool = False
    platform: str | None = None
    dry_run: bool = False
    force: bool = False  # build even when the content key says the image exists
    summary_json: Path | None = None  # default: build/summary.json
    # Images built from C: run the project's `make check` in the build (its
    # Dockerfile's MAKE_CHECK argument); the key differs, so it is built anew.
    make_check: bool = False
    # Rebuild each OS package at the version the package lock recorded (as long
    # as the mirror serves it); build_services fills ``pins`` from the lock.
    pin_packages: bool = False
    pins: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        platforms.parse(self.platform)  # a wrong platform is refused here, before anything runs

    @property
    def platforms(self) -> list[str | None]:
        """The platforms, one image each (None: the builder's own)."""
        return platforms.parse(self.platform)


@dataclass(frozen=True)
class BuildResult:
    reference: str
    tags: tuple[str, ...]
    size: int | None
    base_size: int | None
    inputs: BuildInputs
    key: str = ""
    skipped: bool = False  # the key was found: nothing was built
    platform: str | None = None  # a local image of one platform of several


@dataclass(frozen=True)
class Variant:
    """The image of one platform (None: the builder's own) and the steps that make it."""

    platform: str | None
    steps: list[ImageBuild]  # python-base, venv-builder, the service
    key: str
    target: str
    # The key of the inputs alone, the image's label: the same on every host, so
    # the same inputs give the same image digest. ``key`` adds the OS packages
    # the package lock records, at the versions served now.
    input_key: str = ""
    recorded: bool = False  # the package lock has the image
    # The image the lock says answers to ``key`` ("" when its record gives another key).
    locked_image: str = ""

    @property
    def image(self) -> ImageBuild:
        return self.steps[-1]


@dataclass(frozen=True)
class PlannedImage:
    """One service image of a selection: its inputs, one variant per platform, its key.

    ``tags`` are the release's tags of the image; when several platforms are
    pushed they name the manifest list made of the variants (``key`` is then
    the list's, made of the variants' keys).
    """

    release: str
    service: str
    inputs: BuildInputs
    variants: list[Variant]
    key: str
    tags: tuple[str, ...]

    @property
    def image(self) -> ImageBuild:
        """The first platform's service image (the only one of a one-platform build)."""
        return self.variants[0].image

    @property
    def steps(self) -> list[ImageBuild]:
        return self.variants[0].steps

    @property
    def target(self) -> str:
        return target_name(self.service, self.release)

    @property
    def manifest_list(self) -> bool:
        return len(self.variants) > 1 and self.variants[0].image.push


def base_image_for(forge: Forge, release: str) -> str:
    """--base-image or FORGE_BASE_IMAGE (the context's), else the release's base_image."""
    return forge.base_image or forge.manifest.release(release).base_image


def plan_service_build(
    forge: Forge, pair: Pair, inputs: BuildInputs, options: BuildOptions
) -> list[ImageBuild]:
    """The shared images and the service image (its content key as label), in build order."""
    return _plan(forge, pair, inputs, options).steps


def _plan(forge: Forge, pair: Pair, inputs: BuildInputs, options: BuildOptions) -> PlannedImage:
    release_name, service_name = pair.release, pair.project
    release = forge.manifest.release(release_name)
    service = release.service(service_name)
    images = forge.root / "images"
    base_image = base_image_for(forge, release_name)
    export = inputs.service
    revision = forge_revision(forge.root)
    names = tag_names(export.version, len(export.patches), release.branch, revision)
    tags = tuple(image_references(release.registry, service.name, names))
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
        f"{LABEL_PREFIX}.constraints-digest": (
            inputs.constraints.digest if inputs.constraints else "none"
        ),
        f"{LABEL_PREFIX}.forge-revision": revision,
    }
    for submodule in export.submodules:  # "<path> <commit> <repo>"
        path, commit, repo = submodule.split(" ", 2)
        labels[f"{LABEL_PREFIX}.submodule.{path}"] = f"{commit} {repo}"
    if not service.from_git:
        # No git source: the packages at the versions installed stand for it.
        listing = (export.tree / PACKAGES_FILE).read_text().split()
        labels[f"{LABEL_PREFIX}.distribution-packages"] = " ".join(listing)
        labels = {key: value for key, value in labels.items() if value}
    for kind, built in (("library", inputs.libraries), ("project", inputs.projects)):
        for each in built:
            labels[f"{LABEL_PREFIX}.{kind}.{each.project}"] = (
                f"{each.version} {each.commit} p{len(each.patches)} {each.series_digest or 'none'}"
            )
    requirements = list(inputs.requirements)
    # Paths only: materialise() writes them, for a build (planning writes nothing).
    contexts: tuple[tuple[str, Path | str], ...] = (("source", export.tree),)
    if inputs.constraints is not None:  # a Python venv: what it installs, and how
        contexts += (
            ("requirements", _context_folder(forge, release.name, service.name, "deps")),
            ("constraints", inputs.constraints.path.parent),
            ("libraries", _context_folder(forge, release.name, service.name, "libraries")),
        )
    builder, runtime = BUILD_KINDS[service.build]
    chosen = options.platforms
    apt_state = ("apt-state", apt_state_of(forge, options).folder)
    several = len(chosen) > 1
    # A Python venv starts from the release's shared dependency layers (image.shared).
    shared_set = shared_inputs(forge, release.name) if service.is_python else None
    # Its runtime stage starts from the release's shared OS packages it asks for (image.runtimeshare).
    runtime_stage = (
        runtime_plan(forge, release.name).get(service.name) if service.is_python else None
    )

    def variant(platform: str | None) -> Variant:
        base = platforms.base_context(base_image, platform)
        # Local names even when pushing: bake hands them to the service as target contexts.
        shared = [
            replace(
                shared_image_build(images, name, base_image, forge.ca_bundle, platform),
                tags=(platforms.local_tag(shared_image_tag(name, base_image), platform),),
                contexts=(*(((base_image, base),) if base else ()), apt_state),
            )
            for name in (runtime, builder)
        ]
        if shared_set is not None:
            shared.append(
                shared_step(images, shared_set, base_image, shared[1], forge.ca_bundle, platform)
            )
        chain = (
            runtime_steps(images, runtime_stage, shared[0], base_image, apt_state, platform)
            if runtime_stage is not None
            else []
        )
        image = ImageBuild(
            name=service.name,
            # nova-compute: nova's folder, its own target.
            folder=images / service.project,
            target=service.target,
            tags=tags,
            build_args=(
                ("BUILDER_IMAGE", shared[1].tags[0]),
                ("RUNTIME_IMAGE", (chain[-1] if chain else shared[0]).tags[0]),
                ("RUNTIME_PACKAGES", " ".join(service.runtime_packages)),
                *((("SHARED_DEPS_IMAGE", shared[2].tags[0]),) if shared_set is not None else ()),
                # Installed at run time and read by the venv (install-runtime, build-venv).
                *((("BINDINGS", " ".join(service.bindings)),) if service.bindings else ()),
                *((("MAKE_CHECK", "1"),) if options.make_check and not service.is_python else ()),
                # The image's and its history's dates: the upstream commit's.
                ("SOURCE_DATE_EPOCH", str(export.committed_epoch)),
            ),
            contexts=(*contexts, apt_state),
            labels=tuple(labels.items()),
            ca_bundle=forge.ca_bundle,
            platform=platform,
            push=options.push,
            extra_args=forge.buildx_args,
        )
        shared.extend(chain)
        input_key = content_key(
            [*shared, image],
            platforms.local_tag(base_image, platform) if base else base_image,
            [export.tree_digest for export in inputs.exports],
            inputs.constraints.digest if inputs.constraints else "",
            requirements,
        )
        entry = packagelock.recorded(
            forge, release.name, packagelock.entry_name(service.name, platform)
        )
        key = packagelock.key_for(forge, input_key, entry, pinned=bool(options.pins))
        locked = entry["image"] if entry and entry.get("key") == key else ""
        arch = f"-{arch_of(platform)}" if platform and several else ""
        if options.push:
            # Pushed under its key; several platforms are then listed under the release's tags.
            keyed = image_references(release.registry, service.name, [key_tag(key) + arch])
            named = keyed if several else (*tags, *keyed)
        else:
            named = tuple(platforms.local_tag(tag, platform) for tag in tags)
        image = replace(image, tags=tuple(named), labels=(*image.labels, (KEY_LABEL, input_key)))
        target = target_name(service.name, release.name, arch.lstrip("-"))
        return Variant(platform, [*shared, image], key, target, input_key, bool(entry), locked)

    variants = [variant(platform) for platform in chosen]
    key = variants[0].key if not several else list_key([v.key for v in variants])
    if options.push:  # the pushed image (or list) is found by its key: the last tag
        tags = (*tags, *image_references(release.registry, service.name, [key_tag(key)]))
    return PlannedImage(release.name, service.name, inputs, variants, key, tags)


def build_service(forge: Forge, pair: Pair, options: BuildOptions) -> BuildResult | None:
    """Build one service image; with ``dry_run`` print the plan and return None."""
    results = build_services(forge, [pair], options)
    return results[0] if results else None


def build_services(forge: Forge, pairs: Sequence[Pair], options: BuildOptions) -> list[BuildResult]:
    """Build a selection of service images; with ``dry_run`` print the bake file.

    Images whose content key is already built are not built again (unless
    ``force``): a push adds the release's tags to the registry's image, a
    local build tags the local one. The rest is baked in one graph.
    """
    if not options.dry_run:
        require_buildx()
    if options.pin_packages and not options.pins:
        options = replace(options, pins=tuple(sorted(packagelock.pins(forge, pairs).items())))
    started_at, started = time.time(), time.monotonic()
    planned = [_plan(forge, pair, plan_inputs(forge, pair), options) for pair in pairs]
    if options.dry_run:
        definition = bake_definition(
            [BakeImage(v.target, v.steps) for p in planned for v in p.variants], forge.buildx_args
        )
        forge.log(
            f"would run: {shlex.join(bake_command(Path('docker-bake.json'), forge.buildx_args))}"
        )
        forge.log(json.dumps(definition, indent=2, sort_keys=True))
        return []
    for p in planned:
        materialise(forge, p)
    apt_state_of(forge, options).write()
    for base in dict.fromkeys(base_image_for(forge, p.release) for p in planned):
        _require_base_image(base)
    for p in planned:
        for v in p.variants:
            if v.platform is not None:
                require_emulation(arch_of(v.platform))
    found = set() if options.force else _already_built(forge, planned, options)
    to_build = [
        (p, v)
        for p in planned
        for v in p.variants
        if v.target not in found and p.target not in found
    ]
    progress: dict[str, Image] = {}
    if to_build:
        definition = bake_definition(
            [BakeImage(v.target, v.steps) for _, v in to_build], forge.buildx_args
        )
        bake_file = write_bake_file(forge.build_dir / "bake", definition)
        names = ", ".join(
            dict.fromkeys(f"{p.service} ({p.release}{_platforms(p)})" for p, _ in to_build)
        )
        forge.log(f"building {names} in one graph ({bake_file})")
        logs = forge.build_dir / "logs"
        progress = {
            v.target: Image(v.target, _name(p, v), under(logs, p.release, f"{v.target}.log"))
            for p, v in to_build
        }
        board = board_for(forge.interactive, forge.log)
        board.start(list(progress.values()))
        try:
            # Plain progress whatever FORGE_BUILDX_ARGS says: it is split per image.
            command = [*bake_command(bake_file, forge.buildx_args), "--progress=plain"]
            ok = run_bake(command, list(progress.values()), logs / "bake.log", board.update)
        finally:
            board.stop()
        if not ok:
            failed = [_row_of(p, v, found, progress) for p in planned for v in p.variants]
            _summarize(forge, options, failed, started_at, started)
            raise docker.DockerError(_failure(progress.values(), logs / "bake.log", forge.log))
    for p in planned:
        if p.manifest_list and p.target not in found:
            registry.create_list(p.tags, [v.image.tags[0] for v in p.variants])
    # The key each image answers to once its packages are recorded (the next plan's).
    answers: dict[str, str] = {}
    for p in planned:
        if p.manifest_list:  # a list keeps its inputs' key (its platforms are not read back)
            continue
        for v in p.variants:
            if (v.target in found or p.target in found) and v.locked_image:
                continue  # found, and its record gives this very key: nothing new to read
            reference = p.tags[0] if options.push else v.image.tags[0]
            answers[v.target] = _record_packages(forge, p, v, reference)
            if options.push and answers[v.target] != p.key:  # found by that key next push
                registry.add_tags(p.tags[-1], [_key_reference(p, answers[v.target])])
    results = []
    rows: list[Row] = []
    for p in planned:
        entries: list[tuple[tuple[str, ...], str, bool, Variant | None]]
        if options.push:
            # The key it was pushed under (its record's, when another, is a tag of it too).
            entries = [(p.tags, p.key, p.target in found, None)]
        else:
            entries = [
                (v.image.tags, answers.get(v.target, v.key), v.target in found, v)
                for v in p.variants
            ]
        for tags, key, skipped, one in entries:
            size = None if options.push else _image_size(tags[0])
            base_size = _image_size((one or p.variants[0]).steps[0].tags[0])
            platform = one.platform if one else None
            result = BuildResult(tags[0], tags, size, base_size, p.inputs, key, skipped, platform)
            forge.log(_describe(result, pushed=options.push))
            results.append(result)
            shown = [one] if one else p.variants
            built = [progress[v.target] for v in shown if v.target in progress]
            rows.append(
                Row(
                    service=p.service,
                    release=p.release,
                    platform=platform if one else None,
                    result="up to date" if skipped else "pushed" if options.push else "built",
                    tag=tags[0],
                    size=size,
                    seconds=max((i.seconds(time.monotonic()) for i in built), default=0.0),
                    key=key,
                    log=str(built[0].log) if built else "",
                )
            )
    _summarize(forge, options, rows, started_at, started)
    return results


def _name(planned: PlannedImage, variant: Variant) -> str:
    platform = f", {variant.platform}" if variant.platform else ""
    return f"{planned.service} ({planned.release}{platform})"


def _row_of(
    planned: PlannedImage, variant: Variant, found: set[str], progress: dict[str, Image]
) -> Row:
    """A row of a build that failed: each image as far as it got."""
    image = progress.get(variant.target)
    up_to_date = variant.target in found or planned.target in found
    state = State.UP_TO_DATE if up_to_date else image.state if image else State.STOPPED
    return Row(
        service=planned.service,
        release=planned.release,
        platform=variant.platform,
        result=state.value if state != State.BUILDING else State.STOPPED.value,
        tag=variant.image.tags[0],
        size=None,
        seconds=image.seconds(time.monotonic()) if image else 0.0,
        key=variant.key,
        log=str(image.log) if image and image.started else "",
    )


def _summarize(
    forge: Forge, options: BuildOptions, rows: list[Row], started_at: float, started: float
) -> None:
    path = options.summary_json or forge.build_dir / "summary.json"
    write_summary(path, rows, started=started_at, seconds=time.monotonic() - started)
    forge.log(f"{summary_table(rows)} in {time.monotonic() - started:.0f} s (summary: {path})")


def _failure(images, whole: Path, log) -> str:
    """Each failed image's step, error and last log lines; the one-line error to raise."""
    failed = [image for image in images if image.state == State.FAILED]
    for image in failed:
        log(
            f"{image.name} failed at {image.step}: {image.error}\n"
            f"{tail(image.log)}\n(its whole log: {image.log})"
        )
    if not failed:  # BuildKit failed before any image's own step (a shared one, the bake file)
        log(tail(whole))
        return f"the build failed before any image's own step; its log: {whole}"
    names = ", ".join(image.name for image in failed)
    return f"building {names} failed at {failed[0].step}; the log: {failed[0].log}"


def _platforms(planned: PlannedImage) -> str:
    chosen = [v.platform for v in planned.variants if v.platform]
    return f", {' + '.join(chosen)}" if chosen else ""


def _already_built(forge: Forge, planned: list[PlannedImage], options: BuildOptions) -> set[str]:
    """The targets (images, or one platform's image) whose key is built; they get this build's tags.

    Pushing, an image (or manifest list) is found in the registry by its key
    tag; locally, each platform's image by the key label of its first tag.
    """
    found: set[str] = set()
    for p in planned:
        what = f"{p.service} ({p.release}{_platforms(p)})"
        if options.push:
            if not registry.exists(p.tags[-1]):
                continue
            registry.add_tags(p.tags[-1], p.tags[:-1])
            found.add(p.target)
        else:
            hits = [v for v in p.variants if _answers_to(v)]
            for v in hits:
                for tag in v.image.tags[1:]:
                    docker.run(["tag", v.image.tags[0], tag])
            found |= {v.target for v in hits}
            if len(hits) < len(p.variants):
                continue
        forge.log(f"{what}: up to date (inputs unchanged, key {p.key})")
    return found


def _key_reference(planned: PlannedImage, key: str) -> str:
    """The registry reference of ``planned``'s image under another key tag."""
    repository = planned.tags[-1].rpartition(":")[0]
    return f"{repository}:{key_tag(key)}"


def _answers_to(variant: Variant) -> bool:
    """The local image is ``variant``'s: by the package lock's record of it, else by its key label."""
    tag = variant.image.tags[0]
    if variant.recorded:
        return bool(variant.locked_image) and docker.image_id(tag) == variant.locked_image
    return docker.image_label(tag, KEY_LABEL) == variant.input_key


def _record_packages(forge: Forge, planned: PlannedImage, variant: Variant, reference: str) -> str:
    """Read the OS packages ``reference`` installed into the package lock; the key it answers to.

    That key is the one the next plan computes while the apt index stays as
    it is: the image's inputs with its packages at the versions served now.
    """
    suite, packages = packagelock.installed_packages(reference)
    entry = {"suite": suite, "packages": packages}
    key = final_key(variant.input_key, packagelock.served_for(forge, entry))
    name = packagelock.entry_name(planned.service, variant.platform)
    image_id = docker.image_id(reference) or ""
    packagelock.record(
        forge,
        planned.release,
        name,
        packagelock.Record(image_id, variant.input_key, key, suite, packages),
    )
    return key


def _describe(result: BuildResult, *, pushed: bool) -> str:
    done = "found" if result.skipped else "pushed" if pushed else "built"
    lines = [f"{done} {result.reference}"]
    lines += [f"  tag {tag}" for tag in result.tags]
    if result.size is not None:
        share = (
            f" ({result.base_size / result.size:.0%} of it the runtime base)"
            if result.base_size
            else ""
        )
        lines.append(f"  size {result.size / 1e6:.1f} MB{share}")
    return "\n".join(lines)


def apt_state_of(forge: Forge, options: BuildOptions) -> AptState:
    """The apt-state context of a build: the index state, and the pins when asked for."""
    return apt_state(forge, dict(options.pins))


def _context_folder(forge: Forge, release: str, service: str, name: str) -> Path:
    """build/contexts/<release>/<service>/<name>: one per service, as images differ."""
    return under(forge.build_dir / "contexts", release, service, name)


def materialise(forge: Forge, planned: PlannedImage) -> None:
    """Write what the build of ``planned`` reads: constraints, deps and libraries contexts.

    Only a build calls this; planning (smoke, verify: "which image would this
    be?") computes the same paths and writes nothing.
    """
    inputs = planned.inputs
    if inputs.constraints is None:  # built from C: the source is its only context
        return
    inputs.constraints.write()
    shared_inputs(forge, planned.release).write()
    deps = _context_folder(forge, planned.release, planned.service, "deps")
    write_context(deps, list(inputs.requirements), inputs.service.package)
    folder = _context_folder(forge, planned.release, planned.service, "libraries")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for library in inputs.from_source:
        shutil.copytree(library.tree, folder / library.project, symlinks=True)


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


def prepared_plan(forge: Forge, pair: Pair, options: BuildOptions) -> PlannedImage:
    """The plan of one image with everything its bake reads written, for a graph that
    builds one of its stages (inv patches.test builds the deps stage)."""
    planned = _plan(forge, pair, plan_inputs(forge, pair), options)
    materialise(forge, planned)
    apt_state_of(forge, options).write()
    _require_base_image(base_image_for(forge, pair.release))
    return planned


def planned_image(
    forge: Forge, pair: Pair, options: BuildOptions | None = None
) -> tuple[ImageBuild, BuildInputs]:
    """The service image a build would produce now (tags and labels), and its inputs."""
    platform = options.platform if options else None
    make_check = options.make_check if options else False
    dry = BuildOptions(platform=platform, dry_run=True, make_check=make_check)
    planned = _plan(forge, pair, plan_inputs(forge, pair), dry)
    return planned.image, planned.inputs


def stale_labels(
    planned: ImageBuild, found: dict[str, str], ignore: tuple[str, ...] = ()
) -> list[str]:
    """How the labels of a built image differ from those a build would give it now.

    The forge revision is left out: committing a README does not make an image
    stale, while a new patch, constraint, upstream commit or base does.
    """
    left_out = (f"{LABEL_PREFIX}.forge-revision", *ignore)
    wanted = {k: v for k, v in planned.labels if k not in left_out}
    keys = set(wanted) | {
        k for k in found if k.startswith((f"{LABEL_PREFIX}.library.", f"{LABEL_PREFIX}.project."))
    }
    differences = [
        f"{key.removeprefix(LABEL_PREFIX + '.')} is {found.get(key, 'absent')!r}, "
        f"the current inputs give {wanted.get(key, 'none')!r}"
        for key in sorted(keys - {KEY_LABEL})
        if found.get(key) != wanted.get(key)
    ]
    if not differences and KEY_LABEL in wanted and found.get(KEY_LABEL) != wanted[KEY_LABEL]:
        # Only what no label names moved: a Dockerfile, a shared image, the base image.
        differences.append(
            f"content-key is {found.get(KEY_LABEL, 'absent')!r}, the current inputs give "
            f"{wanted[KEY_LABEL]!r} (its Dockerfile folder, python-base, venv-builder "
            "or the base image changed)"
        )
    return differences
