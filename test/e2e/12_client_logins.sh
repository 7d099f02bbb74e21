# 12_client_logins.sh — clients log in to kgate itself (client_auth sasl),
# and kgate logs in to the brokers as the upstream identity each client
# maps to.  The standalone gateway, TLS on both sides, users app-a and app-b
# in a credentials file written by `kgate passwd` (salted SCRAM keys, no
# password); app-a → alice and app-b → bob on the brokers' SASL_SSL
# listener, kgate's own Metadata as carol.  The Java client (SCRAM-SHA-512),
# librdkafka and kcat (PLAIN) and kafka-python (SCRAM-SHA-256 and PLAIN over
# SaslHandshake v0, unframed tokens) each move their set.  Topics named
# only-bob* are bob's alone (ACLs): app-b moves sets through them, app-a is
# refused on them by the broker (TOPIC_AUTHORIZATION_FAILED) — so the
# broker sees a different principal for each, which is the mapping.  A wrong
# password or an unknown user is refused by kgate itself: its log says
# `client login refused` and the brokers never see an attempt.
S12_ADMIN=127.0.0.1:9644
S12_COUNT=20000

# The brokers' count of failed logins (the Selector logs each one).
broker_auth_failures() {
  cat "$E2E_DIR"/broker-[123].log | grep -c "Failed authentication with" || true
}

# s12_acl_direct USER TOPIC VERDICT: kcat logs in to a broker directly as a
# cluster user and asks for TOPIC's Metadata; VERDICT "allowed" or "refused".
s12_acl_direct() {
  local user=$1 topic=$2 verdict=$3 out=$E2E_DIR/s12-direct-$1-$2.meta
  in_ns "$NS_MSK" kcat -b "$(broker_name 1):$SASL_PORT" -X security.protocol=sasl_ssl \
    -X "ssl.ca.location=$CERTS/ca.pem" -X sasl.mechanisms=PLAIN -X "sasl.username=$user" \
    -X "sasl.password=$user-secret" -L -t "$topic" -m 10 >"$out" 2>&1 || die "kcat -L as $user directly (see $out)"
  case "$verdict" in
    allowed) grep -q "topic \"$topic\" with 6 partitions" "$out" || die "$user cannot see $topic directly (see $out)" ;;
    refused) grep -q "Topic authorization failed" "$out" || die "$user was not refused $topic directly (see $out)" ;;
  esac
}

# s12_config USERS_FILE: the standalone gateway with TLS on both sides,
# client logins from USERS_FILE mapped to upstream identities, and its own
# Metadata as carol.
s12_config() {
  gateway_config "$KGATE_MSK_IP" "$NLB_NAME" "$(broker_list $SASL_PORT)" ":$SASL_PORT" \
    "\"tls\": { $(tls_listen_json), $(tls_upstream_json) },
  \"upstream_sasl\": $(upstream_sasl_obj carol),
  \"client_auth\": {
    \"mode\": \"sasl\",
    \"mechanisms\": [\"SCRAM-SHA-512\", \"SCRAM-SHA-256\", \"PLAIN\"],
    \"credentials_file\": \"$1\",
    \"failed_login_delay_ms\": 200,
    \"identities\": {
      \"app-a\": $(upstream_sasl_obj alice),
      \"app-b\": $(upstream_sasl_obj bob) } },
  \"admin\": { \"listen\": \"$S12_ADMIN\" }"
}

scenario_12_client_logins() {
  local expect=$NLB_NAME:8443,$NLB_NAME:8444,$NLB_NAME:8445 users=$E2E_DIR/s12-users.json
  local failures_before pw_a=app-a-secret pw_b=app-b-secret t
  # The ACLs hold without kgate: bob may use his topics, alice may not.
  for t in only-bob-rdk only-bob-kcat only-bob-java only-bob-kpy; do
    create_topic "$t"
  done
  s12_acl_direct bob only-bob-rdk allowed
  s12_acl_direct alice only-bob-rdk refused
  log "directly: bob may use only-bob*, alice is refused (Topic authorization failed)"

  # The gateway's users, by `kgate passwd` (the password on stdin).
  rm -f "$users"
  printf '%s\n' "$pw_a" | "$KGATE_BIN" passwd "$users" app-a || die "kgate passwd app-a failed"
  printf '%s\n' "$pw_b" | "$KGATE_BIN" passwd "$users" app-b || die "kgate passwd app-b failed"
  [ "$(stat -c %a "$users")" = 600 ] || die "kgate passwd wrote $users with mode $(stat -c %a "$users")"
  if grep -q -e "$pw_a" -e "$pw_b" "$users"; then
    die "$users holds a password"
  fi
  "$PYTHON" - "$users" <<'PY' || die "$users is not what the contract describes"
import json, sys
users = json.load(open(sys.argv[1]))["users"]
assert sorted(users) == ["app-a", "app-b"], sorted(users)
for name, mechs in users.items():
    assert sorted(mechs) == ["SCRAM-SHA-256", "SCRAM-SHA-512"], (name, sorted(mechs))
    for m in mechs.values():
        assert m["iterations"] >= 4096 and all(m[k] for k in ("salt", "stored_key", "server_key")), m
PY
  log "kgate passwd: $users (mode 600) holds app-a and app-b, SCRAM-SHA-256 and -512 keys, no password"

  s12_config "$users" >"$E2E_DIR/client-logins.json"
  KGATE_E2E_LOG_LEVEL=debug kgate_up kgate-logins "$NS_MSK" "$E2E_DIR/client-logins.json"
  nlb_up gateway

  # app-b: every client through bob's topics.
  security_login app-b "$pw_b"
  core_suite "$NS_CLI" "$NLB_NAME:9094" "$expect" only-bob "$S12_COUNT"
  in_ns "$NS_CLI" env KPY_CA="$CERTS/ca.pem" KPY_SASL="PLAIN:app-b:$pw_b" "$PYTHON" \
    "$E2E_ROOT/test/e2e/clients/kpy.py" "$NLB_NAME:9094" only-bob-kpy 5000 "$expect" \
    >"$E2E_DIR/s12-kpy-b.out" 2>&1 || die "kafka-python as app-b (see $E2E_DIR/s12-kpy-b.out)"
  log "$(head -1 "$E2E_DIR/s12-kpy-b.out")"

  # app-a: kafka-python with SCRAM-SHA-256 on a topic of its own ...
  create_topic s12-kpy
  in_ns "$NS_CLI" env KPY_CA="$CERTS/ca.pem" KPY_SASL="SCRAM-SHA-256:app-a:$pw_a" "$PYTHON" \
    "$E2E_ROOT/test/e2e/clients/kpy.py" "$NLB_NAME:9094" s12-kpy 5000 "$expect" \
    >"$E2E_DIR/s12-kpy-a.out" 2>&1 || die "kafka-python as app-a (see $E2E_DIR/s12-kpy-a.out)"
  log "$(head -1 "$E2E_DIR/s12-kpy-a.out")"
  # ... and refused on bob's by the broker, which sees alice: kcat (PLAIN)
  # gets TOPIC_AUTHORIZATION_FAILED in Metadata, the Java producer
  # (SCRAM-SHA-512) a TopicAuthorizationException.
  security_login app-a "$pw_a"
  in_ns "$NS_CLI" kcat -b "$NLB_NAME:9094" "${KCAT_SEC[@]}" -L -t only-bob-rdk -m 10 \
    >"$E2E_DIR/s12-a-only-bob.meta" 2>&1 || die "kcat -L as app-a failed (see $E2E_DIR/s12-a-only-bob.meta)"
  expect_contains "$E2E_DIR/s12-a-only-bob.meta" "Topic authorization failed"
  in_ns "$NS_CLI" kcat -b "$NLB_NAME:9094" "${KCAT_SEC[@]}" -L -t s12-kpy -m 10 \
    >"$E2E_DIR/s12-a-own.meta" 2>&1 || die "kcat -L as app-a failed (see $E2E_DIR/s12-a-own.meta)"
  expect_contains "$E2E_DIR/s12-a-own.meta" 'topic "s12-kpy" with 6 partitions'
  # (The console producer logs a failed send and still exits 0.)
  echo "0:refused" | in_ns "$NS_CLI" timeout 120 "$KAFKA" run org.apache.kafka.tools.ConsoleProducer \
    --bootstrap-server "$NLB_NAME:9094" --topic only-bob-java --command-property acks=all \
    --command-property max.block.ms=20000 --reader-property parse.key=true \
    --reader-property key.separator=: "${JAVA_SEC[@]}" >"$E2E_DIR/s12-a-java.out" 2>&1 || true
  expect_contains "$E2E_DIR/s12-a-java.out" "TopicAuthorizationException"
  [ "$(records_in only-bob-java)" = "$S12_COUNT" ] || die "only-bob-java holds $(records_in only-bob-java) records, not $S12_COUNT"
  log "app-a on bob's topics: kcat \"$(grep -o 'Topic authorization failed' "$E2E_DIR/s12-a-only-bob.meta" |
    head -1)\", Java \"$(grep -o 'Not authorized to access topics[^,]*' "$E2E_DIR/s12-a-java.out" | head -1)\""

  # Wrong passwords and an unknown user: kgate refuses them itself, and no
  # broker sees a failed login.
  failures_before=$(broker_auth_failures)
  java_login_properties "$E2E_DIR/s12-wrong.properties" SCRAM-SHA-512 app-a wrong-password
  in_ns "$NS_CLI" timeout 120 "$KAFKA" run org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$NLB_NAME:9094" --command-config "$E2E_DIR/s12-wrong.properties" --list \
    >"$E2E_DIR/s12-wrong-java.out" 2>&1 && die "a wrong SCRAM password was accepted by kgate"
  grep -qi "SaslAuthenticationException\|authentication failed" "$E2E_DIR/s12-wrong-java.out" ||
    die "the Java client was not told its login failed (see $E2E_DIR/s12-wrong-java.out)"
  security_login app-b wrong-password
  in_ns "$NS_CLI" kcat -b "$NLB_NAME:9094" "${KCAT_SEC[@]}" -L -m 10 >"$E2E_DIR/s12-wrong-kcat.out" 2>&1 &&
    grep -q '^  broker [0-9]* at ' "$E2E_DIR/s12-wrong-kcat.out" && die "a wrong PLAIN password was accepted by kgate"
  security_login mallory mallory-secret
  in_ns "$NS_CLI" kcat -b "$NLB_NAME:9094" "${KCAT_SEC[@]}" -L -m 10 >"$E2E_DIR/s12-unknown-kcat.out" 2>&1 &&
    grep -q '^  broker [0-9]* at ' "$E2E_DIR/s12-unknown-kcat.out" && die "an unknown user was accepted by kgate"
  in_ns "$NS_CLI" env KPY_CA="$CERTS/ca.pem" KPY_SASL="SCRAM-SHA-256:app-a:wrong-password" timeout 60 \
    "$PYTHON" "$E2E_ROOT/test/e2e/clients/kpy.py" "$NLB_NAME:9094" s12-kpy 1 "$expect" \
    >"$E2E_DIR/s12-wrong-kpy.out" 2>&1 && die "kafka-python with a wrong password was accepted by kgate"
  security plain
  grep -q "client login refused" "$E2E_DIR/kgate-logins.log" || die "kgate's log shows no refused login"
  [ "$(broker_auth_failures)" = "$failures_before" ] ||
    die "a broker saw a failed login: $(grep -h 'Failed authentication with' "$E2E_DIR"/broker-[123].log | tail -1)"
  log "refused by kgate: $(grep -o 'client login refused: .*' "$E2E_DIR/kgate-logins.log" | sort | uniq -c |
    tr -s ' ' | tr '\n' ';' | head -c 600)"

  kgate_metrics "$NS_MSK" "$S12_ADMIN" s12-metrics 'kgate_client_logins_total > 0' \
    'kgate_client_login_failures_total >= 4' 'kgate_upstream_auths_total > 0' \
    'kgate_upstream_auth_failures_total == 0' 'kgate_protocol_errors_total == 0'
  nlb_down
  kgate_down kgate-logins
  expect_contains "$E2E_DIR/kgate-logins.log" "protocol_errors=0 "
  # Each user was accepted, by each mechanism it used, and kgate logged in
  # upstream as the identity each maps to.
  local line
  for line in "client login app-b (PLAIN) accepted" "client login app-b (SCRAM-SHA-512) accepted" \
    "client login app-a (SCRAM-SHA-256) accepted" "client login app-a (PLAIN) accepted" \
    "client login app-a (SCRAM-SHA-512) accepted" "as alice (SCRAM-SHA-512)" "as bob (SCRAM-SHA-512)" \
    "as carol (SCRAM-SHA-512)"; do
    expect_contains "$E2E_DIR/kgate-logins.log" "$line"
  done
  log "logins accepted: $(grep -o 'client login [^ ]* ([^)]*) accepted' "$E2E_DIR/kgate-logins.log" |
    sort | uniq -c | tr -s ' ' | tr '\n' ';')"
  log "kgate logged in upstream: $(grep -o 'authenticated to [^ ]* as [^ ]*' "$E2E_DIR/kgate-logins.log" |
    sed 's/authenticated to [^ ]* //' | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
  log "kgate's exit line: $(kgate_stats "$E2E_DIR/kgate-logins.log" 'upstream_auth[a-z_]*|client_login[a-z_]*')"
}
