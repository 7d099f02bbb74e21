"""Random but realistic field values, filled in from the schemas.

Gen fills the fields of one (api, version); the cases override the fields
they are about. All randomness comes from the vector's own RNG.
"""

import struct

from .schema import SchemaError
from .wire import known_tagged


TOPICS = ["orders", "payments.v1", "clickstream-raw", "__consumer_offsets", "inventory-updates",
          "user-events", "audit.log", "metrics_1m", "__transaction_state", "shipments",
          "fraud-scores", "cdc.public.customers"]
GROUPS = ["payments-consumer", "analytics-etl", "orders-service", "txn-producer-17",
          "connect-cluster", "share-group-a", "search-indexer", "billing-v2"]
RACKS = ["use1-az1", "use1-az2", "use1-az4", "eu-central-1a", "rack-3"]
PORTS = [9092, 9092, 9092, 9094, 9093, 9096, 19092, 29092]
ERROR_MESSAGES = ["The coordinator is not available.",
                  "This is not the correct coordinator.",
                  "The coordinator is loading and hence can't process requests.",
                  "Not authorized to access group: analytics-etl"]
LABELS = ["prod", "kafka", "cluster", "east", "events", "msk", "core", "data", "platform", "west",
          "broker", "plane", "stream", "az1", "az2", "c4", "c12", "internal2"]
# Unknown tag numbers: 127/128 sit on the uvarint 1-/2-byte boundary.
UNKNOWN_TAGS = [5, 77, 127, 128, 300, 20000]


def orig_host(rng, node_id):
    """A realistic broker hostname for a node id."""
    n = node_id if node_id >= 0 else 0
    pick = rng.randrange(8)
    if pick == 0:
        return f"b-{n}.msk.internal"
    if pick == 1:
        return "127.0.0.1"
    if pick == 2:
        return f"broker-{n}.kafka.svc.cluster.local"
    if pick == 3:
        return f"10.0.{rng.randint(0, 15)}.{rng.randint(2, 254)}"
    if pick == 4:
        return f"kafka-{max(n - 1, 0)}.kafka-headless.kafka.svc.cluster.local"
    if pick == 5:
        return f"ip-10-0-{rng.randint(0, 15)}-{rng.randint(2, 254)}.ec2.internal"
    if pick == 6:
        tag = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(6))
        return f"b-{n}.prod-cluster.{tag}.c4.kafka.us-east-1.amazonaws.com"
    return f"kafka{n}.internal.example.net"


def host_of_len(rng, length, node_id):
    """A plausible hostname of exactly `length` characters (7..253)."""
    if 7 <= length <= 15:
        # dotted quad: distribute the digits over four octets
        digits = length - 3
        # private 10.x addresses where the length allows, like real brokers
        counts = [2, 1, 1, 1] if 5 <= digits <= 11 else [1, 1, 1, 1]
        i = 3
        while sum(counts) < digits:
            if counts[i] < 3:
                counts[i] += 1
            i = (i - 1) % 4
        lo = {1: 1, 2: 10, 3: 100}
        hi = {1: 9, 2: 99, 3: 254}
        octets = [rng.randint(lo[c], hi[c]) for c in counts]
        if counts[0] == 2:
            octets[0] = 10
        return ".".join(map(str, octets))
    if length < 7:
        raise ValueError(length)
    prefix, suffix = f"b-{node_id}.", ".example.internal"
    mid = ""
    while len(prefix) + len(mid) + len(suffix) < length:
        mid += ("." if mid and rng.random() < 0.3 else "-" if mid else "") + rng.choice(LABELS)
    s = (prefix + mid)[:length - len(suffix)]
    s = s.rstrip(".-")
    while len(s) + len(suffix) < length:
        s += rng.choice("abcdefghijklmnopqrstuvwxyz")
    return s + suffix


def records_blob(rng, size=None):
    """A Fetch records blob: null, empty or RecordBatch-shaped bytes.

    kgate must never look inside, but realistic batch headers make a hex dump
    of a vector easier to read. The last batch may be truncated, as in real
    fetch responses."""
    if size is None:
        p = rng.random()
        if p < 0.12:
            return None
        if p < 0.24:
            return b""
        size = rng.randint(60, 600) if p < 0.8 else rng.randint(600, 4000)
    out = bytearray()
    base = rng.randint(0, 10**9)
    while len(out) < size:
        payload = rng.randbytes(rng.randint(20, 900))
        batch_len = 49 + len(payload)
        out += struct.pack(">qiib", base, batch_len, rng.randint(0, 50), 2)
        out += rng.randbytes(4)  # crc
        out += struct.pack(">hi", 0, rng.randint(0, 20))
        out += struct.pack(">qq", 1_700_000_000_000 + rng.randint(0, 10**9), 1_700_000_000_000 + rng.randint(0, 10**9))
        out += struct.pack(">qhii", -1, -1, -1, rng.randint(1, 20))
        out += payload
        base += 21
    return bytes(out[:size])


OMIT = object()

ARRAY_LEN = {"Brokers": (1, 5), "Topics": (1, 3), "Partitions": (1, 3), "ReplicaNodes": (1, 3),
             "IsrNodes": (1, 3), "OfflineReplicas": (0, 1), "Responses": (1, 3),
             "PartitionResponses": (1, 3), "RecordErrors": (0, 0), "AbortedTransactions": (1, 3),
             "Coordinators": (1, 3), "NodeEndpoints": (1, 3), "ApiKeys": (1, 4),
             "SupportedFeatures": (1, 3), "FinalizedFeatures": (1, 2)}
TAG_PROB = {"DivergingEpoch": 0.2, "CurrentLeader": 0.3, "SnapshotId": 0.15}


class Gen:
    """Schema-driven random filler for one (api, version)."""

    def __init__(self, proto, api, version, rng):
        self.proto, self.api, self.v, self.rng = proto, api, version, rng
        self.spec = proto.spec(api, version)
        self.flex = version in self.spec.flexible

    def has(self, fields, name):
        return any(f.name == name and self.v in f.versions for f in fields)

    def struct(self, fields, **over):
        d = {}
        for f in fields:
            if self.v not in f.versions:
                continue
            if f.name in over:
                if over[f.name] is not OMIT:
                    d[f.name] = over[f.name]
                continue
            if self.flex and f.is_tagged(self.v):
                if self.rng.random() < TAG_PROB.get(f.name, 0.0):
                    d[f.name] = self.value(f)
                continue
            d[f.name] = self.value(f)
        return d

    def entries(self, f, overrides):
        return [self.struct(f.fields, **o) for o in overrides]

    def value(self, f):
        r = self.rng
        nullable = self.v in f.nullable
        if f.is_array:
            if nullable and r.random() < 0.4:
                return None
            lo, hi = ARRAY_LEN.get(f.name, (0, 2))
            if f.name == "RecordErrors" and r.random() < 0.2:
                lo, hi = 1, 2
            n = r.randint(lo, hi)
            if f.fields is not None:
                return [self.struct(f.fields) for _ in range(n)]
            if f.elem == "int32":
                return r.sample([1, 2, 3, 4, 5, 7], n)
            return [self.prim(f.name, f.elem, False) for _ in range(n)]
        if f.fields is not None:
            return self.struct(f.fields)
        return self.prim(f.name, f.elem, nullable)

    def prim(self, name, t, nullable):
        r = self.rng
        if t == "string":
            if name == "Host":
                return orig_host(r, r.choice([1, 2, 3, 4]))
            if name == "Rack":
                return None if r.random() < 0.4 else r.choice(RACKS)
            if name in ("Name", "Topic"):
                return r.choice(TOPICS)
            if name == "ClusterId":
                return "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
                               for _ in range(22))
            if name == "Key":
                return r.choice(GROUPS)
            if nullable and r.random() < 0.8:
                return None
            return r.choice(ERROR_MESSAGES)
        if t == "bool":
            return r.random() < 0.3
        if t == "uuid":
            return r.randbytes(16)
        if t == "records":
            return records_blob(r)
        if t == "bytes":
            return r.randbytes(r.randint(0, 32))
        if t == "float64":
            return round(r.random() * 1000, 3)
        if name == "ErrorCode":
            # UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER,
            # TOPIC_AUTHORIZATION_FAILED
            return 0 if r.random() < 0.85 else r.choice([3, 5, 6, 29])
        if name == "ThrottleTimeMs":
            return 0 if r.random() < 0.8 else r.randint(1, 3000)
        if name in ("NodeId", "BrokerId", "LeaderId", "ControllerId"):
            return r.choice([1, 2, 3, 4, 7, 1000])
        if name == "PreferredReadReplica":
            return -1 if r.random() < 0.8 else r.choice([1, 2, 3, 4])
        if name in ("PartitionIndex", "Index"):
            return r.randint(0, 47)
        if name == "Port":
            return r.choice(PORTS)
        if name in ("LeaderEpoch", "Epoch"):
            return r.randint(0, 300)
        if name == "SessionId":
            return 0 if r.random() < 0.5 else r.randint(1, 2**31 - 1)
        if name.endswith("AuthorizedOperations"):
            return -2147483648 if r.random() < 0.6 else r.choice([0x0DF8, 0x1FF8, 0x0F88, 0x0008])
        if name == "LogAppendTimeMs":
            return -1 if r.random() < 0.7 else 1_700_000_000_000 + r.randint(0, 10**10)
        if name == "ProducerId":
            return r.randint(1000, 10**7)
        if name == "FinalizedFeaturesEpoch":
            return r.randint(0, 10**6)
        if t == "int8":
            return r.randint(0, 2)
        if t == "int16":
            return r.randint(0, 30)
        if t in ("int32", "uint16"):
            return r.randint(0, 1000)
        if t == "uint32":
            return r.randint(0, 2**32 - 1)
        if t == "int64":
            return r.randint(0, 10**9)
        raise SchemaError(f"no generator for {name}:{t}")

    def header(self):
        return {"CorrelationId": self.rng.randint(0, 2**31 - 1)}

    def header_flexible(self):
        return self.proto.header_version(self.api, self.v) == 1


def inject_unknown(rng, fields, val, version, prob, force=False):
    """Add unknown tagged fields to every struct of a (flexible) tree."""
    if isinstance(val, list):
        for e in val:
            inject_unknown(rng, fields, e, version, prob, force)
        return
    if force or rng.random() < prob:
        known = set(known_tagged(fields, version))
        pool = [t for t in UNKNOWN_TAGS if t not in known]
        tags = sorted(rng.sample(pool, rng.randint(1, 3) if force else 1))
        val["_unknown"] = [(t, rng.randbytes(rng.randint(0, 40))) for t in tags]
    for f in fields:
        if f.fields is not None and version in f.versions and val.get(f.name) is not None:
            inject_unknown(rng, f.fields, val[f.name], version, prob, force)
