#!/usr/bin/env python3
"""fuzz_seeds.py — seed inputs for the fuzz targets in test/fuzz/.

Writes OUT/<target>/<sha1> files in each target's input layout (the comment
at the top of test/fuzz/fuzz_<target>.c says what it is) from:

- test/vectors/rewrite.json: every response vector, for the rewriters, the
  Fetch walker, the framing (with the request it answers) and kgate's own
  decoders;
- requests of the shapes kgate peeks at (Produce with and without
  TransactionalId, header tags, acks 0/1/-1) for the framing;
- config/kgate.sample.json and the JSON blocks of README.md (and of
  ../shared/DESIGN.md when it is beside the repository) for the config.

The committed corpus (test/fuzz/corpus) is these seeds and what fuzzing
found, minimized with libFuzzer's -merge=1 (`make fuzz-merge`):

    scripts/fuzz_seeds.py build/fuzz/seeds
    make fuzz-merge FUZZ_MERGE_FROM=build/fuzz/seeds
"""
import hashlib
import json
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_LEN = 16384  # the -max_len the Makefile fuzzes with

# From protocol/kapi.c: first flexible version of the APIs the vectors
# answer (request header v2 from there on).
FIRST_FLEXIBLE = {0: 9, 1: 12, 3: 9, 10: 3, 18: 3, 60: 0, 78: 0, 79: 0}
PRODUCE, FETCH, METADATA, API_VERSIONS, SHARE_FETCH = 0, 1, 3, 18, 78


def uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def request(key, version, correlation_id, client_id=b"fuzz", acks=-1,
            transactional_id=None, header_tags=b""):
    """A request frame as test/unit/test_kstream.c builds them (size
    included): header v1/v2, and for Produce the body up to TimeoutMs."""
    flexible = version >= FIRST_FLEXIBLE.get(key, 1 << 15)
    body = struct.pack(">hhih", key, version, correlation_id, len(client_id)) + client_id
    if flexible:
        body += header_tags or b"\x00"
    if key == PRODUCE:
        if version >= 3:
            if transactional_id is None:
                body += b"\x00" if flexible else struct.pack(">h", -1)
            elif flexible:
                body += uvarint(len(transactional_id) + 1) + transactional_id
            else:
                body += struct.pack(">h", len(transactional_id)) + transactional_id
        body += struct.pack(">hi", acks, 30000)
    body += b"records-or-body"
    return struct.pack(">i", len(body)) + body


def framed(b):
    return struct.pack(">i", len(b)) + b


def framing_input(reqs, resps, cfg=0, pieces=(255,)):
    return (bytes([cfg, len(pieces) - 1]) + bytes(pieces) + struct.pack(">H", len(reqs)) +
            reqs + resps)


def vectors():
    with open(os.path.join(ROOT, "test/vectors/rewrite.json"), encoding="utf-8") as f:
        for v in json.load(f)["vectors"]:
            yield int(v["api_key"]), int(v["api_version"]), bytes.fromhex(v["input"])


def json_blocks(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return []
    return [m.encode() for m in re.findall(r"```json\n(.*?)```", text, re.S)]


def seeds():
    """(target, input) pairs."""
    vecs = [v for v in vectors() if len(v[2]) + 64 <= MAX_LEN]
    for key, version, frame in vecs:
        if key not in (FETCH, SHARE_FETCH):
            yield "rewriters", bytes([key, version]) + frame
        else:
            # fuzz_fetch's first byte: Fetch v12 + b % 7 below 128, ShareFetch v(b % 3) above.
            first = version - 12 if key == FETCH else 129 + version  # 129 % 3 == 0
            for window, pieces in ((240, (255,)), (48, (0, 6, 63))):
                yield "fetch", bytes([first, window, len(pieces) - 1]) + bytes(pieces) + frame
        if key == METADATA:
            yield "decoders", bytes([1, version, 0]) + frame
        if key == API_VERSIONS and version == 0:
            for want in (PRODUCE, METADATA, API_VERSIONS, 200):
                yield "decoders", bytes([0]) + struct.pack(">h", want) + frame
        correlation_id = struct.unpack(">i", frame[:4])[0]
        req = request(key, version, correlation_id)
        yield "framing", framing_input(req, framed(frame))
        yield "framing", framing_input(req, framed(frame), cfg=3, pieces=(0, 6, 63, 200))
    # Pipelined: every vector of an API that fits, answered in order.
    for api in sorted(FIRST_FLEXIBLE):
        reqs = resps = b""
        for key, version, frame in vecs:
            if key != api:
                continue
            cid = struct.unpack(">i", frame[:4])[0]
            r, s = request(key, version, cid), framed(frame)
            if len(reqs) + len(resps) + len(r) + len(s) + 32 > MAX_LEN:
                break
            reqs, resps = reqs + r, resps + s
        yield "framing", framing_input(reqs, resps, pieces=(0, 2, 200))
        yield "framing", framing_input(reqs, resps, cfg=2, pieces=(100,))
    # Requests kgate peeks at, answered by nothing.
    reqs = b"".join([
        request(PRODUCE, 3, 1, acks=0),
        request(PRODUCE, 8, 2, acks=1, transactional_id=b"tx-1"),
        request(PRODUCE, 9, 3, acks=-1, header_tags=b"\x01\x00\x03abc"),
        request(PRODUCE, 13, 4, acks=0, transactional_id=b"t" * 300, client_id=b"c" * 600),
        request(FETCH, 18, 5),
        request(METADATA, 13, 6),
        request(API_VERSIONS, 9, 7),
        request(200, 0, 8),
        request(55, 2, 9),  # DescribeQuorum v2: refused
    ])
    yield "framing", framing_input(reqs, b"", pieces=(0, 1, 2, 3, 250))
    for cfg in (0, 4):
        yield "framing", framing_input(request(PRODUCE, 11, 1, acks=1), b"", cfg=cfg)
    configs = [open(os.path.join(ROOT, "config/kgate.sample.json"), "rb").read()]
    configs += json_blocks(os.path.join(ROOT, "README.md"))
    configs += json_blocks(os.path.join(ROOT, "..", "shared", "DESIGN.md"))
    for c in configs:
        yield "config", c


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print(f"usage: {sys.argv[0]} OUT_DIR", file=sys.stderr)
        return 2
    counts = {}
    for target, data in seeds():
        d = os.path.join(sys.argv[1], target)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
        counts[target] = counts.get(target, 0) + 1
    for target in sorted(counts):
        print(f"{target}: {counts[target]} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
