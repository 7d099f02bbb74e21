# 05_tls_standalone.sh — MSK's TLS listeners through the standalone gateway:
# clients speak TLS to kgate (its certificate names the NLB), kgate speaks
# TLS to the brokers' TLS listener (checking each broker's certificate
# against the name the cluster advertises, and showing a client certificate
# of its own: that listener requires one).
scenario_05_tls_standalone() {
  local expect=$NLB_NAME:8443,$NLB_NAME:8444,$NLB_NAME:8445
  gateway_config "$KGATE_MSK_IP" "$NLB_NAME" "$(broker_list $TLS_PORT)" "" \
    "\"tls\": { $(tls_listen_json), $(tls_upstream_json) }" >"$E2E_DIR/tls-standalone.json"
  KGATE_E2E_LOG_LEVEL=debug kgate_up kgate-tls "$NS_MSK" "$E2E_DIR/tls-standalone.json"
  nlb_up gateway
  capture_start s05 "$NS_CLI" "kc$E2E_ID"
  tls_core_suite "$NS_CLI" "$NLB_NAME:9094" "$expect" s05
  security plain
  capture_stop s05
  nlb_down
  kgate_down kgate-tls
  expect_contains "$E2E_DIR/kgate-tls.log" "tls_failures=0 "
  expect_contains "$E2E_DIR/kgate-tls.log" "protocol_errors=0 "
  # What was negotiated, on each side.
  log "TLS with clients: $(grep -o 'TLS with client: [^ ]* [^ ]*' "$E2E_DIR/kgate-tls.log" |
    sed 's/TLS with client: //' | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
  log "TLS with brokers: $(grep -o 'connected to b-[^ ]* ([^)]*)' "$E2E_DIR/kgate-tls.log" |
    sed 's/.*(\(.*\))/\1/' | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
  grep -q 'connected to b-[0-9].msk.internal:9094 (TLSv1' "$E2E_DIR/kgate-tls.log" ||
    die "kgate did not reach the brokers over TLS"
}
