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

# The first Debian mirror configured for bookworm, in deb822 or one-line form.
host_debian_mirror() {
  local uri
  uri=$(awk '
    /^URIs:/ { uris = $2 }
    /^Suites:/ && / bookworm( |$)/ && uris != "" { print uris; exit }
    /^$/ { uris = "" }
  ' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || { log "no bookworm mirror found in the apt sources"; exit 1; }
  printf '%s\n' "$uri"
}

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
  mirror=$(host_debian_mirror)
  if [ ! -f /etc/apt/sources.list.d/trixie.sources ]; then
    log "adding the trixie suite from the host's mirror with pin priority 100"
    cat >/etc/apt/sources.list.d/trixie.sources <<SOURCES
Types: deb
URIs: $mirror
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    cat >/etc/apt/preferences.d/trixie-pin <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
  fi
  log "installing docker.io, docker-cli, containerd and docker-buildx from trixie"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    docker.io/trixie docker-cli/trixie containerd/trixie docker-buildx/trixie \
    runc iptables ca-certificates >/dev/null
fi

start_dockerd
docker_ready || { log "docker buildx is not available"; exit 1; }
log "$(docker version --format 'engine {{.Server.Version}}, client {{.Client.Version}}'), $(docker buildx version)"
