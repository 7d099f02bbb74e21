#!/usr/bin/python3
"""fake_aws.py — the AWS credential endpoints kgate's chain talks to, on loopback.

One HTTP server (optionally TLS) answering as:
- EC2 instance metadata, IMDSv2 only: PUT /latest/api/token (needs the
  X-aws-ec2-metadata-token-ttl-seconds header) hands out a session token;
  GET /latest/meta-data/iam/security-credentials/[ROLE] needs it (401 else).
- the container credentials endpoint: GET /container/creds, checking the
  Authorization header against --auth (/container/chunked: the same, sent
  with Transfer-Encoding: chunked in small pieces).
- STS: POST / (or GET /?...) with Action=AssumeRoleWithWebIdentity,
  Version=2011-06-15, RoleArn and WebIdentityToken (checked against
  --web-token), answering STS's XML.
- GET /stats: JSON request counters, so tests can see what was asked.

Every answer carries new credentials that expire --expires seconds from
now.  The key ids say who issued them: ASIA + 12 digits ending in 1nnn
(STS), 2nnn (container) or 3nnn (IMDS), nnn counting up, so a masked key
(ASIA…3001) names its source and refreshes are visible.

usage: fake_aws.py --port P [--expires S] [--auth TOKEN] [--web-token T]
                   [--role NAME] [--tls CERT KEY]
"""
import argparse
import http.server
import json
import ssl
import sys
import threading
import time
import urllib.parse

ISSUER = {"sts": 1000, "container": 2000, "imds": 3000}


def keys_for(n):
    """The credentials issued as number n (1001.., 2001.., 3001..): key id,
    secret and session token.  sasl_front.py --iam-trust-fake-aws trusts
    exactly these, so the two agree on secrets without talking."""
    issuer = {v // 1000: k for k, v in ISSUER.items()}.get(n // 1000)
    if issuer is None:
        return None
    return "ASIA%012d" % n, "SECRET%s%d" % (issuer, n), "TOKEN%s%d" % (issuer, n)


def key_number(access_key):
    """n of a key id keys_for made, or None."""
    if len(access_key) != 16 or not access_key.startswith("ASIA") or \
            not access_key[4:].isdigit():
        return None
    n = int(access_key[4:])
    return n if keys_for(n) and keys_for(n)[0] == access_key else None


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.counts = {"token": 0, "role": 0, "imds": 0, "container": 0, "sts": 0,
                       "refused": 0}
        self.issued = {k: 0 for k in ISSUER}
        self.tokens = set()

    def creds(self, issuer):
        with self.lock:
            self.issued[issuer] += 1
            n = ISSUER[issuer] + self.issued[issuer]
        exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + self.args.expires))
        key, secret, token = keys_for(n)
        return {"AccessKeyId": key, "SecretAccessKey": secret, "Token": token,
                "Expiration": exp}

    def count(self, what):
        with self.lock:
            self.counts[what] += 1


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, fmt, *args):
        sys.stderr.write("fake_aws: " + (fmt % args) + "\n")

    def reply(self, status, body, ctype="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def reply_chunked(self, body, ctype):
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        for i in range(0, len(data), 17):
            piece = data[i:i + 17]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def refuse(self, status, why):
        self.state.count("refused")
        self.reply(status, why + "\n")

    def imds_token_ok(self):
        tok = self.headers.get("X-aws-ec2-metadata-token")
        with self.state.lock:
            return tok in self.state.tokens

    def do_PUT(self):
        st = self.state
        if self.path != "/latest/api/token":
            return self.refuse(404, "not found")
        if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.refuse(400, "missing X-aws-ec2-metadata-token-ttl-seconds")
        st.count("token")
        with st.lock:
            tok = "imds-token-%d" % (len(st.tokens) + 1)
            st.tokens.add(tok)
        self.reply(200, tok)

    def do_GET(self):
        st = self.state
        path, _, query = self.path.partition("?")
        prefix = "/latest/meta-data/iam/security-credentials/"
        if path == "/stats":
            with st.lock:
                body = json.dumps(st.counts)
            return self.reply(200, body, "application/json")
        if path.startswith(prefix):
            if not self.imds_token_ok():
                return self.refuse(401, "IMDSv2 token missing or wrong")
            role = path[len(prefix):]
            if role == "":
                st.count("role")
                return self.reply(200, st.args.role + "\n")
            if role != st.args.role:
                return self.refuse(404, "no such role")
            st.count("imds")
            body = dict(st.creds("imds"), Code="Success", Type="AWS-HMAC",
                        LastUpdated=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            return self.reply(200, json.dumps(body), "application/json")
        if path in ("/container/creds", "/container/chunked"):
            if st.args.auth and self.headers.get("Authorization") != st.args.auth:
                return self.refuse(401, "bad Authorization")
            st.count("container")
            body = json.dumps(st.creds("container"))
            if path == "/container/chunked":
                return self.reply_chunked(body, "application/json")
            return self.reply(200, body, "application/json")
        if query:
            return self.sts(urllib.parse.parse_qs(query))
        return self.refuse(404, "not found")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        form = self.rfile.read(n).decode() if n else ""
        return self.sts(urllib.parse.parse_qs(form))

    def sts(self, form):
        def one(k):
            return form.get(k, [""])[0]

        def error(code, msg):
            self.state.count("refused")
            self.reply(400, "<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code>"
                            "<Message>%s</Message></Error></ErrorResponse>" % (code, msg),
                       "text/xml")

        if one("Action") != "AssumeRoleWithWebIdentity" or one("Version") != "2011-06-15":
            return error("InvalidAction", "unexpected Action or Version")
        if not one("RoleArn") or not one("RoleSessionName"):
            return error("MissingParameter", "RoleArn and RoleSessionName are required")
        if one("WebIdentityToken") != self.state.args.web_token:
            return error("InvalidIdentityToken", "Couldn&apos;t verify the token")
        self.state.count("sts")
        c = self.state.creds("sts")
        self.reply(200, "<AssumeRoleWithWebIdentityResponse "
                        "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                        "<AssumeRoleWithWebIdentityResult><Credentials>"
                        "<AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>"
                        "<SessionToken>%s</SessionToken><Expiration>%s</Expiration>"
                        "</Credentials></AssumeRoleWithWebIdentityResult>"
                        "</AssumeRoleWithWebIdentityResponse>"
                   % (c["AccessKeyId"], c["SecretAccessKey"], c["Token"], c["Expiration"]),
                   "text/xml")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--expires", type=int, default=3600)
    ap.add_argument("--auth", default="")
    ap.add_argument("--web-token", default="web-identity-token")
    ap.add_argument("--role", default="kgate-role")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()
    Handler.state = State(args)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
