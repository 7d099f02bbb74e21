#!/usr/bin/env python3
"""Generate byte-level test vectors for kgate's Kafka response rewriters.

kgate sits between Kafka clients and brokers and rewrites the broker
addresses that responses advertise (Metadata, FindCoordinator,
DescribeCluster, Produce/Fetch NodeEndpoints) and caps the versions that
ApiVersions advertises. This script is an independent, schema-driven model of
those rewrites, written in plain Python from Apache Kafka's JSON message
schemas. It produces test/vectors/rewrite.json: pairs of (input frame,
expected frame) that kgate's C rewriters must reproduce byte for byte.

Nothing here is derived from kgate's C code: the point of the vectors is to
catch mistakes in the C implementation, so the model must not share them.

Frames are response frames without the 4-byte size prefix: response header
(v0, or v1 for flexible versions except ApiVersions) followed by the body.

Usage (from the repository root):
    scripts/fetch-kafka-schemas.sh build/kafka-schemas-4.4.0
    scripts/gen_vectors.py                       # writes test/vectors/rewrite.json
    scripts/gen_vectors.py --check               # regenerate in memory, compare with the file
    scripts/gen_vectors.py --verify FILE         # re-run the self-checks on an existing file

Only the Python 3.11 standard library is used. Output is deterministic: every
vector has its own RNG seeded from (--seed, vector name), so adding a case does
not change the bytes of any other case.
"""

import argparse
import hashlib
import json
import os
import random
import struct
import sys
from collections import Counter

# ---------------------------------------------------------------------------
# What kgate does (the behaviour under test)
# ---------------------------------------------------------------------------

DEFAULT_SEED = 12345

# Node id -> advertised (host, port). Ids not listed are left unchanged.
MAPPING = {
    1: ("kgate-1.example.com", 8443),
    2: ("10.0.0.2", 8444),
    3: ("a-much-longer-gateway-host-name.nlb.us-east-1.example.internal", 19445),
}

# ApiVersions: per-API maximum version kgate can rewrite, and APIs it hides.
CAP = {0: 13, 1: 18, 3: 13, 10: 6, 18: 5, 60: 2, 17: 1, 55: 1}
HIDE = (78, 79)

# Fetch tail padding: tag 16383 is the largest tag whose uvarint is two bytes
# (0xFF 0x7F), so a padding field costs 2 (tag) + 1 (size, s <= 127) + s bytes.
PAD_TAG = 16383
PAD_MAX_S = 127
PAD_MIN_COST = 3
PAD_MAX_COST = 3 + PAD_MAX_S  # 130

API_NAMES = {0: "produce", 1: "fetch", 3: "metadata", 10: "find_coordinator",
             18: "api_versions", 60: "describe_cluster"}
SCHEMA_BASENAMES = {0: "ProduceResponse", 1: "FetchResponse", 3: "MetadataResponse",
                    10: "FindCoordinatorResponse", 18: "ApiVersionsResponse",
                    60: "DescribeClusterResponse"}

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
]


def mode_for(api, version):
    for a, lo, hi, mode in PLAN:
        if a == api and lo <= version <= hi:
            return mode
    raise KeyError((api, version))


# ---------------------------------------------------------------------------
# Schema loading
# ---------------------------------------------------------------------------

class SchemaError(Exception):
    pass


def strip_json_comments(text):
    """Remove // and /* */ comments (Kafka schemas use //) outside strings."""
    out = []
    i, n = 0, len(text)
    in_str = False
    while i < n:
        c = text[i]
        if in_str:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_str = False
            i += 1
        elif c == '"':
            in_str = True
            out.append(c)
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise SchemaError("unterminated /* comment")
            i = j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


class VersionRange:
    """A Kafka schema version range: "none", "N", "N+", "A-B"."""

    def __init__(self, text):
        text = (text or "none").strip()
        self.text = text
        if text == "none":
            self.lo, self.hi = 1, 0
        elif text.endswith("+"):
            self.lo, self.hi = int(text[:-1]), None
        elif "-" in text:
            a, b = text.split("-")
            self.lo, self.hi = int(a), int(b)
        else:
            self.lo = self.hi = int(text)

    def __contains__(self, v):
        return v >= self.lo and (self.hi is None or v <= self.hi)

    def __str__(self):
        return self.text


PRIMITIVES = {"bool", "int8", "int16", "uint16", "int32", "uint32", "int64",
              "float64", "string", "bytes", "records", "uuid"}


class FieldSpec:
    def __init__(self, d, common):
        self.name = d["name"]
        self.type = d["type"]
        if "versions" not in d:
            raise SchemaError(f"field {self.name} has no versions")
        self.versions = VersionRange(d["versions"])
        self.nullable = VersionRange(d.get("nullableVersions"))
        self.tagged = VersionRange(d.get("taggedVersions"))
        self.tag = d.get("tag")
        if ("tag" in d) != ("taggedVersions" in d):
            raise SchemaError(f"field {self.name}: tag and taggedVersions must come together")
        self.is_array = self.type.startswith("[]")
        self.elem = self.type[2:] if self.is_array else self.type
        if self.elem in PRIMITIVES:
            if "fields" in d:
                raise SchemaError(f"primitive field {self.name} has sub-fields")
            self.fields = None
        elif "fields" in d:
            self.fields = [FieldSpec(x, common) for x in d["fields"]]
        elif self.elem in common:
            # commonStructs are shared definitions referenced by name.
            self.fields = [FieldSpec(x, common) for x in common[self.elem]["fields"]]
        else:
            raise SchemaError(f"field {self.name}: unknown type {self.type}")

    def is_tagged(self, version):
        return version in self.tagged

    def child(self, name):
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


class MessageSpec:
    def __init__(self, path, origin):
        with open(path, "rb") as fh:
            raw = fh.read()
        self.path = path
        self.origin = origin
        self.sha256 = hashlib.sha256(raw).hexdigest()
        d = json.loads(strip_json_comments(raw.decode("utf-8")))
        self.name = d["name"]
        self.api_key = d.get("apiKey")
        self.valid = VersionRange(d["validVersions"])
        self.flexible = VersionRange(d["flexibleVersions"])
        common = {c["name"]: c for c in d.get("commonStructs", [])}
        self.fields = [FieldSpec(f, common) for f in d["fields"]]

    def field(self, name):
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


# ---------------------------------------------------------------------------
# Wire codec (schema driven)
# ---------------------------------------------------------------------------
#
# Values are plain Python: ints, bools, str, bytes (bytes/records/uuid), None,
# lists, and dicts for structs. A struct dict may also carry its tagged-field
# section in one of two forms:
#   "_tf":      [[tag, raw_or_None], ...] exact wire order; raw None means a
#               known tagged field whose value is under its field name. The
#               decoder always produces this form, so re-encoding a decoded
#               value reproduces the original order (even non-ascending).
#   "_unknown": [(tag, raw), ...] unknown fields to add; the encoder then
#               writes known + unknown fields in ascending tag order (what
#               Kafka's own serializer does).

class CodecError(Exception):
    pass


INT_FORMATS = {"int8": ">b", "int16": ">h", "uint16": ">H", "int32": ">i",
               "uint32": ">I", "int64": ">q", "float64": ">d"}


def uvarint(n):
    if n < 0 or n > 0xFFFFFFFF:
        raise CodecError(f"uvarint out of range: {n}")
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


class Reader:
    def __init__(self, data, pos=0):
        self.data = data
        self.pos = pos

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise CodecError(f"need {n} bytes at offset {self.pos}, have {len(self.data) - self.pos}")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return bytes(b)

    def uvarint(self):
        result, shift = 0, 0
        for i in range(5):
            b = self.take(1)[0]
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                if i > 0 and b == 0:
                    raise CodecError("non-minimal uvarint")
                return result
            shift += 7
        raise CodecError("uvarint longer than 5 bytes")

    def fmt(self, f):
        size = struct.calcsize(f)
        return struct.unpack(f, self.take(size))[0]

    def remaining(self):
        return len(self.data) - self.pos


def enc_prim(t, v, nullable, flex, out):
    if t == "bool":
        if not isinstance(v, bool):
            raise CodecError(f"bool expected, got {v!r}")
        out += b"\x01" if v else b"\x00"
    elif t in INT_FORMATS:
        out += struct.pack(INT_FORMATS[t], v)
    elif t == "uuid":
        if not isinstance(v, bytes) or len(v) != 16:
            raise CodecError("uuid must be 16 bytes")
        out += v
    elif t in ("string", "bytes", "records"):
        if v is None:
            if not nullable:
                raise CodecError(f"null {t} in non-nullable field")
            out += uvarint(0) if flex else struct.pack(">h" if t == "string" else ">i", -1)
            return
        b = v.encode("utf-8") if t == "string" else v
        if t == "string" and not isinstance(v, str):
            raise CodecError("str expected")
        if flex:
            out += uvarint(len(b) + 1)
        elif t == "string":
            if len(b) > 0x7FFF:
                raise CodecError("string too long")
            out += struct.pack(">h", len(b))
        else:
            out += struct.pack(">i", len(b))
        out += b
    else:
        raise CodecError(f"unknown primitive {t}")


def dec_prim(t, r, nullable, flex):
    if t == "bool":
        b = r.take(1)[0]
        if b > 1:
            raise CodecError(f"bad bool {b}")
        return b == 1
    if t in INT_FORMATS:
        return r.fmt(INT_FORMATS[t])
    if t == "uuid":
        return r.take(16)
    if t in ("string", "bytes", "records"):
        if flex:
            n = r.uvarint() - 1
        else:
            n = r.fmt(">h" if t == "string" else ">i")
        if n < 0:
            if n != -1 or not nullable:
                raise CodecError(f"null/negative length {n} for {t} (nullable={nullable})")
            return None
        b = r.take(n)
        return b.decode("utf-8") if t == "string" else b
    raise CodecError(f"unknown primitive {t}")


def enc_field(f, v, version, flex, out):
    nullable = version in f.nullable
    if f.is_array:
        if v is None:
            if not nullable:
                raise CodecError(f"null array {f.name}")
            out += uvarint(0) if flex else struct.pack(">i", -1)
            return
        out += uvarint(len(v) + 1) if flex else struct.pack(">i", len(v))
        for e in v:
            if f.fields is not None:
                enc_struct(f.fields, e, version, flex, out)
            else:
                enc_prim(f.elem, e, False, flex, out)
    elif f.fields is not None:
        if nullable:
            raise CodecError(f"nullable struct field {f.name} is not supported")
        enc_struct(f.fields, v, version, flex, out)
    else:
        enc_prim(f.elem, v, nullable, flex, out)


def dec_field(f, r, version, flex):
    nullable = version in f.nullable
    if f.is_array:
        if flex:
            n = r.uvarint() - 1
        else:
            n = r.fmt(">i")
        if n < 0:
            if n != -1 or not nullable:
                raise CodecError(f"null/negative array {f.name} ({n})")
            return None
        if n > r.remaining():
            raise CodecError(f"array {f.name} count {n} exceeds remaining bytes")
        if f.fields is not None:
            return [dec_struct(f.fields, r, version, flex) for _ in range(n)]
        return [dec_prim(f.elem, r, False, flex) for _ in range(n)]
    if f.fields is not None:
        if nullable:
            raise CodecError(f"nullable struct field {f.name} is not supported")
        return dec_struct(f.fields, r, version, flex)
    return dec_prim(f.elem, r, nullable, flex)


def known_tagged(fields, version):
    return {f.tag: f for f in fields if version in f.versions and version in f.tagged}


def enc_struct(fields, val, version, flex, out, mark=None):
    if not isinstance(val, dict):
        raise CodecError(f"struct expected, got {type(val).__name__}")
    allowed = {"_tf", "_unknown"}
    for f in fields:
        if version not in f.versions:
            continue
        allowed.add(f.name)
        if f.is_tagged(version):
            if not flex:
                raise SchemaError(f"tagged field {f.name} in non-flexible version {version}")
            continue
        if f.name not in val:
            raise CodecError(f"missing field {f.name} (v{version})")
        enc_field(f, val[f.name], version, flex, out)
    extra = set(val) - allowed
    if extra:
        raise CodecError(f"fields not valid at v{version}: {sorted(extra)}")
    if not flex:
        if "_tf" in val or "_unknown" in val:
            raise CodecError("tagged fields in a non-flexible version")
        return
    if mark is not None:
        mark["tail_offset"] = len(out)
    known = known_tagged(fields, version)
    if "_tf" in val:
        if "_unknown" in val:
            raise CodecError("both _tf and _unknown")
        entries = [(t, raw) for t, raw in val["_tf"]]
    else:
        entries = [(f.tag, None) for f in known.values() if f.name in val]
        entries += [(t, raw) for t, raw in val.get("_unknown", [])]
        entries.sort(key=lambda e: e[0])  # stable: keeps generator order on ties
    seen = set()
    for tag, raw in entries:
        if raw is None:
            if tag not in known or tag in seen:
                raise CodecError(f"bad known tag entry {tag}")
            seen.add(tag)
        elif tag in known:
            raise CodecError(f"raw bytes given for known tag {tag}")
    present = {f.tag for f in known.values() if f.name in val}
    if present != seen:
        raise CodecError(f"tagged fields present {sorted(present)} but listed {sorted(seen)}")
    out += uvarint(len(entries))
    for tag, raw in entries:
        if raw is None:
            data = bytearray()
            enc_field(known[tag], val[known[tag].name], version, flex, data)
        else:
            data = raw
        out += uvarint(tag) + uvarint(len(data)) + bytes(data)


def dec_struct(fields, r, version, flex, mark=None):
    val = {}
    for f in fields:
        if version not in f.versions or (flex and f.is_tagged(version)):
            continue
        val[f.name] = dec_field(f, r, version, flex)
    if not flex:
        return val
    if mark is not None:
        mark["tail_offset"] = r.pos
    known = known_tagged(fields, version)
    n = r.uvarint()
    tf = []
    for _ in range(n):
        tag = r.uvarint()
        size = r.uvarint()
        data = r.take(size)
        if tag in known:
            f = known[tag]
            if f.name in val:
                raise CodecError(f"duplicate known tag {tag}")
            sub = Reader(data)
            val[f.name] = dec_field(f, sub, version, flex)
            if sub.remaining():
                raise CodecError(f"tagged field {f.name} has {sub.remaining()} trailing bytes")
            tf.append([tag, None])
        else:
            tf.append([tag, data])
    val["_tf"] = tf
    return val


def parse_tagged_section(data, off):
    """Raw [(tag, bytes)] of a tagged section that must run to the end of data."""
    r = Reader(data, off)
    n = r.uvarint()
    items = []
    for _ in range(n):
        tag = r.uvarint()
        size = r.uvarint()
        items.append((tag, r.take(size)))
    if r.remaining():
        raise CodecError(f"{r.remaining()} bytes after the top-level tagged section")
    return items


def build_tagged_section(items):
    out = bytearray(uvarint(len(items)))
    for tag, raw in items:
        out += uvarint(tag) + uvarint(len(raw)) + raw
    return bytes(out)


class Protocol:
    """The schemas for every (api, version) we generate, and frame codec."""

    def __init__(self, shared_dir, new_dir):
        self.header = MessageSpec(os.path.join(shared_dir, "ResponseHeader.json"), "shared")
        self.specs = {}
        for api, base in SCHEMA_BASENAMES.items():
            shared = MessageSpec(os.path.join(shared_dir, base + ".json"), "shared")
            new = MessageSpec(os.path.join(new_dir, base + ".json"), "kafka-clients-4.4.0")
            if shared.api_key != api or new.api_key != api:
                raise SchemaError(f"{base}: unexpected apiKey")
            self.specs[api] = (shared, new)

    def spec(self, api, version):
        # The shared trunk snapshot is authoritative for every version it
        # lists; the 4.4.0 jar is only used for versions beyond it.
        shared, new = self.specs[api]
        if version in shared.valid:
            return shared
        if version in new.valid:
            return new
        raise SchemaError(f"api {api} v{version} is in neither schema")

    def flexible(self, api, version):
        return version in self.spec(api, version).flexible

    def header_version(self, api, version):
        # ApiVersions responses always use header v0 so that a client can parse
        # the error even when it sent a version the broker does not know.
        if api == 18:
            return 0
        return 1 if self.flexible(api, version) else 0

    def encode_frame(self, api, version, header, body):
        hv = self.header_version(api, version)
        out = bytearray()
        enc_struct(self.header.fields, header, hv, hv in self.header.flexible, out)
        mark = {}
        enc_struct(self.spec(api, version).fields, body, version, self.flexible(api, version), out, mark)
        return bytes(out), mark.get("tail_offset")

    def decode_frame(self, api, version, data):
        hv = self.header_version(api, version)
        r = Reader(data)
        header = dec_struct(self.header.fields, r, hv, hv in self.header.flexible)
        mark = {}
        body = dec_struct(self.spec(api, version).fields, r, version, self.flexible(api, version), mark)
        if r.remaining():
            raise CodecError(f"{r.remaining()} trailing bytes after body")
        return header, body, mark.get("tail_offset")


# ---------------------------------------------------------------------------
# The model of kgate's rewrites
# ---------------------------------------------------------------------------

def map_endpoint(entry, id_key):
    m = MAPPING.get(entry[id_key])
    if m is not None:
        entry["Host"], entry["Port"] = m


def rewrite_api_versions(body):
    if body["ErrorCode"] != 0:
        return
    kept = []
    for e in body["ApiKeys"]:
        k = e["ApiKey"]
        if k in HIDE:
            continue
        if k in CAP:
            e["MaxVersion"] = min(e["MaxVersion"], CAP[k])
            if e["MinVersion"] > e["MaxVersion"]:
                continue
        kept.append(e)
    body["ApiKeys"] = kept


def rewrite_tree(api, version, body):
    if api == 3:
        for b in body["Brokers"]:
            map_endpoint(b, "NodeId")
    elif api == 10:
        if version <= 3:
            if body["ErrorCode"] == 0 and body["NodeId"] != -1:
                map_endpoint(body, "NodeId")
        else:
            for c in body["Coordinators"]:
                if c["ErrorCode"] == 0 and c["NodeId"] != -1:
                    map_endpoint(c, "NodeId")
    elif api == 60:
        if version == 0 or body["EndpointType"] == 1:
            for b in body["Brokers"]:
                map_endpoint(b, "BrokerId")
    elif api == 0:
        for e in body.get("NodeEndpoints") or []:
            map_endpoint(e, "NodeId")
    elif api == 18:
        rewrite_api_versions(body)
    else:
        raise KeyError(api)


class NoPaddingFit(Exception):
    pass


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


def pad_section(items, target_len):
    """items + padding fields, encoded as a section of exactly target_len bytes.

    The field count is a uvarint, so adding padding fields can make the count
    itself longer; the gap is then recomputed with the longer count until the
    count's length is consistent. Returns (section bytes, pad sizes)."""
    body = build_tagged_section(items)[len(uvarint(len(items))):]
    vlen = len(uvarint(len(items)))
    for _ in range(6):
        gap = target_len - vlen - len(body)
        sizes = pad_sizes(gap) if gap >= 0 else None
        if sizes is None:
            break
        need = len(uvarint(len(items) + len(sizes)))
        if need == vlen:
            pads = [(PAD_TAG, bytes(s)) for s in sizes]
            sec = build_tagged_section(list(items) + pads)
            assert len(sec) == target_len, (len(sec), target_len)
            return sec, sizes
        if need < vlen:
            break
        vlen = need
    raise NoPaddingFit(f"no padding fits {target_len} bytes for {len(items)} fields")


def node_endpoints_field(proto, version):
    f = known_tagged(proto.spec(1, version).fields, version).get(0)
    assert f is not None and f.name == "NodeEndpoints"
    return f


def rewrite_fetch_tail(proto, version, frame, tail_offset):
    """Rule 6: rewrite Fetch's top-level tagged section without changing size."""
    ne = node_endpoints_field(proto, version)
    items = parse_tagged_section(frame, tail_offset)
    L0 = len(frame) - tail_offset
    new_items = []
    for tag, raw in items:
        if tag == 0:
            r = Reader(raw)
            lst = dec_field(ne, r, version, True)
            if r.remaining():
                raise CodecError("trailing bytes in NodeEndpoints")
            for e in lst or []:
                map_endpoint(e, "NodeId")
            out = bytearray()
            enc_field(ne, lst, version, True, out)
            raw = bytes(out)
        new_items.append((tag, raw))
    sec1 = build_tagged_section(new_items)
    L1 = len(sec1)
    info = {"L0": L0, "L1": L1, "pads": [], "had_node_endpoints": any(t == 0 for t, _ in items)}
    if L1 == L0:
        info["branch"] = "a_same_length"
        sec = sec1
    elif L0 - L1 >= 3:
        info["branch"] = "b_padded"
        sec, info["pads"] = pad_section(new_items, L0)
    else:
        info["branch"] = "c_dropped_node_endpoints"
        sec, info["pads"] = pad_section([it for it in items if it[0] != 0], L0)
    info["count_before"] = len(items)
    info["count_after"] = len(parse_tagged_section(sec, 0))
    return frame[:tail_offset] + sec, info


def kgate_rewrite(proto, api, version, frame):
    """Expected kgate output for a frame: (expected bytes, tail_offset, info)."""
    mode = mode_for(api, version)
    header, body, tail_offset = proto.decode_frame(api, version, frame)
    if mode == "unchanged":
        return frame, None, {}
    if mode == "tail_same_size":
        exp, info = rewrite_fetch_tail(proto, version, frame, tail_offset)
        return exp, tail_offset, info
    rewrite_tree(api, version, body)
    exp, _ = proto.encode_frame(api, version, header, body)
    return exp, None, {}


# ---------------------------------------------------------------------------
# Self-checks (run on every vector, also usable on an existing file)
# ---------------------------------------------------------------------------
#
# These do not reuse the rewriter: they compare decoded input and expected
# trees leaf by leaf and accept only the differences the rules allow.

MISSING = object()


def flatten(v, path=(), out=None):
    if out is None:
        out = {}
    if isinstance(v, dict):
        out[path + ("#keys",)] = tuple(sorted(v))
        for k in v:
            flatten(v[k], path + (k,), out)
    elif isinstance(v, list):
        out[path + ("#len",)] = len(v)
        for i, e in enumerate(v):
            flatten(e, path + (i,), out)
    else:
        out[path] = v
    return out


def leaf_diff(a, b):
    fa, fb = flatten(a), flatten(b)
    return {p for p in set(fa) | set(fb) if fa.get(p, MISSING) != fb.get(p, MISSING)}, fb


def check_substitutions(a, b, subst, what):
    """b must equal a except at the paths in subst, where it has subst's value."""
    diff, fb = leaf_diff(a, b)
    unexpected = diff - set(subst)
    if unexpected:
        raise AssertionError(f"{what}: unexpected differences at {sorted(map(str, unexpected))[:5]}")
    for p, v in subst.items():
        if fb.get(p, MISSING) != v:
            raise AssertionError(f"{what}: {p} is {fb.get(p, MISSING)!r}, want {v!r}")


def endpoint_substs(entries, id_key, prefix, cond=lambda e: True):
    subst = {}
    for i, e in enumerate(entries or []):
        if cond(e) and e[id_key] in MAPPING:
            host, port = MAPPING[e[id_key]]
            subst[prefix + (i, "Host")] = host
            subst[prefix + (i, "Port")] = port
    return subst


def unknown_fields(v, out=None):
    """Counter of all unknown tagged fields (tag, raw) anywhere in a tree."""
    if out is None:
        out = Counter()
    if isinstance(v, dict):
        for t, raw in v.get("_tf", []):
            if raw is not None:
                out[(t, raw)] += 1
        for k, x in v.items():
            if k != "_tf":
                unknown_fields(x, out)
    elif isinstance(v, list):
        for x in v:
            unknown_fields(x, out)
    return out


def check_vector(proto, vec):
    """Decode-based checks of one vector. Returns the number of unknown tags."""
    api, ver, mode = vec["api_key"], vec["api_version"], vec["mode"]
    inp, exp = bytes.fromhex(vec["input"]), bytes.fromhex(vec["expected"])
    name = vec["name"]
    assert mode == mode_for(api, ver), name
    h, b, toff = proto.decode_frame(api, ver, inp)
    assert proto.encode_frame(api, ver, h, b) == (inp, toff), f"{name}: input does not round-trip"
    he, be, toffe = proto.decode_frame(api, ver, exp)
    assert proto.encode_frame(api, ver, he, be) == (exp, toffe), f"{name}: expected does not round-trip"
    unk_in, unk_out = unknown_fields([h, b]), unknown_fields([he, be])
    tree_in, tree_out = {"h": h, "b": b}, {"h": he, "b": be}

    if mode == "unchanged":
        assert exp == inp, name
        assert "tail_offset" not in vec
    elif mode == "tail_same_size":
        check_fetch_tail(proto, vec, inp, exp, toff, unk_in, unk_out)
    else:
        assert "tail_offset" not in vec
        if api == 18:
            check_api_versions(name, tree_in, tree_out)
            # removed entries take their unknown tags with them; nothing else may
            removed = Counter()
            if b["ErrorCode"] == 0:
                for e in b["ApiKeys"]:
                    if api_key_dropped(e):
                        removed += unknown_fields(e)
            assert unk_out == unk_in - removed, f"{name}: unknown tags changed"
        else:
            subst = {}
            if api == 3:
                subst = endpoint_substs(b["Brokers"], "NodeId", ("b", "Brokers"))
            elif api == 10 and ver <= 3:
                if b["ErrorCode"] == 0 and b["NodeId"] in MAPPING and b["NodeId"] != -1:
                    host, port = MAPPING[b["NodeId"]]
                    subst = {("b", "Host"): host, ("b", "Port"): port}
            elif api == 10:
                subst = endpoint_substs(b["Coordinators"], "NodeId", ("b", "Coordinators"),
                                        lambda e: e["ErrorCode"] == 0 and e["NodeId"] != -1)
            elif api == 60:
                if ver == 0 or b["EndpointType"] == 1:
                    subst = endpoint_substs(b["Brokers"], "BrokerId", ("b", "Brokers"))
            elif api == 0:
                subst = endpoint_substs(b.get("NodeEndpoints"), "NodeId", ("b", "NodeEndpoints"))
            check_substitutions(tree_in, tree_out, subst, name)
            assert unk_out == unk_in, f"{name}: unknown tags changed"
    return sum(unk_in.values())


def api_key_dropped(e):
    k = e["ApiKey"]
    return k in HIDE or (k in CAP and e["MinVersion"] > min(e["MaxVersion"], CAP[k]))


def check_api_versions(name, tin, tout):
    b, be = tin["b"], tout["b"]
    if b["ErrorCode"] != 0:
        assert tin == tout, f"{name}: error response must be unchanged"
        return
    j = 0
    for e in b["ApiKeys"]:
        k, mx = e["ApiKey"], e["MaxVersion"]
        want_max = min(mx, CAP[k]) if k in CAP else mx
        if api_key_dropped(e):
            continue
        o = be["ApiKeys"][j]
        j += 1
        check_substitutions(e, o, {("MaxVersion",): want_max}, f"{name} ApiKey {k}")
    assert j == len(be["ApiKeys"]), f"{name}: extra ApiKeys entries"
    rest_in = dict(tin, b={k: v for k, v in b.items() if k != "ApiKeys"})
    rest_out = dict(tout, b={k: v for k, v in be.items() if k != "ApiKeys"})
    check_substitutions(rest_in, rest_out, {}, f"{name} (outside ApiKeys)")


def check_fetch_tail(proto, vec, inp, exp, toff, unk_in, unk_out):
    name, ver = vec["name"], vec["api_version"]
    assert vec["tail_offset"] == toff, f"{name}: tail_offset {vec['tail_offset']} != decoded {toff}"
    assert len(exp) == len(inp), f"{name}: length changed"
    assert exp[:toff] == inp[:toff], f"{name}: bytes before tail_offset changed"
    items_in = parse_tagged_section(inp, toff)
    items_out = parse_tagged_section(exp, toff)
    npad = 0
    while npad < len(items_out) and items_out[-1 - npad][0] == PAD_TAG \
            and items_out[-1 - npad][1] == bytes(len(items_out[-1 - npad][1])):
        npad += 1
    pads = items_out[len(items_out) - npad:]
    core = items_out[:len(items_out) - npad]
    assert all(len(raw) <= PAD_MAX_S for _, raw in pads), name
    others_in = [it for it in items_in if it[0] != 0]
    assert [it for it in core if it[0] != 0] == others_in, f"{name}: other tagged fields changed"
    ne = node_endpoints_field(proto, ver)
    has0_in = any(t == 0 for t, _ in items_in)
    has0_out = any(t == 0 for t, _ in core)
    if has0_out:
        assert has0_in, name
        # same position among the fields, entries rewritten by the mapping only
        assert [t for t, _ in core] == [t for t, _ in items_in], name
        ein = dec_field(ne, Reader(dict(items_in)[0]), ver, True)
        eout = dec_field(ne, Reader(dict(core)[0]), ver, True)
        check_substitutions(ein, eout, endpoint_substs(ein, "NodeId", ()), name)
        if npad:
            assert len(inp) - len(build_tagged_section(core)) - toff >= 3, name
    elif not has0_in:
        assert npad == 0 and exp == inp, f"{name}: no NodeEndpoints, so nothing may change"
    else:
        # dropped: only allowed when the rewritten field would not fit
        ein = dec_field(ne, Reader(dict(items_in)[0]), ver, True)
        for e in ein or []:
            if e["NodeId"] in MAPPING:
                e["Host"], e["Port"] = MAPPING[e["NodeId"]]
        raw = bytearray()
        enc_field(ne, ein, ver, True, raw)
        L1 = len(build_tagged_section([(t, bytes(raw) if t == 0 else r) for t, r in items_in]))
        L0 = len(inp) - toff
        assert L1 > L0 or L0 - L1 in (1, 2), f"{name}: NodeEndpoints dropped although it fits"
        dropped_unknown = unknown_fields(dec_field(ne, Reader(dict(items_in)[0]), ver, True))
        unk_in = unk_in - dropped_unknown
    if npad:
        assert pad_sizes(sum(3 + len(r) for _, r in pads)) == [len(r) for _, r in pads], \
            f"{name}: padding split differs from the specified greedy split"
    pad_unknown = Counter((PAD_TAG, r) for _, r in pads)
    assert unk_out - pad_unknown == unk_in and sum(pad_unknown.values()) == npad, \
        f"{name}: unknown tags changed"


# ---------------------------------------------------------------------------
# Random but realistic values
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------
#
# A case is (suffix, notes, build, expect): build(gen) returns (header, body);
# expect is an optional dict of properties the result must have, so that a
# case labelled "shorter" provably exercises what its name claims.

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
    (75, 0, 0), (76, 0, 1), (77, 0, 1), (78, 0, 1), (79, 0, 1), (80, 0, 1), (81, 0, 0), (1000, 0, 3),
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
                      "ShareFetch/ShareAcknowledge removed, unknown key 1000 kept",
                      lambda g: api_versions_body(g, typical_table(g.rng)), {"len": "<"}))
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
    cases.append(("only_hidden", "only ShareFetch and ShareAcknowledge: array becomes empty",
                  lambda g: api_versions_body(g, [(78, 0, 1), (79, 0, 1)]), {"len": "<"}))
    if v >= 3:
        cases.append(("no_features", "flexible version without any top-level tagged fields",
                      lambda g: api_versions_body(g, typical_table(g.rng), features=False, unknown="none"),
                      {"len": "<"}))
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


CASES = {3: metadata_cases, 10: find_coordinator_cases, 60: describe_cluster_cases,
         0: produce_cases, 18: api_versions_cases, 1: fetch_cases}


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

def all_structs_have_unknown(fields, val, version):
    """True if every struct of a decoded flexible tree has an unknown tag."""
    if isinstance(val, list):
        return all(all_structs_have_unknown(fields, e, version) for e in val)
    if not any(raw is not None for _, raw in val.get("_tf", [])):
        return False
    for f in fields:
        if f.fields is not None and version in f.versions and val.get(f.name) is not None:
            if not all_structs_have_unknown(f.fields, val[f.name], version):
                return False
    return True


def tag0_size_varint_len(proto, api, version, frame):
    _, _, toff = proto.decode_frame(api, version, frame)
    r = Reader(frame, toff)
    for _ in range(r.uvarint()):
        tag = r.uvarint()
        start = r.pos
        size = r.uvarint()
        if tag == 0:
            return r.pos - start
        r.take(size)
    return None


def check_expectations(proto, vec, info, expect):
    name = vec["name"]
    inp, exp = bytes.fromhex(vec["input"]), bytes.fromhex(vec["expected"])
    if not expect:
        return
    if "same" in expect:
        assert (inp == exp) == expect["same"], f"{name}: same={inp == exp}, want {expect['same']}"
    if "len" in expect:
        op = expect["len"]
        ok = {"<": len(exp) < len(inp), ">": len(exp) > len(inp), "=": len(exp) == len(inp)}[op]
        assert ok, f"{name}: length {len(inp)} -> {len(exp)}, want {op}"
    if "branch" in expect:
        assert info["branch"] == expect["branch"], f"{name}: branch {info['branch']}"
    if "gap" in expect:
        assert info["L0"] - info["L1"] == expect["gap"], f"{name}: gap {info['L0'] - info['L1']}"
    if "pads" in expect:
        assert info["pads"] == expect["pads"], f"{name}: pads {info['pads']}"
    if "len_tag0" in expect:
        assert info["L1"] > info["L0"], name
    if "tag0_size_varint" in expect:
        got = (tag0_size_varint_len(proto, vec["api_key"], vec["api_version"], inp),
               tag0_size_varint_len(proto, vec["api_key"], vec["api_version"], exp))
        assert got == expect["tag0_size_varint"], f"{name}: size varint lengths {got}"
    if expect.get("unknown_all"):
        api, ver = vec["api_key"], vec["api_version"]
        h, b, _ = proto.decode_frame(api, ver, inp)
        spec = proto.spec(api, ver)
        assert all_structs_have_unknown(spec.fields, b, ver), f"{name}: a struct lacks unknown tags"
        if proto.header_version(api, ver) == 1:
            assert all_structs_have_unknown(proto.header.fields, h, 1), f"{name}: header lacks unknown tags"


def describe_info(info):
    if not info:
        return ""
    s = f" [tail: L0={info['L0']} L1={info['L1']} {info['branch']}"
    if info["pads"]:
        s += f", padding s={info['pads']}"
    if info["count_before"] != info["count_after"]:
        s += f", field count {info['count_before']}->{info['count_after']}"
    return s + "]"


def generate(proto, seed):
    vectors = []
    for api, lo, hi, mode in PLAN:
        for v in range(lo, hi + 1):
            for suffix, notes, build, expect in CASES[api](v):
                name = f"{API_NAMES[api]}_v{v}_{suffix}"
                rng = random.Random(f"{seed}/{name}")
                gen = Gen(proto, api, v, rng)
                header, body = build(gen)
                frame, toff = proto.encode_frame(api, v, header, body)
                expected, tail_offset, info = kgate_rewrite(proto, api, v, frame)
                vec = {"name": name, "api_key": api, "api_version": v, "mode": mode,
                       "input": frame.hex(), "expected": expected.hex()}
                if mode == "tail_same_size":
                    vec["tail_offset"] = tail_offset
                vec["notes"] = notes + describe_info(info)
                check_vector(proto, vec)
                check_expectations(proto, vec, info, expect)
                vectors.append(vec)
    names = [v["name"] for v in vectors]
    assert len(names) == len(set(names)), "duplicate vector names"
    return vectors


def schema_sources(proto):
    out = []
    for api, lo, hi, _ in PLAN:
        for v in range(lo, hi + 1):
            s = proto.spec(api, v)
            out.append((SCHEMA_BASENAMES[api], v, s.origin, s.sha256))
    # collapse consecutive versions with the same source
    rows = []
    for base, v, origin, sha in out:
        if rows and rows[-1]["schema"] == base + ".json" and rows[-1]["origin"] == origin \
                and rows[-1]["versions"][1] == v - 1:
            rows[-1]["versions"][1] = v
        else:
            rows.append({"schema": base + ".json", "versions": [v, v], "origin": origin, "sha256": sha})
    rows.append({"schema": "ResponseHeader.json", "versions": [0, 1], "origin": "shared",
                 "sha256": proto.header.sha256})
    for r in rows:
        r["versions"] = f"{r['versions'][0]}-{r['versions'][1]}"
    return rows


def render(proto, seed, vectors):
    doc = {
        "generator": "scripts/gen_vectors.py",
        "seed": seed,
        "mapping": [{"node_id": k, "host": h, "port": p} for k, (h, p) in sorted(MAPPING.items())],
        "schema_sources": schema_sources(proto),
        "vectors": vectors,
    }
    return json.dumps(doc, indent=1) + "\n"


def summary(vectors, size):
    per = Counter((API_NAMES[v["api_key"]], v["api_version"], v["mode"]) for v in vectors)
    lines = [f"{len(vectors)} vectors, {size} bytes"]
    for (api, ver, mode), n in sorted(per.items()):
        lines.append(f"  {api:17s} v{ver:<2d} {mode:15s} {n}")
    return "\n".join(lines)


def find_new_schema_dir(path):
    # Accept both the flat layout of fetch-kafka-schemas.sh and a raw jar
    # extraction (DIR/common/message/*.json).
    nested = os.path.join(path, "common", "message")
    return nested if os.path.isdir(nested) else path


def main():
    if not __debug__:
        sys.exit("error: do not run with python -O; the self-checks are assert statements")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=os.path.join(root, "..", "shared", "kafka-protocol"),
                    help="Kafka trunk schema directory (default: ../shared/kafka-protocol)")
    ap.add_argument("--kafka44", default=os.path.join(root, "build", "kafka-schemas-4.4.0"),
                    help="kafka-clients 4.4.0 schemas (scripts/fetch-kafka-schemas.sh output)")
    ap.add_argument("--out", default=os.path.join(root, "test", "vectors", "rewrite.json"))
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--check", action="store_true", help="do not write; fail if --out differs")
    ap.add_argument("--verify", metavar="FILE", help="only re-run the self-checks on FILE")
    args = ap.parse_args()

    new_dir = find_new_schema_dir(args.kafka44)
    for d in (args.shared, new_dir):
        if not os.path.isfile(os.path.join(d, "FetchResponse.json")):
            sys.exit(f"error: no Kafka schemas in {d} (see scripts/fetch-kafka-schemas.sh)")
    proto = Protocol(args.shared, new_dir)

    if args.verify:
        with open(args.verify) as fh:
            doc = json.load(fh)
        assert doc["mapping"] == [{"node_id": k, "host": h, "port": p} for k, (h, p) in sorted(MAPPING.items())]
        for vec in doc["vectors"]:
            check_vector(proto, vec)
        print(f"verified {len(doc['vectors'])} vectors in {args.verify}")
        return

    vectors = generate(proto, args.seed)
    text = render(proto, args.seed, vectors)
    if args.check:
        with open(args.out) as fh:
            if fh.read() != text:
                sys.exit(f"error: {args.out} is out of date; rerun scripts/gen_vectors.py")
        print(f"{args.out} is up to date")
        return
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        fh.write(text)
    print(summary(vectors, len(text)))


if __name__ == "__main__":
    main()
