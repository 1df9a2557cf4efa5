#!/bin/bash
# A packet from outside with an inside source address (198.18.1.11) is
# dropped and counted as spoof-zone (BCP 38 ingress filtering at moat).
#
#   attacker (-a 198.18.1.11) --- router --- out0 [moat] in0 --- server
. "$(dirname "$0")/lib.sh"
command -v hping3 >/dev/null || fail "hping3 missing (scripts/bootstrap)"
start_moat
lab exec attacker timeout 10 hping3 -q -S -p 80 -a 198.18.1.11 -c 5 \
	-i u20000 198.18.1.10 >/dev/null 2>&1 || true
n=$(reason_count spoof-zone)
[ "$n" -ge 5 ] || fail "spoof-zone $n, expected >= 5"
note "5 SYNs from outside claiming 198.18.1.11: spoof-zone $n"
echo "PASS"
