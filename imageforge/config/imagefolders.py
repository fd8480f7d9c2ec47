"""images/ against releases.yaml: every image's folder and Dockerfile, and what its entry asks of them.

Every service owns images/<service>/Dockerfile and every folder has an entry;
an image from another service's Dockerfile (nova-compute) needs its stage,
and bindings need the Dockerfile to pass them on. A mistake is one line that
names the file, line and key.
"""

from __future__ import annotations

import re
from pathlib import Path

from imageforge.config.manifest import (
    BACKING_FOLDER,
    BUILD_KINDS,
    SHARED_IMAGES,
    SHARED_LAYERS,
    TOOL_IMAGES,
    Manifest,
)
from imageforge.config.yamlnodes import Document
from imageforge.errors import ManifestError


def check_image_folders(manifest: Manifest, document: Document) -> None:
    """Every service has images/<service>/Dockerfile; every image folder has an entry."""
    images = manifest.root / "images"
    # Every defined service, used by a release or not, owns its image folder.
    services = set(document.data["services"])
    # Images from another service's Dockerfile: their folder holds checks only.
    derived = {
        name for entry in document.data["services"].values() for name in entry.get("images", {})
    }
    for name in sorted(services):
        if not (images / name / "Dockerfile").is_file():
            raise document.error(
                ("services", name), f"no Dockerfile: expected images/{name}/Dockerfile"
            )
    # bindings need the runtime stage to know (ARG BINDINGS): install-runtime
    # installs them and points the venv at them; without it the venv would
    # silently not see them.
    for release in manifest.releases:
        for service in release.services:
            dockerfile = images / service.project / "Dockerfile"
            stage = re.compile(
                rf"^FROM\s+\S+\s+AS\s+{re.escape(service.target or '')}\s*$", re.M | re.I
            )
            if service.target and not stage.search(dockerfile.read_text()):
                raise document.error(
                    ("services", service.project, "images", service.name, "target"),
                    f"no stage {service.target!r} in {dockerfile} (FROM ... AS {service.target})",
                )
            if service.bindings and "ARG BINDINGS" not in _stage_text(dockerfile, service.target):
                where = f"stage {service.target!r}" if service.target else "last stage"
                raise document.error(
                    ("releases", release.name, "services", service.name),
                    f"bindings need `ARG BINDINGS` in the {where} of {dockerfile} (its runtime stage)",
                )
            _check_shared_layers(dockerfile, service.project)
    kinds = {entry.get("build", "python") for entry in document.data["services"].values()}
    for name in sorted({n for kind in kinds for n in BUILD_KINDS[kind]} | set(SHARED_IMAGES)):
        if not (images / name / "Dockerfile").is_file():
            raise ManifestError(f"{images / name}: missing Dockerfile (a shared image)")
    if images.is_dir():
        for folder in sorted(p for p in images.iterdir() if p.is_dir()):
            shared = {n for pair in BUILD_KINDS.values() for n in pair} | set(SHARED_IMAGES)
            shared |= set(TOOL_IMAGES)
            if folder.name not in services | derived | shared | {BACKING_FOLDER}:
                raise ManifestError(
                    f"{folder}: image folder has no entry in {manifest.path.name}"
                    f" (add services.{folder.name} and use it in a release, or remove the folder)"
                )


def _check_shared_layers(dockerfile: Path, project: str) -> None:
    """A Dockerfile on shared-deps takes every shared layer slot and names its project.

    build-venv shared may give a project a layer in any of its SHARED_LAYERS
    slots: an image copying fewer would lack distributions without a word.
    """
    text = dockerfile.read_text()
    if "${SHARED_DEPS_IMAGE}" not in text:
        return
    for slot in range(1, SHARED_LAYERS + 1):
        line = f"COPY --from=deps --link /forge/shared/{slot}/ /"
        if line not in text:
            raise ManifestError(
                f"{dockerfile}: no `{line}`: an image on shared-deps copies its"
                f" {SHARED_LAYERS} shared layers"
            )
    if not re.search(rf"build-venv deps {re.escape(project)}\s*$", text, re.M):
        raise ManifestError(f"{dockerfile}: the deps stage must run `build-venv deps {project}`")


def _stage_text(dockerfile: Path, target: str | None) -> str:
    """The lines of the stage an image is built from: ``target``'s, or the last."""
    stages = re.split(r"^FROM\s", dockerfile.read_text(), flags=re.M | re.I)[1:]
    if target is None:
        return stages[-1] if stages else ""
    named = re.compile(rf"\S+\s+AS\s+{re.escape(target)}\s*$", re.I)
    return next((s for s in stages if named.match(s.splitlines()[0].strip())), "")
