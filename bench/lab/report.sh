#!/bin/bash
# Turns DIR/raw.tsv (bench/lab/engine.sh and lab-bench.sh) into DIR/stats.tsv
# (median, min, max over the runs) and the Markdown block DIR/block.md that
# bench/run puts at the top of "## Side by side" in bench/RESULTS.md.
#
#   bench/lab/report.sh DIR     (DIR/meta.txt: the machine and the command)
set -eu
DIR=$1
RAW=$DIR/raw.tsv
ST=$DIR/stats.tsv
# Runs whose gateway core was busy with other work just before (more than
# 15 %, "bg_busy") are left out of a group's figures when the group has at
# least one quiet run; "quiet_runs" and "runs" say how many were kept.
awk -F'\t' -v OFS='\t' '
NR == FNR { if ($5 == "bg_busy") { bg[$1, $2, $3, $4] = $6; g = $1 SUBSEP $2 SUBSEP $3
		runs[g]++; if ($6 <= 0.15) quiet[g]++ }
	next }
{ g = $1 SUBSEP $2 SUBSEP $3; k = g SUBSEP $4
  if ((k in bg) && bg[k] > 0.15 && quiet[g] > 0) next
  print }
END { for (g in runs) { split(g, a, SUBSEP); print a[1], a[2], a[3], 0, "runs", runs[g]
	print a[1], a[2], a[3], 0, "quiet_runs", quiet[g] + 0 } }' "$RAW" "$RAW" >"$DIR/kept.tsv"
sort -t'	' -k1,1 -k2,2 -k3,3 -k5,5 -k6,6g "$DIR/kept.tsv" | awk -F'\t' '
function flush() {
	if (key == "") return
	n = split(vals, v, " ")   # already in numeric order (sort -k6g)
	if (n == 0) return          # only nan (no successful connection)
	med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	print key "\t" n "\t" med "\t" v[1] "\t" v[n]
}
{ k = $1 "\t" $2 "\t" $3 "\t" $5
  if (k != key) { flush(); key = k; vals = "" }
  if ($6 != "" && $6 != "nan" && $6 != "?") vals = vals " " $6 }
END { flush() }' >"$ST"

# get SECTION SYSTEM PARAM METRIC [FIELD: 5 median, 6 min, 7 max, 4 n]
get() {
	awk -F'\t' -v a="$1" -v b="$2" -v c="$3" -v d="$4" -v f="${5:-6}" \
		'$1 == a && $2 == b && $3 == c && $4 == d { print $f; exit }' "$ST"
}
# fmt VALUE DIGITS
fmt() { awk -v v="$1" -v d="$2" 'BEGIN { if (v == "") print "-"; else printf "%." d "f", v }'; }
# r SECTION SYSTEM PARAM METRIC DIGITS [SCALE]: "median (min-max)" or the
# median alone when there was one run.
r() {
	local n med lo hi s=${6:-1}
	n=$(get "$1" "$2" "$3" "$4" 5)
	[ -n "$n" ] || { echo "-"; return; }
	med=$(fmt "$(awk -v x="$(get "$1" "$2" "$3" "$4" 6)" -v s="$s" 'BEGIN { print x / s }')" "$5")
	if [ "$n" -gt 1 ]; then
		lo=$(fmt "$(awk -v x="$(get "$1" "$2" "$3" "$4" 7)" -v s="$s" 'BEGIN { print x / s }')" "$5")
		hi=$(fmt "$(awk -v x="$(get "$1" "$2" "$3" "$4" 8)" -v s="$s" 'BEGIN { print x / s }')" "$5")
		echo "$med ($lo-$hi)"
	else
		echo "$med"
	fi
}
med() { get "$1" "$2" "$3" "$4" 6; }
# q SECTION SYSTEM PARAM: "k/n" runs kept (quiet gateway core) of n.
q() { echo "$(get "$1" "$2" "$3" quiet_runs 6)/$(get "$1" "$2" "$3" runs 6)"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }
has() { grep -q "^$1	" "$ST"; }
E() { r engine - - "$@"; }

{
cat "$DIR/meta.txt"
echo

# The aims (issue "Benchmarks side by side") against the medians.
echo "#### Aims against the measured figures"
echo
echo "| aim | target | measured (median) | met? |"
echo "|---|---|---|---|"
verdict() { awk -v x="$1" -v t="$2" 'BEGIN { if (x == "-" || x == "") print "not measured"; else if (x + 0 >= t + 0) print "yes"; else printf "**no**: %.0f%% of the aim\n", 100 * x / t }'; }
if has synflood; then
	ml=$(ratio "$(med synflood moat-on 0 synack_per_core_s)" "$(med synflood nft-synproxy 0 synack_per_core_s)")
	echo "| SYN-flood capacity per gateway core (SYN-ACKs per busy second), moat \`syncookies on\` / nftables SYNPROXY, strongest flood | >= 1.0x | ${ml}x | $(verdict "$ml" 1.0) |"
	ma=$(ratio "$(med synflood moat-auto 0 synack_per_core_s)" "$(med synflood nft-synproxy 0 synack_per_core_s)")
	echo "| the same with moat \`syncookies auto\` | >= 1.0x | ${ma}x | $(verdict "$ma" 1.0) |"
fi
if has clients; then
	ok=$(med clients moat-auto flood ok_pct)
	p99=$(med clients moat-auto flood p99_ms)
	u99=$(med clients moat-auto unloaded p99_ms)
	rr=$(ratio "$p99" "$u99")
	echo "| honest clients in the strongest flood, moat auto: success | >= 99 % | $(fmt "$ok" 1) % | $(verdict "$ok" 99) |"
	echo "| the same: p99 connect / unloaded p99 | <= 2x | ${rr}x ($(fmt "$p99" 2) / $(fmt "$u99" 2) ms) | $(awk -v x="$rr" 'BEGIN { if (x == "-") print "not measured"; else if (x + 0 <= 2) print "yes"; else printf "**no**: %.1fx the allowed\n", x / 2 }') |"
fi
if has forward; then
	f=$(ratio "$(med forward moat - mbits_per_core)" "$(med forward nft-stateful - mbits_per_core)")
	echo "| established forwarding per gateway core (Gbit/s per busy second), moat / kernel conntrack (nftables stateful) | >= 1.0x | ${f}x | $(verdict "$f" 1.0) |"
fi
if has newflows; then
	nf=$(ratio "$(med newflows moat empty flows_per_core_s)" "$(med newflows nft-stateful empty flows_per_core_s)")
	echo "| new flows per gateway core (per busy second), moat / nftables conntrack, empty table | >= 2x | ${nf}x | $(verdict "$nf" 2.0) |"
	nff=$(ratio "$(med newflows moat full flows_per_core_s)" "$(med newflows moat empty flows_per_core_s)")
	nft=$(ratio "$(med newflows nft-stateful full flows_per_core_s)" "$(med newflows nft-stateful empty flows_per_core_s)")
	echo "| moat new flows, full table / empty table | >= 0.8x | ${nff}x (nftables: ${nft}x) | $(verdict "$nff" 0.8) |"
fi
if has engine; then
	echo "| replay of a SYN-flood capture / trivial loop (bench_engine, in memory) | >= 0.5x | $(fmt "$(med engine - - eng_syn_ratio)" 2)x | $(verdict "$(med engine - - eng_syn_ratio)" 0.5) |"
	echo "| replay with many flows / trivial loop (bench_engine, established ACKs, bursts, $(fmt "$(med engine - - eng_bytes_per_flow)" 0) B/flow run) | >= 0.25x | $(fmt "$(med engine - - eng_estbig_burst_ratio)" 2)x | $(verdict "$(med engine - - eng_estbig_burst_ratio)" 0.25) |"
	echo "| bytes per flow: conntrack table alone (bench_ct, 1M flows, resident) | <= 160 | $(fmt "$(med engine - - ct_1m_rss)" 1) | $(awk -v x="$(med engine - - ct_1m_rss)" 'BEGIN { print (x == "") ? "not measured" : (x <= 160) ? "yes" : "**no**" }') |"
	echo "| bytes per flow: whole engine (bench_engine, resident / flows) | <= 160 | $(fmt "$(med engine - - eng_bytes_per_flow)" 0) | $(awk -v x="$(med engine - - eng_bytes_per_flow)" 'BEGIN { print (x == "") ? "not measured" : (x <= 160) ? "yes" : sprintf("**no**: %.0f bytes over", x - 160) }') |"
fi
echo

if has engine; then
	echo "#### Engine (micro benchmarks, one core, frames in memory)"
	echo
	echo "Median (min-max) over the executions of each program; each program"
	echo "itself reports a median of 5 internal runs."
	echo
	echo "| what | moat | baseline next to it | moat / baseline |"
	echo "|---|---|---|---|"
	echo "| decode, ns/packet (bench_decode) | $(E decode 2) | touch each frame: $(E decode_base 2) | $(ratio "$(med engine - - decode)" "$(med engine - - decode_base)")x the time |"
	echo "| rules match, 1,000 rules + 100k-prefix set, ns/packet (bench_rules) | $(E rules_match 1) | (none printed) | - |"
	echo "| rules load of that file, ms | $(E rules_load 1) | - | - |"
	echo "| cookie make, IPv4, ns (bench_syn) | $(E cookie4_make 1) | SipHash-2-4 22 bytes: $(E sip22 1) | $(ratio "$(med engine - - cookie4_make)" "$(med engine - - sip22)")x |"
	echo "| cookie check, IPv4, ns | $(E cookie4_check 1) | SipHash-2-4 22 bytes: $(E sip22 1) | $(ratio "$(med engine - - cookie4_check)" "$(med engine - - sip22)")x |"
	echo "| cookie make, IPv6, ns | $(E cookie6_make 1) | - | - |"
	echo "| SYN in -> cookie SYN-ACK frame out, Mpps (bench_syn) | $(E syn_answer 2) | decode only: $(E syn_decode 1); trivial loop: $(E syn_trivial 0) | $(ratio "$(med engine - - syn_answer)" "$(med engine - - syn_decode)")x decode only |"
	echo "| conntrack lookup hit, 1k flows, serial / burst(32), ns (bench_ct) | $(E ct_1k_serial 1) / $(E ct_1k_burst 1) | - | - |"
	echo "| conntrack lookup hit, 1M flows, serial / burst(32), ns | $(E ct_1m_serial 1) / $(E ct_1m_burst 1) | - | - |"
	echo "| lookup + track of an ACK, 1M flows, serial / burst, ns | $(E ct_1m_track 1) / $(E ct_1m_trackburst 1) | - | - |"
	echo "| flow hash miss (NH + one bucket), ns | $(E ct_nh 1) | SipHash-2-4 over the 40-byte tuple: $(E ct_sip40 1) | $(ratio "$(med engine - - ct_nh)" "$(med engine - - ct_sip40)")x |"
	echo "| resident bytes per flow, conntrack, 1M flows | $(E ct_1m_rss 1) | nf_conntrack: 264 by construction | $(ratio "$(med engine - - ct_1m_rss)" 264)x |"
	echo "| whole engine: spoofed SYN -> cookie SYN-ACK, Mpps (bench_engine) | $(E eng_syn 2) | trivial loop: $(E eng_syn_trivial 2) | $(E eng_syn_ratio 2) |"
	echo "| whole engine: established ACKs, 1k flows, Mpps | $(E eng_est1k 2) | trivial loop: $(E eng_est1k_trivial 2) | $(E eng_est1k_ratio 2) |"
	echo "| the same in bursts of 32 | $(E eng_est1k_burst 2) | $(E eng_est1k_burst_trivial 2) | $(E eng_est1k_burst_ratio 2) |"
	echo "| whole engine: established ACKs, big table, Mpps | $(E eng_estbig 2) | trivial loop: $(E eng_estbig_trivial 2) | $(E eng_estbig_ratio 2) |"
	echo "| the same in bursts of 32 | $(E eng_estbig_burst 2) | $(E eng_estbig_burst_trivial 2) | $(E eng_estbig_burst_ratio 2) |"
	echo "| whole engine resident bytes per flow, big table | $(E eng_bytes_per_flow 0) | aim 160 | $(ratio "$(med engine - - eng_bytes_per_flow)" 160)x |"
	echo
fi

name() {
	case $1 in
	bridge) echo "Linux bridge (no filtering)" ;;
	routed) echo "Linux routing (proxy ARP, no ruleset)" ;;
	nft-stateful) echo "nftables stateful (conntrack), routed" ;;
	nft-synproxy) echo "nftables SYNPROXY, routed" ;;
	kernel-sc1) echo "bridge, server tcp_syncookies=1" ;;
	kernel-sc2) echo "bridge, server tcp_syncookies=2" ;;
	unprotected) echo "bridge, server tcp_syncookies=0 (unprotected)" ;;
	moat) echo "moat" ;;
	moat-on) echo "moat syncookies on" ;;
	moat-auto) echo "moat syncookies auto" ;;
	*) echo "$1" ;;
	esac
}

if has forward; then
	echo "#### Forwarding established TCP (iperf3, one stream, client and server pinned to CPU 0)"
	echo
	echo "| system | quiet runs | Gbit/s | gateway core busy (background before) | gateway us per frame (both ways) | Gbit/s per gateway core |"
	echo "|---|---|---|---|---|---|"
	for s in bridge routed nft-stateful moat; do
		has "forward	$s" || continue
		echo "| $(name $s) | $(q forward $s -) | $(r forward $s - mbits 2 1000) | $(r forward $s - gw_busy 2) (bg $(fmt "$(med forward $s - bg_busy)" 2)) | $(r forward $s - us_per_frame 2) | $(r forward $s - mbits_per_core 2 1000) |"
	done
	echo
fi

if has synflood; then
	echo "#### SYN-flood capacity (spoofed SYNs from 198.18.128.0/17 to the web server)"
	echo
	echo "Requested rate (0 = as fast as trafgen goes); sent = what the router"
	echo "handed the gateway (delivered + refused by its receive backlog);"
	echo "received = out0's rx; SYN-ACKs = out0's tx.  For the kernel's own"
	echo "syncookies the cookies are made by the server on CPU 0 (shared with"
	echo "the attacker): the gateway there is only a bridge, so its per-core"
	echo "figures are not a cookie cost."
	echo
	echo "| system | requested pps | quiet runs | sent pps | received pps | SYN-ACKs/s | gateway core busy (background before) | gateway us per SYN (moat process alone) | SYN-ACKs per gateway core-second |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for s in nft-synproxy kernel-sc1 kernel-sc2 moat-on moat-auto; do
		for rate in $(awk -F'\t' -v s="$s" '$1 == "synflood" && $2 == s { print $3 }' "$ST" | sort -un | awk '$1 > 0' ; awk -F'\t' -v s="$s" '$1 == "synflood" && $2 == s && $3 == 0 { print 0; exit }' "$ST"); do
			qq=$rate; [ "$qq" != 0 ] || qq=max
			us=$(r synflood $s $rate us_per_syn 2)
			[ "${s#moat}" = "$s" ] || us="$us ($(r synflood $s $rate proc_us_per_syn 2))"
			cs=$(r synflood $s $rate synack_per_core_s 0)
			echo "| $(name $s) | $qq | $(q synflood $s $rate) | $(r synflood $s $rate sent_pps 0) | $(r synflood $s $rate offered_pps 0) | $(r synflood $s $rate synack_pps 0) | $(r synflood $s $rate gw_busy 2) (bg $(fmt "$(med synflood $s $rate bg_busy)" 2)) | $us | $cs |"
		done
	done
	echo
	echo "![SYN-ACKs per second against offered SYNs](plots/synack.png)"
	echo "![Gateway CPU per SYN](plots/cpu_per_syn.png)"
	echo
fi

if has clients; then
	echo "#### Honest clients under the strongest flood"
	echo
	echo "Each run: $(get clients moat-auto flood n 6 | awk '{ printf "%d", $1 }') curl connections from the client spread over the flood (trafgen as fast as it goes),"
	echo "after 200 unloaded ones against the same system; success = HTTP 200 with the"
	echo "handshake done within 1 s (no SYN retransmission)."
	echo
	echo "| system | quiet runs | flood received pps | success % | connect p50 ms | connect p99 ms | unloaded p99 ms | p99 / unloaded p99 |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	for s in unprotected nft-synproxy moat-auto; do
		has "clients	$s" || continue
		echo "| $(name $s) | $(q clients $s flood) | $(r clients $s flood offered_pps 0) | $(r clients $s flood ok_pct 1) | $(r clients $s flood p50_ms 2) | $(r clients $s flood p99_ms 2) | $(r clients $s unloaded p99_ms 2) | $(ratio "$(med clients $s flood p99_ms)" "$(med clients $s unloaded p99_ms)") |"
	done
	echo
	echo "![Honest clients' connect time during the flood](plots/clients.png)"
	echo
fi

if has newflows; then
	echo "#### New flows per second (stateful pass rule, table of 262,144)"
	echo
	echo "Spoofed SYNs (random sources in 198.18.128.0/17 and ports) to the"
	echo "server's port 5202, which a stateful rule passes and the server drops at"
	echo "ingress: each SYN is a new flow that stays half-open in the table."
	echo "Empty: the first $(get newflows moat empty offered 6 | awk '{ printf "%d", $1 }') into an empty table; full: as many"
	echo "after 262,144 more filled it (each new flow then evicts one)."
	echo
	echo "| system | table | quiet runs | entries before | flows/s (generator-bound) | gateway core busy (background before) | gateway us per flow | new flows per gateway core-second |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|"
	for s in nft-stateful moat; do
		for ph in empty full; do
			has "newflows	$s	$ph" || continue
			us=$(r newflows $s $ph us_per_flow 2)
			cs=$(r newflows $s $ph flows_per_core_s 0)
			echo "| $(name $s) | $ph | $(q newflows $s $ph) | $(r newflows $s $ph table_before 0) | $(r newflows $s $ph flows_per_s 0) | $(r newflows $s $ph gw_busy 2) (bg $(fmt "$(med newflows $s $ph bg_busy)" 2)) | $us | $cs |"
		done
	done
	echo
fi
} >"$DIR/block.md"
