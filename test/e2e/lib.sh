# lib.sh — the end-to-end tier's building blocks, sourced by test/e2e/run.sh:
# network namespaces that recreate the single-NLB deployment, a 3-node
# Apache Kafka (KRaft) cluster inside one of them, HAProxy as the NLB, kgate,
# packet captures, and checks.
#
#   client ns (10.77.2.2) ── nlb ns (10.77.2.1 | 10.77.1.1) ── msk ns (10.77.1.2-4, .10)
#
# The client namespace can reach only the NLB address: the nlb namespace does
# not forward, it proxies (HAProxy, TCP mode).  Broker names resolve only in
# the msk namespace (per-namespace hosts files under /etc/netns/).

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E_ID=${KGATE_E2E_ID:-$$}
NS_MSK=kg-msk-$E2E_ID
NS_NLB=kg-nlb-$E2E_ID
NS_CLI=kg-cli-$E2E_ID
NLB_IP=10.77.2.1
NLB_MSK_IP=10.77.1.1
CLIENT_IP=10.77.2.2
KGATE_MSK_IP=10.77.1.10
# A second replica of the standalone gateway (scenario 10).
KGATE_MSK_IP2=10.77.1.11
NLB_NAME=nlb.kgate.test
# The brokers' listeners, as on MSK: plaintext, TLS, SASL/SCRAM over TLS;
# and one more SASL/SCRAM listener whose sessions last 5 s, so that
# re-authentication (KIP-368) happens within a scenario's length.
BROKER_PORT=9092
TLS_PORT=9094
SASL_PORT=9096
REAUTH_PORT=9098
REAUTH_MS=5000
CONTROLLER_PORT=9093
SCRAM_USER=alice
SCRAM_PASSWORD=alice-secret
# The cluster's SCRAM (and PLAIN) users: alice, bob and carol, each with
# the password NAME-secret.  Topics and groups named only-bob* are bob's
# alone (ACLs); everything else is open to every user.
SCRAM_USERS=(alice bob carol)
BOB_PREFIX=only-bob
CERTS=${KGATE_CERTS:-$E2E_ROOT/build/certs}
GATEWAY_PORTS=(8443 8444 8445)
KAFKA=$E2E_ROOT/scripts/kafka.sh
KGATE_BIN=${KGATE_BIN:-$E2E_ROOT/build/kgate}
CLIENT_BIN=${CLIENT_BIN:-$E2E_ROOT/build/kgate-client}
# Debian's Python, where python3-kafka is installed (not a pyenv one).
PYTHON=/usr/bin/python3
# Failsafe deadlines; none of them decides a test.
READY_TIMEOUT_S=120
# Longer than kgate's default drain (30 s): a drain that runs to its end
# still exits by itself.
STOP_TIMEOUT_S=60

E2E_DIR=${E2E_DIR:-$E2E_ROOT/build/e2e}
declare -A E2E_PIDS=()

broker_ip() { echo "10.77.1.$(($1 + 1))"; }
broker_name() { echo "b-$1.msk.internal"; }

log() { echo "e2e: $*" >&2; }
die() {
  echo "e2e: FAIL: $*" >&2
  exit 1
}

# Runs a command in a namespace.
in_ns() {
  local ns=$1
  shift
  ip netns exec "$ns" "$@"
}

# ---- processes ----

# Starts a named background process (in a namespace) with output to a log.
spawn() {
  local name=$1 ns=$2
  shift 2
  # ip netns exec execs the command, so $! is the process itself.
  ip netns exec "$ns" "$@" >"$E2E_DIR/$name.log" 2>&1 &
  E2E_PIDS[$name]=$!
}

# Stops a named process: SIGTERM (or the given signal), then waits.
stop() {
  local name=$1 sig=${2:-TERM} pid=${E2E_PIDS[$1]:-}
  [ -n "$pid" ] || return 0
  kill -"$sig" "$pid" 2>/dev/null || true
  for _ in $(seq $((STOP_TIMEOUT_S * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  local rc=0
  wait "$pid" 2>/dev/null || rc=$?
  unset "E2E_PIDS[$name]"
  return $rc
}

# Waits until a command succeeds (a condition, not a delay).
wait_for() {
  local what=$1 deadline=$((SECONDS + READY_TIMEOUT_S))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "timed out waiting for $what"
    sleep 0.2
  done
}

# True when something accepts TCP connections on host:port in ns.
port_open() {
  in_ns "$1" timeout 2 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null
}

# ---- the network ----

netns_up() {
  netns_down
  mkdir -p "$E2E_DIR"
  for ns in "$NS_MSK" "$NS_NLB" "$NS_CLI"; do
    ip netns add "$ns"
    in_ns "$ns" ip link set lo up
    mkdir -p "/etc/netns/$ns"
    # No DNS servers: a name not in the hosts file fails at once.
    : >"/etc/netns/$ns/resolv.conf"
    printf '127.0.0.1 localhost\n::1 localhost\n' >"/etc/netns/$ns/hosts"
  done
  ip link add "km$E2E_ID" type veth peer name "nm$E2E_ID"
  ip link set "km$E2E_ID" netns "$NS_MSK"
  ip link set "nm$E2E_ID" netns "$NS_NLB"
  ip link add "kc$E2E_ID" type veth peer name "nc$E2E_ID"
  ip link set "kc$E2E_ID" netns "$NS_CLI"
  ip link set "nc$E2E_ID" netns "$NS_NLB"
  in_ns "$NS_MSK" ip addr add 10.77.1.2/24 dev "km$E2E_ID"
  for ip in 10.77.1.3 10.77.1.4 $KGATE_MSK_IP $KGATE_MSK_IP2; do
    in_ns "$NS_MSK" ip addr add $ip/24 dev "km$E2E_ID"
  done
  in_ns "$NS_NLB" ip addr add $NLB_MSK_IP/24 dev "nm$E2E_ID"
  in_ns "$NS_NLB" ip addr add $NLB_IP/24 dev "nc$E2E_ID"
  in_ns "$NS_CLI" ip addr add $CLIENT_IP/24 dev "kc$E2E_ID"
  in_ns "$NS_MSK" ip link set "km$E2E_ID" up
  in_ns "$NS_NLB" ip link set "nm$E2E_ID" up
  in_ns "$NS_NLB" ip link set "nc$E2E_ID" up
  in_ns "$NS_CLI" ip link set "kc$E2E_ID" up
  # The NLB proxies; it never routes between the two sides.
  in_ns "$NS_NLB" sysctl -qw net.ipv4.ip_forward=0
  for i in 1 2 3; do
    echo "$(broker_ip $i) $(broker_name $i)" >>"/etc/netns/$NS_MSK/hosts"
  done
  echo "$NLB_IP $NLB_NAME" >>"/etc/netns/$NS_CLI/hosts"
}

netns_down() {
  for ns in "$NS_MSK" "$NS_NLB" "$NS_CLI"; do
    if ip netns list | grep -qw "$ns"; then
      # Anything still running in it goes first.
      ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
      ip netns del "$ns" 2>/dev/null || true
    fi
    rm -rf "/etc/netns/$ns"
  done
}

# ---- Apache Kafka ----

kafka_config() {
  local i=$1 voters="" j
  for j in 1 2 3; do
    voters+="${voters:+,}$j@$(broker_ip $j):$CONTROLLER_PORT"
  done
  cat <<EOF
node.id=$i
process.roles=broker,controller
listeners=PLAINTEXT://$(broker_ip $i):$BROKER_PORT,SSL://$(broker_ip $i):$TLS_PORT,SASL_SSL://$(broker_ip $i):$SASL_PORT,REAUTH://$(broker_ip $i):$REAUTH_PORT,CONTROLLER://$(broker_ip $i):$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$(broker_name $i):$BROKER_PORT,SSL://$(broker_name $i):$TLS_PORT,SASL_SSL://$(broker_name $i):$SASL_PORT,REAUTH://$(broker_name $i):$REAUTH_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,REAUTH:SASL_SSL,CONTROLLER:PLAINTEXT
ssl.keystore.type=PEM
ssl.keystore.location=$E2E_DIR/broker-$i.keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$CERTS/ca.pem
# Only kgate talks to the TLS listener: it must show a client certificate.
listener.name.ssl.ssl.client.auth=required
# SCRAM for the Java client and kafka-python; PLAIN for librdkafka 2.0.2
# (Debian's), whose SCRAM Kafka 4.x rejects with or without kgate (fixed in
# librdkafka 2.6.1).
sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required$(plain_users);
# REAUTH: SCRAM only, and a session lasts at most REAUTH_MS: the broker
# tells each client so (SaslAuthenticate v1+ session_lifetime_ms) and
# closes a connection that is used past it without re-authenticating.
listener.name.reauth.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.reauth.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.reauth.connections.max.reauth.ms=$REAUTH_MS
# ACLs show which principal the broker sees.  Resources without ACLs stay
# open to everyone; plaintext (inter-broker, controllers, the tests' own
# tools in msk) is ANONYMOUS, a super user.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=true
super.users=User:ANONYMOUS
controller.quorum.voters=$voters
log.dirs=$E2E_DIR/kafka-data-$i
num.partitions=6
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
group.initial.rebalance.delay.ms=0
auto.leader.rebalance.enable=false
# Notice a killed broker within seconds (the default is 9 s).
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=500
EOF
}

# The PLAIN login module's users (a JAAS option per user).
plain_users() {
  local u
  for u in "${SCRAM_USERS[@]}"; do
    printf ' user_%s="%s-secret"' "$u" "$u"
  done
}

kafka_format() {
  local id i u scram=()
  for u in "${SCRAM_USERS[@]}"; do
    scram+=(--add-scram "SCRAM-SHA-512=[name=$u,password=$u-secret]")
  done
  id=$("$KAFKA" run kafka.tools.StorageTool random-uuid)
  for i in 1 2 3; do
    rm -rf "$E2E_DIR/kafka-data-$i"
    kafka_config "$i" >"$E2E_DIR/kafka-$i.properties"
    # A PEM keystore holds the key and the certificate in one file.
    cat "$CERTS/broker-$i.key" "$CERTS/broker-$i.pem" >"$E2E_DIR/broker-$i.keystore.pem"
    "$KAFKA" run kafka.tools.StorageTool format -t "$id" \
      -c "$E2E_DIR/kafka-$i.properties" \
      "${scram[@]}" \
      >>"$E2E_DIR/kafka-format.log" 2>&1 ||
      die "formatting broker $i failed (see $E2E_DIR/kafka-format.log)"
  done
}

kafka_start() {
  local i=$1
  KAFKA_HEAP_OPTS="-Xmx512m -Xms256m" KAFKA_LOG4J=$E2E_ROOT/scripts/kafka/log4j2-broker.yaml \
    spawn "broker-$i" "$NS_MSK" "$KAFKA" run kafka.Kafka "$E2E_DIR/kafka-$i.properties"
}

# Number of brokers the cluster's Metadata lists, asked inside msk.
kafka_brokers_up() {
  in_ns "$NS_MSK" kcat -b "$(broker_name 1):$BROKER_PORT,$(broker_name 2):$BROKER_PORT" -L -m 5 2>/dev/null |
    grep -c "^  broker [0-9]* at b-"
}

kafka_all_up() { [ "$(kafka_brokers_up)" = 3 ]; }

# records_in TOPIC: how many records the topic holds (sum of end offsets).
records_in() {
  local args=() p
  for p in 0 1 2 3 4 5; do
    args+=(-t "$1:$p:-1")
  done
  in_ns "$NS_MSK" kcat -b "$(broker_name 1):$BROKER_PORT,$(broker_name 3):$BROKER_PORT" -Q "${args[@]}" \
    2>/dev/null | awk '/offset/ { s += $NF } END { print s + 0 }'
}

# at_least N TOPIC: true once TOPIC holds N records or more.
at_least() { [ "$(records_in "$2")" -ge "$1" ]; }

# partitions_led_by BROKER TOPIC: how many of TOPIC's partitions it leads.
partitions_led_by() {
  in_ns "$NS_MSK" kcat -b "$(broker_name 1):$BROKER_PORT,$(broker_name 3):$BROKER_PORT" -L \
    -t "$2" 2>/dev/null | grep -c "partition [0-9]*, leader $1,"
}

# True when every partition of TOPIC has all three replicas in sync.
all_in_sync() {
  local out
  out=$(in_ns "$NS_MSK" kcat -b "$(broker_name 1):$BROKER_PORT" -L -t "$1" 2>/dev/null) || return 1
  [ "$(grep -c 'isrs: [0-9],[0-9],[0-9]$' <<<"$out")" = "$(grep -c 'partition [0-9]*, leader' <<<"$out")" ] &&
    grep -q 'partition [0-9]*, leader' <<<"$out"
}

kafka_up() {
  "$KAFKA" fetch >/dev/null
  kafka_format
  for i in 1 2 3; do
    kafka_start "$i"
  done
  wait_for "3 Kafka brokers" kafka_all_up
  kafka_acls
}

# bob's own topics and groups (prefix only-bob): every operation for
# User:bob, and — since they now have ACLs — nothing for anyone else but
# the super user.
kafka_acls() {
  local what
  for what in --topic --group; do
    kafka_tool org.apache.kafka.tools.AclCommand --bootstrap-server "$(broker_name 1):$BROKER_PORT" \
      --add --allow-principal User:bob --operation All "$what" "$BOB_PREFIX" \
      --resource-pattern-type prefixed >>"$E2E_DIR/acls.log" 2>&1 ||
      die "adding bob's ACLs failed (see $E2E_DIR/acls.log)"
  done
}

kafka_down() {
  for i in 1 2 3; do
    stop "broker-$i" || true
  done
}

# Runs a Kafka tool inside msk, against the brokers directly.
kafka_tool() {
  in_ns "$NS_MSK" "$KAFKA" run "$@"
}

create_topic() {
  local topic=$1 partitions=${2:-6}
  kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$(broker_name 1):$BROKER_PORT" \
    --create --if-not-exists --topic "$topic" --partitions "$partitions" --replication-factor 3 \
    >>"$E2E_DIR/topics.log" 2>&1 || die "creating topic $topic failed"
}

# ---- the NLB ----

# mode "brokers": 9094 to any broker, 8443+i to broker i, on the brokers'
#   PORT (default: the plaintext listener).
# mode "gateway": every port to kgate in msk.
nlb_up() {
  local mode=$1 port=${2:-$BROKER_PORT} cfg=$E2E_DIR/haproxy-$1.cfg i target
  {
    printf 'global\n  maxconn 4096\ndefaults\n  mode tcp\n  timeout connect 5s\n'
    printf '  timeout client 10m\n  timeout server 10m\n'
    printf 'listen bootstrap\n  bind %s:9094\n  balance roundrobin\n' "$NLB_IP"
    for i in 1 2 3; do
      target=$(broker_ip $i):$port
      [ "$mode" = gateway ] && target=$KGATE_MSK_IP:9094
      printf '  server s%d %s\n' "$i" "$target"
    done
    for i in 1 2 3; do
      target=$(broker_ip $i):$port
      [ "$mode" = gateway ] && target=$KGATE_MSK_IP:${GATEWAY_PORTS[$((i - 1))]}
      printf 'listen broker%d\n  bind %s:%d\n  server b%d %s\n' "$i" "$NLB_IP" \
        "${GATEWAY_PORTS[$((i - 1))]}" "$i" "$target"
    done
  } >"$cfg"
  spawn nlb "$NS_NLB" haproxy -db -f "$cfg"
  wait_for "the NLB" port_open "$NS_CLI" "$NLB_IP" 9094
}

nlb_down() { stop nlb || true; }

# ---- kgate ----

# kgate_up NAME NS CONFIG_FILE: starts kgate and waits until it is ready.
kgate_up() {
  local name=$1 ns=$2 cfg=$3
  "$KGATE_BIN" --check --config "$cfg" >/dev/null || die "$cfg is not valid"
  spawn "$name" "$ns" "$KGATE_BIN" --config "$cfg" --log-level "${KGATE_E2E_LOG_LEVEL:-info}"
  wait_for "$name ready" grep -q " ready" "$E2E_DIR/$name.log"
}

kgate_down() {
  local name=$1
  stop "$name" || die "$name did not stop cleanly (exit status $?)"
}

# gateway_config LISTEN_IP ADVERTISE_HOST BOOTSTRAP_UPSTREAMS [UPSTREAM [EXTRA]]:
# kgate's configuration with one listener per broker on the NLB's ports.
# UPSTREAM: empty (learned from the cluster), "nlb" (the NLB's per-broker
# port), or ":PORT" (the broker's own name at PORT).  EXTRA is appended to
# the top-level object (a "tls" block, say).
gateway_config() {
  local listen=$1 advertise=$2 bootstrap=$3 upstream=${4:-} extra=${5:-} i port sep=""
  printf '{ "bootstrap": { "listen": "%s:9094", "upstream": [%s] },\n  "brokers": [' \
    "$listen" "$bootstrap"
  for i in 1 2 3; do
    port=${GATEWAY_PORTS[$((i - 1))]}
    printf '%s\n    { "id": %d, "listen": "%s:%d", "advertise": "%s:%d"' "$sep" "$i" \
      "$listen" "$port" "$advertise" "$port"
    case "$upstream" in
      nlb) printf ', "upstream": "%s:%d"' "$NLB_NAME" "$port" ;;
      :*) printf ', "upstream": "%s%s"' "$(broker_name $i)" "$upstream" ;;
    esac
    printf ' }'
    sep=,
  done
  printf ' ]%s }\n' "${extra:+,
  $extra}"
}

# The brokers' own addresses at PORT, as a JSON list body.
broker_list() {
  local i ups=""
  for i in 1 2 3; do
    ups+="${ups:+, }\"$(broker_name $i):$1\""
  done
  echo "$ups"
}

# The standalone gateway: in msk beside the brokers, the NLB's targets,
# advertising the NLB; broker upstreams learned from the cluster.
standalone_config() {
  gateway_config "$KGATE_MSK_IP" "$NLB_NAME" "$(broker_list $BROKER_PORT)"
}

# The sidecar: in the client's namespace on loopback, dialling the NLB's
# per-broker ports, advertising itself.
# One worker, as the README's sidecar examples run; standalone gateways run
# the default (one per CPU).
sidecar_config() {
  gateway_config 127.0.0.1 127.0.0.1 "\"$NLB_NAME:9094\"" nlb '"workers": 1'
}

# TLS blocks with the test PKI.
tls_listen_json() {
  printf '"listen": { "cert": "%s/gateway.pem", "key": "%s/gateway.key" }' "$CERTS" "$CERTS"
}
tls_upstream_json() { # [SERVER_NAME]
  printf '"upstream": { "ca": "%s/ca.pem", "cert": "%s/client.pem", "key": "%s/client.key"%s }' \
    "$CERTS" "$CERTS" "$CERTS" "${1:+, \"server_name\": \"$1\"}"
}

# Client settings for TLS and SASL/SCRAM, per client; `security MODE`
# selects what the helpers below pass (plain, tls or sasl).
RDK_SEC=()
KCAT_SEC=()
JAVA_SEC=()
security() {
  case "$1" in
    plain) RDK_SEC=() KCAT_SEC=() JAVA_SEC=() ;;
    tls) RDK_SEC=("${RDK_TLS[@]}") KCAT_SEC=("${KCAT_TLS[@]}") JAVA_SEC=("${JAVA_TLS[@]}") ;;
    sasl) RDK_SEC=("${RDK_SASL[@]}") KCAT_SEC=("${KCAT_SASL[@]}") JAVA_SEC=("${JAVA_SASL[@]}") ;;
  esac
}

RDK_TLS=(--set security.protocol=ssl --set "ssl.ca.location=$CERTS/ca.pem")
RDK_SASL=(--set security.protocol=sasl_ssl --set "ssl.ca.location=$CERTS/ca.pem"
  --set sasl.mechanisms=PLAIN --set "sasl.username=$SCRAM_USER"
  --set "sasl.password=$SCRAM_PASSWORD")
KCAT_TLS=(-X security.protocol=ssl -X "ssl.ca.location=$CERTS/ca.pem")
KCAT_SASL=(-X security.protocol=sasl_ssl -X "ssl.ca.location=$CERTS/ca.pem"
  -X sasl.mechanisms=PLAIN -X "sasl.username=$SCRAM_USER"
  -X "sasl.password=$SCRAM_PASSWORD")
JAVA_TLS=(--command-property security.protocol=SSL --command-property ssl.truststore.type=PEM
  --command-property "ssl.truststore.location=$CERTS/ca.pem")
JAVA_SASL=(--command-property security.protocol=SASL_SSL --command-property ssl.truststore.type=PEM
  --command-property "ssl.truststore.location=$CERTS/ca.pem"
  --command-property sasl.mechanism=SCRAM-SHA-512
  --command-property "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$SCRAM_USER\" password=\"$SCRAM_PASSWORD\";")

# ---- SASL: kgate's own logins (issue 12) ----

# password_file USER: a file holding USER's cluster password on one line,
# readable by its owner only, as a mounted secret would be; prints its path.
password_file() {
  local f=$E2E_DIR/$1.password
  (umask 077 && printf '%s-secret\n' "$1" >"$f")
  echo "$f"
}

# upstream_sasl_obj USER [MECHANISM]: an "upstream_sasl" object for one of
# the cluster's users (SCRAM-SHA-512 unless given).
upstream_sasl_obj() {
  printf '{ "mechanism": "%s", "username": "%s", "password_file": "%s" }' \
    "${2:-SCRAM-SHA-512}" "$1" "$(password_file "$1")"
}

# with_bootstrap_tls_name FILE NAME: the bootstrap port reaches any broker
# through the NLB, so its certificate is checked against NAME (one their
# wildcard certificates cover), not the NLB's name.
with_bootstrap_tls_name() {
  "$PYTHON" - "$1" "$2" <<'PY'
import json, sys
path, name = sys.argv[1], sys.argv[2]
cfg = json.load(open(path))
cfg["bootstrap"]["upstream_tls"] = dict(cfg["tls"]["upstream"], server_name=name)
json.dump(cfg, open(path, "w"), indent=1)
PY
}

# sasl_sidecar_config USER [EXTRA]: the sidecar (plaintext on loopback, one
# worker, its admin endpoint on SIDECAR_ADMIN) dialling the NLB's per-broker
# ports over TLS and logging in to the brokers as USER with SCRAM-SHA-512
# on every connection.  The NLB must lead to a SASL_SSL listener
# (nlb_up brokers PORT).
SIDECAR_ADMIN=127.0.0.1:9644
sasl_sidecar_config() {
  local user=$1 extra=${2:-} f
  f=$(mktemp "$E2E_DIR/sasl-sidecar.XXXXXX")
  gateway_config 127.0.0.1 127.0.0.1 "\"$NLB_NAME:9094\"" nlb \
    "\"tls\": { $(tls_upstream_json) },
  \"upstream_sasl\": $(upstream_sasl_obj "$user"),
  \"admin\": { \"listen\": \"$SIDECAR_ADMIN\" },
  \"workers\": 1${extra:+, $extra}" >"$f"
  with_bootstrap_tls_name "$f" bootstrap.msk.internal
  cat "$f"
  rm -f "$f"
}

# security_login USER PASSWORD: the clients log in to kgate over TLS as
# USER — the Java client with SCRAM-SHA-512, librdkafka and kcat with
# PLAIN (Debian's librdkafka 2.0.2 and SCRAM: see kafka_config).
security_login() {
  local user=$1 pw=$2
  RDK_SEC=(--set security.protocol=sasl_ssl --set "ssl.ca.location=$CERTS/ca.pem"
    --set sasl.mechanisms=PLAIN --set "sasl.username=$user" --set "sasl.password=$pw")
  KCAT_SEC=(-X security.protocol=sasl_ssl -X "ssl.ca.location=$CERTS/ca.pem"
    -X sasl.mechanisms=PLAIN -X "sasl.username=$user" -X "sasl.password=$pw")
  JAVA_SEC=(--command-property security.protocol=SASL_SSL --command-property ssl.truststore.type=PEM
    --command-property "ssl.truststore.location=$CERTS/ca.pem"
    --command-property sasl.mechanism=SCRAM-SHA-512
    --command-property "sasl.jaas.config=$(java_jaas SCRAM-SHA-512 "$user" "$pw")")
}

# java_jaas MECHANISM USER PASSWORD: the Java client's sasl.jaas.config.
java_jaas() {
  local module=org.apache.kafka.common.security.scram.ScramLoginModule
  [ "$1" = PLAIN ] && module=org.apache.kafka.common.security.plain.PlainLoginModule
  printf '%s required username="%s" password="%s";' "$module" "$2" "$3"
}

# java_login_properties FILE MECHANISM USER PASSWORD: a --command-config
# file for the Java tools, logging in over TLS.
java_login_properties() {
  printf '%s\n' security.protocol=SASL_SSL ssl.truststore.type=PEM \
    "ssl.truststore.location=$CERTS/ca.pem" "sasl.mechanism=$2" \
    "sasl.jaas.config=$(java_jaas "$2" "$3" "$4")" >"$1"
}

# sasl_probe NS HOST:PORT MECHANISM USER PASSWORD_FILE: one login by
# clients/sasl_probe.py over TLS; prints its one-line verdict (with the
# session lifetime the server gave); fails as the probe does.
sasl_probe() {
  in_ns "$1" "$PYTHON" "$E2E_ROOT/test/e2e/clients/sasl_probe.py" "$2" "$CERTS/ca.pem" "$3" "$4" "$5"
}

# kgate_metrics NS HOST:PORT NAME EXPECTATION...: kgate's /metrics from its
# admin endpoint (asked inside NS), kept as NAME.txt and checked by an
# independent parser (test/integration/check_metrics.py).
kgate_metrics() {
  local ns=$1 addr=$2 name=$3 out
  shift 3
  in_ns "$ns" timeout 5 bash -c "exec 3<>/dev/tcp/${addr%:*}/${addr##*:} &&
    printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && cat <&3" | sed '1,/^\r$/d' >"$E2E_DIR/$name.txt"
  out=$("$PYTHON" "$E2E_ROOT/test/integration/check_metrics.py" "$E2E_DIR/$name.txt" "$@" 2>&1) ||
    die "kgate's /metrics ($name): $out"
  log "kgate's /metrics ($name): $out"
}

# metric NAME METRIC: a sample's value in a kept /metrics text (NAME.txt),
# summed over its label sets, as an integer; 0 if absent.
metric() {
  awk -v m="$2" '$1 == m || index($1, m "{") == 1 { s += $NF } END { printf "%d\n", s }' \
    "$E2E_DIR/$1.txt"
}

# kgate_stats LOG PATTERN: the counters of kgate's exit line whose names
# match PATTERN (a grep -E fragment), for the scenario's own log line.
kgate_stats() {
  grep -h ' stats: ' "$1" | tail -1 | grep -oE "\b($2)=[0-9]+" | tr '\n' ' '
}

# ---- captures ----

# capture_start NAME NS IFACE: records every TCP packet the client side sees.
capture_start() {
  local name=$1 ns=$2 iface=$3
  spawn "capture-$name" "$ns" tcpdump -i "$iface" -U -s 0 -w "$E2E_DIR/$name.pcap" tcp
  wait_for "tcpdump on $iface" grep -q "listening on" "$E2E_DIR/capture-$name.log"
}

capture_stop() {
  stop "capture-$1" INT || true
}

# Fails if any packet of the capture carries one of the cluster's own names:
# an address kgate should have rewritten reached the client.
capture_assert_clean() {
  local name=$1 pcap=$E2E_DIR/$1.pcap
  [ -s "$pcap" ] || die "capture $name is empty"
  if grep -a -q "msk\.internal" "$pcap"; then
    die "capture $name: a broker's own address (msk.internal) reached the client"
  fi
  log "capture $name: $(stat -c %s "$pcap") bytes, no msk.internal address"
}

# ---- checks ----

expect_contains() {
  local file=$1 needle=$2
  grep -q -- "$needle" "$file" || die "$file does not contain \"$needle\""
}

# The librdkafka client, in a namespace, with the selected security.
rdk() {
  local ns=$1 cmd=$2
  shift 2
  in_ns "$ns" "$CLIENT_BIN" "$cmd" "${RDK_SEC[@]}" "$@"
}

# librdkafka, kcat and the Java client (classic group protocol) over the
# selected security, each moving a known set — COUNT messages for
# librdkafka and Java, KCAT_COUNT for kcat — and checking that only EXPECT
# (comma-separated broker addresses) were given to them.
core_suite() {
  local ns=$1 bootstrap=$2 expect=$3 tag=$4 count=${5:-20000} kcat_count=${6:-2000}
  rdk "$ns" metadata --bootstrap "$bootstrap" --expect-count 3 --expect-brokers "$expect" \
    >"$E2E_DIR/$tag-rdk-metadata.out" 2>&1 || die "librdkafka metadata (see $E2E_DIR/$tag-rdk-metadata.out)"
  create_topic "$tag-rdk"
  rdk "$ns" produce --bootstrap "$bootstrap" --topic "$tag-rdk" --count "$count" \
    --expect-brokers "$expect" >"$E2E_DIR/$tag-rdk-produce.out" 2>&1 ||
    die "librdkafka producer (see $E2E_DIR/$tag-rdk-produce.out)"
  rdk "$ns" consume --bootstrap "$bootstrap" --topic "$tag-rdk" --count "$count" \
    --group "$tag-rdk" --members 2 --expect-brokers "$expect" >"$E2E_DIR/$tag-rdk-consume.out" 2>&1 ||
    die "librdkafka consumer group (see $E2E_DIR/$tag-rdk-consume.out)"
  log "librdkafka: $(grep -h '^produced\|^consumed' "$E2E_DIR/$tag-rdk-produce.out" "$E2E_DIR/$tag-rdk-consume.out" | tr '\n' ';')"
  create_topic "$tag-kcat"
  kcat_roundtrip "$ns" "$bootstrap" "$tag-kcat" "$kcat_count" "$expect"
  create_topic "$tag-java"
  java_produce "$ns" "$bootstrap" "$tag-java" "$count"
  java_consume "$ns" "$bootstrap" "$tag-java" "$count" "$tag-java-classic" classic
}

# core_suite over TLS, then kafka-python over TLS moving its own set.
tls_core_suite() {
  local ns=$1 bootstrap=$2 expect=$3 tag=$4
  security tls
  core_suite "$ns" "$bootstrap" "$expect" "$tag"
  create_topic "$tag-kpy"
  in_ns "$ns" env KPY_CA="$CERTS/ca.pem" "$PYTHON" "$E2E_ROOT/test/e2e/clients/kpy.py" \
    "$bootstrap" "$tag-kpy" 5000 "$expect" >"$E2E_DIR/$tag-kpy.out" 2>&1 ||
    die "kafka-python over TLS (see $E2E_DIR/$tag-kpy.out)"
  log "$(head -1 "$E2E_DIR/$tag-kpy.out")"
}

# ---- message sets ----

# verify_ids FILE COUNT: FILE has one "PARTITION ID" line per message read;
# passes if ids 0..COUNT-1 each arrived exactly once, in increasing order
# within each partition.
verify_ids() {
  local file=$1 count=$2
  awk -v count="$count" '
    { p = $1; id = $2 + 0
      if (seen[id]++) dup++
      if ((p in last) && last[p] >= id) ooo++
      last[p] = id; n++ }
    END {
      for (i = 0; i < count; i++) if (!(i in seen)) missing++
      printf "%d read, %d distinct, %d missing, %d duplicated, %d out of order\n",
        n, length(seen), missing, dup, ooo
      exit (missing || dup || ooo || length(seen) != count) ? 1 : 0 }' "$file"
}

# Java console producer: ids 0..COUNT-1 as "id:jv-id" (key:value), acks=all.
java_produce() {
  local ns=$1 bootstrap=$2 topic=$3 count=$4
  seq 0 $((count - 1)) | awk '{ print $1 ":jv-" $1 }' |
    in_ns "$ns" "$KAFKA" run org.apache.kafka.tools.ConsoleProducer \
      --bootstrap-server "$bootstrap" --topic "$topic" \
      --command-property acks=all --command-property enable.idempotence=true \
      --reader-property parse.key=true --reader-property key.separator=: "${JAVA_SEC[@]}" \
      >>"$E2E_DIR/java-$topic.log" 2>&1 || die "Java console producer on $topic failed"
}

# Java console consumer in a group (optionally with group.protocol=consumer,
# KIP-848) reading COUNT messages; checks the set and the order.
java_consume() {
  local ns=$1 bootstrap=$2 topic=$3 count=$4 group=$5 protocol=${6:-classic}
  local out=$E2E_DIR/java-$topic-$group.out
  in_ns "$ns" "$KAFKA" run org.apache.kafka.tools.consumer.ConsoleConsumer \
    --bootstrap-server "$bootstrap" --topic "$topic" --group "$group" --from-beginning \
    --max-messages "$count" --timeout-ms 60000 \
    --command-property group.protocol="$protocol" "${JAVA_SEC[@]}" \
    --formatter-property print.partition=true --formatter-property print.key=true \
    --formatter-property print.value=false \
    2>>"$E2E_DIR/java-$topic.log" | sed 's/^Partition://' >"$out"
  local result
  result=$(verify_ids "$out" "$count") || die "Java consumer on $topic: $result (see $out)"
  log "Java consumer ($protocol protocol) on $topic: $result"
}

# kcat: metadata, produce and consume a known set.
kcat_roundtrip() {
  local ns=$1 bootstrap=$2 topic=$3 count=$4 expect=$5 out=$E2E_DIR/kcat-$3.out addr result
  in_ns "$ns" kcat -b "$bootstrap" "${KCAT_SEC[@]}" -L -m 10 >"$E2E_DIR/kcat-$topic.meta" 2>&1 ||
    die "kcat -L failed"
  [ "$(grep -c '^  broker [0-9]* at ' "$E2E_DIR/kcat-$topic.meta")" = 3 ] ||
    die "kcat lists $(grep -c '^  broker' "$E2E_DIR/kcat-$topic.meta") brokers, not 3"
  for addr in $(sed -n 's/^  broker [0-9]* at \([^ ]*\).*/\1/p' "$E2E_DIR/kcat-$topic.meta"); do
    [[ ",$expect," == *",$addr,"* ]] || die "kcat was told a broker is at $addr"
  done
  seq 0 $((count - 1)) | awk '{ print $1 ":kc-" $1 }' |
    in_ns "$ns" kcat -b "$bootstrap" "${KCAT_SEC[@]}" -t "$topic" -P -K: -X acks=all \
      -X enable.idempotence=true -X message.timeout.ms=60000 ||
    die "kcat produce failed"
  in_ns "$ns" kcat -b "$bootstrap" "${KCAT_SEC[@]}" -t "$topic" -C -o beginning -e -q -f '%p %k\n' \
    -c "$count" >"$out" 2>>"$E2E_DIR/kcat-$topic.log" || die "kcat consume failed"
  result=$(verify_ids "$out" "$count") || die "kcat on $topic: $result (see $out)"
  log "kcat on $topic: $result"
}

# Java admin client: describeCluster() nodes, controller and partition
# leaders must all be gateway addresses; topic creation goes through too.
java_admin() {
  local ns=$1 bootstrap=$2 topic=$3 expect=$4
  in_ns "$ns" "$KAFKA" run org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
    --create --topic "$topic" --partitions 6 --replication-factor 3 \
    >"$E2E_DIR/admin-$topic.log" 2>&1 || die "creating $topic through the gateway failed"
  in_ns "$ns" java -Xmx256m -Dlog4j2.configurationFile="$E2E_ROOT/scripts/kafka/log4j2-quiet.yaml" \
    -cp "$("$KAFKA" fetch)/*" "$E2E_ROOT/test/e2e/clients/AdminView.java" \
    "$bootstrap" "$expect" "$topic" >>"$E2E_DIR/admin-$topic.log" 2>&1 ||
    die "the admin client saw addresses other than the gateway's (see $E2E_DIR/admin-$topic.log)"
  log "Java admin: $(grep -c '^node\|^controller\|^leader' "$E2E_DIR/admin-$topic.log") addresses, all the gateway's"
}

# Every client, through BOOTSTRAP, each moving a known set and checking
# that only EXPECT (comma-separated broker addresses) were given to it.
client_suite() {
  local ns=$1 bootstrap=$2 expect=$3 tag=$4 n_big=${E2E_MESSAGES:-100000}
  core_suite "$ns" "$bootstrap" "$expect" "$tag" "$n_big" 10000
  java_consume "$ns" "$bootstrap" "$tag-java" "$n_big" "$tag-java-kip848" consumer
  create_topic "$tag-kpy"
  in_ns "$ns" "$PYTHON" "$E2E_ROOT/test/e2e/clients/kpy.py" "$bootstrap" "$tag-kpy" 10000 "$expect" \
    >"$E2E_DIR/$tag-kpy.out" 2>&1 || die "kafka-python (see $E2E_DIR/$tag-kpy.out)"
  log "$(head -1 "$E2E_DIR/$tag-kpy.out")"
  java_admin "$ns" "$bootstrap" "$tag-admin" "$expect"
}

# Waits for a named background process to finish; returns its exit status.
await() {
  local name=$1 pid=${E2E_PIDS[$1]:-} rc=0
  [ -n "$pid" ] || return 1
  wait "$pid" || rc=$?
  unset "E2E_PIDS[$name]"
  return $rc
}
