#!/bin/bash
# Idle latency through the gateway, side by side in one lab and one run:
# the kernel bridge, moat on AF_XDP (--io xdp) and moat on AF_PACKET
# (--io afpacket), each RUNS times, interleaved (run 1 of every system,
# then run 2...), so drift on a shared machine touches all alike.
#
#   sudo bench/lab/latency.sh [RUNS]      (default 3; about 2 minutes)
#
# Per system and run:
# - connect time: N_PROBE (300) honest connections from the client spread
#   over 6 s, curl's time_connect as `scripts/lab probe` makes them (no
#   load otherwise): p50 and p99;
# - closed loop: `ab -c 1 -n 5000` (apache2-utils) from the client, one
#   request after another, each on a new connection: requests per second.
# The medians over the runs (and min-max) go to a dated block at the top of
# "## Idle latency" in bench/RESULTS.md, with the machine and the command.
# moat runs with bench/lab/moat.conf, pinned to the gateway core, receive
# steering as in bench/lab/lib.sh.  For AF_XDP the veth peers get an
# XDP_PASS program (scripts/lab xdp-peers), taken off for the others.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
RUNS=${1:-3}
N_PROBE=${N_PROBE:-300}
N_AB=${N_AB:-5000}
export MOAT_LAB="lat$$" LAB_QUIET=1
: "${MOAT_BIN:=$top/build-bench/src/cli/moat}"
export MOAT_BIN
. "$here/lib.sh"
say() { echo "bench: $*" >&2; }
SYSTEMS_SET=${SYSTEMS:+1}
SYSTEMS=${SYSTEMS:-bridge moat-xdp moat-afpacket}

[ "$(id -u)" = 0 ] || { say "the lab needs root"; exit 1; }
command -v ab >/dev/null || { say "no ab (apt-get install apache2-utils)"; exit 1; }
if [ ! -x "$MOAT_BIN" ]; then
	say "building moat (release) in $top/build-bench"
	[ -d "$top/build-bench" ] || meson setup "$top/build-bench" -Dbuildtype=release >/dev/null
	ninja -C "$top/build-bench" src/cli/moat >/dev/null
fi
DIR=$(mktemp -d /tmp/moat-latency.XXXXXX)
trap 'L down >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
trap 'exit 1' INT TERM HUP
start=$(date -u '+%Y-%m-%d %H:%M UTC')
load0=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date +%s)
# Everything this starts (the lab's nginx, curl, ab) on CPU 0, with the
# router and the rest of the lab; moat pins itself to the gateway core
# (scripts/lab run-moat), which is then the gateway's alone, as on a
# machine of its own (bench/README.md).
taskset -cp 0 $$ >/dev/null
L up >/dev/null
steer

# set_system SYSTEM: one of SYSTEMS between out0 and in0.
set_system() {
	case $1 in
	bridge) L xdp-peers off; MOAT_IO=afpacket sys_set bridge ;;
	moat-xdp) MOAT_IO=xdp sys_set moat ;;
	moat-xdp-nopeer) MOAT_IO=xdp sys_set moat; L xdp-peers off ;;
	moat-xdp-nospin) MOAT_IO=xdp sys_set moat
		MOAT_IO=xdp L run-moat "$here/moat.conf" --spin-us 0 ;;
	moat-afpacket-nospin) L xdp-peers off; MOAT_IO=afpacket sys_set moat
		MOAT_IO=afpacket L run-moat "$here/moat.conf" --spin-us 0 ;;
	moat-afpacket) L xdp-peers off; MOAT_IO=afpacket sys_set moat ;;
	esac
	# More warm-up: ARP, the proxy's first look at the server.
	local i
	for i in 1 2 3 4 5; do
		nsx client curl -s -o /dev/null --max-time 2 "http://$SERVER/" || true
	done
}

ab_rps() {
	nsx client ab -q -c 1 -n "$N_AB" "http://$SERVER/" 2>/dev/null |
		awk '/^Requests per second/ { print $4 } /^Failed requests/ { f = $3 }
			END { if (f + 0 > 0) print "failed " f > "/dev/stderr" }'
}

for run in $(seq "$RUNS"); do
	for s in $SYSTEMS; do
		say "run $run: $s"
		set_system "$s"
		[ "$s" = bridge ] || L ctl stats | awk '$1 == "port" { print "bench:   " $2 " io " $NF }' >&2
		probe_ts "$N_PROBE" 6 "$DIR/probe.$s.$run" "$(now_ns)"
		read -r ok p50 p99 < <(probe_stats "$DIR/probe.$s.$run")
		rps=$(ab_rps)
		say "  connect ok $ok % p50 $p50 ms p99 $p99 ms; ab -c 1: $rps req/s"
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$run" "$ok" "$p50" "$p99" "$rps" >>"$DIR/raw.tsv"
	done
done
sys_clear >/dev/null 2>&1 || true
t1=$(date +%s)
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# med SYSTEM COLUMN: "median (min-max)" over the runs.
med() {
	awk -F'\t' -v s="$1" -v c="$2" '$1 == s { print $c }' "$DIR/raw.tsv" | sort -g |
		awk '{ v[NR] = $1 } END { if (!NR) { print "-"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%s (%s-%s)\n", m, v[1], v[NR] }'
}
medv() { med "$1" "$2" | cut -d' ' -f1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }

block=$DIR/block.md
{
	echo "### $start: \`sudo ${SYSTEMS_SET:+SYSTEMS=\"$SYSTEMS\" }bench/lab/latency.sh $RUNS\`"
	echo
	echo "Median (min-max) of $RUNS runs, interleaved; took $((t1 - t0)) s."
	echo
	echo "- machine: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(getconf _NPROCESSORS_ONLN) CPUs online (the lab's processes on CPU 0, gateway core: CPU $GW_CPU alone), $(awk '/^MemTotal/ { printf "%d GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "- kernel $(uname -r); $(gcc --version | head -1); moat $(git -C "$top" describe --always --dirty 2>/dev/null) ($MOAT_BIN); ab $(ab -V | head -1 | sed "s/.*Version //; s/ .*//"); $(nginx -v 2>&1)"
	echo "- load average at the start: $load0; at the end: $load1 (a shared machine)"
	echo "- connect: $N_PROBE curl connections over 6 s, no other load; closed loop: \`ab -c 1 -n $N_AB http://198.18.1.10/\` (a new connection per request)"
	echo
	echo "| system | connect p50 ms | connect p99 ms | p99 / bridge | ab -c 1 requests/s | / bridge | connections ok |"
	echo "|---|---|---|---|---|---|---|"
	for s in $SYSTEMS; do
		echo "| $s | $(med "$s" 4) | $(med "$s" 5) | $(ratio "$(medv "$s" 5)" "$(medv bridge 5)") | $(med "$s" 6) | $(ratio "$(medv "$s" 6)" "$(medv bridge 6)") | $(med "$s" 3) % |"
	done
	echo
	echo "Aims (issue 12): connect p99 within 1.2x the kernel bridge's; \`ab -c 1\` at least 0.8x."
} >"$block"
cat "$block"

# Newest first under "## Idle latency" (made at the end the first time).
res=$top/bench/RESULTS.md
if ! grep -q '^## Idle latency' "$res"; then
	printf '\n## Idle latency\n\nOne connection at a time through the gateway, nothing else running:\nwritten by `bench/lab/latency.sh` (its header says how), newest first.\n' >>"$res"
fi
awk -v f="$block" '{ print }
	/^written by `bench\/lab\/latency.sh`/ && !done {
		print ""; while ((getline l < f) > 0) print l; done = 1 }' "$res" >"$DIR/res"
cp "$DIR/res" "$res"
say "written to bench/RESULTS.md"
