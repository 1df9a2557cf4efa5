#!/bin/bash
# When the XDP program cannot attach (here: out0 already runs another XDP
# program), `--xdp=on` refuses to start with a clear message and
# `--xdp=auto` says why and bridges without it, as before.  With the AF_XDP
# backend forced (MOAT_IO=xdp), the ports cannot attach beside that
# program either: moat refuses, naming it; `--io auto` then falls back to
# AF_PACKET and says so.
#
#   client --- router lan0 --- out0 (someone's XDP program) [moat] in0 --- server
. "$(dirname "$0")/lib.sh"
obj=$top/build/src/xdp/moat_xdp_pass.bpf.o
[ -f "$obj" ] || fail "no $obj (build with clang and libbpf-dev)"
lab exec moat ip link set dev out0 xdpdrv obj "$obj" sec xdp ||
	skip "this kernel cannot attach native XDP to a veth"
if lab run-moat "$CONF" --xdp=on 2>/dev/null; then
	fail "--xdp=on started although out0 runs another XDP program"
fi
grep -q "out0 already runs an XDP program" "$STATE/moat.err" ||
	fail "no clear message: $(cat "$STATE/moat.err")"
note "on: $(grep XDP "$STATE/moat.err")"
if [ "$MOAT_IO" = xdp ]; then
	if lab run-moat "$CONF" --xdp=auto 2>/dev/null; then
		fail "--io xdp started although out0 runs another XDP program"
	fi
	grep -q "AF_XDP cannot run: out0: XDP program: another XDP program is attached" \
		"$STATE/moat.err" || fail "no clear message: $(cat "$STATE/moat.err")"
	note "io xdp: $(grep 'AF_XDP cannot' "$STATE/moat.err")"
	start_moat "$CONF" --xdp=auto --io auto
	grep -q "using AF_PACKET" "$STATE/moat.err" ||
		fail "io auto did not fall back to AF_PACKET: $(cat "$STATE/moat.err")"
else
	start_moat "$CONF" --xdp=auto
fi
grep -q "going on without the XDP fast path" "$STATE/moat.err" ||
	fail "auto did not say it goes on without XDP: $(cat "$STATE/moat.err")"
note "auto: $(grep XDP "$STATE/moat.err")"
[ "$(curl_rc http://198.18.1.10/)" = 0 ] || fail "no HTTP through moat without XDP"
# The other program is still there, untouched.
lab exec moat ip link show dev out0 | grep -q xdp || fail "out0's XDP program is gone"
echo "PASS"
