#!/usr/bin/env bash
# Install packages from Debian trixie on a bookworm host, and nothing else from it.
#
#   install-from-trixie.sh PKG... [-- BOOKWORM_PKG...]
#
# The trixie suite is added from the mirror the host already uses (read from
# its apt sources), with an apt pin of 100 so no bookworm package is upgraded;
# each PKG is asked for as PKG/trixie, the rest from bookworm. Idempotent.
set -euo pipefail

log() { printf 'install-from-trixie: %s\n' "$*" >&2; }

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

if [ ! -f /etc/apt/sources.list.d/trixie.sources ]; then
  mirror=$(host_debian_mirror)
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

packages=()
suffix=/trixie
for arg in "$@"; do
  if [ "$arg" = "--" ]; then suffix=""; continue; fi
  packages+=("$arg$suffix")
done
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
