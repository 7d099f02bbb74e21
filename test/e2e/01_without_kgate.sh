# 01_without_kgate.sh — the failure kgate exists for: the NLB forwards to
# the brokers directly, a client in another VPC bootstraps through it, and
# Metadata then sends it to b-N.msk.internal:9094, which it can neither
# resolve nor reach.
scenario_01_without_kgate() {
  nlb_up brokers
  capture_start s01 "$NS_CLI" "kc$E2E_ID"
  in_ns "$NS_CLI" kcat -b "$NLB_NAME:9094" -L -m 10 >"$E2E_DIR/s01-kcat.meta" 2>&1 ||
    die "bootstrapping through the NLB failed"
  expect_contains "$E2E_DIR/s01-kcat.meta" "broker 1 at b-1.msk.internal:$BROKER_PORT"
  rdk "$NS_CLI" expect-failure --bootstrap "$NLB_NAME:9094" --topic s01 --timeout 15 \
    >"$E2E_DIR/s01-rdk.out" 2>&1 || die "producing through the bare NLB did not fail"
  expect_contains "$E2E_DIR/s01-rdk.out" "msk.internal"
  log "without kgate: bootstrap works, then $(grep -o "Failed to resolve '[^']*'" "$E2E_DIR/s01-rdk.out" | head -1)"
  capture_stop s01
  # The same check that must find nothing through kgate finds the
  # brokers' own names here: it can tell.
  grep -a -q "msk\.internal" "$E2E_DIR/s01.pcap" ||
    die "the capture shows no msk.internal address even without kgate"
  nlb_down
}
