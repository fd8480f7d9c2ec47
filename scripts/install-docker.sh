#!/usr/bin/env bash
# Provision a Docker engine with buildx on a Debian bookworm host and start it.
#
# Bookworm's own docker.io (20.10) has no buildx and its Dockerfile frontend
# lacks heredocs, COPY --link and named build contexts. Docker 26 + buildx from
# trixie work, installed with an apt pin of 100 so nothing else is upgraded.
# The package suffixes matter: a plain `-t trixie` would pull trixie's runc,
# which needs a newer libc than bookworm has.
#
# The trixie suite is added from the mirror the host already uses (read from
# its apt sources), so this works wherever apt works. Idempotent: each step is
# skipped when already done.
set -euo pipefail

log() { printf 'install-docker: %s\n' "$*" >&2; }

docker_ready() { docker info >/dev/null 2>&1 && docker buildx version >/dev/null 2>&1; }

# Layers in one byte order. dockerd's overlay2 writes a layer's tar either by
# walking its upper folder ("native": a folder's entries right after it) or by
# comparing it with its parent ("naive": sorted by path, so pbr-6.dist-info
# comes before pbr/__init__.py). It picks native unless the parent chain was
# first registered from another snapshot: a cached build, or a --no-cache
# rebuild of identical layers, then writes the same files in the other order,
# so the same layer gets another digest from image to image (a release's
# shared dependency layers would not be shared) and from build to build.
# dockerd uses naive diff throughout when the kernel's overlayfs has
# redirect_dir on, which it checks when it starts.
one_layer_order() {
  local param=/sys/module/overlay/parameters/redirect_dir
  modprobe overlay 2>/dev/null || true
  if [ ! -w "$param" ]; then
    log "warning: $param is not writable: layer tars may differ in order between builds"
    return 0
  fi
  if [ "$(cat "$param")" != Y ]; then
    log "overlayfs redirect_dir on: dockerd writes every layer tar sorted by path"
    echo Y > "$param"
  fi
  if docker info >/dev/null 2>&1 \
     && docker info --format '{{json .DriverStatus}}' | grep -q '"Native Overlay Diff","true"'; then
    log "restarting dockerd, which started with native overlay diff"
    pkill -x dockerd || true
    for _ in $(seq 1 60); do
      if ! pgrep -x dockerd >/dev/null; then break; fi
      sleep 1
    done
  fi
}

start_dockerd() {
  if docker info >/dev/null 2>&1; then return 0; fi
  log "starting dockerd"
  mkdir -p /var/log
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  log "dockerd did not come up; see /var/log/dockerd.log"
  tail -n 20 /var/log/dockerd.log >&2 || true
  exit 1
}

if command -v dockerd >/dev/null 2>&1 && dockerd --version | grep -qE 'version (2[6-9]|[3-9][0-9])' \
   && [ -x /usr/libexec/docker/cli-plugins/docker-buildx ]; then
  log "Docker engine already installed"
else
  log "installing docker.io, docker-cli, containerd and docker-buildx from trixie"
  bash "$(dirname "$0")/install-from-trixie.sh" docker.io docker-cli containerd docker-buildx \
    -- runc iptables ca-certificates
fi

one_layer_order
start_dockerd
if docker info --format '{{json .DriverStatus}}' | grep -q '"Native Overlay Diff","true"'; then
  log "warning: dockerd uses native overlay diff: layer tars may differ in order between builds"
fi
docker_ready || { log "docker buildx is not available"; exit 1; }
log "$(docker version --format 'engine {{.Server.Version}}, client {{.Client.Version}}'), $(docker buildx version)"
