# 08_tls_refused.sh — a broker kgate must not trust, with the real cluster:
# kgate configured with a CA that did not sign the brokers' certificates,
# and kgate expecting another name than the certificates carry.  Each time
# the client gets nowhere and kgate's log says exactly why.  (An expired
# broker certificate is the integration tier's, with openssl s_server.)
refused_case() {
  local name=$1 upstream_tls=$2 expected=$3
  gateway_config "$KGATE_MSK_IP" "$NLB_NAME" "$(broker_list $TLS_PORT)" ":$TLS_PORT" \
    "\"tls\": { \"upstream\": $upstream_tls }" >"$E2E_DIR/$name.json"
  kgate_up "$name" "$NS_MSK" "$E2E_DIR/$name.json"
  nlb_up gateway
  in_ns "$NS_CLI" kcat -b "$NLB_NAME:9094" -L -m 5 >"$E2E_DIR/$name-kcat.out" 2>&1 &&
    die "$name: the client got metadata through a broker kgate should not trust"
  nlb_down
  kgate_down "$name"
  expect_contains "$E2E_DIR/$name.log" "$expected"
  log "$name: $(grep -o "cannot reach .*" "$E2E_DIR/$name.log" | head -1 | cut -c1-220)"
}

scenario_08_tls_refused() {
  refused_case tls-wrong-ca \
    "{ \"ca\": \"$CERTS/other-ca.pem\", \"cert\": \"$CERTS/client.pem\", \"key\": \"$CERTS/client.key\" }" \
    "certificate does not verify: unable to get local issuer certificate"
  refused_case tls-wrong-name \
    "{ \"ca\": \"$CERTS/ca.pem\", \"cert\": \"$CERTS/client.pem\", \"key\": \"$CERTS/client.key\", \"server_name\": \"b-1.other.example\" }" \
    "certificate does not verify: hostname mismatch"
}
