# 14_cluster_growth.sh — the cluster grows and shrinks under traffic, and
# kgate follows without a restart or a new configuration (README "Cluster
# growth, live").  kgate stands in msk behind the NLB with a listener for
# node ids 1..4 by rule (broker_ports), before broker 4 exists.  While an
# idempotent librdkafka producer and a two-member consumer group run through
# the NLB: a 4th, broker-only Kafka node (node.id 4, b-4.msk.internal,
# 10.77.1.5) joins the quorum's cluster, kafka-reassign-partitions moves
# every partition of the topic onto it (and a preferred election makes it
# their leader), the clients follow through kgate's port 8446, then the
# partitions move back and broker 4 stops.  Everything produced is in the
# log exactly once, the group read every id, no broker name reached the
# client side, and kgate logged broker 4 joining and leaving.  Figures:
# messages, client reconnects, and how long after broker 4 registered the
# first client connection through kgate's port for it came.
S14_MESSAGES=${E2E_S14_MESSAGES:-240000}
S14_RATE=${E2E_S14_RATE:-1500}
S14_ADMIN=$KGATE_MSK_IP:9644
S14_PORTS=(8443 8444 8445 8446)
S14_EXPECT=$NLB_NAME:8443,$NLB_NAME:8444,$NLB_NAME:8445,$NLB_NAME:8446

# kgate fronting node ids 1..4 by rule (broker_ports), every upstream
# learned from the cluster: no entry names broker 4.
s14_config() {
  printf '{ "bootstrap": { "listen": "%s:9094", "upstream": [%s] },\n' \
    "$KGATE_MSK_IP" "$(broker_list $BROKER_PORT)"
  printf '  "broker_ports": { "listen_host": "%s", "first_port": %d, "first_id": 1, "count": %d,\n' \
    "$KGATE_MSK_IP" "${S14_PORTS[0]}" "${#S14_PORTS[@]}"
  printf '                  "advertise_host": "%s", "advertise_first_port": %d },\n' \
    "$NLB_NAME" "${S14_PORTS[0]}"
  printf '  "admin": { "listen": "%s", "allow_remote": true },\n' "$S14_ADMIN"
  printf '  "discovery": { "refresh_interval_ms": 5000, "backoff_ms": 500, "backoff_max_ms": 5000 } }\n'
}

# The NLB: 9094 and one port per node id, all to kgate.
s14_nlb_up() {
  local cfg=$E2E_DIR/haproxy-s14.cfg port
  {
    printf 'global\n  maxconn 4096\ndefaults\n  mode tcp\n  timeout connect 5s\n'
    printf '  timeout client 10m\n  timeout server 10m\n'
    for port in 9094 "${S14_PORTS[@]}"; do
      printf 'listen p%d\n  bind %s:%d\n  server k %s:%d\n' "$port" "$NLB_IP" "$port" \
        "$KGATE_MSK_IP" "$port"
    done
  } >"$cfg"
  spawn nlb "$NS_NLB" haproxy -db -f "$cfg"
  wait_for "the NLB" port_open "$NS_CLI" "$NLB_IP" 9094
}

# Broker 4: a broker only (the three voters stay the quorum), plaintext.
s14_broker4_config() {
  kafka_config 4 | sed \
    -e 's/^process.roles=.*/process.roles=broker/' \
    -e "s|^listeners=.*|listeners=PLAINTEXT://$(broker_ip 4):$BROKER_PORT|" \
    -e "s|^advertised.listeners=.*|advertised.listeners=PLAINTEXT://$(broker_name 4):$BROKER_PORT|" \
    -e "s|^ssl.keystore.location=.*|ssl.keystore.location=$E2E_DIR/broker-1.keystore.pem|"
}

# Broker 4's address and name exist before kgate starts, as a new MSK
# broker's DNS name would (kgate reads the hosts file once, at start).
s14_broker4_net() {
  in_ns "$NS_MSK" ip addr add "$(broker_ip 4)/24" dev "km$E2E_ID"
  echo "$(broker_ip 4) $(broker_name 4)" >>"/etc/netns/$NS_MSK/hosts"
}

s14_broker4_format() {
  local id
  id=$(sed -n 's/^cluster.id=//p' "$E2E_DIR/kafka-data-1/meta.properties")
  [ -n "$id" ] || die "no cluster id in kafka-data-1/meta.properties"
  rm -rf "$E2E_DIR/kafka-data-4"
  s14_broker4_config >"$E2E_DIR/kafka-4.properties"
  "$KAFKA" run kafka.tools.StorageTool format -t "$id" -c "$E2E_DIR/kafka-4.properties" \
    >>"$E2E_DIR/kafka-format.log" 2>&1 || die "formatting broker 4 failed (see $E2E_DIR/kafka-format.log)"
}

# Whatever happens, the cluster is left as run.sh expects: three brokers.
s14_broker4_gone() {
  stop broker-4 || true
  in_ns "$NS_MSK" ip addr del "$(broker_ip 4)/24" dev "km$E2E_ID" 2>/dev/null || true
  sed -i "/ $(broker_name 4)\$/d" "/etc/netns/$NS_MSK/hosts" 2>/dev/null || true
  rm -rf "$E2E_DIR/kafka-data-4"
}

s14_brokers_listed() { [ "$(kafka_brokers_up)" = "$1" ]; }

# s14_move TAG FIRST...: every partition p of s14 gets replicas FIRST[p % n]
# and the next two of 1..4's ring without 4 when FIRST is 4 — then a
# preferred election makes the first replica the leader.
s14_move() {
  local tag=$1 json=$E2E_DIR/s14-$1.json p first r2 r3 sep=""
  shift
  local firsts=("$@")
  {
    printf '{"version":1,"partitions":['
    for p in 0 1 2 3 4 5; do
      first=${firsts[$((p % ${#firsts[@]}))]}
      if [ "$first" = 4 ]; then
        r2=$(((p % 3) + 1)) r3=$((((p + 1) % 3) + 1))
      else
        r2=$(((first % 3) + 1)) r3=$((((first + 1) % 3) + 1))
      fi
      printf '%s{"topic":"s14","partition":%d,"replicas":[%d,%d,%d]}' "$sep" "$p" "$first" "$r2" "$r3"
      sep=,
    done
    printf ']}\n'
  } >"$json"
  kafka_tool org.apache.kafka.tools.reassign.ReassignPartitionsCommand \
    --bootstrap-server "$(broker_name 1):$BROKER_PORT" --reassignment-json-file "$json" --execute \
    >>"$E2E_DIR/s14-reassign.log" 2>&1 || die "reassigning s14 ($tag) failed (see $E2E_DIR/s14-reassign.log)"
  wait_for "reassignment $tag complete" s14_reassigned "$json"
  kafka_tool org.apache.kafka.tools.LeaderElectionCommand \
    --bootstrap-server "$(broker_name 1):$BROKER_PORT" --election-type PREFERRED \
    --all-topic-partitions >>"$E2E_DIR/s14-reassign.log" 2>&1 || true
}

s14_reassigned() {
  local out
  out=$(kafka_tool org.apache.kafka.tools.reassign.ReassignPartitionsCommand \
    --bootstrap-server "$(broker_name 1):$BROKER_PORT" --reassignment-json-file "$1" --verify 2>&1)
  echo "$out" >>"$E2E_DIR/s14-reassign.log"
  ! grep -qi "in progress\|failed" <<<"$out" && grep -q "is completed" <<<"$out"
}

# When a line first appears in broker 4's log, or in kgate's (epoch seconds).
s14_ts_broker4() {
  date -d "$(grep -h -m1 -- "$1" "$E2E_DIR/broker-4.log" | sed 's/^\[\([^]]*\)\].*/\1/; s/,/./')" +%s.%N
}
s14_ts_kgate() {
  date -d "$(grep -h -m1 -- "$1" "$E2E_DIR/kgate-s14.log" | cut -d' ' -f1)" +%s.%N
}

s14_led_by_4() { [ "$(partitions_led_by 4 s14)" = "$1" ]; }

s14_metric() { # NAME: one sample of kgate's /metrics now (0 if absent)
  in_ns "$NS_MSK" timeout 5 bash -c "exec 3<>/dev/tcp/${S14_ADMIN%:*}/${S14_ADMIN##*:} &&
    printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && cat <&3" 2>/dev/null | sed '1,/^\r$/d' \
    >"$E2E_DIR/s14-metrics-now.txt"
  metric s14-metrics-now "$1"
}

s14_conn4() { [ "$(s14_metric 'kgate_connections_accepted_total{listener="broker-4"}')" -gt 0 ]; }

scenario_14_cluster_growth() {
  local t_start t_reg t_elect t_conn out reconnects
  trap 's14_broker4_gone; cleanup' EXIT
  s14_broker4_net
  s14_broker4_format
  s14_config >"$E2E_DIR/s14.json"
  kgate_up kgate-s14 "$NS_MSK" "$E2E_DIR/s14.json"
  s14_nlb_up
  create_topic s14
  capture_start s14 "$NS_CLI" "kc$E2E_ID"
  spawn s14-producer "$NS_CLI" "$CLIENT_BIN" produce --bootstrap "$NLB_NAME:9094" --topic s14 \
    --count "$S14_MESSAGES" --rate "$S14_RATE" --timeout 600 --expect-brokers "$S14_EXPECT"
  # librdkafka 2.0.2 (Debian's) can hand a consumer records again when a
  # Fetch answer arrives during the offset validation a leader change starts
  # (confluentinc/librdkafka#4261, fixed in 2.1.1), with or without kgate:
  # the group may see ids again, reported; none may be missing, and the log
  # itself must hold each id once (checked below, from inside msk).
  spawn s14-group "$NS_CLI" "$CLIENT_BIN" consume --bootstrap "$NLB_NAME:9094" --topic s14 \
    --count "$S14_MESSAGES" --group s14 --members 2 --timeout 600 --expect-brokers "$S14_EXPECT" \
    --allow-redelivery 1000
  wait_for "production under way" at_least 5000 s14

  log "starting broker 4"
  t_start=$(date +%s.%N)
  kafka_start 4
  wait_for "broker 4 registered" s14_brokers_listed 4
  t_reg=$(date +%s.%N)
  log "broker 4 listed in the cluster's Metadata $(echo "$t_reg - $t_start" | bc) s after its JVM started"
  wait_for "kgate to learn broker 4" grep -q "broker 4 joined at $(broker_name 4):$BROKER_PORT" \
    "$E2E_DIR/kgate-s14.log"
  s14_move onto-4 4
  wait_for "broker 4 leading s14" s14_led_by_4 6
  t_elect=$(date +%s.%N)
  wait_for "a client connection through kgate's port for broker 4" s14_conn4
  t_conn=$(date +%s.%N)
  log "broker 4 leads all 6 partitions; first client connection through kgate's port 8446 $(echo "$t_conn - $t_reg" | bc) s after broker 4 registered ($(echo "$t_conn - $t_elect" | bc) s after it became leader)"
  local mark
  mark=$(records_in s14)
  wait_for "production going on through broker 4" at_least $((mark + 3000)) s14

  log "moving s14 back and stopping broker 4"
  s14_move back 1 2 3
  wait_for "brokers 1-3 leading s14 again" s14_led_by_4 0
  mark=$(records_in s14)
  wait_for "production going on without broker 4" at_least $((mark + 3000)) s14
  # SIGTERM: a controlled shutdown (Java exits 143 after it).
  stop broker-4 || true
  expect_contains "$E2E_DIR/broker-4.log" "shut down completed"
  wait_for "broker 4 unlisted" s14_brokers_listed 3
  wait_for "kgate to see broker 4 leave" grep -q "broker 4 left the cluster" "$E2E_DIR/kgate-s14.log"

  await s14-producer || die "the producer did not deliver everything (see $E2E_DIR/s14-producer.log)"
  await s14-group || die "the consumer group did not read every id (see $E2E_DIR/s14-group.log)"
  capture_stop s14
  capture_assert_clean s14
  kgate_metrics "$NS_MSK" "$S14_ADMIN" s14-metrics \
    'kgate_connections_accepted_total{listener="broker-4"} > 0' \
    'kgate_bytes_to_upstream_total{listener="broker-4"} > 0' 'kgate_protocol_errors_total == 0'
  # The log holds every id exactly once (read inside msk, from the brokers).
  in_ns "$NS_MSK" kcat -b "$(broker_name 1):$BROKER_PORT" -t s14 -C -o beginning -e -q \
    -f '%p %k\n' -c "$S14_MESSAGES" >"$E2E_DIR/s14-log.out" 2>>"$E2E_DIR/s14-kcat.log" ||
    die "reading s14 back failed"
  out=$(verify_ids "$E2E_DIR/s14-log.out" "$S14_MESSAGES") || die "s14's log: $out"
  log "s14's log: $out"
  log "producer: $(grep -h '^produced' "$E2E_DIR/s14-producer.log"); group: $(grep -h 'consumed' "$E2E_DIR/s14-group.log" | tail -1); $(grep -h '^redelivered' "$E2E_DIR/s14-group.log" || echo 'redelivered: none')"
  # Client reconnects: connections librdkafka opened beyond one per broker
  # it used (its statistics), producer and both group members.
  reconnects=$(grep -h 'connects [0-9]*$' "$E2E_DIR/s14-producer.log" "$E2E_DIR/s14-group.log" |
    awk '{ n++; c += $NF } END { printf "%d connections to %d brokers, %d reconnects", c, n, c - n }')
  log "clients: $reconnects"
  log "broker 4 through kgate: $(metric s14-metrics 'kgate_connections_accepted_total{listener="broker-4"}') connections, $(metric s14-metrics 'kgate_bytes_to_upstream_total{listener="broker-4"}') bytes to it; refreshes: $(grep '^kgate_metadata_refreshes_total' "$E2E_DIR/s14-metrics.txt" | sed 's/kgate_metadata_refreshes_total//' | tr '\n' ' ')"
  log "kgate: $(grep -c 'broker 4 joined at' "$E2E_DIR/kgate-s14.log") \"broker 4 joined\", $(grep -c 'broker 4 left the cluster' "$E2E_DIR/kgate-s14.log") \"broker 4 left\" lines; joined $(echo "$(s14_ts_kgate 'broker 4 joined at') - $(s14_ts_broker4 'Transition from STARTING to STARTED')" | bc) s after broker 4 started, left $(echo "$(s14_ts_kgate 'broker 4 left the cluster') - $(s14_ts_broker4 'Transition from STARTED to SHUTTING_DOWN')" | bc) s after it began shutting down"
  nlb_down
  kgate_down kgate-s14
  expect_contains "$E2E_DIR/kgate-s14.log" "protocol_errors=0 "
}
