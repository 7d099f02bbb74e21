#!/usr/bin/python3
"""sasl_front.py — a SASL front for a Kafka broker that has none (librdkafka's
mock cluster), so the integration tests can check kgate's upstream_sasl
against an implementation written from the Kafka protocol and RFC 5802, not
from kgate.

One loopback listener per backend broker.  Per connection, as a SASL_PLAINTEXT
Kafka listener behaves:
  * before authentication: ApiVersions is forwarded to the backend and its
    answer returned with SaslHandshake (17, v0-1) and SaslAuthenticate
    (36, v0-2) added; SaslHandshake v0/v1 and SaslAuthenticate v0-v2 are
    answered here (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, 4096 iterations);
    anything else closes the connection (counted: "unauthenticated_requests").
    Bad credentials: SASL_AUTHENTICATION_FAILED (58) with a message, then
    the connection is closed, as Kafka does.
  * after: bytes are relayed frame by frame.  Requests are counted up and
    responses down (Produce acks=0 has none).  A SaslHandshake mid-stream is
    a re-authentication (KIP-368), answered here and never forwarded; if a
    forwarded request still owes its response it is a "violation".  With a
    session lifetime, SaslAuthenticate v1+ answers carry it and, once it has
    passed, the next request that is not SaslHandshake closes the
    connection ("expired").
Stats (JSON) go to --stats FILE (rewritten atomically whenever they change,
at most every 100 ms, and on SIGTERM) and to stdout on SIGTERM.

--rewrite-ports: broker addresses in Metadata, FindCoordinator and
DescribeCluster answers that name a backend are changed to its front (same
host string; the port), so a client that follows them stays behind the
fronts.  Off unless asked for: the tests that run kgate with explicit
upstreams use it only where kgate learns addresses.

stdlib only.
"""

import argparse
import base64
import calendar
import hashlib
import hmac
import json
import os
import secrets
import selectors
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid

API_PRODUCE, API_METADATA, API_FIND_COORDINATOR = 0, 3, 10
API_SASL_HANDSHAKE, API_API_VERSIONS, API_SASL_AUTHENTICATE = 17, 18, 36
API_DESCRIBE_CLUSTER = 60
ERR_UNSUPPORTED_VERSION = 35
ERR_UNSUPPORTED_SASL_MECHANISM = 33
ERR_ILLEGAL_SASL_STATE = 34
ERR_SASL_AUTHENTICATION_FAILED = 58
SCRAM_ITERATIONS = 4096
SCRAM_HASHES = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "AWS_MSK_IAM")
MAX_SASL_FRAME = 64 * 1024  # an authentication message is small


class Closed(Exception):
    """The connection ends (peer gone, or the front closes it on purpose)."""


class Decode(Exception):
    """A frame that does not decode as the protocol says."""


# ---- wire helpers ----

def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise Closed("peer closed")
        buf += chunk
    return bytes(buf)


def read_frame(sock, max_frame, min_size=4):
    size = struct.unpack(">i", recv_exact(sock, 4))[0]
    if size < min_size or size > max_frame:
        raise Decode("frame size %d outside %d..%d" % (size, min_size, max_frame))
    return recv_exact(sock, size)


class Reader:
    """Bounded reads over one frame's bytes."""

    def __init__(self, data, off=0):
        self.d, self.o = data, off

    def take(self, n):
        if n < 0 or self.o + n > len(self.d):
            raise Decode("short frame")
        b = self.d[self.o:self.o + n]
        self.o += n
        return b

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def uvarint(self):
        v, shift = 0, 0
        while True:
            b = self.take(1)[0]
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v
            shift += 7
            if shift > 28:
                raise Decode("uvarint too long")

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

    def rest(self):
        return self.d[self.o:]


def uvarint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def w_string(s, compact=False):
    if s is None:
        return uvarint(0) if compact else struct.pack(">h", -1)
    b = s.encode()
    return (uvarint(len(b) + 1) if compact else struct.pack(">h", len(b))) + b


def w_bytes(b, compact=False):
    return (uvarint(len(b) + 1) if compact else struct.pack(">i", len(b))) + b


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


class Request:
    """A request's header (v1, or v2 when flexible) and where its body starts."""

    def __init__(self, data, flexible_from):
        r = Reader(data)
        self.api_key, self.version, self.corr = r.i16(), r.i16(), r.i32()
        self.client_id = r.string()
        fv = flexible_from.get(self.api_key)
        self.flexible = fv is not None and self.version >= fv
        if self.flexible:
            r.tags()
        self.body = r


# First flexible version of the requests whose bodies the front reads.
REQUEST_FLEXIBLE = {API_PRODUCE: 9, API_SASL_HANDSHAKE: None, API_API_VERSIONS: 3,
                    API_SASL_AUTHENTICATE: 2}
REQUEST_FLEXIBLE = {k: v for k, v in REQUEST_FLEXIBLE.items() if v is not None}


def produce_acks(req):
    """Produce's Acks (after TransactionalId from v3)."""
    r = req.body
    if req.version >= 3:
        r.string(compact=req.version >= 9)
    return r.i16()


# ---- ApiVersions: the backend's answer, with the SASL APIs added ----

def api_versions_with_sasl(resp, version, max_authenticate=2):
    """resp: the response frame after its correlation id.  Returns it with
    SaslHandshake (v0-1) and SaslAuthenticate (v0-max_authenticate) listed,
    re-encoded at the same version; unchanged if it is an error
    (UNSUPPORTED_VERSION is v0)."""
    flexible = version >= 3
    r = Reader(resp)
    err = r.i16()
    if err != 0:
        return resp
    n = r.uvarint() - 1 if flexible else r.i32()
    if n < 0 or n > 1000:
        raise Decode("ApiVersions: %d keys" % n)
    keys = {}
    for _ in range(n):
        k, lo, hi = r.i16(), r.i16(), r.i16()
        if flexible:
            r.tags()
        keys[k] = (lo, hi)
    tail = r.rest()  # ThrottleTimeMs (v1+) and the tagged fields (v3+)
    keys[API_SASL_HANDSHAKE] = (0, 1)
    keys[API_SASL_AUTHENTICATE] = (0, max_authenticate)
    out = bytearray(struct.pack(">h", err))
    out += uvarint(len(keys) + 1) if flexible else struct.pack(">i", len(keys))
    for k in sorted(keys):
        out += struct.pack(">hhh", k, *keys[k])
        if flexible:
            out += uvarint(0)
    return bytes(out + tail)


# ---- SASL mechanisms (server side) ----

class AuthFailed(Exception):
    """Bad credentials: the message goes back in SaslAuthenticate's ErrorMessage.
    counted: the failure was already counted (an RFC 7628 challenge)."""
    counted = False


class Plain:
    """RFC 4616: [authzid] NUL authcid NUL passwd, in one message."""

    def __init__(self, users):
        self.users, self.done, self.principal = users, False, None

    def step(self, token):
        parts = token.split(b"\0")
        if len(parts) != 3:
            raise AuthFailed("Invalid SASL/PLAIN response: expected 3 tokens")
        authzid, user, password = (p.decode("utf-8", "replace") for p in parts)
        self.user = user
        if not user or not password:
            raise AuthFailed("Authentication failed: username or password not specified")
        if authzid and authzid != user:
            raise AuthFailed("Authentication failed: Client requested an authorization id "
                             "that is different from username")
        if self.users.get(user, {}).get("password") != password:
            raise AuthFailed("Authentication failed: Invalid username or password")
        self.done, self.principal = True, user
        return b""


def scram_credentials(password, algo, salt):
    salted = hashlib.pbkdf2_hmac(algo, password.encode(), salt, SCRAM_ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", algo).digest()
    server_key = hmac.new(salted, b"Server Key", algo).digest()
    return hashlib.new(algo, client_key).digest(), server_key


def scram_attrs(text):
    attrs = []
    for item in text.split(","):
        if len(item) < 2 or item[1] != "=":
            raise AuthFailed("Invalid SCRAM message: attribute %r" % item[:16])
        attrs.append((item[0], item[2:]))
    return attrs


def saslname(s):
    if "=" in s.replace("=2C", "").replace("=3D", ""):
        raise AuthFailed("Invalid SCRAM username: bad escape")
    return s.replace("=2C", ",").replace("=3D", "=")


class Scram:
    """RFC 5802 server: client-first, server-first, client-final, server-final."""

    def __init__(self, users, mechanism, stats):
        self.stats = stats
        self.users, self.mech, self.algo = users, mechanism, SCRAM_HASHES[mechanism]
        self.state, self.done, self.principal = "first", False, None

    def fail_credentials(self):
        raise AuthFailed("Authentication failed during authentication due to invalid "
                         "credentials with SASL mechanism %s" % self.mech)

    def step(self, token):
        try:
            text = token.decode("utf-8")
        except UnicodeDecodeError:
            raise AuthFailed("Invalid SCRAM message: not UTF-8")
        if self.state == "first":
            return self.client_first(text)
        if self.state == "final":
            return self.client_final(text)
        raise AuthFailed("Invalid SCRAM state: authentication already complete")

    def client_first(self, text):
        parts = text.split(",", 2)
        if len(parts) != 3 or parts[0] not in ("n", "y") or \
                (parts[1] and not parts[1].startswith("a=")):
            raise AuthFailed("Invalid SCRAM client-first message (channel binding or "
                             "gs2 header)")
        self.gs2 = parts[0] + "," + parts[1] + ","
        self.first_bare = parts[2]
        attrs = scram_attrs(self.first_bare)
        if len(attrs) < 2 or attrs[0][0] != "n" or attrs[1][0] != "r" or not attrs[1][1]:
            raise AuthFailed("Invalid SCRAM client-first message: expected n=,r=")
        if any(k == "m" for k, _ in attrs):
            raise AuthFailed("Invalid SCRAM client-first message: mandatory extension")
        user = saslname(attrs[0][1])
        if parts[1] and saslname(parts[1][2:]) != user:
            raise AuthFailed("Authentication failed: Client requested an authorization id "
                             "that is different from username")
        cred = self.users.get(user, {}).get(self.mech)
        if cred is None:
            self.fail_credentials()
        self.user, self.cred = user, cred
        self.nonce = attrs[1][1] + base64.b64encode(secrets.token_bytes(18)).decode()
        self.server_first = "r=%s,s=%s,i=%d" % (
            self.nonce, base64.b64encode(cred["salt"]).decode(), SCRAM_ITERATIONS)
        self.state = "final"
        return self.server_first.encode()

    def client_final(self, text):
        self.state = "over"
        idx = text.rfind(",p=")
        if idx < 0:
            raise AuthFailed("Invalid SCRAM client-final message: no proof")
        without_proof = text[:idx]
        attrs = dict(scram_attrs(without_proof))
        if attrs.get("c") != base64.b64encode(self.gs2.encode()).decode():
            raise AuthFailed("Invalid SCRAM client-final message: channel binding "
                             "does not match")
        # RFC 5802 wants r= to be the server's nonce exactly; Kafka checks
        # only that it ends with it, which librdkafka 2.0 needs (it sends its
        # own nonce again in front).  Accepted as Kafka does, but counted,
        # so a test can hold a client to the RFC.
        r = attrs.get("r") or ""
        if r != self.nonce:
            if not r.endswith(self.nonce):
                raise AuthFailed("Invalid SCRAM client-final message: nonce does not match")
            self.stats.bump("scram_nonce_not_rfc")
        try:
            proof = base64.b64decode(text[idx + 3:], validate=True)
        except ValueError:
            raise AuthFailed("Invalid SCRAM client-final message: proof is not base64")
        auth_message = ",".join((self.first_bare, self.server_first, without_proof)).encode()
        stored_key, server_key = self.cred["stored_key"], self.cred["server_key"]
        signature = hmac.new(stored_key, auth_message, self.algo).digest()
        if len(proof) != len(signature):
            self.fail_credentials()
        client_key = bytes(a ^ b for a, b in zip(proof, signature))
        if not hmac.compare_digest(hashlib.new(self.algo, client_key).digest(), stored_key):
            self.fail_credentials()
        self.done, self.principal = True, self.user
        server_sig = hmac.new(server_key, auth_message, self.algo).digest()
        return ("v=" + base64.b64encode(server_sig).decode()).encode()


# ---- MSK IAM (server side): SigV4 presigned kafka-cluster:Connect ----
#
# Written from AWS's SigV4 documentation and botocore, not from kgate:
# the broker recomputes the signature of the request the client presigned
# and compares.  The canonical request is
#     GET \n / \n <query, each name and value AWS-URI-encoded, sorted,
#     X-Amz-Signature left out> \n host:<host> \n \n host \n <payload hash>
# and the payload hash is the SHA-256 of the empty payload (e3b0c442...),
# not "UNSIGNED-PAYLOAD": botocore's SigV4QueryAuth (which
# aws-msk-iam-sasl-signer-python presigns with) inherits SigV4Auth.payload(),
# which hashes the body (none here) whenever payload signing is on, and it
# is on by default; only S3SigV4QueryAuth overrides payload() to return
# UNSIGNED-PAYLOAD (S3 alone allows it).  The Java SDK's AWS4Signer presign
# (aws-msk-iam-auth, the AWS_MSK_IAM mechanism) likewise hashes the empty
# content; its S3 subclass is the one that does not.

IAM_SERVICE = "kafka-cluster"
IAM_ACTION = "kafka-cluster:Connect"
IAM_ALGORITHM = "AWS4-HMAC-SHA256"
IAM_PAYLOAD_VERSION = "2020_10_22"
IAM_MAX_EXPIRES = 900  # what both AWS client libraries sign for
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
AMZ_DATE = "%Y%m%dT%H%M%SZ"


def aws_uri_encode(s):
    """AWS's URI encoding: unreserved characters kept, every other UTF-8
    byte %XX in upper-case hex ('/' included)."""
    return urllib.parse.quote(s, safe="-_.~")


def sigv4_signature(secret, amz_date, region, service, canonical_request):
    def h(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    scope = "%s/%s/%s/aws4_request" % (amz_date[:8], region, service)
    to_sign = "\n".join((IAM_ALGORITHM, amz_date, scope,
                         hashlib.sha256(canonical_request.encode()).hexdigest()))
    k = h(("AWS4" + secret).encode(), amz_date[:8])
    k = h(h(h(k, region), service), "aws4_request")
    return hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()


def sigv4_canonical_get(host, params):
    """The canonical request of GET https://host/?params (a list of
    (name, value) pairs, unencoded), signing only the host header."""
    query = "&".join("%s=%s" % kv for kv in
                     sorted((aws_uri_encode(k), aws_uri_encode(v)) for k, v in params))
    return "\n".join(("GET", "/", query, "host:" + host, "", "host", EMPTY_SHA256))


class IamKeys:
    """The credentials the front trusts: access key id -> (secret, session
    token or None, principal).  With fake_aws, every key fake_aws.py hands
    out (its numbered ASIA... ids), all as one role, as MSK sees rotated
    credentials of one role."""

    def __init__(self, specs, trust_fake_aws):
        self.keys = {}
        for spec in specs:
            parts = spec.split(":", 2)
            if len(parts) < 2:
                sys.exit("sasl_front: --iam-key wants KEY_ID:SECRET[:SESSION_TOKEN]")
            self.keys[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else None,
                                   parts[0])
        self.fake_aws = trust_fake_aws

    def get(self, key_id):
        if key_id in self.keys:
            return self.keys[key_id]
        if self.fake_aws:
            import fake_aws  # test/lib, next to this file
            n = fake_aws.key_number(key_id)
            if n is not None:
                _, secret, token = fake_aws.keys_for(n)
                return secret, token, "assumed-role/fake-aws-role"
        return None


class IamDenied(AuthFailed):
    """A refused IAM sign-in: the client is told only "Access denied" (as
    MSK does, with a request id); why goes into the front's own notes."""

    def __init__(self, why):
        AuthFailed.__init__(self, "[%s]: Access denied" % uuid.uuid4())
        self.why = why


class OAuthChallenge(Exception):
    """RFC 7628 section 3.2.2: a refused token is answered with a JSON
    error as a server challenge (no error code yet); the client must send
    a lone 0x01, which then fails."""

    def __init__(self, challenge, why):
        Exception.__init__(self, why)
        self.challenge, self.why = challenge, why


class MskIam:
    """OAUTHBEARER with MSK's token, or AWS_MSK_IAM's JSON: one message,
    verified against the keys the front trusts."""

    def __init__(self, front, mechanism, listen_port):
        self.f, self.mech = front, mechanism
        self.host = front.iam_hosts.get(listen_port, front.iam_default_host)
        self.state, self.done, self.principal = "first", False, None
        self.user = self.key_id = None

    def step(self, token):
        if self.state == "challenged":
            # RFC 7628: after the error challenge only 0x01 is valid.
            self.state = "over"
            e = AuthFailed("Authentication failed: %s" % self.challenge_why
                           if token == b"\x01" else
                           "Authentication failed: expected %01 after the error challenge")
            e.counted = True
            raise e
        if self.state != "first":
            raise AuthFailed("Invalid SASL state: authentication already complete")
        self.state = "over"
        try:
            if self.mech == "OAUTHBEARER":
                self.oauthbearer(token)
            else:
                self.aws_msk_iam(token)
        except IamDenied as e:
            if self.mech == "OAUTHBEARER" and self.f.oauth_error_flow == "rfc7628":
                self.state, self.challenge_why = "challenged", "invalid_token (%s)" % e.why
                raise OAuthChallenge(b'{"status":"invalid_token"}', e.why)
            raise
        self.done = True
        if self.mech == "AWS_MSK_IAM":
            return json.dumps({"version": IAM_PAYLOAD_VERSION,
                               "request-id": str(uuid.uuid4())}).encode()
        return b""

    # -- the two encodings --

    def oauthbearer(self, token):
        # Kafka's OAuthBearerClientInitialResponse: gs2 header, then
        # key=value pairs each ended by 0x01, then a final 0x01.
        try:
            text = token.decode("utf-8")
        except UnicodeDecodeError:
            raise AuthFailed("Invalid OAUTHBEARER client first message: not UTF-8")
        if not text.startswith("n,") or not text.endswith("\x01\x01"):
            raise AuthFailed("Invalid OAUTHBEARER client first message (starts %r)" %
                             text[:12])
        gs2, _, rest = text.partition("\x01")
        if gs2 != "n,," and not (gs2.startswith("n,a=") and gs2.endswith(",")):
            raise AuthFailed("Invalid OAUTHBEARER client first message: gs2 header "
                             "(starts %r)" % text[:12])
        kvs = {}
        for item in rest[:-2].split("\x01"):
            k, eq, v = item.partition("=")
            if not eq:
                raise AuthFailed("Invalid OAUTHBEARER client first message: %r" % item[:20])
            kvs[k] = v
        auth = kvs.get("auth", "")
        if not auth.startswith("Bearer ") or not auth[7:]:
            raise AuthFailed("Invalid OAUTHBEARER client first message: no Bearer token")
        b64 = auth[7:]
        if "=" in b64 or any(c in b64 for c in "+/"):
            raise IamDenied("the token is not base64url without padding")
        try:
            url = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise IamDenied("the token does not decode (base64url)")
        want_host = "kafka.%s.amazonaws.com" % self.f.iam_region
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "https" or parts.netloc != want_host or parts.path != "/" or \
                parts.fragment:
            raise IamDenied("the token is for %s://%s%s, not https://%s/" %
                            (parts.scheme, parts.netloc, parts.path, want_host))
        params, user_agent = [], None
        for pair in parts.query.split("&"):
            k, eq, v = pair.partition("=")
            if not eq:
                raise IamDenied("query parameter %r without a value" % k[:20])
            if k == "User-Agent":
                # Appended after signing, form-encoded: not signed.
                user_agent = urllib.parse.unquote_plus(v)
                continue
            params.append((urllib.parse.unquote(k), urllib.parse.unquote(v)))
        if not user_agent:
            raise IamDenied("no User-Agent in the token")
        self.verify(dict(params), params, want_host)

    def aws_msk_iam(self, token):
        try:
            p = json.loads(token.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise AuthFailed("Invalid AWS_MSK_IAM message: not JSON")
        if not isinstance(p, dict) or not all(isinstance(v, str) for v in p.values()):
            raise AuthFailed("Invalid AWS_MSK_IAM message: not an object of strings")
        if p.get("version") != IAM_PAYLOAD_VERSION:
            raise IamDenied("version %r" % p.get("version"))
        for k in ("host", "user-agent", "action", "x-amz-algorithm", "x-amz-credential",
                  "x-amz-date", "x-amz-signedheaders", "x-amz-expires", "x-amz-signature"):
            if not p.get(k):
                raise IamDenied("no %s" % k)
        if p["host"] != self.host:
            raise IamDenied("signed for host %r, this broker is %r" % (p["host"], self.host))
        names = {"action": "Action", "x-amz-algorithm": "X-Amz-Algorithm",
                 "x-amz-credential": "X-Amz-Credential", "x-amz-date": "X-Amz-Date",
                 "x-amz-expires": "X-Amz-Expires", "x-amz-signedheaders": "X-Amz-SignedHeaders",
                 "x-amz-security-token": "X-Amz-Security-Token",
                 "x-amz-signature": "X-Amz-Signature"}
        params = [(names[k], v) for k, v in p.items() if k in names]
        # The signature is checked against this broker's own name (the
        # request a client presigns is GET kafka://HOST/?Action=...).
        self.verify(dict(params), params, self.host)

    # -- the signature --

    def verify(self, q, params, host):
        f = self.f
        if len(q) != len(params):
            raise IamDenied("a repeated query parameter")
        if q.get("Action") != IAM_ACTION:
            raise IamDenied("action %r, not %s" % (q.get("Action"), IAM_ACTION))
        if q.get("X-Amz-Algorithm") != IAM_ALGORITHM:
            raise IamDenied("algorithm %r" % q.get("X-Amz-Algorithm"))
        if q.get("X-Amz-SignedHeaders") != "host":
            raise IamDenied("signed headers %r, not host" % q.get("X-Amz-SignedHeaders"))
        allowed = {"Action", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
                   "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Security-Token",
                   "X-Amz-Signature"}
        if set(q) - allowed:
            raise IamDenied("unexpected parameters %s" % sorted(set(q) - allowed))
        cred = (q.get("X-Amz-Credential") or "").split("/")
        if len(cred) != 5 or cred[4] != "aws4_request":
            raise IamDenied("credential %r" % q.get("X-Amz-Credential"))
        key_id, day, region, service, _ = cred
        self.key_id = key_id
        amz_date = q.get("X-Amz-Date") or ""
        try:
            signed_at = calendar.timegm(time.strptime(amz_date, AMZ_DATE))
        except ValueError:
            raise IamDenied("X-Amz-Date %r" % amz_date)
        if day != amz_date[:8]:
            raise IamDenied("credential scope date %s, X-Amz-Date %s" % (day, amz_date))
        if region != f.iam_region:
            raise IamDenied("credential scope region %s, this cluster is in %s" %
                            (region, f.iam_region))
        if service != IAM_SERVICE:
            raise IamDenied("credential scope service %s, not %s" % (service, IAM_SERVICE))
        try:
            expires = int(q.get("X-Amz-Expires") or "")
        except ValueError:
            raise IamDenied("X-Amz-Expires %r" % q.get("X-Amz-Expires"))
        if not 1 <= expires <= IAM_MAX_EXPIRES:
            raise IamDenied("X-Amz-Expires %d outside 1..%d" % (expires, IAM_MAX_EXPIRES))
        now = f.clock()
        if now > signed_at + expires:
            raise IamDenied("expired: signed at %s for %d s" % (amz_date, expires))
        if abs(now - signed_at) > f.iam_skew_s:
            raise IamDenied("signed at %s, %+.0f s from now (more than %d s apart)" %
                            (amz_date, signed_at - now, f.iam_skew_s))
        known = f.iam_keys.get(key_id)
        if known is None:
            raise IamDenied("unknown access key id %s" % key_id)
        secret, session_token, principal = known
        if q.get("X-Amz-Security-Token") != session_token:
            raise IamDenied("session token %s for %s" %
                            ("missing" if session_token and "X-Amz-Security-Token" not in q
                             else "wrong", key_id))
        signed = [(k, v) for k, v in params if k != "X-Amz-Signature"]
        want = sigv4_signature(secret, amz_date, region, service,
                               sigv4_canonical_get(host, signed))
        if not hmac.compare_digest(want, q.get("X-Amz-Signature") or ""):
            raise IamDenied("signature mismatch for %s" % key_id)
        self.user, self.principal = key_id, principal


# ---- stats ----

class Stats:
    """Counters the tests read; every change marks them dirty for the writer."""

    def __init__(self, path):
        self.path, self.lock, self.dirty = path, threading.Lock(), True
        self.d = {
            "connections": 0, "connections_by_port": {}, "authenticated": 0,
            "auth": {m: 0 for m in MECHANISMS}, "reauth": {m: 0 for m in MECHANISMS},
            "reauthentications": 0, "failures": 0, "failure_messages": [],
            "violations": 0, "violation_details": [], "expired": 0,
            "unauthenticated_requests": 0, "principals": {}, "requests": {},
            "max_in_flight": 0, "ports_rewritten": 0, "reauth_requests": {},
            "scram_nonce_not_rfc": 0, "protocol_errors": 0,
            "connection_log": [], "access_keys": {}, "reauth_access_keys": {},
        }

    def bump(self, key, n=1, sub=None, note=None):
        with self.lock:
            if sub is None:
                self.d[key] += n
            else:
                self.d[key][sub] = self.d[key].get(sub, 0) + n
            if note is not None:
                lst = self.d["failure_messages" if key == "failures" else "violation_details"]
                if len(lst) < 100:
                    lst.append(note)
            self.dirty = True

    def max_in_flight(self, n):
        with self.lock:
            if n > self.d["max_in_flight"]:
                self.d["max_in_flight"] = n
                self.dirty = True

    def new_connection(self, port):
        """A log entry for one connection (kept while it is open, too: the
        entry is updated in place; its keys never change)."""
        with self.lock:
            self.d["connections"] += 1
            by_port = self.d["connections_by_port"]
            by_port[str(port)] = by_port.get(str(port), 0) + 1
            entry = {"id": self.d["connections"], "port": port, "principal": None,
                     "mechanism": None, "first_request": None, "pre_auth": [],
                     "apis": [], "requests": 0,
                     "reauth": 0, "end": None, "access_keys": []}
            if len(self.d["connection_log"]) < 5000:
                self.d["connection_log"].append(entry)
            self.dirty = True
            return entry

    def touch(self):
        self.dirty = True

    def write(self, force=False):
        with self.lock:
            if not (self.dirty or force):
                return
            # The C encoder (no indent) runs without giving the GIL up, so
            # connection threads cannot change an entry halfway through.
            text = json.dumps(self.d, sort_keys=True)
            self.dirty = False
        if self.path:
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                f.write(text)
            os.replace(tmp, self.path)
        return text


# ---- one client connection ----

class Conn:
    def __init__(self, front, sock, listen_port, backend):
        self.f, self.sock, self.port, self.backend = front, sock, listen_port, backend
        self.up = None
        self.lock = threading.Lock()  # the FIFO and every write to the client
        self.fifo = []                 # (corr, api_key, version) owed a response
        self.mech = self.principal = None
        self.expires = None            # monotonic seconds, or None: no lifetime
        self.log = front.stats.new_connection(listen_port)
        self.ident = "%s:%d" % sock.getpeername()[:2]

    def say(self, msg):
        self.f.say("%d %s: %s" % (self.port, self.ident, msg))

    def send_client(self, data):
        with self.lock:
            self.sock.sendall(data)

    def run(self):
        reason = "closed"
        try:
            self.up = socket.create_connection(self.backend, timeout=10)
            self.up.settimeout(None)
            self.up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.authenticate(first=True):
                threading.Thread(target=self.downstream, daemon=True).start()
                self.upstream()
        except Closed as e:
            reason = str(e)
        except Decode as e:
            reason = "protocol error: %s" % e
            self.f.stats.bump("protocol_errors")
        except OSError as e:
            reason = "socket: %s" % e
        finally:
            self.close(reason)

    def close(self, reason):
        if self.log["end"] is None:
            self.log["end"] = reason
            self.f.stats.touch()
            self.say("closed: %s" % reason)
        for s in (self.sock, self.up):
            if s is None:
                continue
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass

    # -- authentication (first, and re-authentication mid-stream) --

    def authenticate(self, first, handshake=None):
        """Runs SaslHandshake + SaslAuthenticate.  first: before any relay
        (ApiVersions is forwarded, anything else closes); else handshake is
        the SaslHandshake request already read.  True once authenticated."""
        f = self.f
        while True:
            if handshake is None:
                # Any size kgate may send: a request that is not SASL is
                # counted as such, not as a frame too big for SASL.
                data = read_frame(self.sock, f.max_frame, 8)
                req = Request(data, REQUEST_FLEXIBLE)
            else:
                req, handshake = handshake, None
            self.note_sasl(req, first)
            if first and req.api_key == API_API_VERSIONS:
                self.forward_api_versions(data, req)
                continue
            if req.api_key != API_SASL_HANDSHAKE:
                if first:
                    f.stats.bump("unauthenticated_requests")
                    raise Closed("request %d v%d before authentication" %
                                 (req.api_key, req.version))
                self.violation("request %d v%d between SaslHandshake and "
                               "SaslAuthenticate" % (req.api_key, req.version))
                raise Closed("re-authentication interrupted")
            return self.sasl(req, first)

    def forward_api_versions(self, data, req):
        self.up.sendall(frame(data))
        resp = read_frame(self.up, self.f.max_frame, 4)
        corr = struct.unpack(">i", resp[:4])[0]
        if corr != req.corr:
            raise Decode("ApiVersions correlation %d, sent %d" % (corr, req.corr))
        self.send_client(frame(resp[:4] + api_versions_with_sasl(resp[4:], req.version,
                                                                  self.f.max_authenticate)))

    def sasl(self, req, first):
        f = self.f
        if req.version > 1:
            raise Closed("SaslHandshake v%d" % req.version)
        mech = req.body.string()
        ok = mech in f.mechanisms and (first or mech == self.mech)
        body = struct.pack(">hi", 0 if ok else ERR_UNSUPPORTED_SASL_MECHANISM,
                           len(f.mechanisms))
        for m in f.mechanisms:
            body += w_string(m)
        self.send_client(frame(struct.pack(">i", req.corr) + body))
        if not ok:
            self.failure("mechanism %r%s" % (mech, "" if first else
                                              " (re-authentication with another)"))
            raise Closed("unsupported mechanism %r" % mech)
        if req.version == 0:
            if not first:
                self.violation("re-authentication with SaslHandshake v0")
                raise Closed("re-authentication with SaslHandshake v0")
            return self.sasl_v0(mech)
        m = self.mechanism(mech)
        while not m.done:
            data = read_frame(self.sock, f.max_frame, 8)
            areq = Request(data, REQUEST_FLEXIBLE)
            self.note_sasl(areq, first)
            if areq.api_key != API_SASL_AUTHENTICATE:
                if first:
                    f.stats.bump("unauthenticated_requests")
                else:
                    self.violation("request %d v%d during re-authentication" %
                                   (areq.api_key, areq.version))
                raise Closed("request %d v%d during SASL exchange" %
                             (areq.api_key, areq.version))
            if areq.version > f.max_authenticate:
                # Above what ApiVersions offered: Kafka would not parse it.
                self.violation("SaslAuthenticate v%d, offered v0-%d" %
                               (areq.version, f.max_authenticate))
                raise Closed("SaslAuthenticate v%d" % areq.version)
            token = areq.body.bytes_(compact=areq.version >= 2) or b""
            try:
                out = m.step(token)
            except OAuthChallenge as e:
                # No error code yet: the client answers 0x01 and fails then.
                self.auth_response(areq, 0, None, e.challenge, 0)
                self.failure("%s as %s: %s" % (mech, getattr(m, "key_id", None) or "?",
                                               e.why))
                continue
            except AuthFailed as e:
                self.auth_response(areq, ERR_SASL_AUTHENTICATION_FAILED, str(e), b"", 0)
                if not e.counted:
                    self.failure("%s as %s: %s" % (mech, getattr(m, "user", None) or
                                                   getattr(m, "key_id", None) or "?",
                                                   getattr(e, "why", None) or e))
                raise Closed("authentication failed")
            if m.done and not first and m.principal != self.principal:
                self.auth_response(areq, ERR_SASL_AUTHENTICATION_FAILED,
                                   "Cannot change principals during re-authentication",
                                   b"", 0)
                self.failure("re-authentication as %s, was %s" % (m.principal,
                                                                  self.principal))
                raise Closed("principal changed")
            lifetime = f.lifetime_ms if m.done else 0
            self.auth_response(areq, 0, None, out, lifetime)
        self.authenticated(mech, m.principal, first, areq.version,
                           getattr(m, "key_id", None))
        return True

    def mechanism(self, mech):
        f = self.f
        if mech == "PLAIN":
            return Plain(f.users)
        if mech in SCRAM_HASHES:
            return Scram(f.users, mech, f.stats)
        return MskIam(f, mech, self.port)

    def sasl_v0(self, mech):
        """SaslHandshake v0: the tokens follow as bare length-prefixed frames."""
        m = self.mechanism(mech)
        while not m.done:
            token = read_frame(self.sock, MAX_SASL_FRAME, 0)
            try:
                out = m.step(token)
            except OAuthChallenge as e:
                self.failure("%s (v0): %s" % (mech, e.why))
                self.send_client(frame(e.challenge))
                continue
            except AuthFailed as e:
                if e.counted:
                    raise Closed("authentication failed")
                self.failure("%s (v0) as %s: %s" % (mech, getattr(m, "user", "?"), e))
                raise Closed("authentication failed")
            # PLAIN's answer is an empty token, sent as such.
            self.send_client(frame(out))
        self.authenticated(mech, m.principal, True, 0, getattr(m, "key_id", None))
        return True

    def note_sasl(self, req, first):
        """Which requests, at which versions, made up a sign-in: the
        connection's first in its log, re-authentications in the stats."""
        what = "%dv%d" % (req.api_key, req.version)
        if first:
            if len(self.log["pre_auth"]) < 16:
                self.log["pre_auth"].append(what)
            self.f.stats.touch()
        else:
            self.f.stats.bump("reauth_requests", sub=what)

    def auth_response(self, areq, err, msg, token, lifetime):
        flexible = areq.version >= 2
        out = struct.pack(">i", areq.corr) + (uvarint(0) if flexible else b"")
        out += struct.pack(">h", err) + w_string(msg, flexible) + w_bytes(token, flexible)
        if areq.version >= 1:
            out += struct.pack(">q", lifetime)
        if flexible:
            out += uvarint(0)
        self.send_client(frame(out))

    def authenticated(self, mech, principal, first, auth_version, key_id=None):
        st = self.f.stats
        if key_id is not None:
            # Which IAM credentials signed in (and in again): the key ids.
            if len(self.log["access_keys"]) < 64:
                self.log["access_keys"].append(key_id)
            st.bump("access_keys" if first else "reauth_access_keys", sub=key_id)
        # Kafka ends the session after the lifetime whatever the client
        # was told (v0 cannot be told).
        lifetime = self.f.lifetime_ms
        self.expires = time.monotonic() + lifetime / 1000.0 if lifetime else None
        if first:
            self.mech, self.principal = mech, principal
            self.log["principal"], self.log["mechanism"] = principal, mech
            st.bump("authenticated")
            st.bump("auth", sub=mech)
            st.bump("principals", sub=principal)
            self.say("authenticated as %s (%s, SaslAuthenticate v%d)" %
                     (principal, mech, auth_version))
        else:
            self.log["reauth"] += 1
            st.bump("reauthentications")
            st.bump("reauth", sub=mech)
            self.say("re-authenticated as %s (%s)" % (principal, mech))

    def failure(self, note):
        self.f.stats.bump("failures", note=note)
        self.say("authentication failure: %s" % note)

    def violation(self, note):
        self.f.stats.bump("violations", note="%d %s: %s" % (self.port, self.ident, note))
        self.say("VIOLATION: %s" % note)

    # -- relay --

    def upstream(self):
        """Client to backend, a frame at a time."""
        f = self.f
        while True:
            data = read_frame(self.sock, f.max_frame, 8)
            req = Request(data, REQUEST_FLEXIBLE)
            if req.api_key == API_SASL_HANDSHAKE:
                with self.lock:
                    owed = list(self.fifo)
                if owed:
                    self.violation("re-authentication with %d response(s) owed "
                                   "(api %s)" % (len(owed), ",".join(str(o[1]) for o in owed)))
                self.authenticate(first=False, handshake=req)
                continue
            if self.expires is not None and time.monotonic() > self.expires:
                f.stats.bump("expired")
                raise Closed("session expired (request %d v%d)" % (req.api_key, req.version))
            if req.api_key == API_SASL_AUTHENTICATE:
                self.violation("SaslAuthenticate without SaslHandshake")
                raise Closed("SaslAuthenticate without SaslHandshake")
            if self.log["first_request"] is None:
                self.log["first_request"] = req.api_key
            self.log["requests"] += 1
            if len(self.log["apis"]) < 16:
                self.log["apis"].append(req.api_key)
            f.stats.bump("requests", sub=str(req.api_key))
            expects = not (req.api_key == API_PRODUCE and produce_acks(req) == 0)
            if expects:
                with self.lock:
                    self.fifo.append((req.corr, req.api_key, req.version))
                    n = len(self.fifo)
                f.stats.max_in_flight(n)
            self.up.sendall(frame(data))

    def downstream(self):
        """Backend to client: responses in request order."""
        f = self.f
        try:
            while True:
                resp = read_frame(self.up, f.max_frame, 4)
                corr = struct.unpack(">i", resp[:4])[0]
                with self.lock:
                    head = self.fifo[0] if self.fifo else None
                if head is None or head[0] != corr:
                    raise Decode("response correlation %d, expected %s" %
                                 (corr, head and head[0]))
                _, api, version = head
                if api == API_API_VERSIONS:
                    resp = resp[:4] + api_versions_with_sasl(resp[4:], version,
                                                             f.max_authenticate)
                elif f.rewrite and api in (API_METADATA, API_FIND_COORDINATOR,
                                           API_DESCRIBE_CLUSTER):
                    resp = f.rewrite_ports(resp)
                # Sent and popped under the lock: a SaslHandshake read after
                # the client has this response finds nothing owed.
                with self.lock:
                    self.sock.sendall(frame(resp))
                    self.fifo.pop(0)
        except Closed as e:
            self.close("backend: %s" % e)
        except Decode as e:
            f.stats.bump("protocol_errors")
            self.close("backend protocol error: %s" % e)
        except OSError as e:
            self.close("backend socket: %s" % e)


# ---- TLS (SASL_SSL listeners) ----

def tls_relay(ctx, raw, inner, say):
    """Terminates TLS on raw and relays the plaintext to inner (one end of
    a socketpair; the connection's threads use the other).  One thread owns
    the TLS state (a memory BIO), so its reads and writes never race."""
    import ssl
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_side=True)

    def flush():
        data = outgoing.read()
        if data:
            raw.sendall(data)

    def pump_in():
        """Decrypted bytes to inner; False once the peer has closed TLS."""
        while True:
            try:
                data = tls.read(1 << 16)
            except ssl.SSLWantReadError:
                return True
            except ssl.SSLZeroReturnError:
                return False
            if not data:
                return False
            inner.sendall(data)

    try:
        raw.settimeout(10)
        while True:  # the handshake
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                flush()
                data = raw.recv(1 << 16)
                if not data:
                    raise OSError("closed during the TLS handshake")
                incoming.write(data)
        flush()
        raw.settimeout(None)
        sel = selectors.DefaultSelector()
        sel.register(raw, selectors.EVENT_READ, "raw")
        sel.register(inner, selectors.EVENT_READ, "inner")
        open_ = True
        while open_:
            for key, _ in sel.select():
                if key.data == "raw":
                    data = raw.recv(1 << 16)
                    if not data:
                        open_ = False
                        break
                    incoming.write(data)
                    open_ = pump_in()
                    flush()  # a TLS 1.3 key update or the like
                else:
                    data = inner.recv(1 << 16)
                    if not data:
                        open_ = False
                        break
                    tls.write(data)
                    flush()
    except (OSError, ssl.SSLError) as e:
        say("TLS: %s" % e)
    finally:
        for sock in (raw, inner):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


# ---- the front ----

class Front:
    def __init__(self, args):
        self.mechanisms = args.mechanisms.split(",")
        for m in self.mechanisms:
            if m not in MECHANISMS:
                sys.exit("sasl_front: unknown mechanism %s" % m)
        self.users = {}
        for spec in args.user:
            name, _, password = spec.partition(":")
            u = {"password": password}
            for m, algo in SCRAM_HASHES.items():
                salt = secrets.token_bytes(16)
                stored, server = scram_credentials(password, algo, salt)
                u[m] = {"salt": salt, "stored_key": stored, "server_key": server}
            self.users[name] = u
        self.iam_keys = IamKeys(args.iam_key, args.iam_trust_fake_aws)
        self.iam_region = args.iam_region
        self.iam_default_host = args.iam_host_default
        self.iam_hosts = {}
        for spec in args.iam_host:
            port, _, name = spec.partition("=")
            self.iam_hosts[int(port)] = name
        self.iam_skew_s = args.iam_clock_skew_s
        self.oauth_error_flow = args.oauth_error_flow
        self.clock = time.time  # the self-test sets its own
        self.tls = None
        if args.tls:
            import ssl
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls.load_cert_chain(args.tls[0], args.tls[1])
        self.lifetime_ms = args.session_lifetime_ms
        self.max_frame = args.max_frame
        self.max_authenticate = args.max_authenticate_version
        self.rewrite = args.rewrite_ports
        self.stats = Stats(args.stats)
        self.quiet = args.quiet
        self.listeners = []
        self.port_map = []
        for spec in args.listen:
            port, _, backend = spec.partition("=")
            host, _, bport = backend.rpartition(":")
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", int(port)))
            s.listen(128)
            self.listeners.append((s, int(port), (host, int(bport))))
            if len(host) != len("127.0.0.1") and self.rewrite:
                sys.exit("sasl_front: --rewrite-ports needs backend hosts of 9 characters")
            self.port_map.append((host.encode(), int(bport), int(port)))
        self.stop = threading.Event()

    def say(self, msg):
        if not self.quiet:
            print("sasl_front %.3f %s" % (time.time(), msg), file=sys.stderr, flush=True)

    def rewrite_ports(self, resp):
        n = 0
        for host, bport, fport in self.port_map:
            for prefix in (struct.pack(">h", len(host)), uvarint(len(host) + 1)):
                old = prefix + host + struct.pack(">i", bport)
                new = prefix + b"127.0.0.1" + struct.pack(">i", fport)
                n += resp.count(old)
                resp = resp.replace(old, new)
        if n:
            self.stats.bump("ports_rewritten", n)
        return resp

    def serve(self):
        sel = selectors.DefaultSelector()
        for s, port, backend in self.listeners:
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, (port, backend))
        self.say("listening on %s" % ", ".join("%d -> %s:%d" % (p, b[0], b[1])
                                               for _, p, b in self.listeners))
        while not self.stop.is_set():
            for key, _ in sel.select(0.1):
                try:
                    sock, _ = key.fileobj.accept()
                except OSError:
                    continue
                sock.setblocking(True)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                port, backend = key.data
                conn = Conn(self, sock, port, backend)
                if self.tls:
                    plain, conn.sock = socket.socketpair()
                    threading.Thread(target=tls_relay, args=(self.tls, sock, plain, conn.say),
                                     daemon=True).start()
                threading.Thread(target=conn.run, daemon=True).start()
            self.stats.write()
        for s, _, _ in self.listeners:
            s.close()
        text = self.stats.write(force=True)
        print(text, flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--listen", action="append", required=True,
                   metavar="PORT=HOST:PORT", help="a loopback port and its backend broker")
    p.add_argument("--mechanisms", default="PLAIN,SCRAM-SHA-256,SCRAM-SHA-512")
    p.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD")
    p.add_argument("--session-lifetime-ms", type=int, default=0)
    p.add_argument("--stats", metavar="FILE")
    p.add_argument("--max-frame", type=int, default=100 * 1024 * 1024)
    p.add_argument("--max-authenticate-version", type=int, default=2, choices=(0, 1, 2),
                   help="the newest SaslAuthenticate ApiVersions offers (and accepts)")
    p.add_argument("--rewrite-ports", action="store_true")
    p.add_argument("--iam-key", action="append", default=[],
                   metavar="KEY_ID:SECRET[:SESSION_TOKEN]",
                   help="IAM credentials the front trusts (OAUTHBEARER, AWS_MSK_IAM)")
    p.add_argument("--iam-trust-fake-aws", action="store_true",
                   help="trust every key fake_aws.py hands out, as one role")
    p.add_argument("--iam-region", default="us-east-1")
    p.add_argument("--iam-host", action="append", default=[], metavar="PORT=NAME",
                   help="AWS_MSK_IAM: the broker name a listener checks the signature "
                        "against (default --iam-host-default)")
    p.add_argument("--iam-host-default", default="127.0.0.1")
    p.add_argument("--iam-clock-skew-s", type=int, default=300,
                   help="how far X-Amz-Date may be from now")
    p.add_argument("--oauth-error-flow", choices=("rfc7628", "direct"), default="rfc7628",
                   help="a refused OAUTHBEARER token: RFC 7628's JSON challenge first "
                        "(as Kafka), or SASL_AUTHENTICATION_FAILED at once")
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"),
                   help="every listener speaks TLS (SASL_SSL) with this certificate")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args()
    front = Front(args)
    signal.signal(signal.SIGTERM, lambda *_: front.stop.set())
    signal.signal(signal.SIGINT, lambda *_: front.stop.set())
    front.serve()


if __name__ == "__main__":
    main()
