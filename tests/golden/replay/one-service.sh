#!/bin/sh
# Default deny over real traffic: replay a capture of many services with a
# configuration that passes SSH to one server, and check with tshark, an
# independent dissector, that every packet that passed belongs to that
# service (port 22 of 172.16.238.131), and that such packets did pass.
# usage: one-service.sh MOAT CORPUS_DIR
set -eu
moat=$1
cap=$2/tcp/zeek__var-services-std-ports.pcap
here=$(cd "$(dirname "$0")" && pwd)
command -v tshark >/dev/null || { echo "tshark missing (scripts/packages.txt installs it)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$moat" replay -c "$here/one-service.conf" --trace "$cap" >"$tmp/trace"
tshark -r "$cap" -T fields -E separator=/t -e frame.number -e ip.src \
	-e ip.dst -e tcp.srcport -e tcp.dstport 2>/dev/null >"$tmp/fields"
awk -F'\t' '
	NR == FNR { verdict[$1] = $2; next }
	{
		ok = ($3 == "172.16.238.131" && $5 == 22) ||
		     ($2 == "172.16.238.131" && $4 == 22)
		if (verdict[$1] == "pass" && !ok) {
			printf "FAIL: packet %s passed: %s -> %s ports %s/%s\n",
				$1, $2, $3, $4, $5
			bad++
		}
		if (verdict[$1] == "pass")
			passed++
		else
			dropped++
	}
	END {
		printf "passed %d, dropped %d\n", passed, dropped
		if (bad || passed == 0)
			exit 1
	}' "$tmp/trace" "$tmp/fields"
