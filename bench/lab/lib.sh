# Sourced by bench/lab/lab-bench.sh: the systems compared and how each is
# measured, on top of scripts/lab (which this does not change: everything
# extra is done here, from outside, on the lab's namespaces mt<ID>-<role>).
#
# Extras over scripts/lab, the same for every system compared:
# - Receive steering (RPS): frames arriving on the gateway's out0 and in0
#   are processed on the gateway core GW_CPU (the last CPU, where
#   scripts/lab pins moat); frames arriving at the router's lan0 and the
#   server's eth0 on CPU 0 (where trafgen runs).  Without it a veth's
#   receive runs on the sender's CPU, so the kernel's bridge, conntrack and
#   SYNPROXY would run on the attacker's core and not be seen on the
#   gateway's, and moat's receive would be charged to the attacker.
# - A routed mode of the moat namespace (routed_up): addresses, proxy ARP
#   and routes so the kernel there forwards between out0 and in0 like a
#   transparent router; nftables SYNPROXY needs it (it answers with routed
#   packets), and the stateful baseline uses it because this kernel has no
#   bridge-family conntrack (CONFIG_NF_CONNTRACK_BRIDGE unset).
# - The server drops TCP to port 5202 at netdev ingress, so the new-flows
#   benchmark's SYNs leave half-open flows in the gateway's table and no
#   RSTs.
#
# Gateway cost: the busy time of the gateway core GW_CPU from /proc/stat,
# as wall time minus its idle and iowait time (the kernel counts idle time
# exactly on a tickless core, while irq and softirq ticks are only
# sampled by the tick, which an idle core does not take: summing the busy
# columns would miss most of the kernel's forwarding work there).  Other
# processes that run on that core (builds and tests of a shared machine)
# count too: lab-bench.sh records the core's busy fraction in the second
# before each measurement, with nothing of ours running, next to it.
# moat's own ticks (/proc/PID/stat utime + stime) are recorded apart.
SERVER=198.18.1.10
NS="mt$MOAT_LAB"
GW_CPU=$(($(nproc) - 1))
export MOAT_CPU=$GW_CPU
HZ=$(getconf CLK_TCK)
GWPID=""

L() { "$top/scripts/lab" "$@"; }
nsx() { local r=$1; shift; ip netns exec "$NS-$r" "$@"; }
stat_of() { nsx "$1" cat "/sys/class/net/$2/statistics/$3"; }

steer() {
	local gw
	gw=$(printf '%x' $((1 << GW_CPU)))
	nsx moat sh -c "echo $gw >/sys/class/net/out0/queues/rx-0/rps_cpus; echo $gw >/sys/class/net/in0/queues/rx-0/rps_cpus"
	nsx router sh -c 'echo 1 >/sys/class/net/lan0/queues/rx-0/rps_cpus'
	nsx server sh -c 'echo 1 >/sys/class/net/eth0/queues/rx-0/rps_cpus'
}

# gw_sample: "wall_ns idle_ticks process_ticks" of the gateway core.
gw_sample() {
	local p=0
	if [ -n "$GWPID" ] && [ -r "/proc/$GWPID/stat" ]; then
		p=$(sed 's/.*) //' "/proc/$GWPID/stat" | awk '{ print $12 + $13 }')
	fi
	echo "$(date +%s%N) $(awk -v c="cpu$GW_CPU" '$1 == c { print $5 + $6 }' /proc/stat) $p"
}

# background_busy SECONDS: the gateway core's busy fraction while we
# idle (the neighbours' share).
background_busy() {
	local w0 i0 p0 w1 i1 p1
	read -r w0 i0 p0 < <(gw_sample)
	sleep "$1"
	read -r w1 i1 p1 < <(gw_sample)
	awk -v w="$((w1 - w0))" -v i="$((i1 - i0))" -v h="$HZ" 'BEGIN { b = 1 - i / h / (w / 1e9); printf "%.3f", b < 0 ? 0 : b }'
}

now_ns() { date +%s%N; }

neigh_flush() {
	ip -n "$NS-router" neigh flush dev lan0 2>/dev/null || true
	ip -n "$NS-server" neigh flush dev eth0 2>/dev/null || true
}

routed_up() {
	local m=$NS-moat i
	nsx moat sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.netfilter.nf_conntrack_tcp_loose=0 >/dev/null
	for i in out0 in0; do
		nsx moat sysctl -qw "net.ipv4.conf.$i.proxy_arp=1" "net.ipv4.conf.$i.rp_filter=0" \
			"net.ipv4.neigh.$i.proxy_delay=0" >/dev/null
	done
	ip -n "$m" addr add 198.18.1.2/32 dev out0
	ip -n "$m" addr add 198.18.1.3/32 dev in0
	ip -n "$m" route add $SERVER/32 dev in0
	ip -n "$m" route add 198.18.1.1/32 dev out0
	ip -n "$m" route add default via 198.18.1.1 dev out0
	neigh_flush
}

routed_down() {
	local m=$NS-moat i
	nsx moat nft flush ruleset 2>/dev/null || true
	nsx moat conntrack -F >/dev/null 2>&1 || true
	ip -n "$m" route flush table main 2>/dev/null || true
	for i in out0 in0; do
		ip -n "$m" addr flush dev "$i" 2>/dev/null || true
		nsx moat sysctl -qw "net.ipv4.conf.$i.proxy_arp=0" >/dev/null 2>&1 || true
	done
	nsx moat sysctl -qw net.ipv4.ip_forward=0 net.netfilter.nf_conntrack_tcp_loose=1 >/dev/null 2>&1 || true
	neigh_flush
}

# Whatever ran before goes; the server gets a fresh listening socket.
sys_clear() {
	if [ -n "$GWPID" ]; then L stop-moat >/dev/null 2>&1 || true; fi
	GWPID=""
	L unbridge
	routed_down
	nsx server sysctl -qw net.ipv4.tcp_syncookies=0 >/dev/null
	L restart-server
}

# sys_set SYSTEM: bring one of the compared systems up between out0 and in0.
sys_set() {
	sys_clear
	case $1 in
	bridge | unprotected) L bridge ;;
	kernel-sc1) L bridge; nsx server sysctl -qw net.ipv4.tcp_syncookies=1 >/dev/null ;;
	kernel-sc2) L bridge; nsx server sysctl -qw net.ipv4.tcp_syncookies=2 >/dev/null ;;
	routed) routed_up ;;
	nft-stateful) routed_up; nsx moat nft -f "$here/nft-stateful.nft" ;;
	nft-synproxy) routed_up; nsx moat nft -f "$here/nft-synproxy.nft" ;;
	moat | moat-auto | moat-on)
		L run-moat "$here/moat.conf"
		GWPID=$(cat "$(L state)/moat.pid")
		[ "$1" != moat-on ] || L ctl syncookies on >/dev/null
		;;
	*) echo "bench: unknown system $1" >&2; return 1 ;;
	esac
	neigh_flush
	# Let ARP settle and the proxies learn the server before measuring.
	nsx client curl -s -o /dev/null --max-time 2 "http://$SERVER/" || true
	sleep 0.5
}

# emit SECTION SYSTEM PARAM RUN METRIC VALUE
emit() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RAW"; }

# probe_ts N SPREAD FILE T0: N honest connections from the client spread
# over SPREAD seconds, as scripts/lab probe makes them (curl, connect
# timeout 1 s), with each one's start in seconds after T0 (ns): lines
# "start code connect_seconds".
probe_ts() {
	local n=$1 spread=$2 file=$3 t0=$4 gap i dir pids=""
	gap=$(awk -v n="$n" -v s="$spread" 'BEGIN { printf "%.4f", s / n }')
	dir=$(mktemp -d)
	for i in $(seq "$n"); do
		(
			s=$(now_ns)
			r=$(nsx client curl -s -o /dev/null --connect-timeout 1 --max-time 3 \
				-w '%{http_code} %{time_connect}' "http://$SERVER/" 2>/dev/null) || true
			echo "$(awk -v s="$s" -v t="$t0" 'BEGIN { printf "%.3f", (s - t) / 1e9 }') ${r:-000 0}"
		) >"$dir/$i" &
		pids="$pids $!"
		sleep "$gap"
	done
	# shellcheck disable=SC2086
	wait $pids 2>/dev/null || true
	cat "$dir"/* | sort -n >"$file"
	rm -rf "$dir"
}

# probe_stats FILE: "ok_percent p50_ms p99_ms" (ok = 200 and connected
# within 1 s; percentiles over those).
probe_stats() {
	awk '{ n++ } $2 == 200 && $3 < 1.0 { print $3 * 1000 }
		END { print "N", n > "/dev/stderr" }' "$1" 2>/dev/null | sort -n |
		awk -v n="$(wc -l <"$1")" '{ v[NR] = $1 }
		function p(q, i) { i = int(q / 100 * NR + 0.999999); if (i < 1) i = 1; return v[i] }
		END { if (NR == 0) { printf "0 nan nan\n"; exit }
			printf "%.1f %.3f %.3f\n", 100 * NR / n, p(50), p(99) }'
}
