#!/usr/bin/env bash
# check_passwd.sh — `kgate passwd` end to end on the built binary (`make
# lint`): writes a credentials file, checks its mode is 0600, and checks
# with Python's hashlib (independently of kgate's code) that the stored
# SCRAM keys are the password's; then that another user is kept, --delete
# removes one, and an empty password is refused.
#
#   scripts/check_passwd.sh KGATE_BIN
set -euo pipefail
bin=$(readlink -f "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
f=$tmp/users.json

printf 'pencil\n' | "$bin" passwd "$f" alice 2>/dev/null
printf 'other pw\r\n' | "$bin" passwd --mechanism SCRAM-SHA-512 --iterations 4096 "$f" bob 2>/dev/null
mode=$(stat -c %a "$f")
[ "$mode" = 600 ] || { echo "check_passwd: $f has mode $mode, expected 600" >&2; exit 1; }
if printf '\n' | "$bin" passwd "$f" carol 2>/dev/null; then
  echo "check_passwd: an empty password was accepted" >&2; exit 1
fi

/usr/bin/python3 - "$f" <<'EOF'
import base64, hashlib, hmac, json, sys

users = json.load(open(sys.argv[1]))["users"]
want = {"alice": ("pencil", {"SCRAM-SHA-256", "SCRAM-SHA-512"}),
        "bob": ("other pw", {"SCRAM-SHA-512"})}
assert set(users) == set(want), users.keys()
for user, (pw, mechs) in want.items():
    assert set(users[user]) == mechs, (user, users[user].keys())
    for mech, e in users[user].items():
        name = "sha256" if mech == "SCRAM-SHA-256" else "sha512"
        h = getattr(hashlib, name)
        salt = base64.b64decode(e["salt"], validate=True)
        assert len(salt) >= 16, (user, mech, "salt")
        assert e["iterations"] == (8192 if user == "alice" else 4096), (user, mech)
        salted = hashlib.pbkdf2_hmac(name, pw.encode(), salt, e["iterations"])
        stored = h(hmac.new(salted, b"Client Key", h).digest()).digest()
        server = hmac.new(salted, b"Server Key", h).digest()
        assert base64.b64decode(e["stored_key"]) == stored, (user, mech, "stored_key")
        assert base64.b64decode(e["server_key"]) == server, (user, mech, "server_key")
EOF

"$bin" passwd --delete "$f" alice 2>/dev/null
/usr/bin/python3 -c 'import json,sys; u=json.load(open(sys.argv[1]))["users"]; assert list(u)==["bob"], u' "$f"
[ "$(stat -c %a "$f")" = 600 ] || { echo "check_passwd: mode changed by --delete" >&2; exit 1; }
[ -z "$(find "$tmp" -name 'users.json.*')" ] || { echo "check_passwd: temporary file left" >&2; exit 1; }
echo "check_passwd: kgate passwd writes 0600 files whose SCRAM keys hashlib agrees with"
