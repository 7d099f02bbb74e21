# 15_sni.sh — one TLS port for every broker: the NLB (HAProxy, TCP
# passthrough) exposes a single port, 9443, whose only target is kgate's SNI
# listener.  The client namespace resolves bootstrap.sni.kgate.test and
# b-1 … b-3.sni.kgate.test to the NLB; kgate serves the wildcard certificate
# and routes each connection by the server name its client sent, dialling
# the brokers' TLS listener (each broker's certificate checked against the
# name the cluster advertises for it).  librdkafka, kcat, Java and
# kafka-python each move their set exactly once, every broker address they
# were told is a pattern name at 9443, and the capture on the client side
# holds no broker name.

SNI_DOMAIN=sni.kgate.test
SNI_PORT=9443

# The NLB for the SNI topology: one listener, one target (kgate's SNI
# listener); TCP, so the TLS handshake and its server name reach kgate.
sni_nlb_up() {
  local cfg=$E2E_DIR/haproxy-sni.cfg
  {
    printf 'global\n  maxconn 4096\ndefaults\n  mode tcp\n  timeout connect 5s\n'
    printf '  timeout client 10m\n  timeout server 10m\n'
    printf 'listen sni\n  bind %s:%d\n  server kgate %s:%d\n' "$NLB_IP" "$SNI_PORT" \
      "$KGATE_MSK_IP" "$SNI_PORT"
  } >"$cfg"
  spawn nlb "$NS_NLB" haproxy -db -f "$cfg"
  wait_for "the NLB" port_open "$NS_CLI" "$NLB_IP" "$SNI_PORT"
}

# What a wildcard DNS record gives the clients: every name at the NLB.
sni_hosts() {
  local i
  echo "$NLB_IP bootstrap.$SNI_DOMAIN" >>"/etc/netns/$NS_CLI/hosts"
  for i in 1 2 3; do
    echo "$NLB_IP b-$i.$SNI_DOMAIN" >>"/etc/netns/$NS_CLI/hosts"
  done
}

sni_config() {
  cat <<JSON
{ "bootstrap": { "listen": "$KGATE_MSK_IP:9094", "upstream": [$(broker_list $TLS_PORT)] },
  "sni": { "listen": "$KGATE_MSK_IP:$SNI_PORT", "advertise_port": $SNI_PORT,
           "bootstrap_name": "bootstrap.$SNI_DOMAIN",
           "broker_name": "b-{id}.$SNI_DOMAIN", "unmatched": "refuse",
           "tls": { "cert": "$CERTS/sni.pem", "key": "$CERTS/sni.key" } },
  "tls": { $(tls_upstream_json) } }
JSON
}

scenario_15_sni() {
  local expect="" i bootstrap=bootstrap.$SNI_DOMAIN:$SNI_PORT
  for i in 1 2 3; do
    expect+="${expect:+,}b-$i.$SNI_DOMAIN:$SNI_PORT"
  done
  sni_config >"$E2E_DIR/sni.json"
  KGATE_E2E_LOG_LEVEL=debug kgate_up kgate-sni "$NS_MSK" "$E2E_DIR/sni.json"
  sni_hosts
  sni_nlb_up
  capture_start s15 "$NS_CLI" "kc$E2E_ID"
  tls_core_suite "$NS_CLI" "$bootstrap" "$expect" s15
  # The NLB's own name is no route: refused in the handshake.
  if in_ns "$NS_CLI" timeout 10 openssl s_client -connect "$NLB_IP:$SNI_PORT" \
    -servername "$NLB_NAME" -CAfile "$CERTS/ca.pem" </dev/null >"$E2E_DIR/s15-refused.out" 2>&1; then
    die "kgate accepted the server name $NLB_NAME (see $E2E_DIR/s15-refused.out)"
  fi
  expect_contains "$E2E_DIR/s15-refused.out" "unrecognized name"
  security plain
  capture_stop s15
  nlb_down
  kgate_down kgate-sni
  capture_assert_clean s15
  expect_contains "$E2E_DIR/kgate-sni.log" "tls_failures=0 "
  expect_contains "$E2E_DIR/kgate-sni.log" "protocol_errors=0 "
  expect_contains "$E2E_DIR/kgate-sni.log" "refused server name \"$NLB_NAME\""
  # Every broker was reached through its name, over TLS to its own listener.
  for i in 1 2 3; do
    grep -q "server name \"b-$i.$SNI_DOMAIN\": broker $i" "$E2E_DIR/kgate-sni.log" ||
      die "no client reached broker $i by its name"
    grep -q "via sni] connected to b-$i.msk.internal:$TLS_PORT (TLSv1" "$E2E_DIR/kgate-sni.log" ||
      die "kgate did not reach broker $i over TLS for an SNI client"
  done
  log "connections by route: $(kgate_stats "$E2E_DIR/kgate-sni.log" 'sni_[a-z]+')"
  log "connections by broker name: $(grep -oE 'server name "[^"]*": (bootstrap|broker [0-9]+)' \
    "$E2E_DIR/kgate-sni.log" | sed 's/server name //' | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
}
