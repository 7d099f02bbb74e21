# 07_tls_sidecar.sh — the common sidecar: the application speaks plaintext
# to kgate on loopback, kgate speaks TLS to the NLB, whose ports lead to the
# brokers' TLS listener.  Through the NLB the certificates still name the
# brokers: kgate checks each against the name the cluster advertises for
# it, and the bootstrap connection (any broker) against a name their
# wildcard certificates cover.
scenario_07_tls_sidecar() {
  local expect=127.0.0.1:8443,127.0.0.1:8444,127.0.0.1:8445
  nlb_up brokers "$TLS_PORT"
  gateway_config 127.0.0.1 127.0.0.1 "\"$NLB_NAME:9094\"" nlb \
    "\"tls\": { $(tls_upstream_json) }, \"workers\": 1" >"$E2E_DIR/tls-sidecar.json"
  # The bootstrap port reaches any broker: verify the wildcard name.
  "$PYTHON" - "$E2E_DIR/tls-sidecar.json" "$CERTS" <<'PY'
import json, sys
path, certs = sys.argv[1], sys.argv[2]
cfg = json.load(open(path))
cfg["bootstrap"]["upstream_tls"] = dict(cfg["tls"]["upstream"], server_name="bootstrap.msk.internal")
json.dump(cfg, open(path, "w"), indent=1)
PY
  KGATE_E2E_LOG_LEVEL=debug kgate_up kgate-tls-sidecar "$NS_CLI" "$E2E_DIR/tls-sidecar.json"
  capture_start s07 "$NS_CLI" lo
  security plain
  core_suite "$NS_CLI" 127.0.0.1:9094 "$expect" s07
  capture_stop s07
  capture_assert_clean s07
  kgate_down kgate-tls-sidecar
  nlb_down
  expect_contains "$E2E_DIR/kgate-tls-sidecar.log" "tls_failures=0 "
  grep -q "connected to $NLB_NAME:8443 (TLSv1" "$E2E_DIR/kgate-tls-sidecar.log" ||
    die "kgate did not reach broker 1 over TLS through the NLB"
}
