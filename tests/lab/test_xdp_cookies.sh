#!/bin/bash
# The XDP fast path answers SYNs with cookies: with `syncookies on` the
# first SYN teaches moat the server's options, the engine answers the next
# with a cookie and so puts the destination in cookie mode, and from then
# on the XDP program on out0 builds the SYN-ACK itself (XDP_TX) while the
# engine validates the final ACK and proxies the rest.  The 10 MB file
# must arrive intact through cookies made in XDP, with the client's TCP
# timestamps on and off, and `moat ctl stats` must show XDP's cookies.
#
#   client --- router lan0 --- out0 [moat --xdp: XDP on out0 and in0,
#                    (XDP_PASS)        engine behind AF_PACKET] in0 --- eth0 server
#                                                                 (XDP_PASS)
. "$(dirname "$0")/lib.sh"
[ -f "$top/build/src/xdp/moat_xdp.bpf.o" ] ||
	fail "no XDP object in build/src/xdp (clang and libbpf-dev are build dependencies)"
xdp_peers_on || skip "this kernel cannot attach native XDP to a veth"
start_moat "$CONF" --xdp=on
grep -q "XDP fast path on out0 (native), in0 (native)" "$STATE/moat.err" ||
	fail "XDP not attached natively: $(cat "$STATE/moat.err")"
lab ctl syncookies on >/dev/null
# The probe (learns the server), then the engine's own cookie (which puts
# 198.18.1.10:80 into the XDP program's map).
lab exec client curl -s -o /dev/null --max-time 3 http://198.18.1.10/ || fail "GET / (probe)"
lab exec client curl -s -o /dev/null --max-time 3 http://198.18.1.10/ || fail "GET / (engine cookie)"
# The engine's decision reaches the program's map at moat's next tick
# (50 ms): wait for XDP's first cookie.
for i in $(seq 20); do
	[ "$(xdp_count cookies-sent)" -gt 0 ] && break
	sleep 0.1
	lab exec client curl -s -o /dev/null --max-time 3 http://198.18.1.10/ || fail "GET / (waiting for XDP)"
done
[ "$(xdp_count cookies-sent)" -gt 0 ] || fail "XDP never took over the destination"
before=$(xdp_count cookies-sent)
lab exec client sysctl -qw net.ipv4.tcp_timestamps=1
bigfile_ok || fail "10 MB file with timestamps through an XDP cookie: corrupted or cut"
with_ts=$(xdp_count cookies-sent)
[ "$with_ts" -gt "$before" ] || { lab ctl stats | sed "s/^/    /"; cat "$STATE/moat.err"; fail "XDP made no cookie for the fetch with timestamps"; }
lab exec client sysctl -qw net.ipv4.tcp_timestamps=0
bigfile_ok || fail "10 MB file without timestamps through an XDP cookie: corrupted or cut"
without_ts=$(xdp_count cookies-sent)
[ "$without_ts" -gt "$with_ts" ] || fail "XDP made no cookie for the fetch without timestamps"
lab exec client sysctl -qw net.ipv4.tcp_timestamps=1
# XDP's cookies count under the engine's reason too, and none went bad.
total=$(reason_count syn-cookie-sent)
[ "$total" -ge "$without_ts" ] || fail "syn-cookie-sent $total < XDP's $without_ts"
bad=$(reason_count syn-cookie-bad)
[ "$bad" = 0 ] || fail "syn-cookie-bad $bad: the engine refused cookies"
note "10 MB intact with and without timestamps; XDP cookies $without_ts, syn-cookie-sent $total"
# On AF_XDP the program hands the rest to moat's sockets itself.
if [ "$MOAT_IO" = xdp ]; then
	[ "$(xdp_count redirected)" -gt 0 ] ||
		fail "AF_XDP ports but XDP redirected nothing to them"
fi
note "$(lab ctl stats | grep '^xdp')"
echo "PASS"
