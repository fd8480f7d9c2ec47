"""Where the forge keeps its caches and build folders."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """FORGE_CACHE_DIR, else $XDG_CACHE_HOME/imageforge, else ~/.cache/imageforge."""
    explicit = os.environ.get("FORGE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "imageforge"


def build_dir(project_root: Path) -> Path:
    """FORGE_BUILD_DIR, else build/ beside releases.yaml (exports, constraints, plans)."""
    explicit = os.environ.get("FORGE_BUILD_DIR")
    return Path(explicit) if explicit else project_root / "build"


def offline() -> bool:
    """FORGE_OFFLINE=1: use the mirrors as they are, never fetch (air-gapped runs)."""
    return os.environ.get("FORGE_OFFLINE") == "1"
