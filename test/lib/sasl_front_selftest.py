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

import base64
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
    iam_checks(check)
    print("%d check(s) failed" % len(failed) if failed else "all checks held")
    return 1 if failed else 0


# MSK IAM messages made by AWS's own code, not kgate's, at 2026-11-27
# 15:00:00 UTC in eu-west-1: the OAUTHBEARER tokens by
# aws-msk-iam-sasl-signer-python 1.0.2 (botocore's SigV4QueryAuth), the
# AWS_MSK_IAM fields from botocore's SigV4QueryAuth presigning GET
# https://b-1.msk.internal/?Action=kafka-cluster:Connect.  "static": key
# AKIDEXAMPLE0021, no session token; "session": ASIAEXAMPLE0021 with one
# (a secret and token with '/', '+' and '=' to exercise the encoding).
IAM_SIGNED_AT = 1795791600  # 20261127T150000Z
IAM_KEYS = ["AKIDEXAMPLE0021:wJalrXUtnFEMI/K7MDENG+bPxRfiCY",
            "ASIAEXAMPLE0021:se/cret+key=:tok/en+with=chars"]
IAM_VECTORS = {
    "oauth_static":
    "aHR0cHM6Ly9rYWZrYS5ldS13ZXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZW"
    "N0JlgtQW16LUFsZ29yaXRobT1BV1M0LUhNQUMtU0hBMjU2JlgtQW16LUNyZWRlbnRpYWw9QUtJREVYQU1QTEUwMDIx"
    "JTJGMjAyNjExMjclMkZldS13ZXN0LTElMkZrYWZrYS1jbHVzdGVyJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9Mj"
    "AyNjExMjdUMTUwMDAwWiZYLUFtei1FeHBpcmVzPTkwMCZYLUFtei1TaWduZWRIZWFkZXJzPWhvc3QmWC1BbXotU2ln"
    "bmF0dXJlPTRlNmJjN2FkYmZjYzkxOTc0Y2U3MzIxZWJkZjhiOWE1MWM5YjZiNGM2ZWU3OTk3NGE4MmM3ZmZmZTlkNz"
    "RhMDUmVXNlci1BZ2VudD1hd3MtbXNrLWlhbS1zYXNsLXNpZ25lci1weXRob24lMkYxLjAuMg",
    "oauth_session":
    "aHR0cHM6Ly9rYWZrYS5ldS13ZXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZW"
    "N0JlgtQW16LUFsZ29yaXRobT1BV1M0LUhNQUMtU0hBMjU2JlgtQW16LUNyZWRlbnRpYWw9QVNJQUVYQU1QTEUwMDIx"
    "JTJGMjAyNjExMjclMkZldS13ZXN0LTElMkZrYWZrYS1jbHVzdGVyJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9Mj"
    "AyNjExMjdUMTUwMDAwWiZYLUFtei1FeHBpcmVzPTkwMCZYLUFtei1TaWduZWRIZWFkZXJzPWhvc3QmWC1BbXotU2Vj"
    "dXJpdHktVG9rZW49dG9rJTJGZW4lMkJ3aXRoJTNEY2hhcnMmWC1BbXotU2lnbmF0dXJlPTZiNjNjODkzN2EwMjM3Mj"
    "FkMGU0ZDAxYmE5N2Y4N2U4M2ZlM2ZkMDFhOTY2ZjAzMmVhYWExMzRkYjQzZDcwMmYmVXNlci1BZ2VudD1hd3MtbXNr"
    "LWlhbS1zYXNsLXNpZ25lci1weXRob24lMkYxLjAuMg",
    "iam_static": {
        "version": "2020_10_22", "host": "b-1.msk.internal", "user-agent": "botocore-vector",
        "action": "kafka-cluster:Connect", "x-amz-algorithm": "AWS4-HMAC-SHA256",
        "x-amz-credential": "AKIDEXAMPLE0021/20261127/eu-west-1/kafka-cluster/aws4_request",
        "x-amz-date": "20261127T150000Z", "x-amz-signedheaders": "host", "x-amz-expires": "900",
        "x-amz-signature": "e4d94d3462ea5e1a64a79065add6c2fa000300211f2a2d4bd87972b8ea644230"},
    "iam_session": {
        "version": "2020_10_22", "host": "b-1.msk.internal", "user-agent": "botocore-vector",
        "action": "kafka-cluster:Connect", "x-amz-algorithm": "AWS4-HMAC-SHA256",
        "x-amz-credential": "ASIAEXAMPLE0021/20261127/eu-west-1/kafka-cluster/aws4_request",
        "x-amz-date": "20261127T150000Z", "x-amz-security-token": "tok/en+with=chars",
        "x-amz-signedheaders": "host", "x-amz-expires": "900",
        "x-amz-signature": "cf6cf486d12ef843ec9927c8dda9f0c7da16e73f10e87cc050d897e3a19644ac"},
}


def iam_checks(check):
    """The front's IAM verifier against messages AWS's code signed: accepted
    as they are, refused when anything the broker checks is off."""
    import argparse
    import sasl_front as sf

    def front(region="eu-west-1", keys=IAM_KEYS, flow="rfc7628", at=IAM_SIGNED_AT + 10,
              host="b-1.msk.internal"):
        f = argparse.Namespace(iam_keys=sf.IamKeys(keys, False), iam_region=region,
                               iam_hosts={}, iam_default_host=host, iam_skew_s=300,
                               oauth_error_flow=flow)
        f.clock = lambda: at
        return f

    def message(name, change=None):
        v = IAM_VECTORS[name]
        if name.startswith("oauth"):
            return ("n,,\x01auth=Bearer %s\x01\x01" % (change(v) if change else v)).encode()
        v = dict(v)
        if change:
            change(v)
        return json.dumps(v).encode()

    def outcome(f, name, msg):
        m = sf.MskIam(f, "OAUTHBEARER" if name.startswith("oauth") else "AWS_MSK_IAM", 0)
        try:
            m.step(msg)
            return "ok %s" % m.key_id
        except sf.OAuthChallenge as e:
            return "challenge " + e.why
        except sf.IamDenied as e:
            return "denied " + e.why
        except sf.AuthFailed as e:
            return "failed %s" % e

    for name in IAM_VECTORS:
        kid = "AKIDEXAMPLE0021" if name.endswith("static") else "ASIAEXAMPLE0021"
        r = outcome(front(), name, message(name))
        check(r == "ok " + kid, "IAM %s (signed by AWS's code) accepted: %s" % (name, r))
        r = outcome(front(flow="direct", at=IAM_SIGNED_AT + 901), name, message(name))
        check(r.startswith("denied expired"), "IAM %s after 900 s refused: %s" % (name, r))
        r = outcome(front(flow="direct", at=IAM_SIGNED_AT - 301), name, message(name))
        check("from now" in r, "IAM %s from 5 minutes ahead refused: %s" % (name, r))
        r = outcome(front(flow="direct", region="us-east-1"), name, message(name))
        check(r.startswith("denied"), "IAM %s for another region refused: %s" % (name, r))
        wrong = [k.replace(":", ":x", 1) for k in IAM_KEYS]
        r = outcome(front(flow="direct", keys=wrong), name, message(name))
        check("signature mismatch" in r, "IAM %s with another secret refused: %s" % (name, r))
        r = outcome(front(flow="direct", keys=[]), name, message(name))
        check("unknown access key" in r, "IAM %s with an unknown key refused: %s" % (name, r))
    # The session token is signed: another one, or none, is refused.
    no_token = [k.rsplit(":", 1)[0] if k.count(":") == 2 else k for k in IAM_KEYS]
    r = outcome(front(flow="direct", keys=no_token), "iam_session", message("iam_session"))
    check("session token" in r, "IAM a token the key does not have refused: %s" % r)

    def tamper(v):
        v["x-amz-security-token"] = "tok/en+with=other"
    keys = [k if k.count(":") < 2 else k.rsplit(":", 1)[0] + ":tok/en+with=other"
            for k in IAM_KEYS]
    r = outcome(front(flow="direct", keys=keys), "iam_session", message("iam_session", tamper))
    check("signature mismatch" in r, "IAM a session token changed after signing: %s" % r)
    # AWS_MSK_IAM is signed for one broker's name.
    r = outcome(front(host="b-2.msk.internal"), "iam_static", message("iam_static"))
    check("this broker is" in r, "AWS_MSK_IAM for another broker refused: %s" % r)

    def action(v):
        v["action"] = "kafka-cluster:DescribeCluster"
    r = outcome(front(), "iam_static", message("iam_static", action))
    check("action" in r, "AWS_MSK_IAM with another action refused: %s" % r)
    # OAUTHBEARER: the URL changed after signing.  The User-Agent is
    # appended unsigned, so changing it is fine; a signed byte is not.
    def url_change(old, new):
        def change(v):
            url = base64.urlsafe_b64decode(v + "=" * (-len(v) % 4)).decode()
            assert old in url
            return base64.urlsafe_b64encode(url.replace(old, new).encode()).decode().rstrip("=")
        return change
    r = outcome(front(), "oauth_static", message("oauth_static", url_change(
        "X-Amz-Signature=4e6b", "X-Amz-Signature=5e6b")))
    check(r.startswith("challenge signature mismatch"),
          "OAUTHBEARER with a changed signature refused: %s" % r)
    r = outcome(front(), "oauth_static", message("oauth_static", url_change(
        "X-Amz-Expires=900", "X-Amz-Expires=899")))
    check(r.startswith("challenge signature mismatch"),
          "OAUTHBEARER with a changed X-Amz-Expires refused: %s" % r)
    r = outcome(front(), "oauth_static", message("oauth_static", url_change(
        "python%2F1.0.2", "python%2F9.9+x")))
    check(r.startswith("ok"), "OAUTHBEARER with another User-Agent (unsigned) accepted: %s" % r)
    f = front(keys=[])
    m = sf.MskIam(f, "OAUTHBEARER", 0)
    try:
        m.step(message("oauth_static"))
        check(False, "OAUTHBEARER with an unknown key refused")
    except sf.OAuthChallenge as e:
        check(e.challenge == b'{"status":"invalid_token"}',
              "OAUTHBEARER refused with RFC 7628's JSON challenge first")
        try:
            m.step(b"\x01")
            check(False, "... then an error on the client's 0x01")
        except sf.AuthFailed as e2:
            check(e2.counted and "invalid_token" in str(e2),
                  "... then an error on the client's 0x01: %s" % e2)


if __name__ == "__main__":
    sys.exit(main())
