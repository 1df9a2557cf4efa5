#!/bin/bash
# `reject` answers with a RST: the client's connect to port 113 is refused
# at once (curl exit 7), nothing listens there and the server never sees it.
#
#   client --- router --- out0 [moat: reject tcp 113 -> RST] in0 --- server
. "$(dirname "$0")/lib.sh"
start_moat
t0=$(date +%s%N)
rc=$(curl_rc http://198.18.1.10:113/ 3)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$rc" = 7 ] || fail "port 113: curl exit $rc, expected 7 (refused by RST)"
[ "$ms" -lt 1000 ] || fail "refusal took $ms ms"
n=$(reason_count rule-reject)
[ "$n" -gt 0 ] || fail "no rule-reject counted"
note "port 113 refused in $ms ms; rule-reject $n"
echo "PASS"
