# 11_sasl_sidecar.sh — the brokers' SASL_SSL listener (MSK's 9096: SCRAM-SHA-512)
# behind a sidecar kgate that logs in itself (upstream_sasl, as alice, the
# password from a file) on every connection it dials, its own Metadata
# included: the applications speak plaintext to kgate on loopback and carry
# no credentials at all.  librdkafka, kcat, the Java client and kafka-python
# each move their set exactly once; the loopback capture shows neither a
# SASL exchange nor a broker's own address; every upstream connection
# authenticated and none failed (kgate's log and /metrics).  Then a sidecar
# given a wrong password: the broker's refusal is in kgate's log, and the
# client gets no cluster.
scenario_11_sasl_sidecar() {
  local expect=127.0.0.1:8443,127.0.0.1:8444,127.0.0.1:8445 auths connects
  nlb_up brokers "$SASL_PORT"
  sasl_sidecar_config "$SCRAM_USER" >"$E2E_DIR/sasl-sidecar.json"
  # Debug: the log names each login ("authenticated to ... as alice").
  KGATE_E2E_LOG_LEVEL=debug kgate_up kgate-sasl-sidecar "$NS_CLI" "$E2E_DIR/sasl-sidecar.json"
  capture_start s11 "$NS_CLI" lo
  security plain
  core_suite "$NS_CLI" 127.0.0.1:9094 "$expect" s11
  create_topic s11-kpy
  in_ns "$NS_CLI" "$PYTHON" "$E2E_ROOT/test/e2e/clients/kpy.py" 127.0.0.1:9094 s11-kpy 10000 "$expect" \
    >"$E2E_DIR/s11-kpy.out" 2>&1 || die "kafka-python through the SASL sidecar (see $E2E_DIR/s11-kpy.out)"
  log "$(head -1 "$E2E_DIR/s11-kpy.out")"
  capture_stop s11
  capture_assert_clean s11
  # The clients never logged in: no SaslHandshake (its mechanism name),
  # no SCRAM client-first message, no user name on loopback.
  if grep -a -q -e "SCRAM-SHA-" -e "n,,n=" -e "$SCRAM_USER" "$E2E_DIR/s11.pcap"; then
    die "capture s11: a SASL exchange (or the user name) crossed loopback"
  fi
  log "capture s11: no SASL between the clients and kgate"
  kgate_metrics "$NS_CLI" "$SIDECAR_ADMIN" s11-metrics 'kgate_upstream_auths_total > 0' \
    'kgate_upstream_auth_failures_total == 0' 'kgate_client_logins_total == 0' \
    'kgate_protocol_errors_total == 0' 'kgate_tls_failures_total == 0'
  # Every connection kgate dialled logged in (its own Metadata ones too).
  auths=$(metric s11-metrics kgate_upstream_auths_total)
  connects=$(metric s11-metrics kgate_upstream_connects_total)
  [ "$auths" -ge "$connects" ] || die "$connects upstream connections but only $auths logins"
  kgate_down kgate-sasl-sidecar
  expect_contains "$E2E_DIR/kgate-sasl-sidecar.log" "protocol_errors=0 "
  expect_contains "$E2E_DIR/kgate-sasl-sidecar.log" "tls_failures=0 "
  grep -q "authenticated to $NLB_NAME:844[345] as $SCRAM_USER (SCRAM-SHA-512)" \
    "$E2E_DIR/kgate-sasl-sidecar.log" || die "kgate's log shows no login to a broker as $SCRAM_USER"
  if grep -q "cannot authenticate to" "$E2E_DIR/kgate-sasl-sidecar.log"; then
    die "kgate failed a login: $(grep -m1 'cannot authenticate to' "$E2E_DIR/kgate-sasl-sidecar.log")"
  fi
  log "kgate logged in $auths times for $connects upstream connections: $(grep -o 'authenticated to [^ ]*' \
    "$E2E_DIR/kgate-sasl-sidecar.log" | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
  log "kgate's exit line: $(kgate_stats "$E2E_DIR/kgate-sasl-sidecar.log" 'upstream_[a-z_]*|client_login[a-z_]*')"

  # A wrong password: the broker refuses kgate, kgate says so, and the
  # client learns no broker.
  sasl_sidecar_config "$SCRAM_USER" >"$E2E_DIR/sasl-sidecar-wrong.json"
  (umask 077 && echo wrong-password >"$E2E_DIR/$SCRAM_USER-wrong.password")
  sed -i "s|$E2E_DIR/$SCRAM_USER.password|$E2E_DIR/$SCRAM_USER-wrong.password|" "$E2E_DIR/sasl-sidecar-wrong.json"
  kgate_up kgate-sasl-wrong "$NS_CLI" "$E2E_DIR/sasl-sidecar-wrong.json"
  in_ns "$NS_CLI" kcat -b 127.0.0.1:9094 -L -m 10 >"$E2E_DIR/s11-wrong-kcat.out" 2>&1 &&
    grep -q '^  broker [0-9]* at ' "$E2E_DIR/s11-wrong-kcat.out" &&
    die "kcat got the cluster's Metadata through a sidecar with a wrong password"
  wait_for "kgate's login failure" grep -q "cannot authenticate to" "$E2E_DIR/kgate-sasl-wrong.log"
  kgate_metrics "$NS_CLI" "$SIDECAR_ADMIN" s11-wrong-metrics 'kgate_upstream_auth_failures_total > 0'
  kgate_down kgate-sasl-wrong
  expect_contains "$E2E_DIR/kgate-sasl-wrong.log" "invalid credentials with SASL mechanism SCRAM-SHA-512"
  log "wrong password: $(grep -m1 -o 'cannot authenticate to.*' "$E2E_DIR/kgate-sasl-wrong.log")"
  nlb_down
}
