#!/usr/bin/env bash
# check_unit.sh — the systemd unit, checked by systemd itself (`make lint`):
# systemd-analyze verify (syntax, directives, the executables it names) and
# systemd-analyze security (its exposure score must stay at 2.0 or below).
# The unit names the installed kgate; the check points it at KGATE_BIN.
#
#   scripts/check_unit.sh KGATE_BIN
set -euo pipefail
bin=$(readlink -f "$1")
unit=$(dirname "$0")/systemd/kgate.service
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|/usr/local/bin/kgate|$bin|g" "$unit" >"$tmp/kgate.service"
systemd-analyze verify "$tmp/kgate.service"
score=$(systemd-analyze security --offline=yes "$tmp/kgate.service" | sed -n 's/.*exposure level for kgate.service: \([0-9.]*\).*/\1/p')
systemd-analyze security --offline=yes --threshold=20 "$tmp/kgate.service" >/dev/null ||
  { echo "check_unit: exposure $score is above 2.0" >&2; exit 1; }
echo "check_unit: kgate.service verifies; exposure $score (at most 2.0)"
