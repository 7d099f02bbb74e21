# 06_sasl_standalone.sh — SASL over TLS (MSK's 9096): clients authenticate
# to the brokers through kgate, which passes SaslHandshake and
# SaslAuthenticate through untouched — SCRAM-SHA-512 (the Java client) and
# PLAIN (librdkafka and kcat: Debian's librdkafka 2.0.2 cannot do SCRAM with
# Kafka 4.x, with or without kgate).  A wrong SCRAM password fails at the
# broker exactly as it does without kgate.  kgate dials each broker's SASL
# listener by name: its own Metadata request could not authenticate.
scenario_06_sasl_standalone() {
  local expect=$NLB_NAME:8443,$NLB_NAME:8444,$NLB_NAME:8445
  gateway_config "$KGATE_MSK_IP" "$NLB_NAME" "$(broker_list $SASL_PORT)" ":$SASL_PORT" \
    "\"tls\": { $(tls_listen_json), $(tls_upstream_json) }" >"$E2E_DIR/sasl-standalone.json"
  KGATE_E2E_LOG_LEVEL=debug kgate_up kgate-sasl "$NS_MSK" "$E2E_DIR/sasl-standalone.json"
  nlb_up gateway
  capture_start s06 "$NS_CLI" "kc$E2E_ID"
  security sasl
  core_suite "$NS_CLI" "$NLB_NAME:9094" "$expect" s06
  # A wrong SCRAM password is refused by the broker, through kgate exactly
  # as it is directly.
  printf '%s\n' security.protocol=SASL_SSL ssl.truststore.type=PEM \
    "ssl.truststore.location=$CERTS/ca.pem" sasl.mechanism=SCRAM-SHA-512 \
    "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$SCRAM_USER\" password=\"wrong-password\";" \
    >"$E2E_DIR/s06-wrong.properties"
  in_ns "$NS_CLI" "$KAFKA" run org.apache.kafka.tools.TopicCommand --bootstrap-server "$NLB_NAME:9094" \
    --command-config "$E2E_DIR/s06-wrong.properties" --list >"$E2E_DIR/s06-wrong-password.out" 2>&1 &&
    die "a wrong password was accepted through kgate"
  kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$(broker_name 1):$SASL_PORT" \
    --command-config "$E2E_DIR/s06-wrong.properties" --list >"$E2E_DIR/s06-wrong-password-direct.out" 2>&1 &&
    die "a wrong password was accepted directly"
  expect_contains "$E2E_DIR/s06-wrong-password.out" "invalid credentials with SASL mechanism SCRAM-SHA-512"
  expect_contains "$E2E_DIR/s06-wrong-password-direct.out" "invalid credentials with SASL mechanism SCRAM-SHA-512"
  log "wrong password, through kgate as directly: $(grep -o 'Authentication failed[^.]*' "$E2E_DIR/s06-wrong-password.out" | head -1)"
  security plain
  capture_stop s06
  nlb_down
  kgate_down kgate-sasl
  expect_contains "$E2E_DIR/kgate-sasl.log" "protocol_errors=0 "
  grep -q "request SaslAuthenticate v" "$E2E_DIR/kgate-sasl.log" ||
    die "no SaslAuthenticate request went through kgate"
  log "SASL through kgate: $(grep -o 'request Sasl[A-Za-z]* v[0-9]*' "$E2E_DIR/kgate-sasl.log" |
    sort | uniq -c | tr -s ' ' | tr '\n' ';')"
}
