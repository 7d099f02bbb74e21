#!/usr/bin/python3
"""sasl_front_selftest.py — checks what sasl_front.py must catch in a gateway
that gets SASL wrong, with a scripted client and a scripted backend (no
Kafka, no kgate): requests before authentication, wrong passwords, the
session lifetime it announces and enforces, re-authentication with a
response owed (a violation) and without (fine, also after Produce acks=0
and after expiry), a principal changed on re-authentication.  librdkafka's
SASL client checks the mechanisms themselves (0019's first test).
Exit status 0 when every check held; prints what failed otherwise.
"""

import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LIFETIME_MS = 1000
SLOW_MS = 400  # the backend's delay on Fetch: a request kept in flight


def backend(listener):
    """Answers ApiVersions (v0 layout) and every other request with an
    empty body; Fetch after SLOW_MS; Produce with acks=0 not at all."""
    def serve(c):
        try:
            while True:
                n = struct.unpack(">i", recv_exact(c, 4))[0]
                data = recv_exact(c, n)
                key, ver, corr = struct.unpack(">hhi", data[:8])
                if key == 18:
                    body = struct.pack(">hi", 0, 3) + struct.pack(">hhh", 0, 0, 7) + \
                        struct.pack(">hhh", 1, 0, 11) + struct.pack(">hhh", 18, 0, 2)
                elif key == 0 and ver < 3 and struct.unpack(">h", data[8:10])[0] >= 0 and \
                        acks_of(data) == 0:
                    continue
                else:
                    body = b""
                if key == 1:
                    time.sleep(SLOW_MS / 1000.0)
                c.sendall(struct.pack(">ii", len(body) + 4, corr) + body)
        except (OSError, EOFError):
            c.close()

    while True:
        c, _ = listener.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def acks_of(data):
    """Produce v0-2: Acks right after the header (client id)."""
    cid = struct.unpack(">h", data[8:10])[0]
    return struct.unpack(">h", data[10 + max(cid, 0):12 + max(cid, 0)])[0]


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


class Client:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.corr = 0

    def send(self, key, ver, body=b"", flexible=False):
        self.corr += 1
        hdr = struct.pack(">hhih", key, ver, self.corr, 4) + b"test"
        if flexible:
            hdr += b"\0"
        msg = hdr + body
        self.s.sendall(struct.pack(">i", len(msg)) + msg)
        return self.corr

    def recv(self):
        n = struct.unpack(">i", recv_exact(self.s, 4))[0]
        return recv_exact(self.s, n)

    def request(self, key, ver, body=b"", flexible=False):
        corr = self.send(key, ver, body, flexible)
        r = self.recv()
        assert struct.unpack(">i", r[:4])[0] == corr, "correlation"
        return r[4:]

    def closed(self):
        try:
            self.s.settimeout(3)
            return self.s.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def login(self, user, password, mech="PLAIN"):
        """SaslHandshake v1 + SaslAuthenticate v1; (error, message, lifetime)."""
        r = self.request(17, 1, struct.pack(">h", len(mech)) + mech.encode())
        assert struct.unpack(">h", r[:2])[0] == 0, "handshake refused"
        token = b"\0" + user.encode() + b"\0" + password.encode()
        r = self.request(36, 1, struct.pack(">i", len(token)) + token)
        err, mlen = struct.unpack(">hh", r[:4])
        msg = r[4:4 + mlen].decode() if mlen >= 0 else None
        off = 4 + max(mlen, 0)
        blen = struct.unpack(">i", r[off:off + 4])[0]
        lifetime = struct.unpack(">q", r[off + 4 + blen:off + 12 + blen])[0]
        return err, msg, lifetime


def main():
    failed = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what, flush=True)
        if not cond:
            failed.append(what)

    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(16)
    threading.Thread(target=backend, args=(lst,), daemon=True).start()
    fport = socket.socket()
    fport.bind(("127.0.0.1", 0))
    port = fport.getsockname()[1]
    fport.close()
    tmp = tempfile.mkdtemp(prefix="sasl-front-selftest-")
    stats_path = os.path.join(tmp, "stats.json")
    front = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "sasl_front.py"), "--listen",
         "%d=127.0.0.1:%d" % (port, lst.getsockname()[1]), "--user", "alice:pw",
         "--user", "bob:pw", "--session-lifetime-ms", str(LIFETIME_MS),
         "--stats", stats_path, "--quiet"], stdout=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        while not os.path.exists(stats_path):
            assert time.time() < deadline, "the front did not start"
            time.sleep(0.02)

        def stats():
            time.sleep(0.3)
            with open(stats_path) as f:
                return json.load(f)

        c = Client(port)
        r = c.request(18, 0)
        n = struct.unpack(">i", r[2:6])[0]
        keys = {struct.unpack(">h", r[6 + 6 * i:8 + 6 * i])[0]:
                struct.unpack(">hh", r[8 + 6 * i:12 + 6 * i]) for i in range(n)}
        check(keys.get(17) == (0, 1) and keys.get(36) == (0, 2) and keys.get(1) == (0, 11),
              "ApiVersions: the backend's, with SaslHandshake v0-1, SaslAuthenticate v0-2")
        c.send(3, 1, struct.pack(">i", -1))
        check(c.closed(), "Metadata before authentication closes the connection")
        check(stats()["unauthenticated_requests"] == 1, "... and is counted")

        c = Client(port)
        err, msg, _ = c.login("alice", "wrong")
        check(err == 58 and "Invalid username or password" in (msg or ""),
              "a wrong password: SASL_AUTHENTICATION_FAILED with a message")
        check(c.closed(), "... then the connection is closed")
        check(stats()["failures"] == 1, "... and counted as a failure")

        c = Client(port)
        err, _, lifetime = c.login("alice", "pw")
        check(err == 0 and lifetime == LIFETIME_MS,
              "SaslAuthenticate v1 announces session_lifetime_ms")
        c.request(3, 1, struct.pack(">i", -1))
        err, _, _ = c.login("alice", "pw")
        check(err == 0, "re-authentication with nothing owed")
        c.send(0, 2, struct.pack(">hi", 0, 1000) + struct.pack(">i", 0))  # acks=0
        err, _, _ = c.login("alice", "pw")
        check(err == 0, "re-authentication after Produce acks=0 (no response owed)")
        s = stats()
        check(s["reauthentications"] == 2 and s["violations"] == 0,
              "... both counted, no violation")
        time.sleep(LIFETIME_MS / 1000.0 + 0.2)
        err, _, _ = c.login("alice", "pw")
        check(err == 0, "re-authentication after the session expired is allowed")
        c.request(3, 1, struct.pack(">i", -1))
        check(stats()["expired"] == 0, "... and the session goes on")

        c.send(1, 4, b"")  # kept in flight SLOW_MS by the backend
        c.send(17, 1, struct.pack(">h", 5) + b"PLAIN")
        c.recv()
        c.recv()
        token = b"\0alice\0pw"
        c.request(36, 1, struct.pack(">i", len(token)) + token)
        s = stats()
        check(s["violations"] == 1 and "owed" in " ".join(s["violation_details"]),
              "re-authentication with a Fetch in flight is a violation")

        time.sleep(LIFETIME_MS / 1000.0 + 0.2)
        c.send(3, 1, struct.pack(">i", -1))
        check(c.closed(), "a request after the session expired closes the connection")
        check(stats()["expired"] == 1, "... counted as expired")

        c = Client(port)
        c.login("alice", "pw")
        err, msg, _ = c.login("bob", "pw")
        check(err == 58 and "principal" in (msg or ""),
              "re-authentication as another principal is refused")
        s = stats()
        check(s["principals"] == {"alice": 2} and s["auth"]["PLAIN"] == 2,
              "principals counted per first authentication")
    except (AssertionError, EOFError, OSError) as e:
        failed.append(repr(e))
        print("FAIL %r" % e)
    finally:
        front.terminate()
        front.wait(10)
    if front.returncode != 0:
        failed.append("the front exited %d on SIGTERM" % front.returncode)
    print("%d check(s) failed" % len(failed) if failed else "all checks held")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
