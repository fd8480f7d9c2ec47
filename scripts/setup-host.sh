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

# debootstrap for the local base image, openssl for the tests' CA marker, and
# Debian's docker-registry for the push test (a registry on loopback).
missing=""
command -v debootstrap >/dev/null 2>&1 || missing="$missing debootstrap"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v docker-registry >/dev/null 2>&1 || missing="$missing docker-registry"
if [ -n "$missing" ]; then
  log "installing$missing"
  apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

bash scripts/install-docker.sh

log "syncing the project venv (uv.lock)"
uv sync --frozen --quiet

uv run --frozen inv base-image
