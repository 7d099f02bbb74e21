#!/usr/bin/env bash
# install-deps.sh — installs the Debian packages kgate is built and tested
# with.  `make test` and `make demo` run it with --if-missing, so a fresh
# Debian 12 machine needs nothing else; run it by hand to install them all.
#
#   scripts/install-deps.sh [--if-missing] [--e2e] [--image] [--bench]
#
# --e2e adds what the end-to-end tier needs: HAProxy (the NLB), kcat,
# kafka-python, tcpdump, iproute2, and Java 17 with Maven (to fetch and run
# Apache Kafka) unless a Java 17+ and Maven are already on the PATH; and
# clang-14, whose static analyzer `make test` runs (make analyze), with its
# runtime libraries, libFuzzer and the sanitizers (make test-fuzz).
# --image adds what the image tier needs to build and run containers
# without a Docker engine: podman with runc (crun refuses these machines'
# hybrid cgroups), CNI networking and iptables for published ports,
# catatonit (kube play's pause), mmdebstrap (the base image),
# podman-compose, and Python's venv (kubernetes-validate comes from PyPI).
# --bench adds what `make bench-peers` needs: --e2e's (HAProxy, Java and
# Maven for Kafka) and linux-perf (its profile option).
set -euo pipefail

PKGS=(
  build-essential pkg-config       # compiler, make, pkg-config
  libevent-dev libssl-dev          # event loop, bufferevents, evdns; TLS
  libjansson-dev                   # JSON configuration
  librdkafka-dev                   # mock cluster (demo, tests) and test clients
  check                            # unit test framework
  python3-venv                     # make test-iam: AWS's Python MSK signer, from PyPI
)
E2E_PKGS=(
  iproute2 haproxy tcpdump         # namespaces, the NLB, packet captures
  kcat python3-kafka               # independent clients
  python3-prometheus-client        # an independent parser of /metrics
  systemd                          # systemd-analyze checks the unit (make lint)
  clang-14                         # make analyze (clang's static analyzer)
  libclang-rt-14-dev               # make test-fuzz (libFuzzer, ASan, UBSan for clang)
)
IMAGE_PKGS=(
  podman runc conmon catatonit uidmap containernetworking-plugins iptables
  mmdebstrap podman-compose
  python3-yaml python3-venv curl kcat
)

if_missing=0
e2e=0
image=0
bench=0
for arg in "$@"; do
  case "$arg" in
    --if-missing) if_missing=1 ;;
    --e2e) e2e=1 ;;
    --image) image=1 ;;
    --bench) e2e=1; bench=1 ;;
    *) echo "usage: $0 [--if-missing] [--e2e] [--image] [--bench]" >&2; exit 2 ;;
  esac
done

wanted=("${PKGS[@]}")
if [ $e2e = 1 ]; then
  wanted+=("${E2E_PKGS[@]}")
  java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
  if [ -z "$java_major" ] || [ "$java_major" -lt 17 ] || ! command -v javac >/dev/null; then
    wanted+=(openjdk-17-jdk-headless)
  fi
  command -v mvn >/dev/null || wanted+=(maven)
fi
[ $image = 1 ] && wanted+=("${IMAGE_PKGS[@]}")
[ $bench = 1 ] && wanted+=(linux-perf)

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  [ $if_missing = 1 ] && exit 0
  missing=("${wanted[@]}")
fi

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
