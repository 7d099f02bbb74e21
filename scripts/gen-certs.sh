#!/usr/bin/env bash
# gen-certs.sh — a throwaway PKI for the TLS tests, made fresh at test time
# with the openssl command (no private key is ever committed).
#
#   scripts/gen-certs.sh DIR
#
# DIR gets: ca.pem (the test CA) and other-ca.pem (a CA nobody trusts);
# broker-N.{pem,key} for b-N.msk.internal (and *.msk.internal, the way
# MSK's broker certificates are wildcards); gateway.{pem,key} for
# nlb.kgate.test, localhost and 127.0.0.1; sni.{pem,key}, the wildcard an
# SNI listener serves (*.sni.kgate.test, and bootstrap.sni.kgate.test named
# too); client.{pem,key} for mTLS;
# and bad ones: expired.{pem,key}, wrong-host.{pem,key} (wrong.example),
# untrusted.{pem,key} (signed by other-ca), all for localhost/127.0.0.1
# except wrong-host.
set -euo pipefail

dir=${1:?usage: $0 DIR}
mkdir -p "$dir"
cd "$dir"
# Keys are for tests only, readable by the test processes.
umask 022

ossl() { openssl "$@" 2>/dev/null; }

ca() { # ca NAME CN
  ossl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 30 \
    -subj "/CN=$2" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
}

# leaf NAME ISSUER SAN [EXTRA-X509-ARGS...]: a server/client certificate.
leaf() {
  local name=$1 issuer=$2 san=$3
  shift 3
  ossl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=$name"
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n' \
    "$san" >"$name.ext"
  ossl x509 -req -in "$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" -CAcreateserial \
    -extfile "$name.ext" -out "$name.pem" "$@"
  rm -f "$name.csr" "$name.ext"
}

ca ca "kgate test CA"
ca other-ca "some other CA"
for i in 1 2 3; do
  leaf "broker-$i" ca "DNS:b-$i.msk.internal,DNS:*.msk.internal" -days 30
done
leaf gateway ca "DNS:nlb.kgate.test,DNS:localhost,IP:127.0.0.1" -days 30
leaf sni ca "DNS:*.sni.kgate.test,DNS:bootstrap.sni.kgate.test" -days 30
leaf client ca "DNS:client.kgate.test" -days 30
leaf wrong-host ca "DNS:wrong.example" -days 30
leaf untrusted other-ca "DNS:localhost,IP:127.0.0.1" -days 30

# Expired: openssl x509 cannot backdate, openssl ca can.
mkdir -p expired-ca
: >expired-ca/index.txt
cat >expired-ca/ca.cnf <<CNF
[ca]
default_ca = d
[d]
database = $PWD/expired-ca/index.txt
new_certs_dir = $PWD/expired-ca
serial = $PWD/expired-ca/serial
default_md = sha256
policy = p
copy_extensions = copy
[p]
commonName = supplied
CNF
echo 01 >expired-ca/serial
ossl req -newkey rsa:2048 -nodes -keyout expired.key -out expired.csr -subj "/CN=expired" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1"
ossl ca -batch -config expired-ca/ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr \
  -out expired.pem -startdate 20200101000000Z -enddate 20200102000000Z -notext
rm -rf expired.csr expired-ca ca.srl other-ca.srl

for f in ca other-ca broker-1 broker-2 broker-3 gateway sni client wrong-host untrusted expired; do
  [ -s "$f.pem" ] || { echo "gen-certs: $f.pem was not made" >&2; exit 1; }
done
