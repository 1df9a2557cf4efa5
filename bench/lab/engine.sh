#!/bin/bash
# Engine benchmarks: runs the micro benchmarks (bench/bench_*.c) RUNS times
# each and writes one line per figure and execution to OUT (tab separated:
# engine, -, -, run, metric, value).  bench/lab/report.sh turns them into the
# table of bench/RESULTS.md (median, min, max over the executions).
#
#   bench/lab/engine.sh BUILD_DIR OUT RUNS QUICK(0|1)
set -eu
B=$1/bench
OUT=$2
RUNS=$3
QUICK=$4
if [ "$QUICK" = 1 ]; then
	CT_LOOKUPS=1000000 ENG_FLOWS=100000 DEC_FRAMES=200000 RULE_RUNS=3
else
	CT_LOOKUPS=4194304 ENG_FLOWS=1000000 DEC_FRAMES=1000000 RULE_RUNS=5
fi
emit() { printf 'engine\t-\t-\t%s\t%s\t%s\n' "$r" "$1" "$2" >>"$OUT"; }

for r in $(seq "$RUNS"); do
	echo "bench: engine run $r/$RUNS" >&2
	t=$("$B/bench_decode" "$DEC_FRAMES")
	emit decode_base "$(echo "$t" | awk '/^baseline/ { print $5 }')"
	emit decode "$(echo "$t" | awk '/^moat_pkt_decode/ { print $2 }')"

	t=$("$B/bench_rules" "$RULE_RUNS")
	emit rules_match "$(echo "$t" | awk '/^match:/ { print $3 }')"
	emit rules_load "$(echo "$t" | awk '/^load/ { print $7 }')"

	t=$("$B/bench_syn")
	emit sip16 "$(echo "$t" | awk '/shorthash 16 bytes/ { print $4 }')"
	emit sip22 "$(echo "$t" | awk '/shorthash 22 bytes/ { print $4 }')"
	emit cookie4_make "$(echo "$t" | awk '/cookie make  IPv4/ { print $4 }')"
	emit cookie4_check "$(echo "$t" | awk '/cookie make  IPv4/ { print $7 }')"
	emit cookie6_make "$(echo "$t" | awk '/cookie make  IPv6/ { print $4 }')"
	emit syn_trivial "$(echo "$t" | awk '/^trivial loop/ { print $(NF - 1) }')"
	emit syn_decode "$(echo "$t" | awk '/^decode only/ { print $(NF - 1) }')"
	emit syn_answer "$(echo "$t" | awk '/^decode \+ cookie/ { print $(NF - 1) }')"

	t=$("$B/bench_ct" "$CT_LOOKUPS")
	# | flows | serial | burst | +track serial | +track burst | fill | RSS/flow |
	echo "$t" | awk -F'|' '$2 ~ /^ *[0-9]+ *$/ {
		n = $2 + 0; k = (n >= 1000000) ? "1m" : "1k"
		for (i = 3; i <= 8; i++) { v[i] = $i; gsub(/[^0-9.]/, "", v[i]) }
		printf "ct_%s_serial %s\nct_%s_burst %s\nct_%s_track %s\nct_%s_trackburst %s\nct_%s_rss %s\n",
			k, v[3], k, v[4], k, v[5], k, v[6], k, v[8] }' |
		while read -r m v; do emit "$m" "$v"; done
	emit ct_nh "$(echo "$t" | sed -n 's/.*bucket) \([0-9.]*\) ns.*/\1/p')"
	emit ct_sip40 "$(echo "$t" | sed -n 's/.*tuple alone \([0-9.]*\) ns.*/\1/p')"

	t=$("$B/bench_engine" "$ENG_FLOWS")
	# | what | X Mpps (N ns) | Y Mpps | ratio |
	echo "$t" | awk -F'|' -v big="$ENG_FLOWS" '
	function num(s) { gsub(/^ +/, "", s); split(s, a, " "); return a[1] }
	/spoofed SYN/ { k = "eng_syn" }
	/established, 1000 flows/ { k = "eng_est1k" }
	/established, [0-9]+ flows/ && !/ 1000 flows/ { k = "eng_estbig" }
	/bursts of/ { k = k "_burst" }
	/spoofed SYN|established|bursts of/ {
		printf "%s %s\n%s_trivial %s\n%s_ratio %s\n", k, num($3), k, num($4), k, num($5) }
	/resident/ && /flows tracked '"$ENG_FLOWS"'/ {
		s = $3; sub(/.*resident /, "", s); printf "eng_bytes_per_flow %s\n", num(s) }' |
		while read -r m v; do emit "$m" "$v"; done
done
