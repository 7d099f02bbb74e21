#!/usr/bin/env bash
# run.sh — the image tier (`make test-image`): builds docker/Dockerfile
# unchanged with podman on a debian:bookworm-slim equivalent made here
# (scripts/image-base.sh), then runs what the README promises of it:
#
#   1. the image: size, non-root numeric user, entrypoint, labels, health
#      check, exposed ports, no compiler or headers left in it;
#   2. `kgate --demo --demo-listen 0.0.0.0` with its ports published on
#      127.0.0.1: kcat and the librdkafka test client through them, /healthz
#      and /readyz through the published admin port, the image's
#      HEALTHCHECK, the process's uid and capabilities seen from the host,
#      and `podman stop` (SIGTERM) draining a connected consumer, exit 0;
#   3. the default command without a configuration (a clear error, exit 2)
#      and `--check` of every configuration docker/ ships, inside the image
#      (the Kubernetes ConfigMaps' and the ECS task definition's too), the
#      ECS task's kgate container as ECS runs it (its entrypoint writing
#      KGATE_CONFIG to a file, its health check, its stop), and the default
#      number of workers under a container CPU limit;
#   4. docker/compose.yaml with podman-compose, messages through it, and
#      compose.kafka.yaml parsed;
#   5. docker/kubernetes/sidecar.yaml with `podman kube play`, a stand-in
#      cluster in place of the PrivateLink endpoint (sidecar_play.py), the
#      test client in the application's container; the Kubernetes examples
#      against Kubernetes' schemas (kubernetes-validate, from PyPI), and the
#      ECS task definition against ECS's API model with the IAM policies
#      beside it (scripts/check_examples.py --botocore, botocore from PyPI).
#
# Needs root (rootful podman) and what scripts/install-deps.sh --image
# installs; uses 127.0.0.1:9094, 8443-8445 and 9644, which must be free.
#
#   test/image/run.sh         KGATE_SRC, KGATE_BIN, CLIENT_BIN and IMAGE_DIR from make
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=${KGATE_SRC:-$(cd "$here/../.." && pwd)}
CLIENT_BIN=${CLIENT_BIN:-$root/build/kgate-client}
KGATE_BIN=${KGATE_BIN:-$root/build/kgate}
IMAGE_DIR=${IMAGE_DIR:-$root/build/image}
VERSION=$(cat "$root/VERSION")
IMAGE=localhost/kgate:$VERSION
PORTS=(9094 8443 8444 8445 9644)
BROKERS=127.0.0.1:8443,127.0.0.1:8444,127.0.0.1:8445
DEMO=kgate-image-demo
COMPOSE_PROJECT=kgate-image
KV_VERSION=1.37.0 # kubernetes-validate, pinned
KV_VENV=${KGATE_CACHE:-$HOME/.cache/kgate}/kubernetes-validate-$KV_VERSION
BOTO_VERSION=1.44.5 # botocore (ECS's API model), pinned
BOTO_VENV=${KGATE_CACHE:-$HOME/.cache/kgate}/botocore-$BOTO_VERSION
ECS=kgate-image-ecs
# podman's defaults are refused here (crun, rlimits): see containers.conf.
export CONTAINERS_CONF=$here/containers.conf

checks=0
log() { echo "image: $*" >&2; }
ok() {
  checks=$((checks + 1))
  log "ok: $*"
}
die() {
  log "FAIL: $*"
  exit 1
}
# podman without a systemd to schedule health checks logs an error for
# each container that has one; the checks run on demand here instead.
pm() { podman "$@" 2> >(grep -v 'systemd connection' >&2); }

wait_for() { # SECONDS WHAT COMMAND...
  local limit=$1 what=$2 deadline=$((SECONDS + $1))
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "$what: not within $limit s"
    sleep 0.2
  done
}
http_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1"; }
port_free() { ! timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
ready() { [ "$(http_status http://127.0.0.1:9644/readyz)" = 200 ]; }

cleanup() {
  pm rm -f -t 0 "$DEMO" "$ECS" >/dev/null 2>&1 || true
  (cd "$root/docker" && podman-compose -p "$COMPOSE_PROJECT" -f compose.yaml down -t 0) \
    >/dev/null 2>&1 || true
  [ -f "$IMAGE_DIR/sidecar-play.yaml" ] &&
    pm kube down "$IMAGE_DIR/sidecar-play.yaml" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || die "needs root (rootful podman)"
for tool in podman runc mmdebstrap podman-compose kcat curl catatonit; do
  command -v "$tool" >/dev/null || [ -x "/usr/libexec/podman/$tool" ] ||
    die "$tool is missing: run scripts/install-deps.sh --image"
done
/usr/bin/python3 -c 'import yaml' 2>/dev/null || die "python3-yaml is missing"
[ -x "$CLIENT_BIN" ] || die "build the test client first ($CLIENT_BIN)"
[ -x "$KGATE_BIN" ] || die "build kgate first ($KGATE_BIN)"
for p in "${PORTS[@]}"; do
  port_free "$p" || die "127.0.0.1:$p is in use: the image tier publishes the demo's ports there"
done
cleanup
mkdir -p "$IMAGE_DIR"
t0=$SECONDS
log "$(podman --version), $(runc --version | head -1), $(podman-compose version 2>/dev/null | grep -m1 'podman-compose')"

# --- 1. the base and the image ------------------------------------------------
t=$SECONDS
base=$("$root/scripts/image-base.sh")
log "base $base ready in $((SECONDS - t)) s"
t=$SECONDS
make -s -C "$root" image ENGINE=podman IMAGE="$IMAGE" >"$IMAGE_DIR/build.log" 2>&1 ||
  { tail -20 "$IMAGE_DIR/build.log" >&2; die "the image did not build (log: $IMAGE_DIR/build.log)"; }
build_s=$((SECONDS - t))

fmt() { podman image inspect --format "$1" "$IMAGE"; }
size=$(fmt '{{.Size}}')
base_size=$(podman image inspect --format '{{.Size}}' "$base")
log "built $IMAGE in $build_s s: $((size / 1000000)) MB, $(((size - base_size) / 1000)) kB over the base ($((base_size / 1000000)) MB)"
[ $((size - base_size)) -lt 20000000 ] || die "the runtime stage adds $((size - base_size)) bytes (more than 20 MB)"
ok "runtime layers: $(((size - base_size) / 1000)) kB over $base"
user=$(fmt '{{.Config.User}}')
[[ $user =~ ^[1-9][0-9]*:[1-9][0-9]*$ ]] || die "image user \"$user\": want a numeric non-root uid:gid"
ok "image user $user"
[ "$(fmt '{{json .Config.Entrypoint}}')" = '["kgate"]' ] || die "entrypoint $(fmt '{{json .Config.Entrypoint}}')"
[ "$(fmt '{{json .Config.Cmd}}')" = '["--config","/etc/kgate/kgate.json"]' ] ||
  die "command $(fmt '{{json .Config.Cmd}}')"
ok "entrypoint kgate, default config /etc/kgate/kgate.json"
label() { fmt "{{index .Config.Labels \"org.opencontainers.image.$1\"}}"; }
[ "$(label version)" = "$VERSION" ] || die "version label \"$(label version)\", VERSION says $VERSION"
[ "$(label licenses)" = Apache-2.0 ] || die "licences label \"$(label licenses)\""
[ "$(label revision)" = "$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)" ] ||
  die "revision label \"$(label revision)\""
ok "labels: version $(label version), licences $(label licenses), revision $(label revision)"
exposed=$(fmt '{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}')
for p in "${PORTS[@]}"; do
  [[ " $exposed" == *" $p/tcp "* ]] || die "port $p not exposed (exposed: $exposed)"
done
ok "exposed: $exposed"
hc=$(fmt '{{json .HealthCheck.Test}}')
[[ $hc == *kgate-healthcheck*/healthz* ]] || die "health check $hc"
ok "health check $hc"
found=$(pm run --rm --entrypoint /bin/sh "$IMAGE" -c '
  for t in cc gcc g++ c++ clang cpp ld as make pkg-config; do command -v "$t"; done
  ls -d /usr/include/event2 /usr/include/openssl /usr/include/librdkafka 2>/dev/null
  dpkg-query -W -f="\${Package}\n" | grep -E "(-dev$|-dev-bin$|^gcc(-[0-9]+)?$|^g\+\+|^cpp|^binutils|^make$)" ' || true)
[ -z "$found" ] || die "build tools left in the image: $(echo $found)"
ok "no compiler, linker, make or headers in the image"

# --- 2. the demo, from the host ----------------------------------------------
publish=()
for p in 9094 8443-8445 9644; do publish+=(-p "127.0.0.1:$p:$p"); done
pm run -d --name "$DEMO" "${publish[@]}" "$IMAGE" --demo --demo-listen 0.0.0.0 >/dev/null
wait_for 120 "/readyz through the published admin port" ready
ok "/readyz 200 through 127.0.0.1:9644"
[ "$(http_status http://127.0.0.1:9644/healthz)" = 200 ] || die "/healthz"
ok "/healthz 200"
pm healthcheck run "$DEMO" || die "the image's HEALTHCHECK fails"
ok "the image's HEALTHCHECK passes"
pid=$(podman inspect --format '{{.State.Pid}}' "$DEMO")
uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
[ "$uids" = "65532 65532 65532 65532" ] || die "kgate runs with uids $uids"
capeff=$(awk '/^CapEff:/ {print $2}' "/proc/$pid/status")
[ "$capeff" = 0000000000000000 ] || die "kgate has capabilities $capeff"
ok "kgate (host pid $pid) runs as uid 65532 with no capabilities"
listing=$(kcat -b 127.0.0.1:9094 -L -m 10 2>&1)
for b in 1 2 3; do
  grep -q "broker $b at 127.0.0.1:$((8442 + b))" <<<"$listing" || die "kcat -L: $listing"
done
ok "kcat -L through the published bootstrap: brokers at $BROKERS"
"$CLIENT_BIN" demo --bootstrap 127.0.0.1:9094 --messages 2000 --expect-brokers "$BROKERS" \
  >"$IMAGE_DIR/demo-client.log" 2>&1 || { tail "$IMAGE_DIR/demo-client.log" >&2; die "client through the published ports"; }
ok "librdkafka client: $(grep -m1 '^summary' "$IMAGE_DIR/demo-client.log")"
# A consumer fetching (its group joined: the mock holds a first JoinGroup,
# which a drain would wait for) when the stop comes: the drain must end its
# connections and kgate exit 0, well before podman's SIGKILL.
metric_sum() {
  curl -s http://127.0.0.1:9644/metrics | awk -v m="$1" 'index($0, m) == 1 {n += $NF} END {print n + 0}'
}
fetches_before=$(metric_sum 'kgate_requests_total{api="Fetch"}')
kcat -b 127.0.0.1:9094 -G image-drain demo -q -X session.timeout.ms=6000 >/dev/null 2>&1 &
consumer=$!
consumer_fetching() { [ "$(metric_sum 'kgate_requests_total{api="Fetch"}')" -gt "$fetches_before" ]; }
wait_for 120 "the consumer fetching" consumer_fetching
open=$(metric_sum kgate_connections_open)
t=$SECONDS
pm stop -t 60 "$DEMO" >/dev/null
stop_s=$((SECONDS - t))
kill "$consumer" 2>/dev/null || true
wait "$consumer" 2>/dev/null || true
code=$(podman inspect --format '{{.State.ExitCode}}' "$DEMO")
podman logs "$DEMO" >"$IMAGE_DIR/demo-kgate.log" 2>&1
[ "$code" = 0 ] || die "kgate exited $code after SIGTERM (log: $IMAGE_DIR/demo-kgate.log)"
grep -q 'received SIGTERM: draining' "$IMAGE_DIR/demo-kgate.log" || die "no drain logged"
drained=$(grep -o 'drained: .*' "$IMAGE_DIR/demo-kgate.log") || die "the drain did not finish"
ok "podman stop with $open connections open: exit 0 in $stop_s s, $drained"
pm rm "$DEMO" >/dev/null

# --- 3. configurations -----------------------------------------------------------
code=0
out=$(podman run --rm "$IMAGE" 2>&1) || code=$?
out=$(grep -v 'systemd connection' <<<"$out")
[ "$code" = 2 ] && grep -q '/etc/kgate/kgate.json' <<<"$out" ||
  die "without a configuration: exit $code, \"$out\""
ok "without a configuration: exit 2, \"$(head -1 <<<"$out")\""
/usr/bin/python3 - "$root" "$IMAGE_DIR" <<'EOF'
import pathlib, sys, yaml
root, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for f in sorted((root / "docker/kubernetes").glob("*.yaml")):
    for d in yaml.safe_load_all(f.read_text()):
        if d and d["kind"] == "ConfigMap" and "kgate.json" in d["data"]:
            (out / f"{f.stem}.kgate.json").write_text(d["data"]["kgate.json"])
EOF
# docker/ecs/*.json: the kgate container's KGATE_CONFIG, entryPoint, command
# and health check.
/usr/bin/python3 "$root/scripts/check_examples.py" --extract "$IMAGE_DIR" >/dev/null ||
  die "scripts/check_examples.py --extract"
for cfg in "$IMAGE_DIR"/*.kgate.json "$root"/docker/compose/*.json; do
  res=$(pm run --rm -v "$cfg:/etc/kgate/kgate.json:ro,Z" "$IMAGE" --check --config /etc/kgate/kgate.json 2>&1) ||
    die "${cfg#"$root"/}: $res"
  ok "${cfg#"$root"/}: $res"
done
# The ECS task's kgate container as ECS starts it: its entryPoint writes
# KGATE_CONFIG to the file its command names (--check first, then for real),
# its health check passes in the image (without AWS credentials kgate still
# listens: sign-ins fail until it finds some), and the stop drains, exit 0.
# (Its nofile ulimit is above what this machine allows containers.)
for ep in "$IMAGE_DIR"/*.entrypoint.json; do
  stem=$(basename "$ep" .entrypoint.json)
  mapfile -t args <"$IMAGE_DIR/$stem.args"
  mapfile -t hc <"$IMAGE_DIR/$stem.healthcheck"
  ecs_run() { KGATE_CONFIG=$(cat "$IMAGE_DIR/$stem.kgate.json") pm run -e KGATE_CONFIG \
    -e AWS_EC2_METADATA_DISABLED=true --user 65532:65532 --entrypoint "$(cat "$ep")" "$@"; }
  res=$(ecs_run --rm "$IMAGE" --check "${args[@]}" 2>&1) || die "docker/ecs/$stem.json's entrypoint: $res"
  ok "docker/ecs/$stem.json's entrypoint, --check: $(head -1 <<<"$res")"
  ecs_run -d --name "$ECS" "$IMAGE" "${args[@]}" >/dev/null
  wait_for 30 "docker/ecs/$stem.json's health check (${hc[*]})" pm exec "$ECS" "${hc[@]}"
  pm stop -t 45 "$ECS" >/dev/null
  code=$(podman inspect --format '{{.State.ExitCode}}' "$ECS")
  podman logs "$ECS" >"$IMAGE_DIR/$stem.log" 2>&1
  [ "$code" = 0 ] && grep -q 'drained' "$IMAGE_DIR/$stem.log" ||
    die "docker/ecs/$stem.json's kgate: exit $code (log: $IMAGE_DIR/$stem.log)"
  pm rm "$ECS" >/dev/null
  ok "docker/ecs/$stem.json's kgate as ECS runs it: healthy (${hc[*]}), drained and exited 0 on stop"
done
# workers default to the CPUs kgate may use: a container's CPU limit caps
# them (the standalone example sets no "workers").
standalone=$IMAGE_DIR/standalone.kgate.json
for cpus in 1 "$(nproc)"; do
  res=$(pm run --rm --cpus "$cpus" -v "$standalone:/etc/kgate/kgate.json:ro,Z" "$IMAGE" --check \
    --config /etc/kgate/kgate.json 2>&1) || die "--cpus $cpus: $res"
  want="$cpus worker"
  [ "$cpus" = 1 ] || want="$cpus workers"
  grep -q ", $want\$" <<<"$res" || die "--cpus $cpus: expected $want: $res"
  ok "--cpus $cpus: $want"
done

# --- 4. compose ------------------------------------------------------------------------
compose() { (cd "$root/docker" && podman-compose -p "$COMPOSE_PROJECT" "$@"); }
compose_down() { compose -f compose.yaml down -t "$1" >>"$IMAGE_DIR/compose.log" 2>&1; }
# No Kafka image can be pulled here: compose.kafka.yaml is translated, not run
# (podman-compose 1.0.3 has no `config`; --dry-run prints the podman runs).
compose --dry-run -f compose.kafka.yaml up -d >"$IMAGE_DIR/compose.kafka.dry-run" 2>&1 ||
  { cat "$IMAGE_DIR/compose.kafka.dry-run" >&2; die "compose.kafka.yaml does not translate"; }
for svc in kafka kgate; do
  grep -q "^podman run --name=${COMPOSE_PROJECT}_${svc}_1 .*--healthcheck-command" \
    "$IMAGE_DIR/compose.kafka.dry-run" || die "compose.kafka.yaml: no health-checked $svc"
done
ok "compose.kafka.yaml translates: kafka and kgate, both health-checked"
compose -f compose.yaml up -d >"$IMAGE_DIR/compose.log" 2>&1 ||
  { cat "$IMAGE_DIR/compose.log" >&2; die "compose.yaml up"; }
wait_for 120 "compose.yaml's kgate ready" ready
cid=$(podman ps -q --filter "label=io.podman.compose.project=$COMPOSE_PROJECT")
pm healthcheck run "$cid" || die "compose.yaml's health check fails"
"$CLIENT_BIN" demo --bootstrap 127.0.0.1:9094 --messages 500 --expect-brokers "$BROKERS" \
  >"$IMAGE_DIR/compose-client.log" 2>&1 || { tail "$IMAGE_DIR/compose-client.log" >&2; die "client through compose.yaml"; }
ok "compose.yaml: healthy, $(grep -m1 '^summary' "$IMAGE_DIR/compose-client.log")"
compose_down 60

# --- 5. Kubernetes ------------------------------------------------------------------------
play=$IMAGE_DIR/sidecar-play.yaml
/usr/bin/python3 "$here/sidecar_play.py" "$root/docker/kubernetes/sidecar.yaml" "$IMAGE" \
  "$(dirname "$CLIENT_BIN")" >"$play"
pm kube play "$play" >"$IMAGE_DIR/kube-play.log" || die "kube play (log: $IMAGE_DIR/kube-play.log)"
pod=$(podman pod ps --format '{{.Name}}' --filter name=orders-producer)
wait_for 120 "the sidecar's /readyz" podman exec "$pod-kgate" kgate-healthcheck /readyz
pm healthcheck run "$pod-kgate" || die "the sidecar's liveness probe fails"
ok "sidecar pod $pod: kgate ready and live (its probes' command)"
podman exec "$pod-app" "/opt/test/$(basename "$CLIENT_BIN")" demo --bootstrap 127.0.0.1:9094 \
  --messages 500 --expect-brokers "$BROKERS" >"$IMAGE_DIR/sidecar-client.log" 2>&1 ||
  { tail "$IMAGE_DIR/sidecar-client.log" >&2; die "client in the application container"; }
ok "application container through the sidecar: $(grep -m1 '^summary' "$IMAGE_DIR/sidecar-client.log")"
[ "$(podman exec "$pod-kgate" id -u)" = 65532 ] || die "the sidecar runs as $(podman exec "$pod-kgate" id -u)"
pm pod stop -t 60 "$pod" >/dev/null
code=$(podman inspect --format '{{.State.ExitCode}}' "$pod-kgate")
[ "$code" = 0 ] || die "the sidecar exited $code when its pod stopped"
ok "pod stopped: the sidecar drained and exited 0"
pm kube down "$play" >/dev/null

if [ ! -x "$KV_VENV/bin/kubernetes-validate" ]; then
  rm -rf "$KV_VENV"
  /usr/bin/python3 -m venv "$KV_VENV"
  "$KV_VENV/bin/pip" install -q "kubernetes-validate==$KV_VERSION" >"$IMAGE_DIR/pip.log" 2>&1 ||
    { cat "$IMAGE_DIR/pip.log" >&2; die "kubernetes-validate from PyPI"; }
fi
for k in 1.29.0 "$KV_VERSION"; do
  "$KV_VENV/bin/kubernetes-validate" --strict --quiet -k "$k" "$root"/docker/kubernetes/*.yaml ||
    die "docker/kubernetes/ against Kubernetes $k"
done
ok "docker/kubernetes/*.yaml valid (strict) against Kubernetes 1.29.0 and $KV_VERSION"
# The venv sees Debian's python3-yaml, for the cross-check with sidecar-iam.yaml.
if ! "$BOTO_VENV/bin/python" -c 'import botocore, yaml' 2>/dev/null; then
  rm -rf "$BOTO_VENV"
  /usr/bin/python3 -m venv --system-site-packages "$BOTO_VENV"
  "$BOTO_VENV/bin/pip" install -q "botocore==$BOTO_VERSION" >"$IMAGE_DIR/pip-botocore.log" 2>&1 ||
    { cat "$IMAGE_DIR/pip-botocore.log" >&2; die "botocore from PyPI"; }
fi
"$BOTO_VENV/bin/python" "$root/scripts/check_examples.py" --botocore "$KGATE_BIN" \
  >"$IMAGE_DIR/check_examples.log" 2>&1 ||
  { cat "$IMAGE_DIR/check_examples.log" >&2; die "scripts/check_examples.py --botocore"; }
ok "docker/ecs/*.json valid against ECS's API model (botocore $BOTO_VERSION), docker/iam/*.json and the examples consistent"

log "image tier: $checks checks passed in $((SECONDS - t0)) s (image $((size / 1000000)) MB, built in $build_s s)"
