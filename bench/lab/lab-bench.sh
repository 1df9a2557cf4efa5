#!/bin/bash
# The lab benchmarks: one lab (scripts/lab), the systems of lib.sh one
# after another, raw figures appended to RAW (tab separated: section,
# system, parameter, run, metric, value) and the honest clients' per
# connection records under DIR/probe/.  Torn down on exit and failure.
#
#   bench/lab/lab-bench.sh DIR RUNS QUICK(0|1) [SECTIONS...]
#   sections: forward synflood clients newflows (default: all)
#
# Every flood is bounded by count and by time (trafgen -n, timeout).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
DIR=$1
RUNS=$2
QUICK=$3
shift 3
SECTIONS=${*:-forward synflood clients newflows}
RAW=$DIR/raw.tsv
export MOAT_LAB="bench$$" LAB_QUIET=1
: "${MOAT_BIN:=$top/build-bench/src/cli/moat}"
export MOAT_BIN
. "$here/lib.sh"

if [ "$QUICK" = 1 ]; then
	IPERF_SECS=3 FLOOD_SECS=2 RATES="50000 0" WAIT_BUDGET=45
	CL_FLOOD=6 CL_N=200 CL_SPREAD=4 UN_N=200 UN_SPREAD=3
	NF_E=60000 NF_FILL=262144
else
	IPERF_SECS=5 FLOOD_SECS=4 RATES="50000 100000 200000 0" WAIT_BUDGET=240
	CL_FLOOD=10 CL_N=200 CL_SPREAD=8 UN_N=200 UN_SPREAD=4
	NF_E=150000 NF_FILL=262144
fi
say() { echo "bench: $*" >&2; }
WAITED=0

[ "$(id -u)" = 0 ] || { say "the lab needs root"; exit 1; }
[ -x "$MOAT_BIN" ] || { say "no moat at $MOAT_BIN"; exit 1; }
trap 'L down >/dev/null 2>&1 || true' EXIT
trap 'exit 1' INT TERM HUP
L up >/dev/null
STATE=$(L state)
steer
echo 'table netdev bench { chain in { type filter hook ingress device eth0 priority 0; tcp dport 5202 drop; }; }' |
	nsx server nft -f -
mkdir -p "$DIR/probe"

# measure_begin / measure_end SECTION SYSTEM PARAMETER RUN: the gateway
# core's busy ticks, wall time, the counters of out0, in0 and the router's
# lan0 around one measurement; measure_end records the background busy
# fraction measured by measure_begin just before.
measure_begin() {
	# Other work on the gateway core (a shared machine: other people's
	# builds and lab tests) would count as the gateway's: wait a little
	# (at most 15 s each time, 240 s in the whole run, 45 s with --quick) for a quiet core and
	# no other flood (another lab's trafgen), and record what it was.
	local tries=0
	M_BG=$(background_busy 1)
	while { awk -v b="$M_BG" 'BEGIN { exit !(b > 0.15) }' || pgrep -x trafgen >/dev/null; } &&
		[ $tries -lt 5 ] && [ "$WAITED" -lt "$WAIT_BUDGET" ]; do
		sleep 2
		M_BG=$(background_busy 1)
		tries=$((tries + 1))
		WAITED=$((WAITED + 3))
	done
	read -r M_W0 M_I0 M_P0 < <(gw_sample)
	M_RX0=$(stat_of moat out0 rx_packets)
	M_TX0=$(stat_of moat out0 tx_packets)
	M_IN0=$(stat_of moat in0 tx_packets)
	M_LAN0=$(($(stat_of router lan0 tx_packets) + $(stat_of router lan0 tx_dropped)))
}
measure_end() {
	local i1 p1 w1 rx tx inn
	read -r w1 i1 p1 < <(gw_sample)
	rx=$(($(stat_of moat out0 rx_packets) - M_RX0))
	tx=$(($(stat_of moat out0 tx_packets) - M_TX0))
	inn=$(($(stat_of moat in0 tx_packets) - M_IN0))
	M_SECS=$(awk -v a="$M_W0" -v b="$w1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	# Busy ticks of the gateway core: wall time less idle and iowait.
	M_TICKS=$(awk -v w="$((w1 - M_W0))" -v i="$((i1 - M_I0))" -v h="$HZ" 'BEGIN { b = w / 1e9 * h - i; printf "%.1f", b < 0 ? 0 : b }')
	M_PTICKS=$((p1 - M_P0))
	M_RX=$rx M_TX=$tx M_IN=$inn
	# What the router tried to hand the gateway (veth counts a frame the
	# gateway's receive backlog refused as the sender's tx_dropped).
	M_LAN=$(($(stat_of router lan0 tx_packets) + $(stat_of router lan0 tx_dropped) - M_LAN0))
	emit "$@" bg_busy "$M_BG"
}

forward() {
	local sys r out bps
	for sys in bridge routed nft-stateful moat; do
		for r in $(seq "$RUNS"); do
			say "forward $sys run $r/$RUNS"
			sys_set "$sys"
			nsx server taskset -c 0 iperf3 -s -1 -B $SERVER -D -I "$STATE/iperf.pid" >/dev/null
			sleep 0.3
			measure_begin
			out=$(nsx client timeout $((IPERF_SECS + 10)) taskset -c 0 \
				iperf3 -c $SERVER -t "$IPERF_SECS" -f m 2>&1) || true
			measure_end forward "$sys" - "$r"
			[ ! -s "$STATE/iperf.pid" ] || kill "$(cat "$STATE/iperf.pid")" 2>/dev/null || true
			bps=$(echo "$out" | awk '/receiver/ { print $7 }')
			emit forward "$sys" - "$r" mbits "${bps:-0}"
			emit forward "$sys" - "$r" gw_busy "$(awk -v t="$M_TICKS" -v s="$M_SECS" -v h="$HZ" 'BEGIN { printf "%.3f", t / h / s }')"
			emit forward "$sys" - "$r" mbits_per_core "$(awk -v b="${bps:-0}" -v t="$M_TICKS" -v s="$M_SECS" -v h="$HZ" 'BEGIN { u = t / h / s; printf "%.0f", (u > 0 ? b / u : 0) }')"
			emit forward "$sys" - "$r" frames "$((M_RX + M_IN))"
			emit forward "$sys" - "$r" us_per_frame "$(awk -v t="$M_TICKS" -v h="$HZ" -v n="$((M_RX + M_IN))" 'BEGIN { printf "%.3f", n ? t / h * 1e6 / n : 0 }')"
		done
	done
}

synflood() {
	local sys rate r
	for sys in nft-synproxy kernel-sc1 kernel-sc2 moat-on moat-auto; do
		sys_set "$sys"
		for rate in $RATES; do
			for r in $(seq "$RUNS"); do
				say "synflood $sys ${rate}pps run $r/$RUNS"
				measure_begin
				L flood "$FLOOD_SECS" "$rate" >/dev/null
				measure_end synflood "$sys" "$rate" "$r"
				emit synflood "$sys" "$rate" "$r" offered_pps "$(awk -v n="$M_RX" -v s="$M_SECS" 'BEGIN { printf "%.0f", n / s }')"
				emit synflood "$sys" "$rate" "$r" synack_pps "$(awk -v n="$M_TX" -v s="$M_SECS" 'BEGIN { printf "%.0f", n / s }')"
				emit synflood "$sys" "$rate" "$r" gw_busy "$(awk -v t="$M_TICKS" -v s="$M_SECS" -v h="$HZ" 'BEGIN { printf "%.3f", t / h / s }')"
				emit synflood "$sys" "$rate" "$r" us_per_syn "$(awk -v t="$M_TICKS" -v h="$HZ" -v n="$M_RX" 'BEGIN { printf "%.3f", n ? t / h * 1e6 / n : 0 }')"
				emit synflood "$sys" "$rate" "$r" sent_pps "$(awk -v n="$M_LAN" -v s="$M_SECS" 'BEGIN { printf "%.0f", n / s }')"
				emit synflood "$sys" "$rate" "$r" proc_us_per_syn "$(awk -v t="$M_PTICKS" -v h="$HZ" -v n="$M_RX" 'BEGIN { printf "%.3f", n ? t / h * 1e6 / n : 0 }')"
				emit synflood "$sys" "$rate" "$r" synack_per_core_s "$(awk -v t="$M_TICKS" -v h="$HZ" -v n="$M_TX" 'BEGIN { printf "%.0f", t ? n / (t / h) : 0 }')"
			done
		done
	done
}

clients() {
	local sys r fp t0 f st
	for sys in unprotected nft-synproxy moat-auto; do
		for r in $(seq "$RUNS"); do
			say "clients $sys run $r/$RUNS"
			sys_set "$sys"
			f=$DIR/probe/$sys-$r-unloaded.txt
			probe_ts "$UN_N" "$UN_SPREAD" "$f" "$(now_ns)"
			read -r ok p50 p99 < <(probe_stats "$f")
			emit clients "$sys" unloaded "$r" ok_pct "$ok"
			emit clients "$sys" unloaded "$r" p50_ms "$p50"
			emit clients "$sys" unloaded "$r" p99_ms "$p99"
			sleep 1
			measure_begin
			t0=$(now_ns)
			L flood "$CL_FLOOD" 0 >"$STATE/flood.out" &
			fp=$!
			sleep 1
			f=$DIR/probe/$sys-$r-flood.txt
			probe_ts "$CL_N" "$CL_SPREAD" "$f" "$t0"
			wait "$fp" || true
			measure_end clients "$sys" flood "$r"
			read -r ok p50 p99 < <(probe_stats "$f")
			emit clients "$sys" flood "$r" ok_pct "$ok"
			emit clients "$sys" flood "$r" p50_ms "$p50"
			emit clients "$sys" flood "$r" p99_ms "$p99"
			emit clients "$sys" flood "$r" offered_pps "$(awk -v n="$M_RX" -v s="$M_SECS" 'BEGIN { printf "%.0f", n / s }')"
			emit clients "$sys" flood "$r" n "$(wc -l <"$f")"
		done
	done
}

# trafgen_syns COUNT: spoofed SYNs to the server's port 5202, as fast as
# the attacker goes, bounded by count and by time.
trafgen_syns() {
	local rmac amac
	rmac=$(ip -n "$NS-router" -o link show eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	amac=$(ip -n "$NS-attacker" -o link show eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	cat >"$STATE/nf.trafgen" <<EOT
{
  eth(da=$rmac, sa=$amac),
  ipv4(sa=198.18.128.0, sa[2]=drnd(128,255), sa[3]=drnd(), da=$SERVER, ttl=64, df),
  tcp(sp=drnd(1024,65535), dp=5202, seq=drnd(), syn, win=64240)
}
EOT
	nsx attacker timeout -k 2 30 trafgen -t 0 -o eth0 -i "$STATE/nf.trafgen" \
		-n "$1" --cpus 1 -C -Q >/dev/null 2>&1 || true
}

table_size() {
	if [ -n "$GWPID" ]; then
		L ctl stats | awk '$1 == "flows" { print $2; exit }'
	else
		nsx moat conntrack -C 2>/dev/null || echo "?"
	fi
}

newflows_one() {  # SYS RUN PHASE
	local n
	measure_begin
	trafgen_syns "$NF_E"
	sleep 0.2
	measure_end newflows "$1" "$3" "$2"
	emit newflows "$1" "$3" "$2" offered "$M_RX"
	emit newflows "$1" "$3" "$2" forwarded "$M_IN"
	emit newflows "$1" "$3" "$2" gw_busy "$(awk -v t="$M_TICKS" -v s="$M_SECS" -v h="$HZ" 'BEGIN { printf "%.3f", t / h / s }')"
	emit newflows "$1" "$3" "$2" flows_per_s "$(awk -v n="$M_IN" -v s="$M_SECS" 'BEGIN { printf "%.0f", n / s }')"
	emit newflows "$1" "$3" "$2" us_per_flow "$(awk -v t="$M_TICKS" -v h="$HZ" -v n="$M_RX" 'BEGIN { printf "%.3f", n ? t / h * 1e6 / n : 0 }')"
	emit newflows "$1" "$3" "$2" sent "$M_LAN"
	emit newflows "$1" "$3" "$2" flows_per_core_s "$(awk -v t="$M_TICKS" -v h="$HZ" -v n="$M_IN" 'BEGIN { printf "%.0f", t ? n / (t / h) : 0 }')"
	n=$(table_size)
	emit newflows "$1" "$3" "$2" table_after "${n:-?}"
}

newflows() {
	local sys r
	for sys in nft-stateful moat; do
		for r in $(seq "$RUNS"); do
			say "newflows $sys run $r/$RUNS"
			sys_set "$sys"
			emit newflows "$sys" empty "$r" table_before "$(table_size)"
			newflows_one "$sys" "$r" empty
			trafgen_syns "$NF_FILL"
			sleep 0.5
			emit newflows "$sys" full "$r" table_before "$(table_size)"
			newflows_one "$sys" "$r" full
		done
	done
}

for s in $SECTIONS; do "$s"; done
sys_clear >/dev/null 2>&1 || true
