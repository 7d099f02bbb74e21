# 09_tls_cost.sh — what TLS costs, measured once (printed, not asserted):
# an idempotent librdkafka producer (acks=all, 100-byte messages) through
# the standalone gateway with TLS off and on, towards clients and towards
# brokers.  Everything shares this machine's two cores: compare the rows,
# not the absolute numbers.
COST_MESSAGES=${E2E_COST_MESSAGES:-200000}

cost_run() {
  local name=$1 upstream_port=$2 tls_block=$3 out pid ticks0 ticks1 secs
  shift 3
  gateway_config "$KGATE_MSK_IP" "$NLB_NAME" "$(broker_list "$upstream_port")" "" \
    "$tls_block" >"$E2E_DIR/$name.json"
  kgate_up "$name" "$NS_MSK" "$E2E_DIR/$name.json"
  nlb_up gateway
  create_topic "$name"
  pid=${E2E_PIDS[$name]}
  ticks0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  in_ns "$NS_CLI" "$CLIENT_BIN" produce "$@" --bootstrap "$NLB_NAME:9094" --topic "$name" \
    --count "$COST_MESSAGES" >"$E2E_DIR/$name.out" 2>&1 || die "$name: producer failed"
  ticks1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  nlb_down
  kgate_down "$name"
  secs=$(sed -n 's/^produced [0-9]* messages .* in \([0-9.]*\) s.*/\1/p' "$E2E_DIR/$name.out")
  awk -v name="$name" -v n="$COST_MESSAGES" -v s="$secs" -v t=$((ticks1 - ticks0)) \
    'BEGIN { printf "  %-16s %8.0f msg/s  (%5.2f s; kgate CPU %5.2f s)\n", name, n / s, s, t / 100 }' \
    >>"$E2E_DIR/tls-cost.txt"
}

scenario_09_tls_cost() {
  : >"$E2E_DIR/tls-cost.txt"
  cost_run plaintext-both "$BROKER_PORT" ""
  cost_run tls-to-clients "$BROKER_PORT" "\"tls\": { $(tls_listen_json) }" "${RDK_TLS[@]}"
  cost_run tls-to-brokers "$TLS_PORT" "\"tls\": { $(tls_upstream_json) }"
  cost_run tls-both "$TLS_PORT" "\"tls\": { $(tls_listen_json), $(tls_upstream_json) }" "${RDK_TLS[@]}"
  log "TLS cost, librdkafka producer, $COST_MESSAGES x 100-byte messages, acks=all:"
  cat "$E2E_DIR/tls-cost.txt" >&2
}
