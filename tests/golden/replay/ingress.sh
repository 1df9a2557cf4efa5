#!/bin/sh
# A classic pcap has no interfaces: the ingress zone is read off the source
# address, so two SYNs from the server's LAN (198.18.1.20) that really
# arrived from outside pass, and replay says antispoof could not fire.
# --ingress ZONE and --ingress MAC=ZONE give the zone the live gateway
# would have known; both drop them as spoof-zone.  Unknown zones and
# malformed MACs are refused.
# usage: ingress.sh MOAT
set -eu
moat=$1
here=$(cd "$(dirname "$0")" && pwd)
conf=$here/../../replay/spoof.conf
cap=$here/ingress.pcap
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$moat" replay -c "$conf" --trace "$cap" >"$tmp/out" 2>"$tmp/err"
grep -q '^1	pass' "$tmp/out" || fail "guessed zone: packet 1 should pass"
grep -q 'antispoof could not fire' "$tmp/err" || fail "no note about guessed zones"

for arg in outside 02:00:00:00:64:0a=outside; do
	"$moat" replay -c "$conf" --trace --ingress "$arg" "$cap" \
		>"$tmp/out" 2>"$tmp/err"
	[ "$(grep -c '	drop	spoof-zone$' "$tmp/out")" = 2 ] ||
		fail "--ingress $arg: expected spoof-zone twice"
	! grep -q 'could not fire' "$tmp/err" || fail "--ingress $arg: note given"
done
# A MAC that matches nothing falls back to the source address.
"$moat" replay -c "$conf" --trace --ingress 02:00:00:00:00:99=outside "$cap" \
	>"$tmp/out" 2>/dev/null
grep -q '^1	pass' "$tmp/out" || fail "unmatched MAC changed the zone"

rc=0
"$moat" replay -c "$conf" --ingress nosuch "$cap" >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" != 0 ] && grep -q 'no zone nosuch' "$tmp/err" || fail "unknown zone accepted"
rc=0
"$moat" replay -c "$conf" --ingress 02:00:00=outside "$cap" >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 2 ] && grep -q 'expected ZONE or MAC=ZONE' "$tmp/err" || fail "bad MAC accepted"
echo "ok: --ingress"
