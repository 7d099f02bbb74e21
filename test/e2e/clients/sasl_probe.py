#!/usr/bin/python3
"""sasl_probe.py — one SASL login over TLS, byte by byte, to see what the
other side answers: SaslHandshake v1, then SaslAuthenticate v1 (framed
tokens) with SCRAM-SHA-256, SCRAM-SHA-512 (RFC 5802, RFC 7677) or PLAIN.
Prints the outcome and the session lifetime the server gave (KIP-368:
0 means the session never expires), so a test can tell what a listener's
connections.max.reauth.ms is without trusting a client library's logs.

    sasl_probe.py HOST:PORT CA_FILE MECHANISM USER PASSWORD_FILE

Exit status: 0 authenticated, 1 refused (the server's message is printed),
2 usage or protocol error.
"""
import base64
import hashlib
import hmac
import os
import socket
import ssl
import struct
import sys

TIMEOUT_S = 20  # failsafe
SASL_HANDSHAKE, SASL_AUTHENTICATE = 17, 36
HASHES = {"SCRAM-SHA-256": hashlib.sha256, "SCRAM-SHA-512": hashlib.sha512}


class Conn:
    """Kafka request/response framing (request header v1, response header v0)."""

    def __init__(self, sock):
        self.sock, self.corr = sock, 0

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise EOFError("the server closed the connection")
            buf += chunk
        return buf

    def call(self, api_key, version, body):
        self.corr += 1
        client_id = b"sasl-probe"
        header = struct.pack(">hhih", api_key, version, self.corr, len(client_id)) + client_id
        frame = header + body
        self.sock.sendall(struct.pack(">i", len(frame)) + frame)
        (size,) = struct.unpack(">i", self.recv_exact(4))
        if size < 4 or size > 1 << 20:
            raise ValueError("response size %d" % size)
        resp = self.recv_exact(size)
        (corr,) = struct.unpack(">i", resp[:4])
        if corr != self.corr:
            raise ValueError("correlation id %d, expected %d" % (corr, self.corr))
        return Reader(resp[4:])


class Reader:
    """Bounded reads of a response body."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError("response shorter than its fields")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def int16(self):
        return struct.unpack(">h", self.take(2))[0]

    def int32(self):
        return struct.unpack(">i", self.take(4))[0]

    def int64(self):
        return struct.unpack(">q", self.take(8))[0]

    def string(self):
        n = self.int16()
        return None if n < 0 else self.take(n).decode()

    def bytes_(self):
        n = self.int32()
        return None if n < 0 else self.take(n)


def kstring(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def authenticate(conn, token):
    """One SaslAuthenticate v1 round: (error, message, server token, lifetime)."""
    r = conn.call(SASL_AUTHENTICATE, 1, struct.pack(">i", len(token)) + token)
    err, msg, data, lifetime = r.int16(), r.string(), r.bytes_(), r.int64()
    return err, msg, data or b"", lifetime


def scram(conn, mech, user, password):
    h = HASHES[mech]
    nonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = "n=%s,r=%s" % (user.replace("=", "=3D").replace(",", "=2C"), nonce)
    err, msg, server_first, _ = authenticate(conn, ("n,," + first_bare).encode())
    if err:
        return err, msg, 0
    attrs = dict(kv.split("=", 1) for kv in server_first.decode().split(","))
    if not attrs["r"].startswith(nonce):
        raise ValueError("the server's nonce does not extend ours")
    salted = hashlib.pbkdf2_hmac(h().name, password.encode(), base64.b64decode(attrs["s"]),
                                 int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", h).digest()
    stored_key = h(client_key).digest()
    final_bare = "c=biws,r=" + attrs["r"]
    auth_message = ",".join((first_bare, server_first.decode(), final_bare)).encode()
    signature = hmac.new(stored_key, auth_message, h).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    final = final_bare + ",p=" + base64.b64encode(proof).decode()
    err, msg, server_final, lifetime = authenticate(conn, final.encode())
    if err:
        return err, msg, 0
    server_key = hmac.new(salted, b"Server Key", h).digest()
    expected = base64.b64encode(hmac.new(server_key, auth_message, h).digest()).decode()
    if server_final.decode() != "v=" + expected:
        raise ValueError("the server's signature is wrong: %r" % server_final)
    return 0, None, lifetime


def main():
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    addr, ca, mech, user, pwfile = sys.argv[1:]
    host, port = addr.rsplit(":", 1)
    password = open(pwfile, encoding="utf-8").readline().rstrip("\n")
    ctx = ssl.create_default_context(cafile=ca)
    raw = socket.create_connection((host, int(port)), timeout=TIMEOUT_S)
    conn = Conn(ctx.wrap_socket(raw, server_hostname=host))
    r = conn.call(SASL_HANDSHAKE, 1, kstring(mech))
    err = r.int16()
    mechanisms = [r.string() for _ in range(r.int32())]
    if err:
        print("%s: SaslHandshake error %d; the server offers %s" % (addr, err, mechanisms))
        return 1
    if mech == "PLAIN":
        err, msg, _, lifetime = authenticate(conn, ("\0%s\0%s" % (user, password)).encode())
    else:
        err, msg, lifetime = scram(conn, mech, user, password)
    if err:
        print("%s: %s refused %s: error %d: %s" % (addr, mech, user, err, msg))
        return 1
    print("%s: authenticated as %s (%s); session_lifetime_ms=%d; mechanisms %s"
          % (addr, user, mech, lifetime, ",".join(mechanisms)))
    conn.sock.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError, EOFError, KeyError) as e:
        print("sasl_probe: %s" % e, file=sys.stderr)
        sys.exit(2)
