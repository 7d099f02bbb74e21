"""Self-checks on one vector, run while generating and by --verify.

These do not reuse the rewriter (this module does not import rewrite.py):
they compare decoded input and expected trees leaf by leaf and accept only
the differences the rules allow. check_expectations() asserts that a case
exercises what its name says (only while generating: it needs the case).
"""

from collections import Counter

from .kgate import CAP, MAPPING, PAD_MAX_S, PAD_TAG, mode_for, pad_sizes
from .protocol import node_endpoints_field
from .rewrite import share_node_endpoints_offset
from .wire import Reader, build_tagged_section, dec_field, enc_field, parse_tagged_section


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
    elif mode == "share_tail_same_size":
        check_share_tail(proto, vec, inp, exp, b, be, toff, unk_in, unk_out)
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
            elif api in (0, 79):
                subst = endpoint_substs(b.get("NodeEndpoints"), "NodeId", ("b", "NodeEndpoints"))
            check_substitutions(tree_in, tree_out, subst, name)
            assert unk_out == unk_in, f"{name}: unknown tags changed"
    return sum(unk_in.values())


def api_key_dropped(e):
    k = e["ApiKey"]
    return k in CAP and e["MinVersion"] > min(e["MaxVersion"], CAP[k])


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


def check_share_tail(proto, vec, inp, exp, b, be, tags_off, unk_in, unk_out):
    """ShareFetch: same size; everything before NodeEndpoints untouched;
    NodeEndpoints mapped, or emptied only when the mapped form cannot fit;
    the top-level section keeps its fields and gains only zero padding."""
    name, ver = vec["name"], vec["api_version"]
    ne_off, old = share_node_endpoints_offset(proto, ver, b, tags_off)
    assert vec["tail_offset"] == ne_off, f"{name}: tail_offset {vec['tail_offset']} != {ne_off}"
    assert len(exp) == len(inp), f"{name}: length changed"
    assert exp[:ne_off] == inp[:ne_off], f"{name}: bytes before NodeEndpoints changed"
    rest_in = {k: v for k, v in b.items() if k not in ("NodeEndpoints", "_tf")}
    rest_out = {k: v for k, v in be.items() if k not in ("NodeEndpoints", "_tf")}
    assert rest_in == rest_out, f"{name}: fields before NodeEndpoints changed"
    tf = be["_tf"]
    npad = 0
    while npad < len(tf) and tf[-1 - npad][0] == PAD_TAG and tf[-1 - npad][1] == bytes(len(tf[-1 - npad][1])):
        npad += 1
    pads = tf[len(tf) - npad:]
    assert tf[:len(tf) - npad] == b["_tf"], f"{name}: top-level tagged fields changed"
    if npad:
        assert pad_sizes(sum(3 + len(r) for _, r in pads)) == [len(r) for _, r in pads], \
            f"{name}: padding split differs from the specified greedy split"
    dropped = Counter()
    if be["NodeEndpoints"] or not b["NodeEndpoints"]:
        check_substitutions(b["NodeEndpoints"], be["NodeEndpoints"],
                            endpoint_substs(b["NodeEndpoints"], "NodeId", ()), name)
    else:
        lst = [dict(e) for e in b["NodeEndpoints"]]
        for e in lst:
            if e["NodeId"] in MAPPING:
                e["Host"], e["Port"] = MAPPING[e["NodeId"]]
        raw = bytearray()
        enc_field(proto.spec(78, ver).field("NodeEndpoints"), lst, ver, True, raw)
        assert len(raw) > len(old) or len(old) - len(raw) in (1, 2), \
            f"{name}: NodeEndpoints emptied although it fits"
        dropped = unknown_fields(b["NodeEndpoints"])
    pad_unknown = Counter((PAD_TAG, bytes(r)) for _, r in pads)
    assert unk_out - pad_unknown == unk_in - dropped, f"{name}: unknown tags changed"


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
