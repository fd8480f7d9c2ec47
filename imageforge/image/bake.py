"""One ``docker buildx bake`` definition for a whole selection of images.

Every service image of the selection is a bake target; the shared
python-base and venv-builder of each base image are targets too, which the
service targets take as ``target:`` contexts. The name a service's
Dockerfile uses in FROM (``${BUILDER_IMAGE}``, ``${RUNTIME_IMAGE}``) is the
shared image's tag, and a named context of that name replaces it. So
BuildKit builds the selection in one graph, solves each shared image once,
and a pushing builder never needs the shared images pushed first.

The definition is plain JSON written into build/bake/; ``--dry-run`` prints it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from imageforge.image import platforms
from imageforge.image.plan import CA_SECRET_ID, ImageBuild

# FORGE_BUILDX_ARGS options that bake takes per target; every other option is
# passed to `docker buildx bake` itself (--progress, --builder, --no-cache…).
_TARGET_OPTIONS = {"--cache-from": "cache-from", "--cache-to": "cache-to"}


@dataclass(frozen=True)
class BakeImage:
    """A service image to bake: its target name and its steps (shared images first)."""

    target: str
    steps: Sequence[ImageBuild]


def target_name(*parts: str) -> str:
    """Bake target names take letters, digits, '-' and '_': keystone + 2025.2 -> keystone-2025-2."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", "-".join(parts)).strip("-")


def step_target(step: ImageBuild) -> str:
    """The bake target of a shared step: its name and its tag (python-base-<base>, ...)."""
    return target_name(step.name, step.tags[0].rpartition(":")[2])


def target_context(step: ImageBuild) -> tuple[str, str]:
    """The named context a step's dependents read it through: its tag -> its target."""
    return step.tags[0], f"target:{step_target(step)}"


def bake_definition(images: Sequence[BakeImage], extra_args: Sequence[str] = ()) -> dict:
    """The bake file (as a dict) that builds ``images`` in one graph."""
    per_target, _ = split_extra_args(extra_args)
    targets: dict[str, dict] = {}
    group: list[str] = []
    for image in images:
        *shared, service = image.steps
        contexts = {}
        for step in shared:
            name = step_target(step)
            if name not in targets:
                # Loaded for local builds; a push needs them only inside the graph.
                targets[name] = _target(step, per_target, None if service.push else "docker")
                if not service.push:
                    group.append(name)
            contexts[step.tags[0]] = f"target:{name}"
        spec = _target(service, per_target, output="registry" if service.push else "docker")
        spec["contexts"] = {**spec.get("contexts", {}), **contexts}
        targets[image.target] = spec
        group.append(image.target)
    return {"group": {"default": {"targets": group}}, "target": targets}


def write_bake_file(folder: Path, definition: dict) -> Path:
    """``folder``/docker-bake.<digest>.json: one file per distinct definition."""
    text = json.dumps(definition, indent=2, sort_keys=True) + "\n"
    path = folder / f"docker-bake.{hashlib.sha256(text.encode()).hexdigest()[:12]}.json"
    folder.mkdir(parents=True, exist_ok=True)
    if not path.is_file():
        path.write_text(text)
    return path


def bake_command(path: Path, extra_args: Sequence[str] = ()) -> list[str]:
    _, passed = split_extra_args(extra_args)
    return ["docker", "buildx", "bake", "--file", str(path), *passed]


def split_extra_args(args: Sequence[str]) -> tuple[dict[str, list[str]], list[str]]:
    """FORGE_BUILDX_ARGS as bake needs them: per-target cache options, and the rest."""
    per_target: dict[str, list[str]] = {}
    rest: list[str] = []
    items = iter(args)
    for arg in items:
        option, equals, value = arg.partition("=")
        if option in _TARGET_OPTIONS:
            value = value if equals else next(items, "")
            per_target.setdefault(_TARGET_OPTIONS[option], []).append(value)
        else:
            rest.append(arg)
    return per_target, rest


def _target(step: ImageBuild, per_target: dict[str, list[str]], output: str | None) -> dict:
    spec: dict = {"context": str(step.folder), "dockerfile": "Dockerfile"}
    if step.target:
        spec["target"] = step.target
    if step.build_args:
        spec["args"] = dict(step.build_args)
    if step.contexts:
        spec["contexts"] = {name: str(path) for name, path in step.contexts}
    if step.labels:
        spec["labels"] = dict(step.labels)
    if step.tags:
        spec["tags"] = list(step.tags)
    if step.ca_bundle is not None:
        # A secret is mounted only while a RUN step runs: it is in no layer.
        spec["secret"] = [f"id={CA_SECRET_ID},src={step.ca_bundle}"]
    if step.platform:
        spec["platforms"] = [p for p in platforms.parse(step.platform) if p]
    if output:
        spec["output"] = [f"type={output}"]
    spec.update({key: list(values) for key, values in per_target.items()})
    return spec
