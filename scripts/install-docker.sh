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

start_dockerd
docker_ready || { log "docker buildx is not available"; exit 1; }
log "$(docker version --format 'engine {{.Server.Version}}, client {{.Client.Version}}'), $(docker buildx version)"
