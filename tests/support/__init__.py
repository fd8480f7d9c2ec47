"""Helpers the tests share: real git repositories, projects, patches, the synthetic service."""

from __future__ import annotations

import os
from pathlib import Path

# The forge repository (releases.yaml, images/, ...).
ROOT = Path(__file__).resolve().parent.parent.parent

# In the names of the images a test run makes: another run on the same Docker
# engine (a second suite, CI beside a maintainer) never tags, uses or removes them.
RUN = f"r{os.getpid()}"
