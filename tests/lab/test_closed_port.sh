#!/bin/bash
# A port the rules do not pass stays closed from outside: nginx listens on
# 8080 too, but no rule passes it, so the client's SYNs die silently at
# moat (policy drop), while port 80 works.
#
#   client --- router --- out0 [moat: policy drop] in0 --- server :80 :8080
. "$(dirname "$0")/lib.sh"
start_moat
[ "$(curl_rc http://198.18.1.10/)" = 0 ] || fail "port 80 should be open"
rc=$(curl_rc http://198.18.1.10:8080/ 2)
[ "$rc" = 28 ] || fail "port 8080: curl exit $rc, expected 28 (timeout: silently dropped)"
n=$(reason_count policy-drop)
[ "$n" -gt 0 ] || fail "no policy-drop counted"
note "8080 closed from outside (timeout), policy-drop $n"
echo "PASS"
