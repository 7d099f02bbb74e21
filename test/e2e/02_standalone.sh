# 02_standalone.sh — kgate beside the brokers as the NLB's targets,
# advertising the NLB: every client in the client VPC works through the NLB
# with no change to the brokers, and no broker's own address reaches it.
STANDALONE_EXPECT=$NLB_NAME:8443,$NLB_NAME:8444,$NLB_NAME:8445

scenario_02_standalone() {
  standalone_config >"$E2E_DIR/standalone.json"
  # Debug logs name every request's API and version.
  KGATE_E2E_LOG_LEVEL=debug kgate_up kgate-standalone "$NS_MSK" "$E2E_DIR/standalone.json"
  nlb_up gateway
  capture_start s02 "$NS_CLI" "kc$E2E_ID"
  client_suite "$NS_CLI" "$NLB_NAME:9094" "$STANDALONE_EXPECT" s02
  capture_stop s02
  capture_assert_clean s02
  # Every connection the clients opened went to the NLB.
  local other
  other=$(in_ns "$NS_CLI" tcpdump -nn -r "$E2E_DIR/s02.pcap" \
    "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn and not dst host $NLB_IP" 2>/dev/null | wc -l)
  [ "$other" = 0 ] || die "$other connections from the client went somewhere other than the NLB"
  nlb_down
  kgate_down kgate-standalone
  expect_contains "$E2E_DIR/kgate-standalone.log" "protocol_errors=0 "
  # The Java client used the newest versions through kgate: batched
  # FindCoordinator, Metadata 12+, Produce 10+ and Fetch 16+ (KIP-951).
  local api
  for api in "Metadata v1[23]" "FindCoordinator v[456]" "Produce v1[0-3]" "Fetch v1[6-8]" \
    "DescribeCluster v[0-2]" "ConsumerGroupHeartbeat v"; do
    grep -q "request $api" "$E2E_DIR/kgate-standalone.log" ||
      die "no $api request went through kgate"
  done
  log "through kgate: $(grep -o 'request [A-Za-z]* v[0-9]*' "$E2E_DIR/kgate-standalone.log" |
    sort | uniq -c | sort -rn | awk '{ printf "%s %s x%s, ", $3, $4, $1 }' | head -c 600)"
  log "kgate: $(grep -o 'responses_rewritten=[0-9]*\|endpoints_unmapped=[0-9]*' "$E2E_DIR/kgate-standalone.log" | tr '\n' ' ')"
}
