# 03_sidecar.sh — kgate next to the clients, on loopback in their namespace,
# its broker listeners dialling the NLB's per-broker ports: clients only ever
# talk to 127.0.0.1, and nothing the cluster advertises reaches them.
SIDECAR_EXPECT=127.0.0.1:8443,127.0.0.1:8444,127.0.0.1:8445

scenario_03_sidecar() {
  nlb_up brokers
  sidecar_config >"$E2E_DIR/sidecar.json"
  kgate_up kgate-sidecar "$NS_CLI" "$E2E_DIR/sidecar.json"
  # The clients' side of the sidecar is loopback.
  capture_start s03 "$NS_CLI" lo
  client_suite "$NS_CLI" 127.0.0.1:9094 "$SIDECAR_EXPECT" s03
  capture_stop s03
  capture_assert_clean s03
  kgate_down kgate-sidecar
  nlb_down
  expect_contains "$E2E_DIR/kgate-sidecar.log" "protocol_errors=0 "
}
