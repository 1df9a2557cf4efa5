#!/bin/bash
# The SYN flood against moat with the XDP fast path: spoofed SYNs at the
# attacker's highest rate for 10 s while the client makes 200 connections,
# `syncookies auto`.  The engine switches the server to cookies, the XDP
# program takes over answering (XDP_TX from out0's driver) and feeds its
# SYN counts back, so the destination stays in cookie mode for the whole
# flood: at least 99 % of the honest connections succeed within 1 s, and
# most of the flood's SYN-ACKs come from XDP.
#
#   attacker (trafgen) --+
#   client (curl x200) --+- internet - router lan0 - out0 [moat --xdp] in0 - server
#   sink <- SYN-ACKs ----+              (XDP_PASS)                  (XDP_PASS)
. "$(dirname "$0")/lib.sh"
xdp_peers_on || skip "this kernel cannot attach native XDP to a veth"
start_moat "$CONF" --xdp=on
# Teach moat the server first (its options), as any client would.
lab exec client curl -s -o /dev/null --max-time 3 http://198.18.1.10/ || fail "GET /"
flood_and_probe "moat --xdp auto"
xdp=$(xdp_count cookies-sent)
eng=$(reason_count syn-cookie-sent)
shed=$(reason_count syn-shed)
note "$(lab ctl stats | grep '^xdp')"
note "syn-cookie-sent $eng (XDP's included), syn-shed $shed"
probes_ok || { lab ctl stats | sed 's/^/    /'; fail "xdp auto: $PROBE_OK/$PROBE_N"; }
grep -q '"mode":"cookies"' "$STATE/events.jsonl" || fail "no switch to cookies"
[ $((xdp * 2)) -gt "$eng" ] || fail "XDP answered $xdp of $eng cookie SYN-ACKs"
# No switch back while the flood lasted (the fed-back counts held it).
n=$(grep -c '"mode":"state"' "$STATE/events.jsonl" || true)
[ "$n" = 0 ] || fail "switched back to state mode $n times during the flood"
echo "PASS"
