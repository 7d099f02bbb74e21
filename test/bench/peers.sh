#!/usr/bin/env bash
# peers.sh — `make bench-peers`: kgate side by side with its peers in one
# run, on one real Kafka node (KRaft, data on tmpfs) on loopback.  Prints
# numbers, asserts nothing.
#
# Peers: the client straight to the broker ("direct"), HAProxy in TCP mode
# (one thread), HAProxy with splice-request/-response, and kgate — all in
# plaintext, and (but for splice, which TLS rules out) with TLS 1.3 on both
# sides: client -> proxy and proxy -> the broker's SSL listener, the same
# cipher (TLS_AES_256_GCM_SHA384) everywhere.  The broker has one listener
# per peer, each advertising that peer's own port, so a client's every
# connection goes through the peer it is measuring.
#
# For each run, peer and direction: peer_load moves COUNT messages of SIZE
# bytes (produce, then consume of what it produced); the figures are the
# proxy's CPU (utime+stime) per GiB of payload, the decisive one on a shared
# 2-core machine, and the throughput as a ratio to direct in the same run.
# Then latency percentiles at a fixed rate, and the proxy's resident memory
# before and with 1,000 idle clients.
#
# Environment: BENCH_RUNS (3), BENCH_COUNT (1000000), BENCH_SIZE (1024),
# BENCH_RATE (2000 msgs/s) and BENCH_SECONDS (10) for latency, BENCH_IDLE
# (1000), BENCH_WORKLOAD_TIMEOUT (300 s per workload), BENCH_PERF=1
# records a perf profile of kgate during each of its runs and prints the
# top of it, BENCH_PARALLEL (1: each workload is that many peer_load
# processes at once, each moving COUNT/PARALLEL messages on a topic of its
# own — how kgate-w2, kgate with two workers, gets connections to spread;
# throughput is then the whole count over the wall time), BENCH_ONLY (a regex of peer names to run, e.g. 'kgate|haproxy-splice'),
# KGATE_BASELINE (another kgate binary, measured as peers kgate-baseline
# and kgate-baseline-tls in the same run: a change's before and after).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build}
KGATE=${KGATE_BIN:-$build/kgate}
LOAD=${PEER_LOAD_BIN:-$build/peer_load}
RUNS=${BENCH_RUNS:-3}
COUNT=${BENCH_COUNT:-1000000}
SIZE=${BENCH_SIZE:-1024}
RATE=${BENCH_RATE:-2000}
SECONDS_LAT=${BENCH_SECONDS:-10}
IDLE=${BENCH_IDLE:-1000}
WORKLOAD_TIMEOUT=${BENCH_WORKLOAD_TIMEOUT:-300}
ONLY=${BENCH_ONLY:-.}
PARALLEL=${BENCH_PARALLEL:-1}
dir=$build/bench-peers
data=/dev/shm/kgate-bench-peers
certs=$dir/certs
hz=$(getconf CLK_TCK)
declare -A PIDS=()

log() { echo "bench-peers: $*" >&2; }
die() {
  log "$*"
  exit 1
}

cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

command -v haproxy >/dev/null || die "haproxy is not installed: scripts/install-deps.sh --bench"
[ -x "$KGATE" ] && [ -x "$LOAD" ] || die "build first: make $KGATE $LOAD"
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
rm -rf "$dir" "$data"
mkdir -p "$dir" "$data"
"$root/scripts/gen-certs.sh" "$certs" >/dev/null
KAFKA="$root/scripts/kafka.sh"
"$KAFKA" fetch >/dev/null

# ---- the broker: one listener per peer ----

# name  broker-port  advertised-port  protocol
LISTENERS="DIRECT 19092 19092 PLAINTEXT
HAP 19093 29093 PLAINTEXT
HAPS 19094 29094 PLAINTEXT
KG 19095 19095 PLAINTEXT
DIRECTTLS 19192 19192 SSL
HAPTLS 19193 29193 SSL
KGTLS 19195 19195 SSL"

kafka_up() {
  local l="" a="" m="CONTROLLER:PLAINTEXT" name port adv proto
  while read -r name port adv proto; do
    l+="$name://127.0.0.1:$port,"
    a+="${a:+,}$name://127.0.0.1:$adv"
    m+=",$name:$proto"
  done <<<"$LISTENERS"
  cat "$certs/gateway.key" "$certs/gateway.pem" >"$dir/broker.keystore.pem"
  cat >"$dir/kafka.properties" <<EOF
node.id=1
process.roles=broker,controller
listeners=${l}CONTROLLER://127.0.0.1:19090
advertised.listeners=$a
controller.listener.names=CONTROLLER
inter.broker.listener.name=DIRECT
listener.security.protocol.map=$m
controller.quorum.voters=1@127.0.0.1:19090
ssl.keystore.type=PEM
ssl.keystore.location=$dir/broker.keystore.pem
ssl.enabled.protocols=TLSv1.3
ssl.cipher.suites=TLS_AES_256_GCM_SHA384
log.dirs=$data/kafka
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  "$KAFKA" run kafka.tools.StorageTool format -t "$("$KAFKA" run kafka.tools.StorageTool random-uuid)" \
    -c "$dir/kafka.properties" >"$dir/kafka-format.log" 2>&1 || die "format failed: $dir/kafka-format.log"
  KAFKA_HEAP_OPTS="-Xmx2g -Xms2g" "$KAFKA" run kafka.Kafka "$dir/kafka.properties" \
    >"$dir/kafka.log" 2>&1 &
  PIDS[kafka]=$!
  for _ in $(seq 120); do
    if "$LOAD" produce 127.0.0.1:19092 warmup 1 10 -X message.timeout.ms=2000 >/dev/null 2>&1; then
      return 0
    fi
    sleep 1
  done
  die "Kafka did not start: $dir/kafka.log"
}

# ---- the peers ----

TLS_SET=(-X security.protocol=ssl -X "ssl.ca.location=$certs/ca.pem" -X socket.nagle.disable=true)

haproxy_up() { # NAME LISTEN-PORT BROKER-PORT splice|plain|tls
  local name=$1 extra="" bind="" server=""
  case $4 in
    splice) extra="    option splice-request
    option splice-response" ;;
    tls)
      cat "$certs/gateway.pem" "$certs/gateway.key" >"$dir/haproxy.pem"
      bind=" ssl crt $dir/haproxy.pem ssl-min-ver TLSv1.3"
      server=" ssl verify required ca-file $certs/ca.pem verifyhost localhost ssl-min-ver TLSv1.3"
      ;;
  esac
  cat >"$dir/$name.cfg" <<EOF
global
    nbthread 1
    maxconn 4000
    ssl-default-bind-ciphersuites TLS_AES_256_GCM_SHA384
    ssl-default-server-ciphersuites TLS_AES_256_GCM_SHA384
defaults
    mode tcp
    timeout connect 5s
    timeout client 1h
    timeout server 1h
frontend f
    bind 127.0.0.1:$2$bind
$extra
    default_backend b
backend b
    server s1 127.0.0.1:$3$server
EOF
  haproxy -f "$dir/$name.cfg" -db >>"$dir/$name.log" 2>&1 &
  PIDS[$name]=$!
}

kgate_up() { # NAME LISTEN-PORT BROKER-PORT plain|tls
  local name=$1 tls="" bin=$KGATE workers=', "workers": 1'
  # One worker, as HAProxy runs one thread; kgate-w2 is the same with two.
  # (A baseline from before workers has one thread and no such key.)
  [[ $name == kgate-w2* ]] && workers=', "workers": 2'
  [[ $name == kgate-baseline* ]] && bin=$KGATE_BASELINE && workers=""
  [ "$4" = tls ] && tls=", \"tls\": { \"listen\": { \"cert\": \"$certs/gateway.pem\", \"key\": \"$certs/gateway.key\" },
    \"upstream\": { \"ca\": \"$certs/ca.pem\", \"server_name\": \"localhost\" } }"
  cat >"$dir/$name.json" <<EOF
{ "bootstrap": { "listen": "127.0.0.1:$2", "upstream": ["127.0.0.1:$3"] },
  "brokers": [ { "id": 1, "listen": "127.0.0.1:$(($2 + 1000))", "advertise": "127.0.0.1:$(($2 + 1000))" } ],
  "log": { "format": "text" }$workers$tls }
EOF
  "$bin" --config "$dir/$name.json" >>"$dir/$name.log" 2>&1 &
  PIDS[$name]=$!
}

# Each peer: its start, the port clients use, the producer's extra settings.
# name            start                                       client port  tls
PEERS="direct     true                                          19092 plain
haproxy-tcp       haproxy_up:haproxy-tcp:29093:19093:plain      29093 plain
haproxy-splice    haproxy_up:haproxy-splice:29094:19094:splice  29094 plain
kgate             kgate_up:kgate:29095:19095:plain              29095 plain
kgate-w2          kgate_up:kgate-w2:29096:19095:plain           29096 plain
direct-tls        true                                          19192 tls
haproxy-tls       haproxy_up:haproxy-tls:29193:19193:tls        29193 tls
kgate-tls         kgate_up:kgate-tls:29195:19195:tls            29195 tls
kgate-w2-tls      kgate_up:kgate-w2-tls:29196:19195:tls         29196 tls"
if [ -n "${KGATE_BASELINE:-}" ]; then
  PEERS+="
kgate-baseline    kgate_up:kgate-baseline:29097:19095:plain     29097 plain
kgate-baseline-tls kgate_up:kgate-baseline-tls:29197:19195:tls  29197 tls"
fi

peer_start() { # START
  local start=$1 name
  [ "$start" = true ] && return 0
  IFS=: read -r fn name a b mode <<<"$start"
  "$fn" "$name" "$a" "$b" "$mode"
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$a") 2>/dev/null && return 0
    sleep 0.1
  done
  die "$name did not listen on $a (see $dir/$name.log)"
}

peer_stop() { # NAME
  local pid=${PIDS[$1]:-}
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "PIDS[$1]"
}

ticks() { # PID: utime+stime in clock ticks (0 for direct)
  [ -n "${1:-}" ] || {
    echo 0
    return
  }
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# ---- measuring ----

results=$dir/results.txt
: >"$results"

# PARALLEL peer_load processes at once, each COUNT/PARALLEL messages on
# TOPIC-i; prints "parallel - - SECONDS" (the wall time of them all), or
# fails if any failed.
parallel_workload() { # PORT produce|consume TOPIC [-X ...]
  local port=$1 dir_=$2 topic=$3 each=$((COUNT / PARALLEL)) i pids=() t0 t1 rc=0
  shift 3
  t0=$(date +%s.%N)
  for i in $(seq "$PARALLEL"); do
    if [ "$dir_" = produce ]; then
      timeout "$WORKLOAD_TIMEOUT" "$LOAD" produce "127.0.0.1:$port" "$topic-$i" "$each" "$SIZE" \
        -X message.timeout.ms=120000 "$@" >/dev/null &
    else
      timeout "$WORKLOAD_TIMEOUT" "$LOAD" consume "127.0.0.1:$port" "$topic-$i" "$each" "$@" \
        >/dev/null &
    fi
    pids+=($!)
  done
  for i in "${pids[@]}"; do
    wait "$i" || rc=1
  done
  t1=$(date +%s.%N)
  [ "$rc" = 0 ] || return 1
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "parallel - - %.3f\n", b - a }'
}

# One workload through one peer; appends "peer dir run cpu_s_per_gib seconds".
measure() { # NAME PORT TLS DIR RUN TOPIC
  local name=$1 port=$2 tls=$3 dir_=$4 run=$5 topic=$6 pid t0 t1 out secs perf_pid=""
  local set=()
  [ "$tls" = tls ] && set=("${TLS_SET[@]}")
  pid=${PIDS[$name]:-}
  if [ -n "${BENCH_PERF:-}" ] && [[ $name == kgate* ]]; then
    perf record -q -g -p "$pid" -o "$dir/perf-$name-$dir_-$run.data" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  t0=$(ticks "$pid")
  # A workload that fails or hangs (a peer stalled) is reported and left
  # out of the table, not allowed to end the whole run.
  if [ "$PARALLEL" -gt 1 ]; then
    out=$(parallel_workload "$port" "$dir_" "$topic" "${set[@]}") || out=""
  elif [ "$dir_" = produce ]; then
    out=$(timeout "$WORKLOAD_TIMEOUT" "$LOAD" produce "127.0.0.1:$port" "$topic" "$COUNT" "$SIZE" \
      -X message.timeout.ms=120000 "${set[@]}") || out=""
  else
    out=$(timeout "$WORKLOAD_TIMEOUT" "$LOAD" consume "127.0.0.1:$port" "$topic" "$COUNT" \
      "${set[@]}") || out=""
  fi
  t1=$(ticks "$pid")
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    perf report -i "$dir/perf-$name-$dir_-$run.data" --stdio --no-children --percent-limit 2 \
      --sort sym 2>/dev/null | grep -v '^$' | grep '%' | head -25 >"$dir/perf-$name-$dir_-$run.txt" || true
  fi
  if [ -z "$out" ]; then
    log "$name $dir_ run $run: the workload failed or timed out; left out"
    return 1
  fi
  secs=$(awk '{ print $4 }' <<<"$out")
  awk -v p="$name" -v d="$dir_" -v r="$run" -v t=$((t1 - t0)) -v hz="$hz" -v n="$COUNT" \
    -v sz="$SIZE" -v s="$secs" \
    'BEGIN { printf "%s %s %d %.3f %.3f\n", p, d, r, t / hz / (n * sz / 1073741824), s }' >>"$results"
  log "$(tail -1 "$results")"
}

log "Kafka $("$KAFKA" version), $COUNT x $SIZE-byte messages, $RUNS runs"
kafka_up
for run in $(seq "$RUNS"); do
  while read -r name start port tls; do
    [[ $name =~ $ONLY ]] || [[ $name == direct* ]] || continue
    peer_start "$start"
    if measure "$name" "$port" "$tls" produce "$run" "t-$name-$run"; then
      measure "$name" "$port" "$tls" consume "$run" "t-$name-$run" || true
    fi
    peer_stop "$name"
    # Each run's gigabyte goes, or tmpfs fills and the broker stops.
    if [ "$PARALLEL" -gt 1 ]; then
      for i in $(seq "$PARALLEL"); do
        "$LOAD" delete 127.0.0.1:19092 "t-$name-$run-$i" ||
          log "could not delete topic t-$name-$run-$i"
      done
    else
      "$LOAD" delete 127.0.0.1:19092 "t-$name-$run" ||
        log "could not delete topic t-$name-$run"
    fi
  done <<<"$PEERS"
done

# ---- latency and idle memory ----

latency=$dir/latency.txt
idle=$dir/idle.txt
: >"$latency"
: >"$idle"
while read -r name start port tls; do
  [[ $name =~ $ONLY ]] || [[ $name == direct* ]] || continue
  set=()
  [ "$tls" = tls ] && set=("${TLS_SET[@]}")
  peer_start "$start"
  echo "$name $(timeout "$WORKLOAD_TIMEOUT" "$LOAD" latency "127.0.0.1:$port" "lat-$name" "$RATE" \
    "$SECONDS_LAT" "$SIZE" "${set[@]}" || echo failed)" >>"$latency"
  if [ -n "${PIDS[$name]:-}" ]; then
    pid=${PIDS[$name]}
    before=$(rss_kib "$pid")
    ca=()
    [ "$tls" = tls ] && ca=("$certs/ca.pem")
    coproc IDLE_CLIENTS { "$LOAD" idle "127.0.0.1:$port" "$IDLE" "${ca[@]}"; }
    read -r _ opened <&"${IDLE_CLIENTS[0]}" || opened=0
    sleep 1
    after=$(rss_kib "$pid")
    exec {IDLE_CLIENTS[1]}>&-
    wait "$IDLE_CLIENTS_PID" 2>/dev/null || true
    echo "$name $before $after $opened" >>"$idle"
  fi
  peer_stop "$name"
done <<<"$PEERS"

# ---- the table ----

/usr/bin/env python3 - "$results" "$latency" "$idle" "$COUNT" "$SIZE" "$RUNS" "$PARALLEL" <<'EOF'
import statistics, sys
from collections import defaultdict
res, lat, idle, count, size, runs, parallel = sys.argv[1:8]
cpu = defaultdict(list); secs = defaultdict(dict)
for line in open(res):
    peer, d, run, c, s = line.split()
    cpu[(peer, d)].append(float(c)); secs[(peer, d)][int(run)] = float(s)
def direct_of(peer):
    return "direct-tls" if peer.endswith("tls") else "direct"
def fmt(xs, p=2):
    if not xs:
        return "n/a"
    return f"{statistics.median(xs):.{p}f} [{min(xs):.{p}f}-{max(xs):.{p}f}]"
print(f"\nbench-peers: {count} x {size}-byte messages, {runs} runs, {parallel} client(s) at once; median [range]")
print(f"{'peer':<16}{'produce CPU s/GiB':>24}{'consume CPU s/GiB':>24}{'produce tput/direct':>24}{'consume tput/direct':>24}")
peers = sorted({p for p, _ in cpu}, key=lambda p: (p.endswith("tls"), p))
for p in peers:
    row = f"{p:<16}"
    for d in ("produce", "consume"):
        row += f"{fmt(cpu[(p, d)]) if not p.startswith('direct') else '-':>24}"
    for d in ("produce", "consume"):
        ratios = [secs[(direct_of(p), d)][r] / s for r, s in secs[(p, d)].items()
                  if r in secs[(direct_of(p), d)] and s > 0]
        row += f"{fmt(ratios):>24}"
    print(row)
print(f"\nlatency, produce acks=1 one at a time (ms):")
for line in open(lat):
    print("  " + line.strip())
print(f"\nresident memory (KiB): before, with idle clients, per client")
for line in open(idle):
    peer, before, after, n = line.split()
    per = (int(after) - int(before)) / max(int(n), 1)
    print(f"  {peer:<16}{before:>8}{after:>10}  {per:.1f} KiB per client ({n} clients)")
EOF
if [ -n "${BENCH_PERF:-}" ]; then
  for f in "$dir"/perf-*.txt; do
    echo "== ${f##*/}"
    cat "$f"
  done
fi
