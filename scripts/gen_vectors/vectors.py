"""Generate the vectors and render rewrite.json."""

import json
import random
from collections import Counter

from .cases import CASES
from .checks import check_expectations, check_vector
from .kgate import API_NAMES, MAPPING, PLAN, SCHEMA_BASENAMES
from .rewrite import kgate_rewrite
from .values import Gen


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
                if mode in ("tail_same_size", "share_tail_same_size"):
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
