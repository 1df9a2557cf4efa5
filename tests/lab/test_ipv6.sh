#!/bin/bash
# IPv6 through moat: curl to nginx at 2001:db8:1::10 with the SYN proxy
# forced off (moat tracks the server's own handshake) and on (moat answers
# with cookies, then splices); then a spoofed SYN flood from
# 2001:db8:8000::/33 (random sources, ports, ISNs) under `syncookies auto`
# while the client makes 200 IPv6 connections: at least 99 % succeed
# within 1 s, and moat answered the flood with cookies.
#
#   client 2001:db8:100::10 ---+
#   attacker (trafgen, v6) ----+- internet - router - out0 [moat] in0 - server
#   sink <- SYN-ACKs to 2001:db8:8000::/33
. "$(dirname "$0")/lib.sh"
# The flood at trafgen's rate, as test_synflood's (which says why).
export LAB_FLOODGEN=${LAB_FLOODGEN:-trafgen}
start_moat

page6() {
	local page
	page=$(lab exec client curl -6 -g -s --max-time 3 "http://[$SERVER6]/") ||
		fail "$1: GET / over IPv6 failed"
	case $page in *"hello from"*) ;; *) fail "$1: unexpected page: $page" ;; esac
	bigfile6_ok || fail "$1: 10 MB file over IPv6 corrupted or cut"
}

# The lab's v4 rules are untouched by the v6 ones.
[ "$(curl_rc http://198.18.1.10/)" = 0 ] || fail "IPv4 port 80 closed"

lab ctl syncookies off >/dev/null
c0=$(reason_count syn-cookie-sent)
page6 "syncookies off"
c1=$(reason_count syn-cookie-sent)
[ "$c1" = "$c0" ] || fail "syncookies off sent $((c1 - c0)) cookies"
note "syncookies off: GET / and the 10 MB file over IPv6, no cookie"

lab ctl syncookies on >/dev/null
page6 "syncookies on"
c2=$(reason_count syn-cookie-sent)
[ "$c2" -ge $((c1 + 2)) ] || fail "syncookies on: $((c2 - c1)) cookies for 2 connections"
note "syncookies on: GET / and the 10 MB file over IPv6, $((c2 - c1)) cookies"

# Closed ports and the reject rule hold for IPv6 as for IPv4.
[ "$(curl6_rc "http://[$SERVER6]:8080/" 1)" != 0 ] || fail "IPv6 port 8080 open from outside"
[ "$(curl6_rc "http://[$SERVER6]:113/" 2)" = 7 ] || fail "IPv6 port 113 not refused by RST"
note "IPv6 8080 closed, 113 refused"

lab restart-server
lab ctl syncookies auto >/dev/null
FLOOD_SECS=${FLOOD_SECS:-10} flood6_and_probe "moat auto, IPv6 flood"
probes_ok || { lab ctl stats | sed 's/^/    /'; fail "IPv6 flood: $PROBE_OK/$PROBE_N"; }
c3=$(reason_count syn-cookie-sent)
lab ctl stats | awk '$1 == "reason" { printf "    %s %s\n", $2, $3 }'
[ "$((c3 - c2))" -ge 1000 ] || fail "only $((c3 - c2)) cookies answered the IPv6 flood"
grep -q '"mode":"cookies"' "$STATE/events.jsonl" ||
	fail "no switch to cookies in the event log"
note "IPv6 flood at $FLOOD_PPS pps: $((c3 - c2)) cookies, $PROBE_OK/$PROBE_N honest"
echo "PASS"
