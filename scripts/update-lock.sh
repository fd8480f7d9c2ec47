#!/usr/bin/env bash
# update-lock.sh [uv pip compile options, e.g. --upgrade or --upgrade-package nox]:
# re-resolve pyproject.toml (with the dev extra) into requirements.lock and sync .venv.
#
# The existing pins are kept unless asked to upgrade. The lock holds versions
# and hashes but no index URLs, so it names no package index and installs from
# whatever index the host's uv is configured for.
set -euo pipefail
cd "$(dirname "$0")/.."
uv pip compile --quiet pyproject.toml --extra dev --universal --generate-hashes --no-header \
  --output-file requirements.lock "$@"
bash scripts/sync-venv.sh
