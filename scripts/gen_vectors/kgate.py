"""What kgate does: the behaviour the vectors pin down.

The node id -> address mapping the vectors are generated for, the ApiVersions
caps, which API versions kgate rewrites and how (PLAN), and the padding rule
of the same-size Fetch tail rewrite. The other modules build frames from the
schemas (schema, wire, protocol, values, cases), model the rewrite
(rewrite) or check a vector (checks) against these rules.
"""

# Node id -> advertised (host, port). Ids not listed are left unchanged.
MAPPING = {
    1: ("kgate-1.example.com", 8443),
    2: ("10.0.0.2", 8444),
    3: ("a-much-longer-gateway-host-name.nlb.us-east-1.example.internal", 19445),
}

# ApiVersions: per-API maximum version kgate can rewrite (DescribeQuorum 55
# stays at 1: v2 lists controllers, which kgate does not front).
CAP = {0: 13, 1: 18, 3: 13, 10: 6, 18: 5, 60: 2, 17: 1, 55: 1, 78: 2, 79: 2}

# Fetch tail padding: tag 16383 is the largest tag whose uvarint is two bytes
# (0xFF 0x7F), so a padding field costs 2 (tag) + 1 (size, s <= 127) + s bytes.
PAD_TAG = 16383
PAD_MAX_S = 127
PAD_MIN_COST = 3
PAD_MAX_COST = 3 + PAD_MAX_S  # 130

API_NAMES = {0: "produce", 1: "fetch", 3: "metadata", 10: "find_coordinator",
             18: "api_versions", 60: "describe_cluster", 78: "share_fetch", 79: "share_acknowledge"}
SCHEMA_BASENAMES = {0: "ProduceResponse", 1: "FetchResponse", 3: "MetadataResponse",
                    10: "FindCoordinatorResponse", 18: "ApiVersionsResponse",
                    60: "DescribeClusterResponse", 78: "ShareFetchResponse",
                    79: "ShareAcknowledgeResponse"}

# (api_key, first version, last version, mode) in output order.
PLAN = [
    (3, 0, 13, "rewrite"),
    (10, 0, 6, "rewrite"),
    (60, 0, 2, "rewrite"),
    (0, 0, 9, "unchanged"),
    (0, 10, 13, "rewrite"),
    (18, 0, 5, "rewrite"),
    (1, 12, 15, "unchanged"),
    (1, 16, 18, "tail_same_size"),
    (79, 0, 2, "rewrite"),
    # ShareFetch: NodeEndpoints is an ordinary field before the top-level
    # tags; the tail (tail_offset) starts at NodeEndpoints and keeps its size.
    (78, 0, 2, "share_tail_same_size"),
]


def mode_for(api, version):
    for a, lo, hi, mode in PLAN:
        if a == api and lo <= version <= hi:
            return mode
    raise KeyError((api, version))


def pad_sizes(gap):
    """Payload sizes of padding fields whose costs (3 + s) sum to gap."""
    sizes = []
    while gap > 0:
        if gap <= PAD_MAX_COST:
            if gap < PAD_MIN_COST:
                return None
            sizes.append(gap - 3)
            gap = 0
        elif gap - PAD_MAX_COST in (1, 2):
            # A full 130-byte field would leave 1-2 bytes, which no field can
            # fill; a 127-byte field leaves 4-5 instead.
            sizes.append(124)
            gap -= 127
        else:
            sizes.append(PAD_MAX_S)
            gap -= PAD_MAX_COST
    return sizes
