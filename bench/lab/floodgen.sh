#!/bin/bash
# Flood generators side by side: trafgen (sendto, one core) against
# bench/lab/synflood (XDP, BPF_PROG_TEST_RUN live frames), the same
# spoofed SYN (54 bytes, sources from 198.18.128.0/17), both pinned to
# CPU 0, in one lab (scripts/lab), ROUNDS rounds (default 3) alternating,
# SECS seconds each (default 5).  Two sinks:
#   veth  into the attacker's veth: its peer a0 drops every frame in XDP
#         (xdp_peer.bpf.o, xdp.drop), the earliest point a frame can be
#         counted; what the generator itself can do.
#   out0  through the lab (a0 with XDP_PASS, the internet bridge, the
#         router) to the gateway's out0, nothing attached there (the
#         router has the server's MAC statically): what a flood of the
#         lab delivers to moat.
# The rate is frames counted at the sink (a0 or out0 rx_packets) over
# the generator's wall time.  Prints one line per run and the medians.
# usage: sudo bench/lab/floodgen.sh   (root; run under /tmp/moat-lab.lock)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
export MOAT_LAB="fg$$" LAB_QUIET=1
ROUNDS=${ROUNDS:-3} SECS=${SECS:-5}
SYNFLOOD=${LAB_SYNFLOOD:-$top/build/bench/lab/synflood}
PEER=$(dirname "$SYNFLOOD")/xdp_peer.bpf.o
[ -x "$SYNFLOOD" ] || { echo "no $SYNFLOOD (ninja -C build)"; exit 1; }
L() { "$top/scripts/lab" "$@"; }
trap 'L down >/dev/null 2>&1 || true' EXIT
L up >/dev/null
NS=mt$MOAT_LAB
nsx() { local r=$1; shift; ip netns exec "$NS-$r" "$@"; }
rx() { nsx "$1" cat "/sys/class/net/$2/statistics/rx_packets"; }
rmac=$(ip -n "$NS-router" -o link show eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
amac=$(ip -n "$NS-attacker" -o link show eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
cat >"/tmp/moat-lab-$MOAT_LAB/fg.trafgen" <<EOT
{
  eth(da=$rmac, sa=$amac),
  ipv4(sa=198.18.128.0, sa[2]=drnd(128,255), sa[3]=drnd(), da=198.18.1.10, ttl=64, df),
  tcp(sp=drnd(1024,65535), dp=80, seq=drnd(), syn, win=64240)
}
EOT
count=$((SECS * 3000000))
# The router knows the server's MAC without asking (nothing bridges out0
# to the server here, so no ARP would be answered).
smac=$(ip -n "$NS-server" -o link show eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
ip -n "$NS-router" neigh replace 198.18.1.10 lladdr "$smac" dev lan0 nud permanent

# run GEN: the generator for SECS seconds; prints its wall time in ns.
run() {
	local t0 t1
	t0=$(date +%s%N)
	case $1 in
	trafgen)
		nsx attacker timeout -k 2 "$SECS" trafgen -t 0 -o eth0 \
			-i "/tmp/moat-lab-$MOAT_LAB/fg.trafgen" -n "$count" --cpus 1 -C -Q \
			>/dev/null 2>&1 || true ;;
	xdp)
		nsx attacker timeout -k 2 $((SECS + 2)) taskset -c 0 "$SYNFLOOD" -i eth0 \
			--dst-mac "$rmac" --dst 198.18.1.10 -n "$count" -t "$SECS" >/dev/null ;;
	esac
	t1=$(date +%s%N)
	echo $((t1 - t0))
}

declare -A got
for sink in veth out0; do
	sec=xdp.drop
	[ "$sink" = veth ] || sec=xdp
	ip -n "$NS-inet" link set dev a0 xdpdrv obj "$PEER" sec "$sec"
	for r in $(seq "$ROUNDS"); do
		for gen in trafgen xdp; do
			if [ "$sink" = veth ]; then ns=inet dev=a0; else ns=moat dev=out0; fi
			b=$(rx $ns $dev)
			ns_t=$(run $gen)
			a=$(rx $ns $dev)
			pps=$(awk -v n=$((a - b)) -v t="$ns_t" 'BEGIN { printf "%.0f", n * 1e9 / t }')
			echo "run $r sink $sink $gen: $((a - b)) frames in $(awk -v t="$ns_t" 'BEGIN { printf "%.2f", t / 1e9 }') s = $pps pps"
			got[$sink.$gen]="${got[$sink.$gen]:-} $pps"
		done
	done
	ip -n "$NS-inet" link set dev a0 xdpdrv off
done
med() { echo "$@" | tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "| sink | trafgen, pps (runs) | XDP synflood, pps (runs) | XDP / trafgen |"
echo "|---|---|---|---|"
for sink in veth out0; do
	t=$(med ${got[$sink.trafgen]}) x=$(med ${got[$sink.xdp]})
	echo "| $sink | $t ($(echo ${got[$sink.trafgen]} | tr ' ' '/')) | $x ($(echo ${got[$sink.xdp]} | tr ' ' '/')) | $(awk -v a="$x" -v b="$t" 'BEGIN { printf "%.2fx", a / b }') |"
done
