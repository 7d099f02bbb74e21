#!/bin/bash
# healthcheck.sh — the image's HEALTHCHECK (installed as kgate-healthcheck):
# GET a path on kgate's admin endpoint with nothing but bash, since the
# runtime image carries no HTTP client.  Exit 0 on "200", 1 otherwise.
#
#   kgate-healthcheck [PATH]     PATH defaults to /healthz
#   KGATE_ADMIN=host:port        the admin endpoint (default 127.0.0.1:9644)
set -u
addr=${KGATE_ADMIN:-127.0.0.1:9644}
path=${1:-/healthz}
host=${addr%:*}
port=${addr##*:}
host=${host#[}
host=${host%]}

if ! exec 3<>"/dev/tcp/$host/$port"; then
  echo "kgate-healthcheck: nothing answers on $addr (admin.listen)" >&2
  exit 1
fi
printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$addr" >&3
status=
IFS= read -r -t 5 status <&3
exec 3<&-
case $status in
  "HTTP/1."?" 200 "*) exit 0 ;;
esac
echo "kgate-healthcheck: GET $addr$path: ${status%$'\r'}" >&2
exit 1
