"""The vector cases, per API and version.

A case is (suffix, notes, build, expect): build(gen) returns (header, body);
expect is an optional dict of properties the result must have, so that a
case labelled "shorter" provably exercises what its name claims.
"""

from .kgate import CAP, MAPPING
from .rewrite import kgate_rewrite
from .values import (ERROR_MESSAGES, GROUPS, OMIT, PORTS, TOPICS, host_of_len, inject_unknown,
                     orig_host, records_blob)


def pick_ids(rng, lo=1, hi=5):
    ids = []
    while not ids or not any(i in MAPPING for i in ids):
        ids = rng.sample([1, 2, 3, 4, 5, 7, 1000], rng.randint(lo, hi))
    return ids


def finish(gen, header, body, unknown="typical"):
    """Decide unknown-tag injection for a flexible body and header."""
    if unknown == "none":
        return header, body
    force = unknown == "all"
    prob = 0.15
    if gen.header_flexible():
        inject_unknown(gen.rng, gen.proto.header.fields, header, 1, prob, force)
    if gen.flex:
        inject_unknown(gen.rng, gen.spec.fields, body, gen.v, prob, force)
    return header, body


def endpoint_list(gen, f, specs, id_key="NodeId"):
    """specs: list of (id, host or None, port or None, rack or OMIT)."""
    overs = []
    for nid, host, port, rack in specs:
        o = {id_key: nid, "Host": host if host is not None else orig_host(gen.rng, nid),
             "Port": port if port is not None else gen.rng.choice(PORTS)}
        if rack is not OMIT:
            o["Rack"] = rack
        overs.append(o)
    return gen.entries(f, overs)


def std_endpoint_cases(kind):
    """Specs for endpoint lists shared by several APIs."""
    long1 = "b-1.production-events-cluster.x7k2q9.c12.kafka.eu-central-1.amazonaws.com"
    long2 = "b-2.production-events-cluster.x7k2q9.c12.kafka.eu-central-1.amazonaws.com"
    return {
        "empty": [],
        "all_unmapped": [(4, "broker-4.kafka.svc.cluster.local", 9092, OMIT),
                         (7, "10.0.3.17", 9094, OMIT), (1000, "b-1000.msk.internal", 9092, OMIT)],
        "null_rack": [(1, "b-1.msk.internal", 9092, None), (2, "b-2.msk.internal", 9092, None),
                      (4, "b-4.msk.internal", 9092, None)],
        "shorter": [(2, long2, 9094, OMIT), (1, long1, 9094, OMIT)],
        "longer": [(3, "127.0.0.1", 9092, OMIT), (1, "b-1", 9092, OMIT)],
        "same_length": [(2, "10.1.7.9", 9092, OMIT)],
    }[kind]


def metadata_cases(v):
    cases = []

    def build(broker_specs=None, n_brokers_random=None, unknown="typical"):
        def b(gen):
            bf = gen.spec.field("Brokers")
            if broker_specs is None:
                ids = pick_ids(gen.rng)
                specs = [(i, None, None, OMIT) for i in ids]
            else:
                specs = broker_specs(gen) if callable(broker_specs) else broker_specs
            brokers = endpoint_list(gen, bf, specs)
            topics = []
            tf = gen.spec.field("Topics")
            for _ in range(gen.rng.randint(0, 3)):
                t = gen.struct(tf.fields)
                if t.get("Name") is None:
                    t["ErrorCode"] = 100  # UNKNOWN_TOPIC_ID: only then is Name null
                if "IsInternal" in t:
                    t["IsInternal"] = t["Name"] is not None and t["Name"].startswith("__")
                topics.append(t)
            body = gen.struct(gen.spec.fields, Brokers=brokers, Topics=topics,
                              ControllerId=gen.rng.choice([s[0] for s in specs] or [-1]))
            return finish(gen, gen.header(), body, unknown)
        return b

    for i in range(4):
        cases.append((f"typical_{i}", "random brokers (mapped and unmapped ids) and topics", build(), None))
    cases.append(("empty_brokers", "no brokers at all", build(std_endpoint_cases("empty")), {"same": True}))
    cases.append(("all_unmapped", "only unmapped ids 4, 7, 1000: output == input",
                  build(std_endpoint_cases("all_unmapped")), {"same": True}))
    if v >= 1:
        cases.append(("null_rack", "Rack is null for every broker",
                      build(std_endpoint_cases("null_rack")), {"len": "<"}))
    cases.append(("shorter", "mapped hosts shorter than the original long MSK hostnames",
                  build(std_endpoint_cases("shorter")), {"len": "<"}))
    cases.append(("longer", "mapped hosts longer than the originals",
                  build(std_endpoint_cases("longer")), {"len": ">"}))
    cases.append(("same_length", "mapped host has the original host's length: same size, different bytes",
                  build(std_endpoint_cases("same_length")), {"len": "=", "same": False}))
    cases.append(("long_original_host",
                  "original host is 150 chars (string length needs a 2-byte uvarint in flexible versions)",
                  build(lambda g: [(2, host_of_len(g.rng, 150, 2), 9092, OMIT), (4, None, None, OMIT)]),
                  {"len": "<"}))
    if v >= 9:
        cases.append(("unknown_tags_everywhere",
                      "unknown tagged fields in the header, body, every broker, topic and partition",
                      build(unknown="all"), {"unknown_all": True}))
    if v == 12:
        cases.append(("brokers_100", "100 brokers (ids 1..100, shuffled): only 1, 2, 3 are mapped",
                      build(lambda g: [(i, None, None, OMIT) for i in g.rng.sample(range(1, 101), 100)]),
                      None))
    return cases


def find_coordinator_cases(v):
    cases = []
    if v <= 3:
        def build(err, nid, host=None, unknown="typical"):
            def b(gen):
                h = host if host is not None else ("" if nid == -1 else orig_host(gen.rng, nid))
                port = -1 if nid == -1 else gen.rng.choice(PORTS)
                msg = None if err == 0 else gen.rng.choice(ERROR_MESSAGES)
                body = gen.struct(gen.spec.fields, ErrorCode=err, NodeId=nid, Host=h, Port=port,
                                  ErrorMessage=msg if gen.has(gen.spec.fields, "ErrorMessage") else OMIT)
                return finish(gen, gen.header(), body, unknown)
            return b
        for i, nid in enumerate([1, 2, 3]):
            cases.append((f"typical_{i}", f"coordinator found on mapped node {nid}", build(0, nid), {"same": False}))
        cases.append(("error_coordinator_not_available", "ErrorCode 15, NodeId -1, empty host: unchanged",
                      build(15, -1), {"same": True}))
        cases.append(("error_with_mapped_node", "ErrorCode 16 (NOT_COORDINATOR) with NodeId 1: not rewritten",
                      build(16, 1), {"same": True}))
        cases.append(("node_minus1_no_error", "ErrorCode 0 but NodeId -1: not rewritten",
                      build(0, -1), {"same": True}))
        cases.append(("unmapped_node", "coordinator on unmapped node 7: unchanged", build(0, 7), {"same": True}))
        cases.append(("shorter", "mapped host shorter than the original",
                      build(0, 2, "b-2.production-events-cluster.x7k2q9.c12.kafka.eu-central-1.amazonaws.com"),
                      {"len": "<"}))
        cases.append(("longer", "mapped host longer than the original", build(0, 3, "127.0.0.1"), {"len": ">"}))
        if v >= 3:
            cases.append(("unknown_tags_everywhere", "unknown tagged fields in the header and body",
                          build(0, 1, unknown="all"), {"unknown_all": True}))
        return cases

    def buildc(specs=None, unknown="typical"):
        # specs: list of (err, node id, host or None)
        def b(gen):
            cf = gen.spec.field("Coordinators")
            sp = specs
            if sp is None:
                sp = []
                for nid in pick_ids(gen.rng, 1, 4):
                    err = 0 if gen.rng.random() < 0.75 else gen.rng.choice([15, 16])
                    sp.append((err, nid if err == 0 or gen.rng.random() < 0.5 else -1, None))
            overs = []
            keys = gen.rng.sample(GROUPS, len(sp))
            for (err, nid, host), key in zip(sp, keys):
                overs.append({"Key": key, "ErrorCode": err, "NodeId": nid,
                              "Host": host if host is not None else ("" if nid == -1 else orig_host(gen.rng, nid)),
                              "Port": -1 if nid == -1 else gen.rng.choice(PORTS),
                              "ErrorMessage": None if err == 0 else gen.rng.choice(ERROR_MESSAGES)})
            body = gen.struct(gen.spec.fields, Coordinators=gen.entries(cf, overs))
            return finish(gen, gen.header(), body, unknown)
        return b
    for i in range(3):
        cases.append((f"typical_{i}", "random coordinators, some with errors", buildc(), None))
    cases.append(("empty_coordinators", "no coordinators", buildc([]), {"same": True}))
    cases.append(("all_unmapped", "coordinators on unmapped nodes 4, 7, 1000",
                  buildc([(0, 4, None), (0, 7, None), (0, 1000, None)]), {"same": True}))
    cases.append(("all_errors", "every coordinator has an error (with mapped and -1 node ids): unchanged",
                  buildc([(15, -1, None), (16, 1, None), (14, 2, None)]), {"same": True}))
    cases.append(("mixed_errors", "ok on node 1 rewritten; NOT_COORDINATOR on node 2 and ok with NodeId -1 untouched",
                  buildc([(0, 1, None), (16, 2, None), (0, -1, None), (0, 3, None)]), {"same": False}))
    cases.append(("shorter", "mapped hosts shorter than the originals",
                  buildc([(0, 2, "b-2.production-events-cluster.x7k2q9.c12.kafka.eu-central-1.amazonaws.com")]),
                  {"len": "<"}))
    cases.append(("longer", "mapped hosts longer than the originals",
                  buildc([(0, 3, "127.0.0.1"), (0, 1, "localhost")]), {"len": ">"}))
    cases.append(("unknown_tags_everywhere", "unknown tagged fields in the header, body and every coordinator",
                  buildc([(0, 1, None), (15, -1, None), (0, 7, None)], unknown="all"), {"unknown_all": True}))
    return cases


def describe_cluster_cases(v):
    cases = []

    def build(specs=None, endpoint_type=1, unknown="typical"):
        def b(gen):
            bf = gen.spec.field("Brokers")
            sp = specs(gen) if callable(specs) else specs
            if sp is None:
                sp = [(i, None, None, OMIT) for i in pick_ids(gen.rng)]
            brokers = endpoint_list(gen, bf, sp, "BrokerId")
            body = gen.struct(gen.spec.fields, Brokers=brokers, ErrorCode=0, ErrorMessage=None,
                              EndpointType=endpoint_type if v >= 1 else OMIT,
                              ControllerId=gen.rng.choice([s[0] for s in sp] or [-1]))
            return finish(gen, gen.header(), body, unknown)
        return b
    for i in range(3):
        cases.append((f"typical_{i}", "random brokers (mapped and unmapped ids)", build(), None))
    cases.append(("empty_brokers", "no brokers", build(std_endpoint_cases("empty")), {"same": True}))
    cases.append(("all_unmapped", "only unmapped ids", build(std_endpoint_cases("all_unmapped")), {"same": True}))
    cases.append(("null_rack", "Rack null everywhere", build(std_endpoint_cases("null_rack")), {"len": "<"}))
    cases.append(("shorter", "mapped hosts shorter", build(std_endpoint_cases("shorter")), {"len": "<"}))
    cases.append(("longer", "mapped hosts longer", build(std_endpoint_cases("longer")), {"len": ">"}))
    cases.append(("same_length", "same-length host, different bytes",
                  build(std_endpoint_cases("same_length")), {"len": "=", "same": False}))
    cases.append(("unknown_tags_everywhere", "unknown tagged fields in the header, body and every broker",
                  build(unknown="all"), {"unknown_all": True}))
    if v >= 1:
        ctrl = [(1, "controller-1.kafka.internal", 9093, OMIT), (2, "controller-2.kafka.internal", 9093, OMIT),
                (3, "controller-3.kafka.internal", 9093, OMIT)]
        cases.append(("controllers_endpoint_type_2",
                      "EndpointType 2 (controllers) with mapped ids 1-3: whole response unchanged",
                      build(ctrl, endpoint_type=2), {"same": True}))
        cases.append(("controllers_endpoint_type_2_unknown_tags",
                      "EndpointType 2 with unknown tags everywhere: unchanged",
                      build(ctrl[:2], endpoint_type=2, unknown="all"), {"same": True}))
    return cases


def produce_body(gen, node_specs, unknown="typical", order=None):
    """A Produce body; node_specs None = no NodeEndpoints field at all."""
    rf = gen.spec.field("Responses")
    pf = rf.child("PartitionResponses")
    topics = []
    for name in gen.rng.sample(TOPICS, gen.rng.randint(1, 3)):
        parts = []
        for idx in sorted(gen.rng.sample(range(12), gen.rng.randint(1, 3))):
            # NOT_LEADER_OR_FOLLOWER carries CurrentLeader; INVALID_RECORD carries RecordErrors
            p = gen.rng.random()
            err = 0 if p < 0.7 else 6 if p < 0.9 else 87
            over = {"Index": idx, "ErrorCode": err, "ErrorMessage": None, "RecordErrors": []}
            if err == 87:
                msgs = [None, "Compacted topic cannot accept message without key."]
                over["RecordErrors"] = gen.entries(
                    pf.child("RecordErrors"),
                    [{"BatchIndex": gen.rng.randint(0, 50), "BatchIndexErrorMessage": gen.rng.choice(msgs)}
                     for _ in range(gen.rng.randint(1, 2))])
                over["ErrorMessage"] = "One or more records have been rejected"
            if err:
                over["LogAppendTimeMs"] = -1
            if gen.v >= 10 and gen.flex:
                over["CurrentLeader"] = (gen.struct(pf.child("CurrentLeader").fields,
                                                    LeaderId=gen.rng.choice([1, 2, 3, 4]))
                                         if err else OMIT)
            if err:
                over["BaseOffset"] = -1
            parts.append(gen.struct(pf.fields, **over))
        t = gen.struct(rf.fields, PartitionResponses=parts)
        if "Name" in t:
            t["Name"] = name
        topics.append(t)
    over = {"Responses": topics}
    if gen.v >= 10:
        if node_specs is None:
            over["NodeEndpoints"] = OMIT
        else:
            sp = node_specs(gen) if callable(node_specs) else node_specs
            over["NodeEndpoints"] = endpoint_list(gen, gen.spec.field("NodeEndpoints"), sp)
    body = gen.struct(gen.spec.fields, **over)
    header, body = finish(gen, gen.header(), body, unknown)
    if order is not None:
        apply_top_order(body, order, gen.rng)
    return header, body


def apply_top_order(body, order, rng):
    """Set an explicit (possibly non-ascending) top-level tagged field order.

    order: list of tags; 0 is the known NodeEndpoints field, others become
    unknown fields with random payloads."""
    body.pop("_unknown", None)
    body["_tf"] = [[t, None] if t == 0 else [t, rng.randbytes(rng.randint(1, 40))] for t in order]


def random_node_specs(gen):
    return [(i, None, None, OMIT) for i in pick_ids(gen.rng, 1, 3)]


def produce_cases(v):
    if v <= 9:
        cases = [(f"typical_{i}", "pass-through version: kgate must not modify it",
                  lambda g: produce_body(g, None), {"same": True}) for i in range(3)]
        if v >= 9:
            cases.append(("unknown_tags_everywhere", "pass-through flexible version with unknown tags",
                          lambda g: produce_body(g, None, "all"), {"same": True}))
        return cases
    cases = []
    for i in range(3):
        cases.append((f"typical_{i}", "NodeEndpoints with mapped and unmapped leaders",
                      lambda g: produce_body(g, random_node_specs), None))
    cases.append(("no_node_endpoints", "top-level tagged field 0 absent: unchanged",
                  lambda g: produce_body(g, None), {"same": True}))
    cases.append(("empty_node_endpoints", "NodeEndpoints present with zero entries: unchanged",
                  lambda g: produce_body(g, []), {"same": True}))
    cases.append(("all_unmapped", "NodeEndpoints only with unmapped ids",
                  lambda g: produce_body(g, std_endpoint_cases("all_unmapped")), {"same": True}))
    cases.append(("null_rack", "NodeEndpoints with null racks",
                  lambda g: produce_body(g, std_endpoint_cases("null_rack")), {"len": "<"}))
    cases.append(("shorter", "mapped hosts shorter: tagged field size shrinks",
                  lambda g: produce_body(g, std_endpoint_cases("shorter")), {"len": "<"}))
    cases.append(("longer", "mapped hosts longer: tagged field size grows",
                  lambda g: produce_body(g, std_endpoint_cases("longer")), {"len": ">"}))
    cases.append(("tag_size_varint_grows",
                  "NodeEndpoints data grows from <128 to >=128 bytes: its size uvarint goes from 1 to 2 bytes",
                  lambda g: produce_body(g, [(3, "10.0.0.13", 9092, None),
                                             (4, host_of_len(g.rng, 70, 4), 9092, None)], "none"),
                  {"len": ">", "tag0_size_varint": (1, 2)}))
    cases.append(("tag_size_varint_shrinks",
                  "NodeEndpoints data shrinks from >=128 to <128 bytes: its size uvarint goes from 2 to 1 bytes",
                  lambda g: produce_body(g, [(2, host_of_len(g.rng, 90, 2), 9092, None),
                                             (4, host_of_len(g.rng, 30, 4), 9092, None)], "none"),
                  {"len": "<", "tag0_size_varint": (2, 1)}))
    cases.append(("unknown_tags_everywhere",
                  "unknown tags in header, body, topics, partitions, CurrentLeader, RecordErrors, NodeEndpoints",
                  lambda g: produce_body(g, random_node_specs, "all"), {"unknown_all": True}))
    cases.append(("unknown_tags_around_tag0",
                  "top-level tags on the wire in order 77, 0, 5, 20000 (unknown before and after NodeEndpoints; "
                  "not ascending): order must be preserved",
                  lambda g: produce_body(g, [(1, None, 9092, OMIT), (3, None, 9092, OMIT)], "typical",
                                         order=[77, 0, 5, 20000]), {"same": False}))
    return cases


API_KEY_TABLE = [  # (api key, min, max) of a hypothetical newer broker
    (0, 3, 14), (1, 4, 19), (2, 1, 10), (3, 0, 14), (8, 2, 10), (9, 1, 10), (10, 0, 7), (11, 0, 9),
    (12, 0, 4), (13, 0, 5), (14, 0, 5), (15, 0, 6), (16, 0, 5), (17, 0, 1), (18, 0, 6), (19, 2, 7),
    (20, 1, 6), (21, 0, 2), (22, 0, 6), (23, 2, 4), (24, 0, 5), (25, 0, 4), (26, 0, 5), (27, 1, 1),
    (28, 0, 5), (29, 1, 3), (30, 1, 3), (31, 1, 3), (32, 1, 4), (33, 0, 2), (34, 1, 2), (35, 1, 4),
    (36, 0, 2), (37, 0, 3), (42, 0, 2), (43, 0, 2), (44, 0, 1), (45, 0, 0), (46, 0, 0), (47, 0, 0),
    (48, 0, 1), (49, 0, 1), (50, 0, 0), (51, 0, 0), (55, 0, 2), (57, 0, 1), (60, 0, 2), (61, 0, 0),
    (64, 0, 0), (65, 0, 0), (66, 0, 1), (68, 0, 1), (69, 0, 1), (71, 0, 0), (72, 0, 0), (74, 0, 0),
    (75, 0, 0), (76, 0, 1), (77, 0, 1), (78, 1, 3), (79, 1, 3), (80, 0, 1), (81, 0, 0), (1000, 0, 3),
]
# Entries every typical case keeps, one per rule (see the brief).
API_KEY_REQUIRED = {0, 1, 3, 10, 17, 18, 55, 60, 78, 79, 1000}
OLD_BROKER_TABLE = [(0, 0, 9), (1, 0, 13), (2, 0, 7), (3, 0, 12), (10, 0, 4), (17, 0, 1), (18, 0, 3),
                    (36, 0, 2), (60, 0, 0)]


def api_versions_body(gen, table, err=0, features=True, unknown="typical"):
    af = gen.spec.field("ApiKeys")
    keys = gen.entries(af, [{"ApiKey": k, "MinVersion": mn, "MaxVersion": mx} for k, mn, mx in table])
    over = {"ErrorCode": err, "ApiKeys": keys}
    if gen.flex:
        if features:
            sf = gen.spec.field("SupportedFeatures")
            feats = [("metadata.version", 1, 27), ("kraft.version", 0, 1), ("transaction.version", 0, 2),
                     ("group.version", 0, 1)]
            if gen.v == 3:  # v3 omits features whose MinVersion is 0 (KAFKA-17011)
                feats = [x for x in feats if x[1] > 0]
            over["SupportedFeatures"] = gen.entries(sf, [{"Name": n, "MinVersion": a, "MaxVersion": b}
                                                         for n, a, b in feats])
            over["FinalizedFeaturesEpoch"] = gen.rng.randint(1, 10**6)
            ff = gen.spec.field("FinalizedFeatures")
            over["FinalizedFeatures"] = gen.entries(ff, [{"Name": "metadata.version", "MaxVersionLevel": 27,
                                                          "MinVersionLevel": 27},
                                                         {"Name": "kraft.version", "MaxVersionLevel": 1,
                                                          "MinVersionLevel": 1}])
            over["ZkMigrationReady"] = True if gen.rng.random() < 0.3 else OMIT
        else:
            for n in ("SupportedFeatures", "FinalizedFeaturesEpoch", "FinalizedFeatures", "ZkMigrationReady"):
                over[n] = OMIT
    body = gen.struct(gen.spec.fields, **over)
    return finish(gen, gen.header(), body, unknown)


def typical_table(rng):
    rows = []
    for k, mn, mx in API_KEY_TABLE:
        if k not in API_KEY_REQUIRED and rng.random() < 0.25:
            continue  # brokers differ in the APIs they expose
        if k not in CAP and k not in API_KEY_REQUIRED and rng.random() < 0.3:
            mx += 1
        rows.append((k, mn, mx))
    return rows


def api_versions_cases(v):
    cases = []
    for i in range(3):
        cases.append((f"typical_{i}",
                      "newer broker: Fetch 19->18, Metadata 14->13, Produce 14->13, FindCoordinator 7->6, "
                      "ApiVersions 6->5, DescribeQuorum 2->1, SaslHandshake 1 kept, DescribeCluster 2 kept, "
                      "ShareFetch 3->2, ShareAcknowledge 3->2, unknown key 1000 kept",
                      lambda g: api_versions_body(g, typical_table(g.rng)), {"same": False}))
    cases.append(("min_above_cap_removed",
                  "Fetch 20-21 (MinVersion above the cap 18) removed; Metadata 13-14 capped to 13-13 and kept",
                  lambda g: api_versions_body(g, [(0, 3, 13), (1, 20, 21), (3, 13, 14), (18, 0, 4), (1000, 0, 1)]),
                  {"len": "<"}))
    cases.append(("error_nonzero",
                  "ErrorCode 35 (UNSUPPORTED_VERSION) with entries that would be capped: unchanged",
                  lambda g: api_versions_body(g, [(18, 0, 6), (1, 4, 19), (78, 0, 1)], err=35, features=False),
                  {"same": True}))
    cases.append(("old_broker_unchanged", "every version already at or below the caps: unchanged",
                  lambda g: api_versions_body(g, OLD_BROKER_TABLE), {"same": True}))
    cases.append(("empty_api_keys", "empty ApiKeys array", lambda g: api_versions_body(g, []), {"same": True}))
    cases.append(("share_capped",
                  "ShareFetch 0-3 capped to 0-2 and kept; ShareAcknowledge 3-4 (MinVersion above the cap 2) removed",
                  lambda g: api_versions_body(g, [(78, 0, 3), (79, 3, 4)]), {"len": "<"}))
    if v >= 3:
        cases.append(("no_features", "flexible version without any top-level tagged fields",
                      lambda g: api_versions_body(g, typical_table(g.rng), features=False, unknown="none"),
                      {"same": False}))
        cases.append(("unknown_tags_everywhere",
                      "unknown tags in the body, every ApiKeys entry (incl. removed ones) and every feature entry",
                      lambda g: api_versions_body(g, typical_table(g.rng), unknown="all"), {"unknown_all": True}))
    return cases


def fetch_body(gen, node_specs, unknown="typical", order=None, topics=(2, 4), parts=(1, 4), records=None):
    """A Fetch body. node_specs None = no NodeEndpoints field (or version < 16)."""
    rf = gen.spec.field("Responses")
    pf = rf.child("Partitions")
    tlist = []
    for name in gen.rng.sample(TOPICS, gen.rng.randint(*topics)):
        plist = []
        for idx in sorted(gen.rng.sample(range(24), gen.rng.randint(*parts))):
            err = 0 if gen.rng.random() < 0.8 else gen.rng.choice([6, 74, 1])
            over = {"PartitionIndex": idx, "ErrorCode": err,
                    "Records": records(gen.rng) if records else records_blob(gen.rng)}
            if err:
                over["Records"] = gen.rng.choice([None, b""])
                if err in (6, 74):
                    over["CurrentLeader"] = gen.struct(pf.child("CurrentLeader").fields,
                                                       LeaderId=gen.rng.choice([1, 2, 3, 4, 7]))
            if gen.has(pf.fields, "AbortedTransactions") and gen.rng.random() < 0.4:
                # read_committed fetches carry a list, often empty
                over["AbortedTransactions"] = gen.entries(
                    pf.child("AbortedTransactions"),
                    [{} for _ in range(gen.rng.choice([0, 1, 1, 2, 3]))])
            plist.append(gen.struct(pf.fields, **over))
        t = gen.struct(rf.fields, Partitions=plist)
        if "Topic" in t:
            t["Topic"] = name
        tlist.append(t)
    over = {"Responses": tlist, "ErrorCode": 0}
    if gen.v >= 16:
        if node_specs is None:
            over["NodeEndpoints"] = OMIT
        else:
            sp = node_specs(gen) if callable(node_specs) else node_specs
            over["NodeEndpoints"] = endpoint_list(gen, gen.spec.field("NodeEndpoints"), sp)
    body = gen.struct(gen.spec.fields, **over)
    header, body = finish(gen, gen.header(), body, unknown)
    if order is not None:
        apply_top_order(body, order, gen.rng)
    return header, body


def small_fetch(gen, node_specs, **kw):
    # Branch cases do not need big bodies; keep the file small.
    kw.setdefault("topics", (1, 2))
    kw.setdefault("parts", (1, 2))
    kw.setdefault("records", lambda r: records_blob(r, r.choice([0, 80, 200])))
    return fetch_body(gen, node_specs, **kw)


def tuned(make, lengths, want):
    """A builder that searches original host lengths until `want(info)` holds.

    make(gen, L) returns (header, body) using L for the tuned host length. The
    RNG state is rewound for each attempt so the result is reproducible."""
    def b(gen):
        state = gen.rng.getstate()
        for L in lengths:
            gen.rng.setstate(state)
            header, body = make(gen, L)
            frame, _ = gen.proto.encode_frame(gen.api, gen.v, header, body)
            _, _, info = kgate_rewrite(gen.proto, gen.api, gen.v, frame)
            if want(info):
                return header, body
        raise RuntimeError("no host length produced the wanted tail case")
    return b


def gap_is(g):
    return lambda info: info["L0"] - info["L1"] == g


def fetch_cases(v):
    if v <= 15:
        cases = [(f"typical_{i}", "pass-through version (no NodeEndpoints before v16)",
                  lambda g: fetch_body(g, None), {"same": True}) for i in range(3)]
        cases.append(("unknown_tags_everywhere", "pass-through flexible version with unknown tags",
                      lambda g: fetch_body(g, None, "all", topics=(1, 2)), {"same": True}))
        return cases
    cases = []
    for i in range(3):
        cases.append((f"typical_{i}", "several topics/partitions, random NodeEndpoints",
                      lambda g: fetch_body(g, random_node_specs), None))
    cases.append(("no_node_endpoints", "NodeEndpoints field absent: unchanged",
                  lambda g: fetch_body(g, None), {"same": True, "branch": "a_same_length"}))
    cases.append(("empty_node_endpoints", "NodeEndpoints present with zero entries: unchanged",
                  lambda g: small_fetch(g, []), {"same": True, "branch": "a_same_length"}))
    cases.append(("all_unmapped", "NodeEndpoints only with unmapped ids: unchanged",
                  lambda g: small_fetch(g, std_endpoint_cases("all_unmapped")),
                  {"same": True, "branch": "a_same_length"}))
    cases.append(("null_rack", "NodeEndpoints with null racks (rule 6b: 5 bytes shorter)",
                  lambda g: small_fetch(g, std_endpoint_cases("null_rack")), {"branch": "b_padded", "gap": 5}))
    cases.append(("branch_a_equal",
                  "rule 6a: rewritten section has the original length (host 10.x.x.x -> 10.0.0.2, port changes)",
                  lambda g: small_fetch(g, [(2, "10.1.7.9", 9092, OMIT), (4, None, None, OMIT)]),
                  {"same": False, "branch": "a_same_length"}))
    cases.append(("branch_b_shorter_by_8",
                  "rule 6b: b-2.msk.internal -> 10.0.0.2 is 8 bytes shorter: one padding field (s=5)",
                  lambda g: small_fetch(g, [(2, "b-2.msk.internal", 9092, OMIT)]),
                  {"branch": "b_padded", "gap": 8}))
    cases.append(("branch_b_shorter_by_3",
                  "rule 6b boundary: exactly 3 bytes shorter: one empty padding field (s=0)",
                  tuned(lambda g, L: small_fetch(g, [(2, host_of_len(g.rng, L, 2), 9092, OMIT)]),
                        range(8, 20), gap_is(3)), {"branch": "b_padded", "gap": 3}))
    cases.append(("branch_c_shorter_by_1",
                  "rule 6c: rewritten section 1 byte shorter: NodeEndpoints dropped, padding fills the rest",
                  tuned(lambda g, L: small_fetch(g, [(2, host_of_len(g.rng, L, 2), 9092, OMIT),
                                                     (7, None, None, OMIT)]),
                        range(8, 20), gap_is(1)), {"branch": "c_dropped_node_endpoints", "gap": 1}))
    cases.append(("branch_c_shorter_by_2",
                  "rule 6c: rewritten section 2 bytes shorter: NodeEndpoints dropped, padding fills the rest",
                  tuned(lambda g, L: small_fetch(g, [(2, host_of_len(g.rng, L, 2), 9092, OMIT)]),
                        range(8, 20), gap_is(2)), {"branch": "c_dropped_node_endpoints", "gap": 2}))
    cases.append(("branch_c_longer",
                  "rule 6c: mapped hosts longer (node 3): NodeEndpoints dropped, padding fills the rest",
                  lambda g: small_fetch(g, [(3, "b-3.msk.internal", 9092, OMIT), (4, None, None, OMIT)]),
                  {"branch": "c_dropped_node_endpoints", "len_tag0": ">"}))
    cases.append(("branch_b_gap_131",
                  "rule 6b: gap 131 = padding s=124 (127 bytes) + s=1 (4 bytes), never a 130+1 split",
                  tuned(lambda g, L: small_fetch(g, [(1, host_of_len(g.rng, 90, 1), 9092, OMIT),
                                                     (2, host_of_len(g.rng, L, 2), 9094, OMIT)]),
                        range(8, 120), gap_is(131)), {"branch": "b_padded", "pads": [124, 1]}))
    cases.append(("branch_b_gap_132",
                  "rule 6b: gap 132 = padding s=124 (127 bytes) + s=2 (5 bytes)",
                  tuned(lambda g, L: small_fetch(g, [(1, host_of_len(g.rng, 90, 1), 9092, OMIT),
                                                     (2, host_of_len(g.rng, L, 2), 9094, OMIT)]),
                        range(8, 120), gap_is(132)), {"branch": "b_padded", "pads": [124, 2]}))
    cases.append(("branch_b_gap_300",
                  "rule 6b: gap 300 = three padding fields 130 + 130 + 40 bytes (s=127,127,37)",
                  tuned(lambda g, L: small_fetch(g, [(1, host_of_len(g.rng, 180, 1), 9092, OMIT),
                                                     (2, host_of_len(g.rng, L, 2), 9094, OMIT)]),
                        range(8, 250), gap_is(300)), {"branch": "b_padded", "pads": [127, 127, 37]}))
    cases.append(("unknown_tags_everywhere_padded",
                  "unknown tags in header, body, topics, partitions, tagged partition structs, NodeEndpoints; rule 6b",
                  lambda g: small_fetch(g, [(2, "b-2.msk.internal", 9092, OMIT), (4, None, None, OMIT)], unknown="all"),
                  {"branch": "b_padded", "unknown_all": True}))
    cases.append(("unknown_tags_everywhere_dropped",
                  "unknown tags everywhere; rule 6c drops NodeEndpoints together with its entries' unknown tags",
                  lambda g: small_fetch(g, [(3, "127.0.0.1", 9092, OMIT), (7, None, None, OMIT)], unknown="all"),
                  {"branch": "c_dropped_node_endpoints", "unknown_all": True}))
    cases.append(("unknown_tags_around_tag0_padded",
                  "top-level tags in wire order 77, 0, 5, 20000 (non-ascending); rule 6b keeps the order and "
                  "appends padding tag 16383 after 20000",
                  lambda g: small_fetch(g, [(2, "b-2.msk.internal", 9092, OMIT)], order=[77, 0, 5, 20000]),
                  {"branch": "b_padded"}))
    cases.append(("unknown_tags_around_tag0_dropped",
                  "top-level tags in wire order 300, 0, 5 (non-ascending); rule 6c removes tag 0 and keeps 300, 5",
                  lambda g: small_fetch(g, [(3, "10.0.0.13", 9092, OMIT)], order=[300, 0, 5]),
                  {"branch": "c_dropped_node_endpoints"}))
    cases.append(("count_varint_grows",
                  "127 top-level fields (tag 0 + unknown tags 1..126); the padding field makes the field count "
                  "128, whose uvarint is 2 bytes: gap recomputed (10 -> 9, padding s=6)",
                  lambda g: count_growth_case(g), {"branch": "b_padded", "pads": [6], "gap": 10}))
    if v == 17:
        cases.append(("large_records_200k",
                      "one partition with a ~200 KB record blob (3-byte length uvarint) plus NodeEndpoints",
                      lambda g: fetch_body(g, [(1, None, 9092, OMIT), (2, None, 9092, OMIT)], topics=(2, 2),
                                           parts=(2, 2), records=one_big_blob()),
                      None))
    return cases


def one_big_blob():
    # The first partition gets the ~200 KB blob, the others small ones.
    calls = []

    def records(rng):
        calls.append(1)
        return records_blob(rng, 200_000 if len(calls) == 1 else rng.choice([0, 150]))
    return records


def count_growth_case(gen):
    header, body = small_fetch(gen, [(2, "b-2.msk.internal.x", 9092, OMIT)], unknown="none")
    body["_tf"] = [[0, None]] + [[t, gen.rng.randbytes(gen.rng.randint(0, 2))] for t in range(1, 127)]
    return header, body


def share_fetch_body(gen, node_specs, unknown="typical", records=None):
    """A ShareFetch body: records in some partitions, NOT_LEADER_OR_FOLLOWER
    (with CurrentLeader) in others, then NodeEndpoints."""
    rf = gen.spec.field("Responses")
    pf = rf.child("Partitions")
    tlist = []
    for _ in range(gen.rng.randint(1, 3)):
        plist = []
        for idx in sorted(gen.rng.sample(range(12), gen.rng.randint(1, 3))):
            err = 0 if gen.rng.random() < 0.7 else 6
            blob = records(gen.rng) if records else records_blob(gen.rng)
            over = {"PartitionIndex": idx, "ErrorCode": err,
                    "Records": b"" if err or (blob is None and gen.v >= 1) else blob}
            if err:
                over["AcquiredRecords"] = []
                over["CurrentLeader"] = gen.struct(pf.child("CurrentLeader").fields,
                                                   LeaderId=gen.rng.choice([1, 2, 3, 4, 7]))
            plist.append(gen.struct(pf.fields, **over))
        tlist.append(gen.struct(rf.fields, Partitions=plist))
    sp = node_specs(gen) if callable(node_specs) else node_specs
    body = gen.struct(gen.spec.fields, Responses=tlist, ErrorCode=0, ErrorMessage=None,
                      NodeEndpoints=endpoint_list(gen, gen.spec.field("NodeEndpoints"), sp))
    return finish(gen, gen.header(), body, unknown)


def share_common_cases(body, typical):
    """The cases both share groups' answers have: typical, empty, unmapped."""
    cases = [(f"typical_{i}", typical, lambda g: body(g, random_node_specs), None) for i in range(3)]
    cases.append(("empty_node_endpoints", "NodeEndpoints with zero entries: unchanged",
                  lambda g: body(g, []), {"same": True}))
    cases.append(("all_unmapped", "NodeEndpoints only with unmapped ids: unchanged",
                  lambda g: body(g, std_endpoint_cases("all_unmapped")), {"same": True}))
    return cases


def share_fetch_cases(v):
    cases = share_common_cases(share_fetch_body,
                               "records and NOT_LEADER_OR_FOLLOWER partitions, random NodeEndpoints")
    cases.append(("shorter", "mapped hosts shorter: padding after the top-level fields",
                  lambda g: share_fetch_body(g, std_endpoint_cases("shorter")),
                  {"branch": "b_padded", "len": "="}))
    cases.append(("longer", "mapped hosts longer: NodeEndpoints goes out empty, padding fills the rest",
                  lambda g: share_fetch_body(g, std_endpoint_cases("longer")),
                  {"branch": "c_dropped_node_endpoints"}))
    cases.append(("same_length", "same-length host, different bytes: no padding",
                  lambda g: share_fetch_body(g, std_endpoint_cases("same_length")),
                  {"branch": "a_same_length", "same": False}))
    cases.append(("unknown_tags_everywhere", "unknown tagged fields in every struct, NodeEndpoints included",
                  lambda g: share_fetch_body(g, random_node_specs, "all"), {"unknown_all": True}))
    if v == 1:
        cases.append(("large_records_200k", "a ~200 KB record blob (3-byte length uvarint) before NodeEndpoints",
                      lambda g: share_fetch_body(g, [(1, None, 9092, OMIT), (2, None, 9092, OMIT)],
                                                 records=one_big_blob()), None))
    return cases


def share_ack_body(gen, node_specs, unknown="typical"):
    rf = gen.spec.field("Responses")
    pf = rf.child("Partitions")
    tlist = []
    for _ in range(gen.rng.randint(1, 3)):
        plist = [gen.struct(pf.fields, PartitionIndex=idx, ErrorCode=gen.rng.choice([0, 0, 6]))
                 for idx in sorted(gen.rng.sample(range(12), gen.rng.randint(1, 3)))]
        tlist.append(gen.struct(rf.fields, Partitions=plist))
    sp = node_specs(gen) if callable(node_specs) else node_specs
    body = gen.struct(gen.spec.fields, Responses=tlist, ErrorCode=0, ErrorMessage=None,
                      NodeEndpoints=endpoint_list(gen, gen.spec.field("NodeEndpoints"), sp))
    return finish(gen, gen.header(), body, unknown)


def share_ack_cases(v):
    cases = share_common_cases(share_ack_body, "random NodeEndpoints (mapped and unmapped ids)")
    cases.append(("shorter", "mapped hosts shorter", lambda g: share_ack_body(g, std_endpoint_cases("shorter")),
                  {"len": "<"}))
    cases.append(("longer", "mapped hosts longer", lambda g: share_ack_body(g, std_endpoint_cases("longer")),
                  {"len": ">"}))
    cases.append(("unknown_tags_everywhere", "unknown tagged fields in every struct",
                  lambda g: share_ack_body(g, random_node_specs, "all"), {"unknown_all": True}))
    return cases


CASES = {3: metadata_cases, 10: find_coordinator_cases, 60: describe_cluster_cases,
         0: produce_cases, 18: api_versions_cases, 1: fetch_cases, 78: share_fetch_cases,
         79: share_ack_cases}
