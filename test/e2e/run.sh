#!/usr/bin/env bash
# run.sh — the end-to-end tier (`make test-e2e`): real Apache Kafka brokers
# in network namespaces that recreate the single-NLB deployment, HAProxy as
# the NLB, kgate standalone and as a sidecar, and several independent
# clients.  Needs root (network namespaces) and the packages
# scripts/install-deps.sh --e2e installs.
#
#   test/e2e/run.sh [SCENARIO...]     default: all, in order
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
for f in "$here"/[0-9][0-9]_*.sh; do
  # shellcheck disable=SC1090
  source "$f"
done

[ "$(id -u)" = 0 ] || { echo "e2e: needs root (ip netns)" >&2; exit 1; }
for tool in ip haproxy kcat tcpdump java mvn "$PYTHON"; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is missing: run scripts/install-deps.sh --e2e" >&2; exit 1; }
done
"$PYTHON" -c 'import kafka' 2>/dev/null || { echo "e2e: python3-kafka is missing" >&2; exit 1; }
[ -x "$KGATE_BIN" ] && [ -x "$CLIENT_BIN" ] || { echo "e2e: build kgate and kgate-client first" >&2; exit 1; }

scenarios=("$@")
if [ ${#scenarios[@]} -eq 0 ]; then
  mapfile -t scenarios < <(declare -F | awk '{print $3}' | grep '^scenario_' | sort)
fi

# The cluster's data is thrown away: no need for a controlled shutdown
# (which cannot finish once the KRaft quorum is gone anyway).
teardown() {
  for name in "${!E2E_PIDS[@]}"; do
    stop "$name" KILL || true
  done
  netns_down
  # Logs and captures stay for inspection; the brokers' data goes.
  rm -rf "$E2E_DIR"/kafka-data-*
}
trap teardown EXIT
trap 'exit 130' INT TERM

rm -rf "$E2E_DIR"
mkdir -p "$E2E_DIR"
t0=$SECONDS
log "Kafka $("$KAFKA" version), librdkafka $(pkg-config --modversion rdkafka), kcat $(kcat -V | sed -n 's/^Version \([^ ]*\).*/\1/p'), kafka-python $("$PYTHON" -c 'import kafka; print(kafka.__version__)'), $(haproxy -v | head -1 | cut -d' ' -f1-3)"
netns_up
kafka_up
log "3 Kafka brokers up in msk after $((SECONDS - t0)) s"

failed=()
for s in "${scenarios[@]}"; do
  t=$SECONDS
  log "--- $s"
  # Each scenario runs in a subshell: a failure stops it, and whatever it
  # started (but not the brokers) is stopped with it.
  if (
    before=" ${!E2E_PIDS[*]} "
    cleanup() {
      for name in "${!E2E_PIDS[@]}"; do
        [[ "$before" == *" $name "* ]] || [[ "$name" == broker-* ]] || stop "$name" || true
      done
    }
    trap cleanup EXIT
    "$s"
  ); then
    log "PASS $s ($((SECONDS - t)) s)"
  else
    log "FAIL $s ($((SECONDS - t)) s)"
    failed+=("$s")
  fi
  # A scenario may have restarted brokers: make sure all three are up.
  if ! kafka_all_up; then
    for i in 1 2 3; do
      port_open "$NS_MSK" "$(broker_ip $i)" $BROKER_PORT || kafka_start "$i"
    done
    wait_for "3 Kafka brokers" kafka_all_up
  fi
done

log "end-to-end tier: $((${#scenarios[@]} - ${#failed[@]})) of ${#scenarios[@]} scenarios passed in $((SECONDS - t0)) s"
[ ${#failed[@]} -eq 0 ] || { log "failed: ${failed[*]}"; exit 1; }
