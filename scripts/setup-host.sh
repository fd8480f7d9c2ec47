#!/usr/bin/env bash
# Prepare a Debian bookworm host for the forge, idempotently:
# uv, the project's locked venv, a Docker engine with buildx, debootstrap,
# and the local Debian base image for hosts that cannot pull one.
# Each step is skipped when it is already done, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup-host: %s\n' "$*" >&2; }

if ! command -v uv >/dev/null 2>&1; then
  log "installing uv from the package index"
  python3 -m pip install --quiet --disable-pip-version-check uv
  hash -r
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

bash scripts/install-docker.sh

log "syncing the project venv (uv.lock)"
uv sync --frozen --quiet

uv run --frozen inv base-image
