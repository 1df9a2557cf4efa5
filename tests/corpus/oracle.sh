#!/bin/sh
# tshark as the oracle for moat's TCP decode.  For every packet of the
# corpus (tests/corpus) that tshark dissects as TCP, compare the addresses, ports,
# raw SEQ and ACK and the 8 flag bits with what `moat decode` prints.  Any
# difference fails the test.
#
# Exclusions (counted and printed, never silently dropped):
#   tunnel   tshark sees more than one IP/IPv6 layer: IP-in-IP, GRE,
#            VXLAN/Geneve, AH tunnel mode, and ICMP errors whose quoted
#            header tshark labels TCP.  moat decodes the outer header only,
#            by design (doc/design.md: no tunnel decoding).
#   encap    a link encapsulation moat does not decode sits before IP
#            (802.2 LLC/SNAP, 802.1BR E-tag, ...): moat sees a non-IP frame.
#   refused  moat refused the frame before its TCP header (bad lengths, tiny
#            fragments, truncation); tshark dissects leniently.  The corpus
#            test checks those refusals carry a reason; they are listed here.
# IP reassembly is off in tshark (-o ip.defragment:FALSE) so that it, like
# moat, sees each fragment on its own.  ACK is compared only when the ACK
# flag is set (moat prints it only then).
#
# usage: oracle.sh MOAT CORPUS_DIR        fails without tshark
set -eu

moat=$1
corpus=$2
command -v tshark >/dev/null 2>&1 || { echo "oracle: tshark missing (scripts/packages.txt installs it)"; exit 1; }
[ -d "$corpus" ] || { echo "oracle: no corpus at $corpus" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
: >"$tmp/all"

for f in $(find "$corpus" -type f \( -name '*.pcap' -o -name '*.pcapng' \) | sort); do
	"$moat" decode "$f" >"$tmp/moat" 2>/dev/null || true
	tshark -r "$f" -n -o tcp.relative_sequence_numbers:FALSE \
		-o ip.defragment:FALSE -o ipv6.defragment:FALSE -Y tcp \
		-T fields -E separator=/t -e frame.number -e frame.protocols \
		-e ip.src -e ip.dst -e ipv6.src -e ipv6.dst -e tcp.srcport \
		-e tcp.dstport -e tcp.seq -e tcp.ack -e tcp.flags \
		>"$tmp/tshark" 2>/dev/null || true
	[ -s "$tmp/tshark" ] || continue
	awk -v file="${f#"$corpus"/}" -F '\t' '
	function flagbits(s,    b, i, c) {
		b = 0
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c == "F") b += 1; else if (c == "S") b += 2
			else if (c == "R") b += 4; else if (c == "P") b += 8
			else if (c == ".") b += 16; else if (c == "U") b += 32
			else if (c == "E") b += 64; else if (c == "W") b += 128
		}
		return b
	}
	function hex(s,    i, v, c) {
		v = 0
		s = tolower(s); sub(/^0x/, "", s)
		for (i = 1; i <= length(s); i++) {
			c = index("0123456789abcdef", substr(s, i, 1)) - 1
			v = v * 16 + c
		}
		return v
	}
	# split "addr.port" at the last dot
	function addr(s) { sub(/\.[0-9]+:?$/, "", s); return s }
	function port(s) { sub(/:$/, "", s); sub(/^.*\./, "", s); return s }
	FNR == NR {   # moat decode output: INDEX TS [REFUSED r: ] VIEW
		if ($0 ~ /^# /) next
		split($0, w, " ")
		line[w[1]] = $0
		next
	}
	{
		n = split($2, proto, ":")
		nip = 0; ntcp = 0; encap = 0; seen_ip = 0
		for (i = 1; i <= n; i++) {
			if (proto[i] == "ip" || proto[i] == "ipv6") { nip++; seen_ip = 1 }
			if (proto[i] == "tcp") ntcp++
			if (!seen_ip && proto[i] !~ /^(eth|ethertype|vlan|sll|raw|null|loop)$/)
				encap = 1
		}
		if (nip != 1 || ntcp != 1) { print "tunnel"; next }
		if (encap) { print "encap"; next }
		l = line[$1]
		if (l == "") { print "MISMATCH " file " #" $1 ": no moat line"; next }
		if (l ~ / REFUSED / && l !~ /TCP Flags/) {
			r = l; sub(/^[0-9]+ [^ ]+ REFUSED /, "", r); sub(/:.*/, "", r)
			print "refused " r " " file " #" $1
			next
		}
		v = l
		sub(/^[0-9]+ [^ ]+ (REFUSED [^:]+: )?/, "", v)
		while (v ~ /^vlan [0-9]+, /) sub(/^vlan [0-9]+, /, "", v)
		split(v, t, " ")
		msrc = addr(t[2]); msp = port(t[2])
		mdst = addr(t[4]); mdp = port(t[4])
		if (!match(v, /TCP Flags \[[^]]*\]/)) {
			print "MISMATCH " file " #" $1 ": moat has no TCP: " l
			next
		}
		mf = substr(v, RSTART + 11, RLENGTH - 12)
		if (mf == "none") mf = ""
		ms = v; sub(/.*, seq /, "", ms); sub(/,.*/, "", ms)
		ma = ""
		if (v ~ /, ack /) { ma = v; sub(/.*, ack /, "", ma); sub(/,.*/, "", ma) }
		tsrc = $3 != "" ? $3 : $5
		tdst = $4 != "" ? $4 : $6
		tf = hex($11) % 256
		bad = ""
		if (msrc != tsrc || mdst != tdst) bad = bad " addr " msrc ">" mdst " vs " tsrc ">" tdst
		if (msp != $7 || mdp != $8) bad = bad " ports " msp ">" mdp " vs " $7 ">" $8
		if (ms != $9) bad = bad " seq " ms " vs " $9
		if (tf % 32 >= 16 && ma != $10) bad = bad " ack " ma " vs " $10
		if (flagbits(mf) != tf) bad = bad " flags " mf " vs " $11
		if (bad != "") print "MISMATCH " file " #" $1 ":" bad
		else print "match"
	}' "$tmp/moat" "$tmp/tshark" >>"$tmp/all"
done

matched=$(grep -c '^match$' "$tmp/all" || true)
tunnel=$(grep -c '^tunnel$' "$tmp/all" || true)
encap=$(grep -c '^encap$' "$tmp/all" || true)
refused=$(grep -c '^refused ' "$tmp/all" || true)
mism=$(grep -c '^MISMATCH ' "$tmp/all" || true)
grep '^refused ' "$tmp/all" | awk '{ c[$2]++ } END { for (r in c) print "  refused by moat before TCP: " r " " c[r] }'
grep '^MISMATCH ' "$tmp/all" | head -50 || true
echo "oracle: $matched TCP packets match tshark; excluded: $tunnel tunnel/quoted," \
	"$encap unsupported encapsulation, $refused refused by moat; $mism mismatches"
[ "$matched" -gt 0 ] || { echo "oracle: nothing compared"; exit 1; }
[ "$mism" -eq 0 ]
