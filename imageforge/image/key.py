"""The content key of an image: one digest of everything that decides its bytes.

Two builds with the same key produce the same image, so a key already in the
registry (tag ``in-<key>``) or on the local image (label ``content-key``)
means there is nothing to build. What goes in:

- the base image's ID (its config digest: a new debootstrap or pull changes it),
- every file of the Dockerfile folders the image is built from (the service's
  and the shared python-base and venv-builder), but the smoke and functional
  checks kept there,
- the exported source trees, by content (upstream commit + patches applied),
  and those of the patched libraries: the digests their exports recorded,
- the generated constraints and the requirements of the dependency layer,
- the build arguments, the labels and the platforms,
- once an image is built, each OS package it installed at the version the
  distribution serves now (``final_key``, image.packagelock).

Left out on purpose: the forge's own commit (a README change must not rebuild
the fleet), the tags and the registry (names, not bytes), the CA bundle (a
secret mounted at build time, in no layer) and cache options.
"""

from __future__ import annotations

import hashlib
import json

from imageforge.host import docker
from imageforge.image.plan import ImageBuild
from imageforge.patches.export import tree_digest

# Bumped when what the key covers changes, so every image is built once again.
KEY_FORMAT = 1
KEY_LABEL = "org.imageforge.content-key"
KEY_TAG_PREFIX = "in-"
# The forge's checks of an image live beside its Dockerfile but are never
# built into it: editing a check must not rebuild the image.
CHECK_FILES = frozenset({"smoke.yaml", "functional.yaml"})
# Labels that name a build rather than decide its bytes.
_NAMING_LABELS = ("org.imageforge.forge-revision", KEY_LABEL)


def content_key(
    steps: list[ImageBuild],
    base_image: str,
    tree_digests: list[str],
    constraints_digest: str,
    requirements: list[str],
) -> str:
    """The key of the last of ``steps`` (the service image), 24 hex digits."""
    record = {
        "format": KEY_FORMAT,
        "base": base_identity(base_image),
        "steps": [_step_record(step) for step in steps],
        "trees": tree_digests,
        "constraints": constraints_digest,
        "requirements": requirements,
    }
    text = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def final_key(input_key: str, os_packages: dict[str, str] | None) -> str:
    """The key with the OS packages an image installed, each at the version served now.

    Without a record (image.packagelock) the key is that of the inputs alone;
    with one, a new version of any of its packages makes a new key, and only
    for the images that contain the package.
    """
    if not os_packages:
        return input_key
    text = json.dumps({"inputs": input_key, "os_packages": os_packages}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def list_key(keys: list[str]) -> str:
    """The key of a manifest list: that of its platforms' images, in order."""
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:24]


def key_tag(key: str) -> str:
    return f"{KEY_TAG_PREFIX}{key}"


def base_identity(base_image: str) -> str:
    """The local base image's ID; its name when it is not here (a dry run on another host)."""
    try:
        result = docker.run(["image", "inspect", "--format", "{{.Id}}", base_image], check=False)
    except docker.DockerError:  # no Docker at all: a dry run still prints its plan
        return f"{base_image} (not here)"
    found = result.stdout.strip() if result.returncode == 0 else ""
    return found or f"{base_image} (not here)"


def _step_record(step: ImageBuild) -> dict:
    return {
        "name": step.name,
        "folder": tree_digest(step.folder, skip=CHECK_FILES),
        "args": [list(arg) for arg in step.build_args],
        "labels": [list(label) for label in step.labels if label[0] not in _NAMING_LABELS],
        "platform": step.platform or "",
        # Only where set, so that the keys of every other image stay as they were.
        **({"target": step.target} if step.target else {}),
    }
