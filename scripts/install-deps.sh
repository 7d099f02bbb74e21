#!/usr/bin/env bash
# install-deps.sh — installs the Debian packages kgate is built and tested
# with.  `make test` and `make demo` run it with --if-missing, so a fresh
# Debian 12 machine needs nothing else; run it by hand to install them all.
set -euo pipefail

PKGS=(
  build-essential pkg-config       # compiler, make, pkg-config
  libevent-dev libssl-dev          # event loop, bufferevents, evdns; TLS
  libjansson-dev                   # JSON configuration
  librdkafka-dev                   # mock cluster (demo, tests) and test clients
  check                            # unit test framework
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${1:-}" = "--if-missing" ] && [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
[ ${#missing[@]} -eq 0 ] && missing=("${PKGS[@]}")

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then
    sudo=(sudo)
  else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -q
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
