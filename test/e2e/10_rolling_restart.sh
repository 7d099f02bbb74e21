# 10_rolling_restart.sh — a rolling restart of the standalone gateway: two
# kgate replicas in msk are both the NLB's targets for every port, and the
# NLB (HAProxy) checks each one's /readyz as a target group's HTTP health
# check would.  While a paced idempotent librdkafka producer and a Java
# consumer group run through the NLB, each replica in turn gets SIGTERM —
# readiness fails, it drains (every pair closes between requests once
# answered) and exits — and is started again.  Everything acknowledged
# arrives exactly once; the drain figures and what the clients saw are
# reported.  Then a reload (SIGHUP) of one replica under the same traffic,
# and its /metrics read by an independent parser.
ROLL_MESSAGES=${E2E_ROLL_MESSAGES:-150000}
ADMIN_PORT=9644

replica_config() { # IP
  gateway_config "$1" "$NLB_NAME" "$(broker_list $BROKER_PORT)" "" \
    "\"admin\": { \"listen\": \"$1:$ADMIN_PORT\", \"allow_remote\": true, \"probe_interval_ms\": 500 }"
}

# The NLB in front of both replicas, each port balanced over them and
# each replica taken out as soon as its /readyz fails.
nlb_replicas_up() {
  local cfg=$E2E_DIR/haproxy-replicas.cfg i port ip
  {
    printf 'global\n  maxconn 4096\ndefaults\n  mode tcp\n  timeout connect 5s\n'
    printf '  timeout client 10m\n  timeout server 10m\n  retries 3\n  option redispatch\n'
    for i in 0 1 2 3; do
      if [ $i = 0 ]; then port=9094; else port=${GATEWAY_PORTS[$((i - 1))]}; fi
      printf 'listen p%d\n  bind %s:%d\n  balance roundrobin\n  option httpchk GET /readyz\n' \
        "$port" "$NLB_IP" "$port"
      for ip in "$KGATE_MSK_IP" "$KGATE_MSK_IP2"; do
        printf '  server %s %s:%d check port %d inter 300 fall 1 rise 2\n' "k${ip##*.}" "$ip" \
          "$port" "$ADMIN_PORT"
      done
    done
  } >"$cfg"
  spawn nlb "$NS_NLB" haproxy -db -f "$cfg"
  wait_for "the NLB" port_open "$NS_CLI" "$NLB_IP" 9094
}

# True when a replica's /readyz answers 200, asked from the NLB's side.
ready() { # IP
  in_ns "$NS_NLB" timeout 2 bash -c "exec 3<>/dev/tcp/$1/$ADMIN_PORT &&
    printf 'GET /readyz HTTP/1.0\r\n\r\n' >&3 && head -1 <&3" 2>/dev/null | grep -q ' 200 '
}

# metrics_of IP NAME EXPECTATION...: a replica's /metrics, checked.
metrics_of() {
  local ip=$1 name=$2 out
  shift 2
  in_ns "$NS_NLB" timeout 5 bash -c "exec 3<>/dev/tcp/$ip/$ADMIN_PORT &&
    printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && cat <&3" | sed '1,/^\r$/d' >"$E2E_DIR/$name.txt"
  out=$("$PYTHON" "$E2E_ROOT/test/integration/check_metrics.py" "$E2E_DIR/$name.txt" "$@" 2>&1) ||
    die "$ip's /metrics: $out"
  log "$ip's /metrics: $out"
}

scenario_10_rolling_restart() {
  local expect=$NLB_NAME:8443,$NLB_NAME:8444,$NLB_NAME:8445 r ip name out
  replica_config "$KGATE_MSK_IP" >"$E2E_DIR/replica-1.json"
  replica_config "$KGATE_MSK_IP2" >"$E2E_DIR/replica-2.json"
  kgate_up kgate-r1 "$NS_MSK" "$E2E_DIR/replica-1.json"
  kgate_up kgate-r2 "$NS_MSK" "$E2E_DIR/replica-2.json"
  wait_for "replica 1 ready" ready "$KGATE_MSK_IP"
  wait_for "replica 2 ready" ready "$KGATE_MSK_IP2"
  nlb_replicas_up
  create_topic s10
  # ~50 s of production: both restarts land in the middle of it.
  spawn s10-rdk "$NS_CLI" "$CLIENT_BIN" produce --bootstrap "$NLB_NAME:9094" --topic s10 \
    --count "$ROLL_MESSAGES" --rate 3000 --timeout 300 --expect-brokers "$expect"
  spawn s10-java "$NS_CLI" bash -c "'$KAFKA' run org.apache.kafka.tools.consumer.ConsoleConsumer \
    --bootstrap-server '$NLB_NAME:9094' --topic s10 --group s10-java --from-beginning \
    --max-messages $ROLL_MESSAGES --timeout-ms 120000 --formatter-property print.partition=true \
    --formatter-property print.key=true --formatter-property print.value=false \
    2>'$E2E_DIR/s10-java.err' | sed 's/^Partition://' >'$E2E_DIR/s10-java.out'"
  wait_for "production under way" at_least 20000 s10
  for r in 1 2; do
    name=kgate-r$r
    ip=$KGATE_MSK_IP
    [ $r = 2 ] && ip=$KGATE_MSK_IP2
    log "rolling restart: draining replica $r"
    kgate_down "$name"
    log "replica $r: $(grep -h 'draining:' "$E2E_DIR/$name.log" | sed 's/.*draining: //; s/; each.*//'); $(grep -h 'drained:\|drain took' "$E2E_DIR/$name.log" | sed 's/.*info  //; s/.*warn  //')"
    mv "$E2E_DIR/$name.log" "$E2E_DIR/$name-1.log"
    kgate_up "$name" "$NS_MSK" "$E2E_DIR/replica-$r.json"
    wait_for "replica $r ready again" ready "$ip"
    local mark
    mark=$(records_in s10)
    wait_for "production going on after replica $r's restart" at_least $((mark + 5000)) s10
  done
  # A reload under the same traffic: replica 2 asks the cluster more often.
  sed 's/"probe_interval_ms": 500/"probe_interval_ms": 250/' "$E2E_DIR/replica-2.json" >"$E2E_DIR/replica-2b.json"
  mv "$E2E_DIR/replica-2b.json" "$E2E_DIR/replica-2.json"
  kill -HUP "${E2E_PIDS[kgate-r2]}"
  wait_for "replica 2 reloaded" grep -q "reloaded the configuration: generation 2" "$E2E_DIR/kgate-r2.log"
  wait_for "replica 2 ready after its reload" ready "$KGATE_MSK_IP2"
  await s10-rdk || die "the librdkafka producer did not deliver everything (see $E2E_DIR/s10-rdk.log)"
  log "librdkafka: $(grep -h '^produced' "$E2E_DIR/s10-rdk.log"); $(grep -c 'librdkafka error' "$E2E_DIR/s10-rdk.log") librdkafka errors reported"
  await s10-java || die "the Java consumer group failed (see $E2E_DIR/s10-java.err)"
  out=$(verify_ids "$E2E_DIR/s10-java.out" "$ROLL_MESSAGES") ||
    die "Java consumer group across the restarts: $out (see $E2E_DIR/s10-java.out)"
  log "Java consumer group across both restarts: $out; $(grep -ci 'warn\|error' "$E2E_DIR/s10-java.err") warnings or errors logged"
  # Both replicas' /metrics, read by an independent parser: replica 1
  # carried the traffic last (the clients moved to it when replica 2
  # drained), replica 2 was reloaded.
  metrics_of "$KGATE_MSK_IP" s10-metrics-1 \
    'kgate_requests_total{api="Produce"} > 0' 'kgate_requests_total{api="Fetch"} > 0' \
    'kgate_upstream_response_seconds_count{api="Produce"} > 0' 'kgate_broker_up{broker="2"} == 1' \
    'kgate_protocol_errors_total == 0'
  metrics_of "$KGATE_MSK_IP2" s10-metrics-2 'kgate_config_generation == 2' \
    'kgate_reloads_total{result="success"} == 1' 'kgate_reloads_total{result="failure"} == 0'
  nlb_down
  kgate_down kgate-r1
  kgate_down kgate-r2
}
