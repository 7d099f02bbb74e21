#!/usr/bin/env python3
"""check_examples.py — the AWS deployment examples in docker/, checked
without AWS (`make lint`; the image tier again, with ECS's API model):

  docker/ecs/*.json    ECS task definitions: the fields a kgate sidecar
                       needs (task role, awsvpc, an essential kgate with a
                       kgate-healthcheck health check, nofile, a stopTimeout
                       longer than the drain, the other containers started
                       once it is healthy), Fargate's limits, and the kgate
                       configuration inside (KGATE_CONFIG) through
                       `kgate --check`;
  docker/iam/*.json    IAM policies: JSON, policy grammar, MSK's
                       kafka-cluster actions on the resource types AWS
                       documents for them, each use case's companion
                       actions, and the trust policies' principals;
  across them          one account, region and cluster everywhere, and the
                       IRSA trust policy naming docker/kubernetes/
                       sidecar-iam.yaml's service account.

  scripts/check_examples.py [--botocore] [--extract DIR] [KGATE_BIN]

--botocore also validates each task definition against the ECS API's own
model (botocore's RegisterTaskDefinition input: unknown keys, types, enum
values), as kubernetes-validate does for the Kubernetes examples.
--extract DIR writes, for each task definition, kgate's configuration
(DIR/STEM.kgate.json), its entryPoint (STEM.entrypoint.json), command
(STEM.args) and health check (STEM.healthcheck), one argument a line: the
image tier runs them in the image as ECS would.  Without KGATE_BIN the
configurations are not `--check`ed here (the image tier does it).
"""
import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
errors = []
notes = []


def err(where, msg):
    errors.append(f"{where}: {msg}")


def load_json(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        err(path.relative_to(ROOT), f"not JSON: {e}")
        return None


# --- IAM -------------------------------------------------------------------

# MSK's kafka-cluster actions and the resource each applies to (AWS, "Semantics
# of IAM authorization policy actions and resources").
MSK_ACTIONS = {
    "Connect": "cluster", "DescribeCluster": "cluster", "AlterCluster": "cluster",
    "DescribeClusterDynamicConfiguration": "cluster",
    "AlterClusterDynamicConfiguration": "cluster", "WriteDataIdempotently": "cluster",
    "CreateTopic": "topic", "DescribeTopic": "topic", "AlterTopic": "topic",
    "DeleteTopic": "topic", "DescribeTopicDynamicConfiguration": "topic",
    "AlterTopicDynamicConfiguration": "topic", "ReadData": "topic", "WriteData": "topic",
    "DescribeGroup": "group", "AlterGroup": "group", "DeleteGroup": "group",
    "DescribeTransactionalId": "transactional-id", "AlterTransactionalId": "transactional-id",
}
# What each use case needs besides its own action (AWS, "Common use cases for
# client authorization policy"): an action without its companions fails at
# the broker with an authorization error that names none of them.
MSK_NEEDS = {
    "ReadData": {"Connect", "DescribeTopic", "DescribeGroup", "AlterGroup"},
    "WriteData": {"Connect", "DescribeTopic"},
    "WriteDataIdempotently": {"Connect", "DescribeTopic", "WriteData"},
    "AlterTransactionalId": {"Connect", "DescribeTopic", "WriteData", "DescribeTransactionalId"},
    "CreateTopic": {"Connect"},
    "DescribeTopic": {"Connect"},
    "DescribeGroup": {"Connect"},
    "AlterGroup": {"Connect", "DescribeGroup"},
    "DescribeTransactionalId": {"Connect"},
    "DescribeCluster": {"Connect"},
}
# arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID, topic/NAME/UUID/TOPIC, ...
MSK_ARN = re.compile(r"^arn:aws(?:-cn|-us-gov)?:kafka:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
                     r"(?P<type>cluster|topic|group|transactional-id)/(?P<cluster>[A-Za-z0-9-]+)/"
                     r"(?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-\d+|\*)"
                     r"(?:/(?P<name>.+))?$")
ROLE_ARN = re.compile(r"^arn:aws(?:-cn|-us-gov)?:iam::(?P<account>\d{12}):role/[\w+=,.@/-]+$")
OIDC_ARN = re.compile(r"^arn:aws(?:-cn|-us-gov)?:iam::(?P<account>\d{12}):oidc-provider/"
                      r"(?P<host>oidc\.eks\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/id/[0-9A-Z]+)$")


def as_list(v):
    return v if isinstance(v, list) else [v]


def check_policy_grammar(where, doc):
    if not isinstance(doc, dict) or doc.get("Version") != "2012-10-17":
        err(where, 'expected an object with "Version": "2012-10-17"')
        return []
    st = doc.get("Statement")
    if not isinstance(st, list) or not st:
        err(where, '"Statement": expected a non-empty list')
        return []
    sids = set()
    for i, s in enumerate(st):
        w = f"{where}: Statement[{i}]"
        unknown = set(s) - {"Sid", "Effect", "Principal", "Action", "Resource", "Condition"}
        if unknown:
            err(w, f"unknown keys {sorted(unknown)}")
        if s.get("Effect") not in ("Allow", "Deny"):
            err(w, '"Effect": expected "Allow" or "Deny"')
        if not s.get("Action") or not all(isinstance(a, str) for a in as_list(s["Action"])):
            err(w, '"Action": expected a string or a list of strings')
        if s.get("Sid") in sids:
            err(w, f'Sid "{s["Sid"]}" used twice')
        sids.add(s.get("Sid"))
    return st


def check_msk_policy(where, st):
    """Returns the (region, account, cluster, uuid) the policy names."""
    granted, clusters, uuids = set(), set(), set()
    for i, s in enumerate(st):
        w = f"{where}: Statement[{i}]"
        if "Principal" in s:
            err(w, "an identity policy has no Principal")
        resources = as_list(s.get("Resource", []))
        parsed = []
        for r in resources:
            m = MSK_ARN.match(r) if isinstance(r, str) else None
            if not m:
                err(w, f'Resource "{r}": expected arn:aws:kafka:REGION:ACCOUNT:'
                       "cluster/NAME/UUID (or topic|group|transactional-id/NAME/UUID/NAME)")
                continue
            if m["type"] == "cluster" and m["name"] is not None or \
                    m["type"] != "cluster" and m["name"] is None and m["uuid"] != "*":
                err(w, f'Resource "{r}": a cluster ARN ends at the UUID, the others name '
                       "a topic, group or transactional id after it")
            parsed.append(m)
            clusters.add((m["region"], m["account"], m["cluster"]))
            uuids.add(m["uuid"])
        for a in as_list(s.get("Action", [])):
            svc, _, name = a.partition(":")
            if svc != "kafka-cluster" or name not in MSK_ACTIONS:
                err(w, f'Action "{a}": not one of MSK\'s kafka-cluster actions')
                continue
            for m in parsed:
                if m["type"] != MSK_ACTIONS[name]:
                    err(w, f'{a} applies to {MSK_ACTIONS[name]} resources, not '
                           f'{m["type"]} ({m.group(0)})')
            if s.get("Effect") == "Allow":
                granted.add(name)
    for a in sorted(granted):
        missing = MSK_NEEDS.get(a, set()) - granted
        if missing:
            err(where, f"kafka-cluster:{a} also needs {', '.join(sorted(missing))}")
    uuids.discard("*")
    if len(clusters) != 1 or len(uuids) > 1:
        err(where, f"expected one cluster (region, account, name, UUID) in every ARN, "
                   f"found {sorted(clusters)} {sorted(uuids)}")
        return None
    return next(iter(clusters))


def check_trust_policy(where, st):
    """Returns {"kind": ..., ...} for the cross-checks."""
    s = st[0]
    p = s.get("Principal", {})
    actions = set(as_list(s.get("Action", [])))
    if len(st) != 1 or s.get("Effect") != "Allow" or not isinstance(p, dict):
        err(where, "expected one Allow statement with a Principal")
        return None
    if "Federated" in p:
        m = OIDC_ARN.match(p["Federated"])
        if not m:
            err(where, f'Principal.Federated "{p["Federated"]}": expected an EKS OIDC provider ARN')
            return None
        if actions != {"sts:AssumeRoleWithWebIdentity"}:
            err(where, "IRSA: Action must be sts:AssumeRoleWithWebIdentity")
        cond = s.get("Condition", {}).get("StringEquals", {})
        sub, aud = cond.get(m["host"] + ":sub"), cond.get(m["host"] + ":aud")
        if aud != "sts.amazonaws.com":
            err(where, f'IRSA: Condition StringEquals "{m["host"]}:aud" must be "sts.amazonaws.com"')
        sm = re.match(r"^system:serviceaccount:([a-z0-9-]+):([a-z0-9.-]+)$", sub or "")
        if not sm:
            err(where, f'IRSA: Condition StringEquals "{m["host"]}:sub" must name one service '
                       '"system:serviceaccount:NAMESPACE:NAME" (StringEquals, not a wildcard)')
            return None
        return {"kind": "irsa", "account": m["account"], "region": m["region"],
                "namespace": sm[1], "service_account": sm[2]}
    service = p.get("Service")
    if service == "pods.eks.amazonaws.com":
        if actions != {"sts:AssumeRole", "sts:TagSession"}:
            err(where, "EKS Pod Identity: Action must be sts:AssumeRole and sts:TagSession")
        return {"kind": "pod-identity"}
    if service == "ecs-tasks.amazonaws.com":
        if actions != {"sts:AssumeRole"}:
            err(where, "ECS task role: Action must be sts:AssumeRole")
        acct = s.get("Condition", {}).get("StringEquals", {}).get("aws:SourceAccount")
        return {"kind": "ecs", "account": acct}
    err(where, f"a trust policy for {p}: not one this checker knows")
    return None


def check_iam():
    found = {}
    for f in sorted((ROOT / "docker/iam").glob("*.json")):
        where = str(f.relative_to(ROOT))
        doc = load_json(f)
        if doc is None:
            continue
        st = check_policy_grammar(where, doc)
        if not st:
            continue
        if any("Principal" in s for s in st):
            t = check_trust_policy(where, st)
            if t:
                found.setdefault(t["kind"], []).append((where, t))
        else:
            c = check_msk_policy(where, st)
            if c:
                found.setdefault("msk", []).append((where, c))
        notes.append(f"{where}: a valid {'trust' if any('Principal' in s for s in st) else 'MSK access'} policy")
    return found


# --- ECS -------------------------------------------------------------------

# Fargate's task sizes: CPU units -> memory (MiB) allowed.
FARGATE_SIZES = {
    256: {512, 1024, 2048},
    512: set(range(1024, 4097, 1024)),
    1024: set(range(2048, 8193, 1024)),
    2048: set(range(4096, 16385, 1024)),
    4096: set(range(8192, 30721, 1024)),
    8192: set(range(16384, 61441, 4096)),
    16384: set(range(32768, 122881, 8192)),
}
FARGATE_MAX_STOP_TIMEOUT = 120
FARGATE_MAX_NOFILE = 1048576
DRAIN_DEFAULT_MS = 30000
BROKER_HOST = re.compile(r"^b-\d+(?:-public)?\.(?P<cluster>[A-Za-z0-9-]+)\.[a-z0-9]+\.c\d+\.kafka\."
                         r"(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?:(?P<port>\d+)$")


def env_of(c):
    return {e.get("name"): e.get("value") for e in c.get("environment", [])}


def kgate_check(where, cfg_text, kgate):
    """`kgate --check` on the configuration, with no region in the
    environment: the task sets "region" itself."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as t:
        t.write(cfg_text)
    env = {k: v for k, v in os.environ.items()
           if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    try:
        r = subprocess.run([kgate, "--check", "--config", t.name], env=env,
                           capture_output=True, text=True, timeout=30)
    finally:
        os.unlink(t.name)
    out = (r.stdout + r.stderr).strip().replace(t.name, "KGATE_CONFIG")
    if r.returncode != 0:
        err(where, f"kgate --check: exit {r.returncode}: {out}")
    else:
        notes.append(f"{where}: kgate --check: {out.splitlines()[0]}")


def config_facts(where, cfg):
    """The region and cluster a kgate configuration signs in to, from its
    upstream_sasl and its MSK broker names."""
    sasl = cfg.get("upstream_sasl", {})
    hosts = list(cfg.get("bootstrap", {}).get("upstream", []))
    hosts += [b["upstream"] for b in cfg.get("brokers", []) if "upstream" in b]
    facts = set()
    for h in hosts:
        m = BROKER_HOST.match(h)
        if not m:
            err(where, f'upstream "{h}": not an MSK broker name (b-N.CLUSTER.ID.cN.kafka.REGION.amazonaws.com:PORT)')
            continue
        if sasl.get("mechanism") in ("OAUTHBEARER", "AWS_MSK_IAM") and m["port"] not in ("9098", "9198"):
            err(where, f'upstream "{h}": MSK\'s IAM listeners are 9098 (VPC) and 9198 (public)')
        facts.add((m["region"], m["cluster"]))
    if sasl.get("region") and any(r != sasl["region"] for r, _ in facts):
        err(where, f'upstream_sasl.region "{sasl["region"]}" is not the brokers\' region')
    return facts


def check_task(path, kgate, extract, model):
    where = str(path.relative_to(ROOT))
    td = load_json(path)
    if td is None:
        return None
    if model:
        check_against_model(where, td, model)
    for k in ("family", "taskRoleArn", "executionRoleArn", "containerDefinitions"):
        if k not in td:
            err(where, f'"{k}" missing')
    m = ROLE_ARN.match(td.get("taskRoleArn", ""))
    if not m:
        err(where, '"taskRoleArn": expected arn:aws:iam::ACCOUNT:role/NAME (the role kgate signs in as)')
    account = m["account"] if m else None
    if td.get("networkMode") != "awsvpc":
        err(where, '"networkMode": expected "awsvpc" (the containers share one loopback, '
                   "where kgate listens)")
    cds = td.get("containerDefinitions", [])
    names = [c.get("name") for c in cds]
    if len(set(names)) != len(names):
        err(where, f"container names repeat: {names}")
    if "FARGATE" in td.get("requiresCompatibilities", []):
        try:
            cpu, mem = int(td["cpu"]), int(td["memory"])
        except (KeyError, ValueError):
            err(where, 'Fargate needs task-level "cpu" and "memory" (strings of numbers)')
        else:
            if mem not in FARGATE_SIZES.get(cpu, set()):
                err(where, f"Fargate has no task size of {cpu} CPU units with {mem} MiB")
            if sum(c.get("cpu", 0) for c in cds) > cpu:
                err(where, "the containers' cpu adds up to more than the task's")
            if sum(c.get("memory", c.get("memoryReservation", 0)) for c in cds) > mem:
                err(where, "the containers' memory adds up to more than the task's")
    kg = [c for c in cds if "KGATE_CONFIG" in env_of(c)]
    if len(kg) != 1:
        err(where, "expected one container with KGATE_CONFIG (kgate's configuration) "
                   "in its environment")
        return None
    k = kg[0]
    kw = f"{where}: container {k.get('name')}"
    if k.get("essential") is not True:
        err(kw, '"essential": true — the application cannot reach Kafka without it')
    user = str(k.get("user", ""))
    if not re.match(r"^[1-9]\d*(:[1-9]\d*)?$", user):
        err(kw, f'"user" "{user}": expected a numeric non-root uid[:gid] (the image\'s is 65532:65532)')
    hc = k.get("healthCheck", {})
    cmd = hc.get("command", [])
    if not cmd or cmd[0] not in ("CMD", "CMD-SHELL") or not any("kgate-healthcheck" in x for x in cmd):
        err(kw, '"healthCheck.command": expected ["CMD", "kgate-healthcheck", "/healthz"] '
                "(the image's health check)")
    for key, lo, hi in (("interval", 5, 300), ("timeout", 2, 60), ("retries", 1, 10),
                        ("startPeriod", 0, 300)):
        v = hc.get(key)
        if not isinstance(v, int) or not lo <= v <= hi:
            err(kw, f'"healthCheck.{key}": expected {lo}-{hi} (ECS\'s range), got {v}')
    if isinstance(hc.get("timeout"), int) and isinstance(hc.get("interval"), int) \
            and hc["timeout"] >= hc["interval"]:
        err(kw, '"healthCheck.timeout" must be shorter than its interval')
    nofile = [u for u in k.get("ulimits", []) if u.get("name") == "nofile"]
    if len(nofile) != 1:
        err(kw, '"ulimits": set "nofile" explicitly (two descriptors per client connection)')
    elif not 1024 <= nofile[0].get("softLimit", 0) <= nofile[0].get("hardLimit", 0) <= FARGATE_MAX_NOFILE:
        err(kw, f'"ulimits" nofile: expected 1024 <= softLimit <= hardLimit <= {FARGATE_MAX_NOFILE}')
    env = env_of(k)
    cfg_text = env["KGATE_CONFIG"]
    try:
        cfg = json.loads(cfg_text)
    except ValueError as e:
        err(kw, f"KGATE_CONFIG: not JSON: {e}")
        return None
    drain_s = cfg.get("limits", {}).get("drain_timeout_ms", DRAIN_DEFAULT_MS) / 1000
    stop = k.get("stopTimeout")
    if not isinstance(stop, int) or not drain_s + 5 <= stop <= FARGATE_MAX_STOP_TIMEOUT:
        err(kw, f'"stopTimeout": expected {drain_s + 5:.0f}-{FARGATE_MAX_STOP_TIMEOUT} s '
                f"(kgate's drain is {drain_s:.0f} s; Fargate allows at most "
                f"{FARGATE_MAX_STOP_TIMEOUT}), got {stop}")
    admin = env.get("KGATE_ADMIN", "127.0.0.1:9644")
    if cfg.get("admin", {}).get("listen") not in (admin, "0.0.0.0:9644" if admin == "127.0.0.1:9644" else admin):
        err(kw, f"KGATE_CONFIG: admin.listen must be {admin}, where kgate-healthcheck asks "
                "(or set KGATE_ADMIN)")
    args = k.get("command", [])
    path_arg = args[args.index("--config") + 1] if "--config" in args[:-1] else None
    script = " ".join(k.get("entryPoint", []))
    if not path_arg or "KGATE_CONFIG" not in script or path_arg not in script:
        err(kw, '"entryPoint" must write $KGATE_CONFIG to the file "command" passes '
                "to --config")
    for c in cds:
        if c is k:
            continue
        deps = {d.get("containerName"): d.get("condition") for d in c.get("dependsOn", [])}
        if deps.get(k.get("name")) != "HEALTHY":
            err(f"{where}: container {c.get('name')}", f'"dependsOn": {{"containerName": '
                f'"{k.get("name")}", "condition": "HEALTHY"}} — start once kgate listens')
        for d in deps:
            if d not in names:
                err(f"{where}: container {c.get('name')}", f'"dependsOn" names no container "{d}"')
    if kgate:
        kgate_check(kw, cfg_text, kgate)
    if extract:
        out = pathlib.Path(extract)
        (out / f"{path.stem}.kgate.json").write_text(cfg_text + "\n")
        (out / f"{path.stem}.entrypoint.json").write_text(json.dumps(k.get("entryPoint", [])))
        (out / f"{path.stem}.args").write_text("".join(f"{x}\n" for x in args))
        (out / f"{path.stem}.healthcheck").write_text("".join(f"{x}\n" for x in cmd[1:]))
    return {"account": account, "facts": config_facts(kw, cfg)}


def load_model():
    try:
        import botocore.session
    except ImportError:
        sys.exit("check_examples: --botocore needs botocore (pip install botocore)")
    op = botocore.session.get_session().get_service_model("ecs") \
        .operation_model("RegisterTaskDefinition")
    return op.input_shape


def check_against_model(where, td, shape):
    from botocore.validate import ParamValidator
    report = ParamValidator().validate(td, shape)
    if report.has_errors():
        for line in report.generate_report().splitlines():
            err(where, f"ECS API model: {line}")

    def enums(value, s, path):
        if s.type_name == "structure" and isinstance(value, dict):
            for k, v in value.items():
                if k in s.members:
                    enums(v, s.members[k], f"{path}.{k}" if path else k)
        elif s.type_name == "list" and isinstance(value, list):
            for i, v in enumerate(value):
                enums(v, s.member, f"{path}[{i}]")
        elif s.type_name == "map" and isinstance(value, dict):
            for k, v in value.items():
                enums(v, s.value, f"{path}.{k}")
        elif getattr(s, "enum", None) and value not in s.enum:
            err(where, f"ECS API model: {path}: \"{value}\" is not one of {s.enum}")
    enums(td, shape, "")
    notes.append(f"{where}: valid against the ECS API model (botocore "
                 f"{__import__('botocore').__version__}, RegisterTaskDefinition)")


# --- across the examples ----------------------------------------------------

def kubernetes_sidecar():
    """docker/kubernetes/sidecar-iam.yaml's service account, role and kgate
    configuration, or None without PyYAML."""
    try:
        import yaml
    except ImportError:
        notes.append("docker/kubernetes/sidecar-iam.yaml: not cross-checked (no python3-yaml)")
        return None
    docs = [d for d in yaml.safe_load_all((ROOT / "docker/kubernetes/sidecar-iam.yaml").read_text()) if d]
    by_kind = {d["kind"]: d for d in docs}
    sa = by_kind["ServiceAccount"]
    dep = by_kind["Deployment"]
    cm = by_kind["ConfigMap"]
    return {"name": sa["metadata"]["name"],
            "namespace": sa["metadata"].get("namespace", "default"),
            "role": sa["metadata"].get("annotations", {}).get("eks.amazonaws.com/role-arn", ""),
            "pod_sa": dep["spec"]["template"]["spec"].get("serviceAccountName"),
            "cfg": json.loads(cm["data"]["kgate.json"])}


def cross_check(iam, tasks, k8s):
    msk = iam.get("msk", [])
    if len(msk) != 1:
        err("docker/iam", "expected one MSK access policy")
        return
    pwhere, (region, account, cluster) = msk[0]
    configs = [(w, t["facts"]) for w, t in tasks]
    for w, t in tasks:
        if t["account"] != account:
            err(w, f"taskRoleArn's account {t['account']} is not {pwhere}'s ({account})")
    for where, t in iam.get("ecs", []):
        if t["account"] != account:
            err(where, f"aws:SourceAccount {t['account']} is not {pwhere}'s ({account})")
    if k8s:
        w = "docker/kubernetes/sidecar-iam.yaml"
        configs.append((w, config_facts(w, k8s["cfg"])))
        if k8s["pod_sa"] != k8s["name"]:
            err(w, f"the Deployment runs as service account {k8s['pod_sa']}, not {k8s['name']}")
        rm = ROLE_ARN.match(k8s["role"])
        if not rm or rm["account"] != account:
            err(w, f"eks.amazonaws.com/role-arn \"{k8s['role']}\": expected a role in {account}")
        for where, t in iam.get("irsa", []):
            if (t["namespace"], t["service_account"]) != (k8s["namespace"], k8s["name"]):
                err(where, f"trusts system:serviceaccount:{t['namespace']}:{t['service_account']}, "
                           f"but {w} runs as {k8s['namespace']}:{k8s['name']}")
            if t["account"] != account:
                err(where, f"OIDC provider in account {t['account']}, the role's is {account}")
    for w, facts in configs:
        for r, c in facts:
            if (r, c) != (region, cluster):
                err(w, f"signs in to cluster {c} in {r}; {pwhere} grants {cluster} in {region}")
    notes.append(f"one account ({account}), region ({region}) and cluster ({cluster}) "
                 "across docker/iam, docker/ecs" + (" and sidecar-iam.yaml" if k8s else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--botocore", action="store_true")
    ap.add_argument("--extract", metavar="DIR")
    ap.add_argument("kgate", nargs="?")
    a = ap.parse_args()
    kgate = os.path.abspath(a.kgate) if a.kgate else None
    model = load_model() if a.botocore else None
    iam = check_iam()
    tasks = []
    for f in sorted((ROOT / "docker/ecs").glob("*.json")):
        t = check_task(f, kgate, a.extract, model)
        if t:
            tasks.append((str(f.relative_to(ROOT)), t))
    cross_check(iam, tasks, kubernetes_sidecar())
    if errors:
        for e in errors:
            print(f"check_examples: {e}", file=sys.stderr)
        sys.exit(1)
    for n in notes:
        print(f"check_examples: ok: {n}")


if __name__ == "__main__":
    main()
