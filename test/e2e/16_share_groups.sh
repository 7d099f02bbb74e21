# 16_share_groups.sh — share groups (KIP-932) through the standalone gateway:
# a Java KafkaShareConsumer reads a steady stream while partition leaders
# move under it, so the brokers answer ShareFetch (and ShareAcknowledge)
# with NOT_LEADER_OR_FOLLOWER and the new leaders' NodeEndpoints, which
# kgate must rewrite to the NLB's addresses.  Every id must arrive and be
# acknowledged (delivery is at least once: redeliveries are reported, not
# failed), /metrics must show ShareFetch responses rewritten, and the
# client-side capture must hold no broker name.
S16_ADMIN=127.0.0.1:9646
S16_TOPIC=s16-share
S16_COUNT=${E2E_SHARE_MESSAGES:-60000}
S16_RATE=800
# Leaders move at least S16_MIN_ROUNDS times, and on until a ShareFetch
# answer with NodeEndpoints has passed (a fetch must reach the old leader
# after the move, which not every move brings), at most S16_MAX_ROUNDS.
S16_MIN_ROUNDS=3
S16_MAX_ROUNDS=11

# Share groups need the share.version feature at 1 or more; a cluster
# formatted without it is upgraded in place (FeatureCommand, no restart).
s16_enable_share_groups() {
  local level
  level=$(kafka_tool org.apache.kafka.tools.FeatureCommand --bootstrap-server "$(broker_name 1):$BROKER_PORT" \
    describe 2>>"$E2E_DIR/s16-features.log" |
    sed -n 's/.*Feature: share.version.*FinalizedVersionLevel: \([0-9]*\).*/\1/p')
  log "share.version finalized at ${level:-none}"
  if [ "${level:-0}" -lt 1 ]; then
    kafka_tool org.apache.kafka.tools.FeatureCommand --bootstrap-server "$(broker_name 1):$BROKER_PORT" \
      upgrade --feature share.version=1 >>"$E2E_DIR/s16-features.log" 2>&1 ||
      die "enabling share groups failed (see $E2E_DIR/s16-features.log)"
    log "share.version upgraded to 1"
  fi
}

# s16_move_leaders ROUND: reorders every partition's replicas (same set, no
# data moves) so that a different broker comes first, then elects the
# preferred leaders: each partition's leader changes.
s16_move_leaders() {
  local round=$1 p json="" r first
  for p in 0 1 2 3 4 5; do
    first=$(((p + round) % 3))
    r="$((first + 1)),$(((first + 1) % 3 + 1)),$(((first + 2) % 3 + 1))"
    json+="${json:+,}{\"topic\":\"$S16_TOPIC\",\"partition\":$p,\"replicas\":[$r]}"
  done
  printf '{"version":1,"partitions":[%s]}\n' "$json" >"$E2E_DIR/s16-reassign-$round.json"
  kafka_tool org.apache.kafka.tools.reassign.ReassignPartitionsCommand \
    --bootstrap-server "$(broker_name 1):$BROKER_PORT" \
    --reassignment-json-file "$E2E_DIR/s16-reassign-$round.json" --execute \
    >>"$E2E_DIR/s16-moves.log" 2>&1 || die "reassignment $round failed (see $E2E_DIR/s16-moves.log)"
  wait_for "reassignment $round" kafka_tool org.apache.kafka.tools.reassign.ReassignPartitionsCommand \
    --bootstrap-server "$(broker_name 1):$BROKER_PORT" \
    --reassignment-json-file "$E2E_DIR/s16-reassign-$round.json" --verify
  # Exits 1 when some partition already has its preferred leader: what
  # counts is the check after it.
  kafka_tool org.apache.kafka.tools.LeaderElectionCommand --bootstrap-server "$(broker_name 1):$BROKER_PORT" \
    --election-type PREFERRED --all-topic-partitions >>"$E2E_DIR/s16-moves.log" 2>&1 || true
  wait_for "preferred leaders (round $round)" s16_leaders_preferred "$round"
  log "leaders moved (round $round): partition p led by broker ((p + $round) % 3) + 1"
}

# s16_leaders_preferred ROUND: every partition is led by ROUND's first replica.
s16_leaders_preferred() {
  local round=$1 p out
  out=$(in_ns "$NS_MSK" kcat -b "$(broker_name 1):$BROKER_PORT" -L -t "$S16_TOPIC" 2>/dev/null) || return 1
  for p in 0 1 2 3 4 5; do
    grep -q "partition $p, leader $(((p + round) % 3 + 1))," <<<"$out" || return 1
  done
}

# s16_share_fetch_rewritten: kgate's /metrics count a ShareFetch response
# whose NodeEndpoints it rewrote.
s16_share_fetch_rewritten() {
  in_ns "$NS_MSK" timeout 5 bash -c "exec 3<>/dev/tcp/${S16_ADMIN%:*}/${S16_ADMIN##*:} &&
    printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && cat <&3" |
    grep -q '^kgate_responses_rewritten_total{api="ShareFetch"} [1-9]'
}

# s16_read_at_least N: the share consumer has printed N records or more.
s16_read_at_least() {
  [ "$(wc -l <"$E2E_DIR/s16-share.out" 2>/dev/null || echo 0)" -ge "$1" ]
}

scenario_16_share_groups() {
  s16_enable_share_groups
  # Advertised by the NLB's address (9 bytes against the brokers' 16), so a
  # rewritten NodeEndpoints is shorter by more than a padding field's
  # 3 bytes and is kept, not emptied (see README, "Share groups").
  gateway_config "$KGATE_MSK_IP" "$NLB_IP" "$(broker_list $BROKER_PORT)" "" \
    "\"admin\": { \"listen\": \"$S16_ADMIN\" }" >"$E2E_DIR/s16.json"
  KGATE_E2E_LOG_LEVEL=debug kgate_up kgate-s16 "$NS_MSK" "$E2E_DIR/s16.json"
  nlb_up gateway
  create_topic "$S16_TOPIC"
  capture_start s16 "$NS_CLI" "kc$E2E_ID"
  local t0=$SECONDS round
  spawn s16-share "$NS_CLI" java -Xmx512m \
    -Dlog4j2.configurationFile="$E2E_ROOT/scripts/kafka/log4j2-quiet.yaml" \
    -cp "$("$KAFKA" fetch)/*" "$E2E_ROOT/test/e2e/clients/ShareView.java" \
    "$NLB_IP:9094" "$S16_TOPIC" s16-group "$S16_COUNT" "$S16_RATE" "$E2E_DIR/s16-share.out"
  # Leaders move while records flow; each move waits for consumption to
  # go on first, so every move lands mid-stream.
  for round in $(seq "$S16_MAX_ROUNDS"); do
    wait_for "the share consumer to read $((round * S16_COUNT / (S16_MAX_ROUNDS + 1))) records" \
      s16_read_at_least $((round * S16_COUNT / (S16_MAX_ROUNDS + 1)))
    s16_move_leaders "$round"
    [ "$round" -ge "$S16_MIN_ROUNDS" ] && s16_share_fetch_rewritten && break
  done
  log "leaders moved $round times"
  await s16-share || die "share consumer: $(tail -3 "$E2E_DIR/s16-share.log")"
  local summary
  summary=$(grep '^share consumer:' "$E2E_DIR/s16-share.log")
  log "$summary ($((SECONDS - t0)) s)"
  capture_stop s16
  capture_assert_clean s16
  kgate_metrics "$NS_MSK" "$S16_ADMIN" s16-metrics \
    'kgate_responses_rewritten_total{api="ShareFetch"} > 0' \
    'kgate_node_endpoints_dropped_total == 0' \
    'kgate_responses_total{api="ShareFetch"} > 0' \
    'kgate_protocol_errors_total == 0'
  log "ShareFetch: $(grep -E '^kgate_(responses|responses_rewritten)_total\{api="Share' "$E2E_DIR/s16-metrics.txt" |
    tr '\n' ' ')$(grep -E '^kgate_(leader_hints_rewritten|node_endpoints_dropped)_total' "$E2E_DIR/s16-metrics.txt" | tr '\n' ' ')"
  nlb_down
  kgate_down kgate-s16
  expect_contains "$E2E_DIR/kgate-s16.log" "protocol_errors=0 "
  local api
  for api in "ShareGroupHeartbeat v" "ShareFetch v[12]"; do
    grep -q "request $api" "$E2E_DIR/kgate-s16.log" || die "no $api request went through kgate"
  done
  log "through kgate: $(grep -o 'request Share[A-Za-z]* v[0-9]*' "$E2E_DIR/kgate-s16.log" |
    sort | uniq -c | sort -rn | awk '{ printf "%s %s x%s, ", $3, $4, $1 }')"
}
