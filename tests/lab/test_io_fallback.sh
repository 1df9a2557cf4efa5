#!/bin/bash
# The I/O backend's choice when AF_XDP cannot attach: on two empty
# bridge devices (no native XDP in their driver), `--io xdp` must refuse to
# start with a clear reason, and `--io auto` must start on AF_PACKET and
# say in one line why.  Then, on the lab's veths (native XDP), auto must
# pick AF_XDP.  Every run names --io itself: MOAT_IO changes nothing here.
#
#   [ns moat: d0 (bridge)  moat  d1 (bridge)]      then      out0 [moat] in0
. "$(dirname "$0")/lib.sh"
conf=$STATE/bridges.conf
cat >"$conf" <<CONF
zone outside { interface d0; default }
zone inside  { interface d1; networks 198.18.1.8/29 }
options { policy drop }
pass from inside
CONF
for d in d0 d1; do
	lab exec moat ip link add "$d" type bridge
	lab exec moat ip link set "$d" up
done

# Forced: no start, and the reason names the interface and the driver.
if lab run-moat "$conf" --io xdp 2>/dev/null; then
	lab stop-moat >/dev/null
	fail "--io xdp started on bridge devices"
fi
err=$(cat "$STATE/moat.err")
note "--io xdp: $err"
case $err in
*"AF_XDP cannot run"*d0*"no native XDP"*) ;;
*"the kernel has no AF_XDP"*) skip "this kernel has no AF_XDP: $err" ;;
*) fail "unclear error for --io xdp: $err" ;;
esac

# Auto: runs on AF_PACKET, one line says why.
lab run-moat "$conf" --io auto || fail "--io auto did not start"
line=$(grep 'using AF_PACKET' "$STATE/moat.err" || true)
[ -n "$line" ] || { cat "$STATE/moat.err"; fail "no fallback message"; }
[ "$(printf '%s\n' "$line" | wc -l)" = 1 ] || fail "more than one fallback line"
note "--io auto: $line"
mode=$(lab ctl stats | awk '$1 == "port" && $2 == "d0" { print $NF }')
[ "$mode" = afpacket-v2 ] || fail "auto on bridges runs '$mode', not afpacket-v2"
lab stop-moat >/dev/null

# Auto where XDP attaches: AF_XDP, and no fallback line.
lab run-moat "$CONF" --io auto || fail "--io auto did not start on the veths"
mode=$(lab ctl stats | awk '$1 == "port" && $2 == "out0" { print $NF }')
grep -q 'using AF_PACKET' "$STATE/moat.err" && fail "auto fell back on veths: $(cat "$STATE/moat.err")"
case $mode in xdp-*) ;; *) fail "auto on veths runs '$mode', not AF_XDP" ;; esac
[ "$(curl_rc http://198.18.1.10/ 3)" = 0 ] || fail "no HTTP through auto's AF_XDP"
note "--io auto on the lab's veths: $mode"
echo "PASS"
