# Sourced by every tests/lab/test_*.sh: one lab per test, named after the
# test's PID, torn down on exit whatever happens.  Exit codes: 0 pass,
# 1 fail, 77 skip (only when the machine lacks a kernel feature).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
export MOAT_LAB="t$$"
export LAB_QUIET=1
: "${MOAT_BIN:=$top/build/src/cli/moat}"
export MOAT_BIN
CONF=$here/lab.conf

lab() { "$top/scripts/lab" "$@"; }
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
note() { echo "  $*"; }

[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
ip netns add "mtprobe$$" 2>/dev/null || skip "no network namespaces"
ip netns del "mtprobe$$"
[ -x "$MOAT_BIN" ] || fail "no moat binary at $MOAT_BIN (ninja -C build)"

trap 'lab down >/dev/null 2>&1 || true' EXIT
trap 'exit 1' INT TERM HUP
lab up >/dev/null
STATE=$(lab state)

# The I/O backend moat runs with: MOAT_IO=xdp|afpacket|auto (scripts/lab
# passes it as --io; scripts/lab-tests runs every test with each).
export MOAT_IO=${MOAT_IO:-}

# AF_XDP asked for where this kernel cannot run it at all: a skip, and why.
skip_if_no_xdp() {
	[ "$MOAT_IO" = xdp ] || return 0
	local why
	why=$(grep -o 'the kernel has no AF_XDP[^;]*\|the driver has no native XDP[^;]*' \
		"$STATE/moat.err" | head -1) || true
	[ -z "$why" ] || skip "--io xdp: $why"
}

# moat with the lab's rules (or $1), extra arguments after it.
start_moat() {
	local conf=${1:-$CONF}
	[ $# -eq 0 ] || shift
	lab run-moat "$conf" "$@" || {
		cat "$STATE/moat.err" >&2
		skip_if_no_xdp
		fail "moat did not start"
	}
}

# curl from the client; prints curl's exit code (0 ok, 7 refused, 28 timeout).
curl_rc() {
	local rc=0
	lab exec client curl -s -o /dev/null --connect-timeout "${2:-2}" \
		--max-time "${2:-2}" "$1" || rc=$?
	echo "$rc"
}

# The value of a reason counter in `moat ctl stats` (0 when absent).
reason_count() {
	lab ctl stats | awk -v r="$1" '$1 == "reason" && $2 == r { n = $3 } END { print n + 0 }'
}

# Fetch the 10 MB file from the client and compare its sha256.
bigfile_ok() {
	local got want
	want=$(cat "$STATE/big.sha256")
	got=$(lab exec client curl -s --max-time "${1:-30}" ${2:-} \
		http://198.18.1.10/big.bin | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ]
}

# A spoofed SYN flood at the attacker's full rate for ${FLOOD_SECS:-10} s,
# with ${PROBES:-200} honest connections from the client during it.
# Sets FLOOD_PPS, PROBE_OK, PROBE_N, P50, P99, PMAX and prints one line.
flood_and_probe() {
	local label=$1 secs=${FLOOD_SECS:-10} n=${PROBES:-200} fp line
	lab flood "$secs" 0 >"$STATE/flood.out" &
	fp=$!
	sleep 1
	local out why
	out=$(lab probe "$n" $((secs - 2)))
	line=$(echo "$out" | head -1)
	why=$(echo "$out" | sed -n 2p)
	wait "$fp" || true
	FLOOD_PPS=$(awk '{ print $(NF - 1) }' "$STATE/flood.out")
	PROBE_OK=${line#probe: }
	PROBE_OK=${PROBE_OK%%/*}
	PROBE_N=$n
	P50=$(echo "$line" | awk '{ print $10 }')
	P99=$(echo "$line" | awk '{ print $13 }')
	PMAX=$(echo "$line" | awk '{ print $16 }')
	printf '  %-22s flood %7s pps   ok %3s/%s   connect p50 %s ms  p99 %s ms  max %s ms\n' \
		"$label" "$FLOOD_PPS" "$PROBE_OK" "$n" "$P50" "$P99" "$PMAX"
	[ -z "$why" ] || echo "    $why"
	flood_gen_note
}

# At least 99 % of the probes succeeded within 1 s.
probes_ok() {
	[ $((PROBE_OK * 100)) -ge $((PROBE_N * 99)) ] &&
		awk -v m="$PMAX" 'BEGIN { exit !(m != "nan" && m < 1000) }'
}

# XDP_TX (and XDP_REDIRECT) onto a veth arrives only when the peer runs an
# XDP program (LAB-NOTES.md, December): attach an XDP_PASS program to the
# peers of moat's out0 (the router's lan0) and in0 (the server's eth0).
# Fails where the kernel cannot attach native XDP to a veth.
xdp_peers_on() {
	local obj=$top/build/src/xdp/moat_xdp_pass.bpf.o
	[ -f "$obj" ] || fail "no $obj (build with clang and libbpf-dev)"
	lab exec router ip link set dev lan0 xdpdrv obj "$obj" sec xdp &&
		lab exec server ip link set dev eth0 xdpdrv obj "$obj" sec xdp
}

# A counter of moat's XDP program from `moat ctl stats` (its `xdp` line).
xdp_count() {
	lab ctl stats | awk -v k="$1" '$1 == "xdp" {
		for (i = 2; i < NF; i += 2) if ($i == k) n = $(i + 1) }
		END { print n + 0 }'
}

# --- IPv6 (scripts/lab's dual-stack addresses, tests/lab/test_ipv6.sh) ---
SERVER6=2001:db8:1::10

# curl from the client to an IPv6 URL; prints curl's exit code.
curl6_rc() {
	local rc=0
	lab exec client curl -6 -g -s -o /dev/null --connect-timeout "${2:-2}" \
		--max-time "${2:-2}" "$1" || rc=$?
	echo "$rc"
}

# The 10 MB file over IPv6, sha256 compared.
bigfile6_ok() {
	local got want
	want=$(cat "$STATE/big.sha256")
	got=$(lab exec client curl -6 -g -s --max-time "${1:-30}" ${2:-} \
		"http://[$SERVER6]/big.bin" | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ]
}

# flood_and_probe with IPv6 flood and probes (scripts/lab LAB_FAMILY=6).
flood6_and_probe() {
	LAB_FAMILY=6 flood_and_probe "$@"
}

# --- the flood generator (scripts/lab: bench/lab/synflood, else trafgen) ---
# Says which generator the last `lab flood` used.
flood_gen_note() {
	[ ! -s "$STATE/flood.gen" ] || echo "    generator: $(cat "$STATE/flood.gen")"
}
