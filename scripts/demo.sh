#!/usr/bin/env bash
# demo.sh — what `make demo` runs: starts `kgate --demo`, sends a real
# librdkafka producer and consumer through it, and stops it again.
#
#   scripts/demo.sh KGATE_BIN CLIENT_BIN
#
# kgate's log goes to demo-kgate.log next to KGATE_BIN (build/ for make).
# Exits with the client's status, or kgate's if the client passed but kgate
# did not stop cleanly.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 KGATE_BIN CLIENT_BIN" >&2
  exit 2
fi
KGATE_BIN=$1
CLIENT_BIN=$2
HOST=127.0.0.1
BOOTSTRAP_PORT=9094
BROKER_PORTS=(8443 8444 8445)
LISTEN_TIMEOUT_S=20
STOP_TIMEOUT_S=10
LOG=$(dirname "$KGATE_BIN")/demo-kgate.log

kgate_pid=

# True when something accepts connections on $HOST:$1.  The probe runs in a
# subshell under timeout so a stuck connect cannot stall the script.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

kgate_running() {
  [ -n "$kgate_pid" ] && kill -0 "$kgate_pid" 2>/dev/null
}

show_log() {
  echo "--- last lines of kgate's log ($LOG) ---"
  tail -n "${1:-20}" "$LOG" || true
  echo "---"
}

# Runs on every exit: never leave a kgate behind.
cleanup() {
  if kgate_running; then
    kill -TERM "$kgate_pid" 2>/dev/null || true
    for _ in $(seq $((STOP_TIMEOUT_S * 10))); do
      kgate_running || break
      sleep 0.1
    done
    kgate_running && kill -KILL "$kgate_pid" 2>/dev/null || true
    wait "$kgate_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for f in "$KGATE_BIN" "$CLIENT_BIN"; do
  if [ ! -x "$f" ]; then
    echo "demo: $f is missing or not executable (run make first)" >&2
    exit 1
  fi
done

busy=()
for p in "$BOOTSTRAP_PORT" "${BROKER_PORTS[@]}"; do
  port_open "$p" && busy+=("$HOST:$p")
done
if [ ${#busy[@]} -gt 0 ]; then
  echo "demo: already in use: ${busy[*]}" >&2
  echo "demo: kgate --demo needs $HOST:$BOOTSTRAP_PORT and $HOST:${BROKER_PORTS[0]}-${BROKER_PORTS[-1]};" \
       "is another kgate (or something else) running?" >&2
  exit 1
fi

echo "demo: starting $KGATE_BIN --demo (log: $LOG)"
"$KGATE_BIN" --demo 2>"$LOG" &
kgate_pid=$!

# Ready when the bootstrap listener accepts connections: kgate opens all its
# listeners before it serves any.  The broker ports are not probed: before
# kgate has seen the cluster's Metadata it refuses (and logs) those.
ready=0
for _ in $(seq $((LISTEN_TIMEOUT_S * 10))); do
  if ! kgate_running; then
    rc=0
    wait "$kgate_pid" || rc=$?
    kgate_pid=
    echo "demo: kgate exited (status $rc) before it was listening" >&2
    show_log >&2
    exit 1
  fi
  if port_open "$BOOTSTRAP_PORT"; then
    ready=1
    break
  fi
  sleep 0.1
done
if [ $ready -ne 1 ]; then
  echo "demo: kgate did not listen on $HOST:$BOOTSTRAP_PORT within ${LISTEN_TIMEOUT_S}s" >&2
  show_log >&2
  exit 1
fi

echo "demo: kgate is listening; running the client"
echo
client_rc=0
"$CLIENT_BIN" demo --bootstrap "$HOST:$BOOTSTRAP_PORT" --messages 10 \
  --expect-brokers "$(IFS=,; echo "${BROKER_PORTS[*]/#/$HOST:}")" || client_rc=$?
echo

echo "demo: stopping kgate (SIGTERM)"
kill -TERM "$kgate_pid" 2>/dev/null || true
for _ in $(seq $((STOP_TIMEOUT_S * 10))); do
  kgate_running || break
  sleep 0.1
done
kgate_rc=0
if kgate_running; then
  echo "demo: kgate did not stop within ${STOP_TIMEOUT_S}s of SIGTERM" >&2
  kgate_rc=1 # cleanup kills it
else
  wait "$kgate_pid" || kgate_rc=$?
  kgate_pid=
  [ $kgate_rc -eq 0 ] || echo "demo: kgate exited with status $kgate_rc" >&2
fi

show_log 6
if [ $client_rc -ne 0 ]; then
  echo "demo: FAILED: the client exited with status $client_rc" >&2
  exit $client_rc
fi
if [ $kgate_rc -ne 0 ]; then
  echo "demo: FAILED: kgate did not stop cleanly" >&2
  exit $kgate_rc
fi
echo "demo: OK"
