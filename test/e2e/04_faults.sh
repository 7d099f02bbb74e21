# 04_faults.sh — real faults under load, through the standalone gateway: a
# broker SIGKILLed and restarted mid-stream, then partition leadership moved
# back (so producers get NOT_LEADER_OR_FOLLOWER with KIP-951 NodeEndpoints),
# then kgate itself restarted.  An idempotent librdkafka producer (acks=all)
# and a Java producer run throughout; nothing may be lost or duplicated, and
# no address the cluster advertises may reach the client.
FAULT_MESSAGES=${E2E_FAULT_MESSAGES:-200000}
JAVA_MESSAGES=120000
# Slow enough that the producer outlasts the faults (a broker killed and
# restarted, replicas back in sync, an election): about 35 s on a quiet
# machine; at 2,000 messages a second it runs 100 s, and the Java
# producer (300 every 0.2 s) 80 s.
FAULT_RATE=2000

# Preferred leaders back once every replica is in sync again: this
# scenario's partitions only (the ones in_sync waited for; another topic's
# replica still catching up on broker 2 would fail an election of all).
elect_preferred() {
  local t p sep=
  {
    printf '{"partitions": ['
    for t in s04-rdk s04-java; do
      for ((p = 0; p < 6; p++)); do
        printf '%s{"topic": "%s", "partition": %d}' "$sep" "$t" "$p"
        sep=,
      done
    done
    printf ']}\n'
  } >"$E2E_DIR/s04-election.json"
  kafka_tool org.apache.kafka.tools.LeaderElectionCommand \
    --bootstrap-server "$(broker_name 1):$BROKER_PORT" --election-type PREFERRED \
    --path-to-json-file "$E2E_DIR/s04-election.json" >"$E2E_DIR/s04-election.out" 2>&1
}

no_leader_on_2() { [ "$(partitions_led_by 2 s04-rdk)" = 0 ] && [ "$(partitions_led_by 2 s04-java)" = 0 ]; }
leads_again_2() { [ "$(partitions_led_by 2 s04-rdk)" -gt 0 ] && [ "$(partitions_led_by 2 s04-java)" -gt 0 ]; }
in_sync() { all_in_sync s04-rdk && all_in_sync s04-java; }

scenario_04_faults() {
  local expect=$NLB_NAME:8443,$NLB_NAME:8444,$NLB_NAME:8445
  standalone_config >"$E2E_DIR/standalone.json"
  kgate_up kgate-faults "$NS_MSK" "$E2E_DIR/standalone.json"
  nlb_up gateway
  capture_start s04 "$NS_CLI" "kc$E2E_ID"
  create_topic s04-rdk
  create_topic s04-java
  # Paced so that the faults land mid-stream (~40 s of production).
  spawn s04-rdk "$NS_CLI" "$CLIENT_BIN" produce --bootstrap "$NLB_NAME:9094" --topic s04-rdk \
    --count "$FAULT_MESSAGES" --rate "$FAULT_RATE" --timeout 300 --expect-brokers "$expect"
  # The Java producer (Produce v13: it gets KIP-951 leader hints) sends
  # ids 0..JAVA_MESSAGES-1, paced by the generator feeding it.
  spawn s04-java "$NS_CLI" bash -c "for ((i = 0; i < $JAVA_MESSAGES; i++)); do
      echo \$i:jv-\$i; (( i % 300 == 299 )) && sleep 0.2; done |
    '$KAFKA' run org.apache.kafka.tools.ConsoleProducer --bootstrap-server '$NLB_NAME:9094' \
      --topic s04-java --command-property acks=all --command-property enable.idempotence=true \
      --reader-property parse.key=true --reader-property key.separator=:"
  # Faults land mid-stream: once each producer is well under way.
  wait_for "production under way" at_least 20000 s04-rdk
  wait_for "Java production under way" at_least 10000 s04-java
  log "SIGKILL broker 2"
  stop broker-2 KILL || true
  wait_for "leadership to move off broker 2" no_leader_on_2
  log "restarting broker 2"
  kafka_start 2
  wait_for "broker 2 listening" port_open "$NS_MSK" "$(broker_ip 2)" $BROKER_PORT
  wait_for "replicas back in sync" in_sync
  log "moving leadership back to the preferred replicas (broker 2)"
  elect_preferred || die "leader election failed (see $E2E_DIR/s04-election.out)"
  wait_for "broker 2 leading again" leads_again_2
  local mark
  mark=$(records_in s04-rdk)
  # Production must still be going on for this to show anything.
  [ "$mark" -le $((FAULT_MESSAGES - 10000)) ] ||
    die "the librdkafka producer had sent $mark of $FAULT_MESSAGES by the election: lower FAULT_RATE"
  wait_for "production going on after the election" at_least $((mark + 10000)) s04-rdk
  log "restarting kgate"
  kgate_down kgate-faults
  mv "$E2E_DIR/kgate-faults.log" "$E2E_DIR/kgate-faults-1.log"
  kgate_up kgate-faults "$NS_MSK" "$E2E_DIR/standalone.json"

  # Both producers finish with every message acknowledged.
  await s04-rdk || die "the librdkafka producer did not deliver everything (see $E2E_DIR/s04-rdk.log)"
  await s04-java || die "the Java producer failed (see $E2E_DIR/s04-java.log)"
  log "librdkafka: $(grep -h '^produced' "$E2E_DIR/s04-rdk.log")"
  # ... and exactly those messages are in the log, read back through kgate.
  rdk "$NS_CLI" consume --bootstrap "$NLB_NAME:9094" --topic s04-rdk --count "$FAULT_MESSAGES" \
    --group s04 --members 2 --expect-brokers "$expect" >"$E2E_DIR/s04-consume.out" 2>&1 ||
    die "reading back after the faults (see $E2E_DIR/s04-consume.out)"
  log "$(grep -h '^consumed' "$E2E_DIR/s04-consume.out")"
  java_consume "$NS_CLI" "$NLB_NAME:9094" s04-java "$JAVA_MESSAGES" s04-java
  capture_stop s04
  capture_assert_clean s04
  nlb_down
  kgate_down kgate-faults
  # The leadership move made the cluster send leader hints, rewritten.
  local hints
  hints=$(cat "$E2E_DIR/kgate-faults-1.log" "$E2E_DIR/kgate-faults.log" |
    sed -n 's/.*leader_hints_rewritten=\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
  [ "$hints" -gt 0 ] || die "no NodeEndpoints came through kgate: the leader move was not exercised"
  log "KIP-951 leader hints rewritten by kgate: $hints responses"
}
