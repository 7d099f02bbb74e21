"""The model of kgate's rewrites: the frame kgate must produce for an input.

kgate_rewrite() is the entry point. Most APIs are decoded, rewritten and
re-encoded whole; Fetch v16+ goes through rewrite_fetch_tail(), which
rewrites only the top-level tagged section and keeps the frame's size.
"""

from .kgate import CAP, MAPPING, PAD_TAG, mode_for, pad_sizes
from .protocol import node_endpoints_field
from .wire import CodecError, Reader, build_tagged_section, dec_field, enc_field, parse_tagged_section, uvarint


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
    elif api in (0, 79):
        for e in body.get("NodeEndpoints") or []:
            map_endpoint(e, "NodeId")
    elif api == 18:
        rewrite_api_versions(body)
    else:
        raise KeyError(api)


class NoPaddingFit(Exception):
    pass


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


def share_node_endpoints_offset(proto, version, body, tags_off):
    """Where ShareFetch's NodeEndpoints starts: right before the top-level tags."""
    f = proto.spec(78, version).field("NodeEndpoints")
    raw = bytearray()
    enc_field(f, body["NodeEndpoints"], version, True, raw)
    return tags_off - len(raw), bytes(raw)


def rewrite_share_fetch_tail(proto, version, frame, body, tags_off):
    """ShareFetch: NodeEndpoints (an ordinary field) and the top-level tags
    after it keep their size. A shorter NodeEndpoints is followed by padding
    fields after the section's own; a longer one (or a gap of 1-2 bytes)
    goes out as an empty array, the section padded to fill."""
    f = proto.spec(78, version).field("NodeEndpoints")
    ne_off, old = share_node_endpoints_offset(proto, version, body, tags_off)
    lst = [dict(e) for e in body["NodeEndpoints"]]
    for e in lst:
        map_endpoint(e, "NodeId")
    new = bytearray()
    enc_field(f, lst, version, True, new)
    new = bytes(new)
    items = parse_tagged_section(frame, tags_off)
    L0 = len(frame) - ne_off
    info = {"L0": L0, "L1": len(new) + len(frame) - tags_off, "pads": [],
            "count_before": len(items)}
    sec = frame[tags_off:]
    if new == old:
        info["branch"] = "a_same_length"
    else:
        try:
            if len(new) > len(old):
                raise NoPaddingFit("longer")
            sec, info["pads"] = pad_section(items, L0 - len(new))
            info["branch"] = "a_same_length" if len(new) == len(old) else "b_padded"
        except NoPaddingFit:
            info["branch"] = "c_dropped_node_endpoints"
            new = uvarint(1)  # an empty compact array
            sec, info["pads"] = pad_section(items, L0 - len(new))
    info["count_after"] = len(parse_tagged_section(sec, 0))
    return frame[:ne_off] + new + sec, ne_off, info


def kgate_rewrite(proto, api, version, frame):
    """Expected kgate output for a frame: (expected bytes, tail_offset, info)."""
    mode = mode_for(api, version)
    header, body, tail_offset = proto.decode_frame(api, version, frame)
    if mode == "unchanged":
        return frame, None, {}
    if mode == "tail_same_size":
        exp, info = rewrite_fetch_tail(proto, version, frame, tail_offset)
        return exp, tail_offset, info
    if mode == "share_tail_same_size":
        return rewrite_share_fetch_tail(proto, version, frame, body, tail_offset)
    rewrite_tree(api, version, body)
    exp, _ = proto.encode_frame(api, version, header, body)
    return exp, None, {}
