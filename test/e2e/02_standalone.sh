# 02_standalone.sh — kgate beside the brokers as the NLB's targets,
# advertising the NLB: every client in the client VPC works through the NLB
# with no change to the brokers, and no broker's own address reaches it.
STANDALONE_EXPECT=$NLB_NAME:8443,$NLB_NAME:8444,$NLB_NAME:8445

scenario_02_standalone() {
  standalone_config >"$E2E_DIR/standalone.json"
  kgate_up kgate-standalone "$NS_MSK" "$E2E_DIR/standalone.json"
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
  log "kgate: $(grep -o 'responses_rewritten=[0-9]*\|endpoints_unmapped=[0-9]*' "$E2E_DIR/kgate-standalone.log" | tr '\n' ' ')"
}
