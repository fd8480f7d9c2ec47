"""Helpers the tests share: real git repositories, projects, patches, the synthetic service."""

from __future__ import annotations

from pathlib import Path

# The forge repository (releases.yaml, images/, ...).
ROOT = Path(__file__).resolve().parent.parent.parent
