#!/usr/bin/python3
"""kafka_login.py — a raw Kafka client that signs in to a SASL listener, for
the integration tests of kgate's client_auth (0020).  Written from the Kafka
protocol (ApiVersions, SaslHandshake, SaslAuthenticate, Metadata schemas)
and RFC 4616 (PLAIN), RFC 5802 / RFC 7677 (SCRAM), not from kgate.

Each command does one exchange on one connection and prints what it saw as
one JSON object on stdout; the test decides what is right.  A connection
that fails outright prints {"failed": "why"}.  Frames the server sends
where the client expects only a close are reported as [correlation id,
size] ("frames", "frames_after"), so that a test can tell a clean close
from an answer nobody asked for.

  api-versions --port P --version V
      ApiVersions vV (v3+: flexible header, client software name/version).
  login --port P --mechanism M --user U --password PW
        [--handshake-version 0|1] [--auth-version 0|1|2] [--api-versions]
        [--metadata] [--second-handshake] [--handshake-twice]
      SaslHandshake then SaslAuthenticate (v1) or unframed tokens (v0);
      then, if asked and signed in, Metadata v1 for every topic, or a second
      SaslHandshake (--handshake-twice: the second one before any token).  Reports each step, the time from sending the last
      token to its answer (or to the close), and whether the server's SCRAM
      signature verified.
  before-login --port P
      Metadata v1 as the first request: what comes back before the close.
  direct-api-versions --addr HOST:PORT
      ApiVersions v0 to a broker directly (the mock), for comparison.

stdlib only.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import sys
import time

API_METADATA, API_SASL_HANDSHAKE, API_API_VERSIONS, API_SASL_AUTHENTICATE = 3, 17, 18, 36
CLIENT_ID = "kafka-login-0020"
IO_TIMEOUT = 15.0


class Closed(Exception):
    """The server closed the connection (or reset it)."""


# ---- framing ----

def uvarint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def w_string(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def w_compact_string(s):
    b = s.encode()
    return uvarint(len(b) + 1) + b


class Reader:
    def __init__(self, data):
        self.d, self.o = data, 0

    def take(self, n):
        if n < 0 or self.o + n > len(self.d):
            raise ValueError("short response (%d bytes wanted at %d of %d)"
                             % (n, self.o, len(self.d)))
        b = self.d[self.o:self.o + n]
        self.o += n
        return b

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def uvarint(self):
        v, shift = 0, 0
        while True:
            b = self.take(1)[0]
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v
            shift += 7
            if shift > 28:
                raise ValueError("uvarint too long")

    def string(self, compact=False):
        n = self.uvarint() - 1 if compact else self.i16()
        return None if n < 0 else self.take(n).decode("utf-8", "replace")

    def bytes_(self, compact=False):
        n = self.uvarint() - 1 if compact else self.i32()
        return None if n < 0 else self.take(n)

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())

    def done(self):
        return self.o == len(self.d)


class Conn:
    def __init__(self, host, port):
        self.s = socket.create_connection((host, port), timeout=IO_TIMEOUT)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.corr = 0

    def send_raw(self, payload):
        self.s.sendall(struct.pack(">i", len(payload)) + payload)

    def request(self, api, version, body, flexible):
        """Sends a request (header v1, or v2 when flexible); its corr id."""
        self.corr += 1
        head = struct.pack(">hhi", api, version, self.corr) + w_string(CLIENT_ID)
        if flexible:
            head += uvarint(0)
        self.send_raw(head + body)
        return self.corr

    def recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self.s.recv(n - len(buf))
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise Closed()
            buf += chunk
        return bytes(buf)

    def recv_frame(self):
        size = struct.unpack(">i", self.recv_exact(4))[0]
        if size < 0 or size > 64 << 20:
            raise ValueError("response frame of %d bytes" % size)
        return self.recv_exact(size)

    def response(self, corr, flexible_header=False):
        """The answer to corr: a Reader over its body.  A frame for another
        correlation id is an error worth reporting (ValueError)."""
        r = Reader(self.recv_frame())
        got = r.i32()
        if got != corr:
            raise ValueError("response with correlation id %d, expected %d" % (got, corr))
        if flexible_header:
            r.tags()
        return r

    def wait_closed(self, seconds):
        """Reads until the server closes: (closed, frames read meanwhile,
        each as [correlation id, size]); closed is False on a timeout."""
        frames = []
        self.s.settimeout(seconds)
        try:
            while True:
                data = self.recv_frame()
                frames.append([struct.unpack(">i", data[:4])[0] if len(data) >= 4 else None,
                               len(data)])
        except Closed:
            return True, frames
        except socket.timeout:
            return False, frames
        finally:
            self.s.settimeout(IO_TIMEOUT)

    def close(self):
        self.s.close()


# ---- the APIs ----

def api_versions(c, version):
    if version >= 3:
        body = w_compact_string("kafka-login") + w_compact_string("0.20") + uvarint(0)
    else:
        body = b""
    corr = c.request(API_API_VERSIONS, version, body, version >= 3)
    # Response header v0 in every version (KIP-511); an unsupported version
    # is answered in v0's layout.
    r = c.response(corr)
    err = r.i16()
    answered = version if err != 35 else 0
    flexible = answered >= 3
    n = r.uvarint() - 1 if flexible else r.i32()
    apis = {}
    for _ in range(max(n, 0)):
        k, lo, hi = r.i16(), r.i16(), r.i16()
        if flexible:
            r.tags()
        apis[str(k)] = [lo, hi]
    out = {"error": err, "apis": apis}
    if answered >= 1:
        out["throttle_ms"] = r.i32()
    if flexible:
        r.tags()
    out["trailing_bytes"] = len(r.d) - r.o
    return out


def sasl_handshake(c, version, mechanism):
    corr = c.request(API_SASL_HANDSHAKE, version, w_string(mechanism), False)
    r = c.response(corr)
    err = r.i16()
    mechs = [r.string() for _ in range(r.i32())]
    return {"error": err, "mechanisms": mechs}


def sasl_authenticate(c, version, token):
    """One SaslAuthenticate: (answer dict, elapsed ms from send to answer)."""
    flexible = version >= 2
    if flexible:
        body = uvarint(len(token) + 1) + token + uvarint(0)
    else:
        body = struct.pack(">i", len(token)) + token
    t0 = time.monotonic()
    corr = c.request(API_SASL_AUTHENTICATE, version, body, flexible)
    try:
        r = c.response(corr, flexible_header=flexible)
    except Closed:
        return None, (time.monotonic() - t0) * 1000.0
    elapsed = (time.monotonic() - t0) * 1000.0
    ans = {"error": r.i16(), "message": r.string(flexible)}
    ans["bytes"] = (r.bytes_(flexible) or b"").decode("utf-8", "replace")
    if version >= 1:
        ans["session_lifetime_ms"] = r.i64()
    if flexible:
        r.tags()
    return ans, elapsed


def raw_token(c, token):
    """After SaslHandshake v0: a bare length-prefixed token and its answer."""
    t0 = time.monotonic()
    c.send_raw(token)
    try:
        ans = c.recv_frame()
    except Closed:
        return None, (time.monotonic() - t0) * 1000.0
    return ans, (time.monotonic() - t0) * 1000.0


def metadata_v1(c):
    corr = c.request(API_METADATA, 1, struct.pack(">i", -1), False)
    r = c.response(corr)
    brokers = []
    for _ in range(r.i32()):
        node, host, port, _rack = r.i32(), r.string(), r.i32(), r.string()
        brokers.append([node, "%s:%d" % (host, port)])
    controller = r.i32()
    topics = []
    for _ in range(r.i32()):
        err, name, _internal = r.i16(), r.string(), r.i8()
        parts = []
        for _ in range(r.i32()):
            perr, pid, leader = r.i16(), r.i32(), r.i32()
            [r.i32() for _ in range(r.i32())]
            [r.i32() for _ in range(r.i32())]
            parts.append([pid, leader, perr])
        topics.append({"name": name, "error": err, "partitions": len(parts)})
    return {"brokers": sorted(brokers), "controller": controller, "topics": topics}


# ---- SASL mechanisms (client side) ----

SCRAM_HASHES = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}


def saslname(user):
    return user.replace("=", "=3D").replace(",", "=2C")


class ScramClient:
    """RFC 5802 client (RFC 7677 for SHA-256; SHA-512 as Kafka uses it)."""

    def __init__(self, mechanism, user, password):
        self.algo = SCRAM_HASHES[mechanism]
        self.user, self.password = user, password
        self.nonce = base64.b64encode(os.urandom(24)).decode().replace("=", "")
        self.first_bare = "n=%s,r=%s" % (saslname(user), self.nonce)

    def first(self):
        return ("n,," + self.first_bare).encode()

    def final(self, server_first):
        """client-final from server-first (ValueError if it breaks the RFC)."""
        self.server_first = server_first.decode()
        attrs = dict(a.split("=", 1) for a in self.server_first.split(","))
        r, s, i = attrs.get("r", ""), attrs.get("s"), int(attrs.get("i", "0"))
        if not r.startswith(self.nonce) or len(r) <= len(self.nonce):
            raise ValueError("server nonce %r does not extend ours" % r)
        if not s or i < 4096:
            raise ValueError("server-first %r: salt or iterations" % self.server_first)
        self.iterations = i
        salted = hashlib.pbkdf2_hmac(self.algo, self.password.encode(), base64.b64decode(s), i)
        client_key = hmac.new(salted, b"Client Key", self.algo).digest()
        stored_key = hashlib.new(self.algo, client_key).digest()
        self.server_key = hmac.new(salted, b"Server Key", self.algo).digest()
        # c= is base64("n,,"): no channel binding, no authzid.
        without_proof = "c=biws,r=" + r
        self.auth_message = ",".join((self.first_bare, self.server_first,
                                      without_proof)).encode()
        sig = hmac.new(stored_key, self.auth_message, self.algo).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, sig))
        return (without_proof + ",p=" + base64.b64encode(proof).decode()).encode()

    def verify(self, server_final):
        text = server_final.decode("utf-8", "replace")
        if not text.startswith("v="):
            return False
        want = hmac.new(self.server_key, self.auth_message, self.algo).digest()
        try:
            got = base64.b64decode(text[2:], validate=True)
        except ValueError:
            return False
        return hmac.compare_digest(want, got)


# ---- commands ----

def host_port(s):
    host, _, port = s.rpartition(":")
    return host, int(port)


def cmd_api_versions(a):
    c = Conn("127.0.0.1", a.port)
    try:
        return api_versions(c, a.version)
    finally:
        c.close()


def cmd_direct_api_versions(a):
    c = Conn(*host_port(a.addr))
    try:
        return api_versions(c, 0)
    finally:
        c.close()


def exchange(c, a, out):
    """The SASL exchange; out gets the steps.  True if signed in."""
    hv, av = a.handshake_version, a.auth_version
    out["handshake"] = sasl_handshake(c, hv, a.mechanism)
    if out["handshake"]["error"] != 0:
        closed, frames = c.wait_closed(a.wait_close)
        out["closed"], out["frames_after"] = closed, frames
        return False
    if a.handshake_twice:
        t0 = time.monotonic()
        corr = c.request(API_SASL_HANDSHAKE, hv, w_string(a.mechanism), False)
        closed, frames = c.wait_closed(a.wait_close)
        out["again"] = {"closed": closed, "frames": frames, "corr": corr,
                        "elapsed_ms": (time.monotonic() - t0) * 1000.0}
        return False
    if a.mechanism == "PLAIN":
        tokens = [("\0%s\0%s" % (a.user, a.password)).encode()]
        scram = None
    else:
        scram = ScramClient(a.mechanism, a.user, a.password)
        tokens = [scram.first()]
    out["auth"] = []
    while tokens:
        tok = tokens.pop(0)
        if hv == 0:
            ans, ms = raw_token(c, tok)
            step = {"elapsed_ms": ms, "closed": ans is None}
            if ans is not None:
                step["bytes"] = ans.decode("utf-8", "replace")
                step["error"] = 0
            server_bytes = ans
        else:
            ans, ms = sasl_authenticate(c, av, tok)
            step = dict(ans or {}, elapsed_ms=ms, closed=ans is None)
            server_bytes = ans["bytes"].encode() if ans and ans["error"] == 0 else None
        out["auth"].append(step)
        if server_bytes is None:
            closed, frames = (True, []) if step["closed"] else c.wait_closed(a.wait_close)
            out["closed"], out["frames_after"] = closed, frames
            return False
        if scram and len(out["auth"]) == 1:
            tokens.append(scram.final(server_bytes))
        elif scram:
            out["server_signature_ok"] = scram.verify(server_bytes)
    return True


def cmd_login(a):
    c = Conn("127.0.0.1", a.port)
    out = {}
    try:
        if a.api_versions:
            out["api_versions"] = api_versions(c, 3)
        out["signed_in"] = exchange(c, a, out)
        if out["signed_in"] and a.metadata:
            out["metadata"] = metadata_v1(c)
        if out["signed_in"] and a.second_handshake:
            t0 = time.monotonic()
            corr = c.request(API_SASL_HANDSHAKE, 1, w_string(a.mechanism), False)
            closed, frames = c.wait_closed(a.wait_close)
            out["second"] = {"closed": closed, "frames": frames, "corr": corr,
                             "elapsed_ms": (time.monotonic() - t0) * 1000.0}
    except Closed:
        out["closed_unexpectedly"] = True
    finally:
        c.close()
    return out


def cmd_before_login(a):
    c = Conn("127.0.0.1", a.port)
    try:
        t0 = time.monotonic()
        corr = c.request(API_METADATA, 1, struct.pack(">i", -1), False)
        closed, frames = c.wait_closed(a.wait_close)
        return {"corr": corr, "closed": closed, "frames": frames,
                "elapsed_ms": (time.monotonic() - t0) * 1000.0}
    finally:
        c.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    av = sub.add_parser("api-versions")
    av.add_argument("--port", type=int, required=True)
    av.add_argument("--version", type=int, default=0)
    d = sub.add_parser("direct-api-versions")
    d.add_argument("--addr", required=True)
    lg = sub.add_parser("login")
    lg.add_argument("--port", type=int, required=True)
    lg.add_argument("--mechanism", required=True)
    lg.add_argument("--user", required=True)
    lg.add_argument("--password", required=True)
    lg.add_argument("--handshake-version", type=int, default=1, choices=(0, 1))
    lg.add_argument("--auth-version", type=int, default=2, choices=(0, 1, 2))
    lg.add_argument("--api-versions", action="store_true")
    lg.add_argument("--metadata", action="store_true")
    lg.add_argument("--second-handshake", action="store_true")
    lg.add_argument("--handshake-twice", action="store_true")
    lg.add_argument("--wait-close", type=float, default=10.0)
    bl = sub.add_parser("before-login")
    bl.add_argument("--port", type=int, required=True)
    bl.add_argument("--wait-close", type=float, default=10.0)
    a = p.parse_args()
    fn = {"api-versions": cmd_api_versions, "direct-api-versions": cmd_direct_api_versions,
          "login": cmd_login, "before-login": cmd_before_login}[a.cmd]
    try:
        out = fn(a)
    except (OSError, ValueError, Closed) as e:
        print(json.dumps({"failed": "%s: %s" % (type(e).__name__, e)}))
        return 0
    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
