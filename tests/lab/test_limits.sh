#!/bin/bash
# Per-source limits with real connections: three slow downloads from the
# client hold three flows; the fourth connection is refused (max-src-conn),
# the client lands in the overload set, and while it is there even a new
# connection to another passed port (8080, no limit) is refused (overload).
#
#   client --- internet --- router --- out0 [moat: max-src-conn 3] in0 --- server
. "$(dirname "$0")/lib.sh"
conf=$STATE/limits.conf
{
	echo 'set abusers = { }'
	sed 's|^pass from outside to 198.18.1.10 tcp port 80 synproxy$|pass from outside to 198.18.1.10 tcp port 80 max-src-conn 3 overload @abusers expire 60\
pass from outside to 198.18.1.10 tcp port 8080|' "$CONF"
} >"$conf"
grep -q 'max-src-conn 3' "$conf" || fail "could not write the limit rule"
start_moat "$conf"
[ "$(curl_rc http://198.18.1.10:8080/ 2)" = 0 ] || fail "port 8080 closed before any limit"

pids=""
for i in 1 2 3; do
	lab exec client curl -s -o /dev/null --max-time 20 --limit-rate 200K \
		http://198.18.1.10/big.bin &
	pids="$pids $!"
done
sleep 2
rc=$(curl_rc http://198.18.1.10/ 2)
[ "$rc" != 0 ] || fail "a fourth connection got through max-src-conn 3"
n=$(reason_count max-src-conn)
[ "$n" -ge 1 ] || fail "no max-src-conn drop counted"
# The source is now overloaded: refused on 8080 too, which has no limit.
rc2=$(curl_rc http://198.18.1.10:8080/ 2)
[ "$rc2" != 0 ] || fail "an overloaded source still connected to port 8080"
o=$(reason_count overload)
[ "$o" -ge 1 ] || fail "no overload drop counted"
for p in $pids; do kill "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
note "4th connection refused (max-src-conn $n), then port 8080 too (overload $o)"
echo "PASS"
