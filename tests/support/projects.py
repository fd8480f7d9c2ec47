"""Forge projects for tests: a releases.yaml with images/, and a context to run the forge on it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from imageforge.config.manifest import SHARED_IMAGES, Manifest, load_manifest
from imageforge.context import Forge, ca_bundle

VALID = """\
defaults:
  registry: registry.test/forge
  base_image: debian:bookworm
  requirements_repo: https://opendev.org/openstack/requirements
services:
  keystone:
    repo: https://opendev.org/openstack/keystone
    extras: [ldap]
  glance:
    repo: https://opendev.org/openstack/glance
    runtime_packages: [qemu-utils]
libraries:
  oslo.messaging:
    repo: https://opendev.org/openstack/oslo.messaging
releases:
  2025.2:
    requirements:
      ref: stable/2025.2
    services:
      keystone: {ref: 28.0.2}
      glance: {ref: 31.1.0, runtime_packages: []}
    libraries:
      oslo.messaging: {}
  2025.10:
    requirements: {ref: 0e88245f541e4c82e3b0cf4b63cf50d7b7322d46}
    registry: other.test/forge
    services:
      keystone: {ref: stable/2025.10}
"""


def write_project(root: Path, text: str, images: tuple[str, ...] = ("keystone", "glance")) -> Path:
    for name in (*images, *SHARED_IMAGES):
        (root / "images" / name).mkdir(parents=True, exist_ok=True)
        (root / "images" / name / "Dockerfile").write_text("FROM scratch\n")
    manifest = root / "releases.yaml"
    manifest.write_text(textwrap.dedent(text))
    return manifest


def make_forge(project: Path | str, tmp_path: Path, **settings) -> Forge:
    """A context for the project whose releases.yaml is ``project`` (or sits in it).

    Cache and build folders are private to the test; ``settings`` set other
    fields (offline=True, base_image=...). The log is silent unless given.
    """
    path = Path(project)
    manifest = load_manifest(path if path.suffix == ".yaml" else path / "releases.yaml")
    settings.setdefault("log", lambda line: None)
    # As from_environment would: the host's CA bundle reaches the builds.
    settings.setdefault("ca_bundle", ca_bundle())
    return Forge(
        manifest=manifest,
        cache=settings.pop("cache", tmp_path / "cache"),
        build_dir=settings.pop("build_dir", tmp_path / "build"),
        **settings,
    )


def bare_forge(tmp_path: Path, **settings) -> Forge:
    """A context with no releases, for code that takes its projects from elsewhere."""
    manifest = Manifest(path=tmp_path / "releases.yaml", releases=())
    settings.setdefault("log", lambda line: None)
    return Forge(
        manifest=manifest,
        cache=settings.pop("cache", tmp_path / "cache"),
        build_dir=settings.pop("build_dir", tmp_path / "build"),
        **settings,
    )
