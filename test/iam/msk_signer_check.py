#!/usr/bin/env python3
"""msk_signer_check.py — kgate's MSK IAM token against AWS's own signer.

Runs inside a venv holding aws-msk-iam-sasl-signer-python (pinned by
`make test-iam`).  For each case (credentials with and without a session
token, several regions and times) it makes the library's token with the
clock frozen at the case's time (botocore.auth.get_current_datetime, which
SigV4QueryAuth reads) and the user agent it appends set to the case's
(MSKAuthTokenProvider.__get_user_agent__), runs kgate's build/msk_token for
the same inputs, and compares the two tokens byte for byte, then the decoded
URLs (to say where they differ when they do).

Then the AWS_MSK_IAM payload (msk_token -p HOST): no Python library sends
it, so its values are checked against botocore's SigV4QueryAuth presigning
the request aws-msk-iam-auth (Java) signs — GET https://HOST/ with
Action=kafka-cluster:Connect, service kafka-cluster, 900 s — parameter by
parameter, the signature included.

    msk_signer_check.py MSK_TOKEN_BINARY
"""
import base64
import datetime
import json
import subprocess
import sys
from urllib.parse import parse_qsl, urlsplit

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import CredentialProvider, Credentials

from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

CASES = [
    # (access key, secret key, session token, region, unix time, user agent)
    ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", "us-east-1",
     1440938160, "aws-msk-iam-sasl-signer-python/1.0.2"),
    ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", "eu-west-3",
     1700000000, "kgate/1.0"),
    ("ASIAQEXAMPLE0000TEMP", "s3cr3t+/=key", "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH"
     "MEUCIQDp+token/with=padding&odd chars==", "us-east-1", 1440938160,
     "kgate/1.0 (linux; x86_64)"),
    ("ASIAQEXAMPLE0000TEMP", "anotherSecretKey1234567890abcdefghijklmn",
     "FwoGZXIvYXdzEBYaDGV4YW1wbGV0b2tlbg==", "ap-southeast-2", 1893456000,
     "aws-msk-iam-sasl-signer-python/1.0.2"),
    ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", "cn-north-1", 0, "ua"),
]


class Static(CredentialProvider):
    METHOD = "static"

    def __init__(self, creds):
        super().__init__()
        self._creds = creds

    def load(self):
        return self._creds


def library_token(ak, sk, token, region, now, ua):
    freeze(now)
    setattr(MSKAuthTokenProvider, "__get_user_agent__", lambda: ua)
    creds = Credentials(ak, sk, token or None)
    tok, expiry_ms = MSKAuthTokenProvider.generate_auth_token_from_credentials_provider(
        region, Static(creds))
    assert expiry_ms == (now + 900) * 1000, expiry_ms
    return tok


def freeze(now):
    frozen = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).replace(tzinfo=None)
    botocore.auth.get_current_datetime = lambda *a, **k: frozen


def botocore_presign(ak, sk, token, region, host, now):
    """The query parameters botocore presigns for MSK's connect request."""
    freeze(now)
    req = AWSRequest(method="GET", url=f"https://{host}/",
                     params={"Action": "kafka-cluster:Connect"})
    botocore.auth.SigV4QueryAuth(Credentials(ak, sk, token or None), "kafka-cluster",
                                 region, expires=900).add_auth(req)
    return {k.lower(): v for k, v in parse_qsl(urlsplit(req.url).query)}


def check_payload(tool, ak, sk, token, region, now, ua):
    host = f"b-1.demo.abc123.c2.kafka.{region}.amazonaws.com"
    got = json.loads(subprocess.run([tool, "-p", host, ak, sk, token, region, str(now), ua],
                                    check=True, capture_output=True, text=True).stdout)
    want = botocore_presign(ak, sk, token, region, host, now)
    want.update({"version": "2020_10_22", "host": host, "user-agent": ua})
    if got == want:
        return None
    return {k: (got.get(k), want.get(k)) for k in set(got) | set(want)
            if got.get(k) != want.get(k)}


def decode(tok):
    return base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4)).decode()


def main():
    tool = sys.argv[1]
    failed = 0
    for ak, sk, token, region, now, ua in CASES:
        want = library_token(ak, sk, token, region, now, ua)
        got = subprocess.run([tool, ak, sk, token, region, str(now), ua], check=True,
                             capture_output=True, text=True).stdout.strip()
        name = f"{region} t={now} {'session' if token else 'long-term'}"
        if got == want:
            print(f"ok    {name}: {len(got)} bytes identical")
            continue
        failed += 1
        print(f"FAIL  {name}\n  library: {decode(want)}\n  kgate:   {decode(got)}")
    print(f"{len(CASES) - failed}/{len(CASES)} tokens identical to "
          "aws-msk-iam-sasl-signer-python's")
    bad = 0
    for case in CASES:
        diff = check_payload(tool, *case)
        if diff:
            bad += 1
            print(f"FAIL  payload {case[3]} t={case[4]}: (kgate, botocore) {diff}")
    print(f"{len(CASES) - bad}/{len(CASES)} AWS_MSK_IAM payloads equal to botocore's presign "
          "of the same request")
    return 1 if failed or bad else 0


if __name__ == "__main__":
    sys.exit(main())
