# 13_reauth.sh — re-authentication under load (KIP-368): the brokers'
# REAUTH listener (SASL_SSL, SCRAM-SHA-512) gives each session 5 s and
# closes a connection used past that without a new login.  A sidecar kgate
# logs in there as alice (upstream_sasl) and must log in again on every
# connection, between requests, before its session runs out.  An idempotent
# librdkafka producer (paced: ~2 minutes) and a librdkafka consumer group
# (2 members) run through it all along; every id arrives exactly once, no
# client ever reconnects or sees an error, kgate closes no connection for
# an upstream reason, and kgate_upstream_reauths_total shows each upstream
# connection re-authenticated about every 5 s.
REAUTH_MESSAGES=${E2E_REAUTH_MESSAGES:-120000}
REAUTH_RATE=1000

scenario_13_reauth() {
  local expect=127.0.0.1:8443,127.0.0.1:8444,127.0.0.1:8445 t0 secs auths reauths probe accepted held
  # The listener itself: a login there is given a 5 s session.
  probe=$(sasl_probe "$NS_MSK" "$(broker_name 1):$REAUTH_PORT" SCRAM-SHA-512 "$SCRAM_USER" \
    "$(password_file "$SCRAM_USER")") || die "logging in to the REAUTH listener failed: $probe"
  [[ "$probe" == *"session_lifetime_ms=$REAUTH_MS;"* ]] || die "the REAUTH listener: $probe"
  log "directly: $probe"

  nlb_up brokers "$REAUTH_PORT"
  sasl_sidecar_config "$SCRAM_USER" >"$E2E_DIR/reauth-sidecar.json"
  # Debug: each login and re-login is logged.
  KGATE_E2E_LOG_LEVEL=debug kgate_up kgate-reauth "$NS_CLI" "$E2E_DIR/reauth-sidecar.json"
  create_topic s13
  t0=$SECONDS
  spawn s13-produce "$NS_CLI" "$CLIENT_BIN" produce --bootstrap 127.0.0.1:9094 --topic s13 \
    --count "$REAUTH_MESSAGES" --rate "$REAUTH_RATE" --timeout 400 --expect-brokers "$expect"
  spawn s13-consume "$NS_CLI" "$CLIENT_BIN" consume --bootstrap 127.0.0.1:9094 --topic s13 \
    --count "$REAUTH_MESSAGES" --group s13 --members 2 --timeout 400 --expect-brokers "$expect"
  await s13-produce || die "the producer did not deliver everything (see $E2E_DIR/s13-produce.log)"
  await s13-consume || die "the consumer group did not read every id once (see $E2E_DIR/s13-consume.log)"
  secs=$((SECONDS - t0))
  log "$(grep -h '^produced' "$E2E_DIR/s13-produce.log"); $(grep -h '^consumed' "$E2E_DIR/s13-consume.log")"
  # Nothing ever failed on the clients' side: no error (a lost connection
  # is one: "Disconnected"), and librdkafka's statistics count one
  # connection attempt per broker per client.  (Not for the logical
  # "GroupCoordinator" broker: librdkafka counts it again when the group's
  # coordinator is looked up again, with no new connection.)
  local f
  for f in s13-produce s13-consume; do
    if grep -q "librdkafka error" "$E2E_DIR/$f.log"; then
      die "$f: $(grep -m1 'librdkafka error' "$E2E_DIR/$f.log")"
    fi
    if grep -v GroupCoordinator "$E2E_DIR/$f.log" | grep -q "connects [2-9]\|connects [0-9][0-9]"; then
      die "$f reconnected: $(grep -v GroupCoordinator "$E2E_DIR/$f.log" | grep -m1 'connects [2-9]\|connects [0-9][0-9]')"
    fi
  done
  # ... and kgate accepted exactly as many connections as the clients hold
  # (one per line of their statistics): nobody came back.
  kgate_metrics "$NS_CLI" "$SIDECAR_ADMIN" s13-metrics 'kgate_upstream_reauths_total > 0' \
    'kgate_upstream_auth_failures_total == 0' 'kgate_protocol_errors_total == 0' 'kgate_timeouts_total == 0'
  accepted=$(metric s13-metrics kgate_connections_accepted_total)
  held=$(cat "$E2E_DIR/s13-produce.log" "$E2E_DIR/s13-consume.log" | grep -c ', connects [0-9]*$')
  [ "$accepted" = "$held" ] || die "kgate accepted $accepted client connections, the clients hold $held"
  log "the clients: no error, no reconnect in $secs s ($held connections, each made once)"
  # Nor did kgate close a pair for an upstream reason (those are logged
  # at info or above; a client leaving is debug).
  if grep -E '^[^ ]+ (info|warn|error) .*closed: ' "$E2E_DIR/kgate-reauth.log" >"$E2E_DIR/s13-closed.log"; then
    die "kgate closed connections: $(head -1 "$E2E_DIR/s13-closed.log")"
  fi
  auths=$(metric s13-metrics kgate_upstream_auths_total)
  reauths=$(metric s13-metrics kgate_upstream_reauths_total)
  kgate_down kgate-reauth
  nlb_down
  # Every long-lived connection (a producer's and each member's, to each
  # broker, for the whole run) re-authenticates every ~4.25 s (85% of 5 s):
  # at least one connection's worth overall.
  [ "$reauths" -ge $((secs / (REAUTH_MS / 1000))) ] ||
    die "$reauths re-authentications in $secs s over $auths upstream connections: fewer than one connection's worth"
  # Each client connection's upstream lived the whole run: about one
  # re-authentication per 4.25 s each (kgate's own short Metadata
  # connections count among the logins, not here).
  log "kgate: $auths upstream logins, $reauths re-authentications in $secs s: $(awk -v r="$reauths" \
    -v c="$accepted" -v s="$secs" 'BEGIN { printf "%.1f per client connection, one every %.1f s", r / c, s / (r / c) }')"
  log "re-authenticated, by upstream: $(grep -o 're-authenticated to [^ ]*' "$E2E_DIR/kgate-reauth.log" |
    sed 's/re-authenticated to //' | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
  log "kgate's exit line: $(kgate_stats "$E2E_DIR/kgate-reauth.log" 'upstream_[a-z_]*')"
}
