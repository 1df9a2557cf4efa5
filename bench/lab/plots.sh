#!/bin/bash
# Plots for bench/RESULTS.md from DIR/stats.tsv and DIR/probe/: writes the
# data files under DIR/plot/ and runs the gnuplot scripts beside this file.
#
#   bench/lab/plots.sh DIR OUTDIR      (OUTDIR: bench/plots)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
DIR=$1
OUT=$2
ST=$DIR/stats.tsv
P=$DIR/plot
mkdir -p "$P" "$OUT"
label() {
	case $1 in
	nft-synproxy) echo "nftables SYNPROXY" ;;
	kernel-sc1) echo "bridge, server syncookies=1" ;;
	kernel-sc2) echo "bridge, server syncookies=2" ;;
	moat-on) echo "moat syncookies on" ;;
	moat-auto) echo "moat syncookies auto" ;;
	unprotected) echo "unprotected (syncookies=0)" ;;
	*) echo "$1" ;;
	esac
}

if grep -q '^synflood' "$ST"; then
	# x: SYNs/s the router handed the gateway; y: SYN-ACKs/s out of out0.
	list=""
	for s in nft-synproxy kernel-sc1 kernel-sc2 moat-on moat-auto; do
		awk -F'\t' -v s="$s" '$1 == "synflood" && $2 == s && ($4 == "sent_pps" || $4 == "offered_pps" || $4 == "synack_pps") {
			v[$3, $4] = $6; r[$3] = 1 }
			END { for (k in r) print (v[k, "sent_pps"] != "" ? v[k, "sent_pps"] : v[k, "offered_pps"]), v[k, "synack_pps"] }' "$ST" |
			sort -n >"$P/synack-$s.dat"
		[ -s "$P/synack-$s.dat" ] && list="$list $s"
	done
	: >"$P/cpu.dat"
	: >"$P/cpu-lo.dat"
	i=0
	for s in $list; do
		awk -F'\t' -v s="$s" -v i="$i" -v l="$(label "$s")" '$1 == "synflood" && $2 == s && $3 == 0 && $4 == "us_per_syn" {
			printf "%d \"%s\" %s %s %s\n", i, l, $6, $7, $8 }' "$ST" >>"$P/cpu.dat"
		case $s in moat*)
			awk -F'\t' -v s="$s" -v i="$i" '$1 == "synflood" && $2 == s && $3 == 0 && $4 == "proc_us_per_syn" {
				printf "%d %s\n", i, $6 }' "$ST" >>"$P/cpu-lo.dat" ;;
		esac
		i=$((i + 1))
	done
	files="" titles=""
	for s in $list; do files="$files $P/synack-$s.dat"; titles="$titles|$(label "$s")"; done
	gnuplot -e "files='${files# }'; titles='${titles#|}'; out='$OUT/synack.png'" "$here/synack.gp"
	gnuplot -e "data='$P/cpu.dat'; lo='$P/cpu-lo.dat'; out='$OUT/cpu_per_syn.png'" "$here/cpu.gp"
fi

if [ -d "$DIR/probe" ] && ls "$DIR"/probe/*-1-flood.txt >/dev/null 2>&1; then
	files="" titles=""
	for s in unprotected nft-synproxy moat-auto; do
		f=$DIR/probe/$s-1-flood.txt
		[ -s "$f" ] || continue
		# start (s after the flood began), connect ms; a failure at 1000.
		awk '{ c = ($2 == 200 && $3 < 1.0) ? $3 * 1000 : 1000; print $1, c }' "$f" >"$P/clients-$s.dat"
		files="$files $P/clients-$s.dat"
		titles="$titles|$(label "$s")"
	done
	gnuplot -e "files='${files# }'; titles='${titles#|}'; out='$OUT/clients.png'" "$here/clients.gp"
fi
