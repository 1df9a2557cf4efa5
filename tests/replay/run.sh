#!/bin/sh
# Golden replays of the defences against spoofing, on-path hijacking and
# abuse by one source: each NAME.pcap (crafted by make_captures.py) runs
# through `moat replay -c NAME.conf --trace`, and the output must be
# NAME.expected byte for byte.  A difference fails and is shown; nothing is
# ever rewritten here (to accept a new output, regenerate by hand, read the
# diff, and commit it with the reason).
# When scapy is there, the captures are also made again and must be the
# committed bytes, so script and captures cannot drift apart.
# usage: run.sh MOAT
set -eu
moat=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

if /usr/bin/python3 -c 'import scapy' 2>/dev/null; then
	/usr/bin/python3 "$here/make_captures.py" "$tmp"
	for p in "$tmp"/*.pcap "$tmp"/*.pcapng; do
		if ! cmp -s "$p" "$here/$(basename "$p")"; then
			echo "FAIL: make_captures.py no longer makes $(basename "$p")"
			fail=1
		fi
	done
fi

for conf in "$here"/*.conf; do
	name=$(basename "$conf" .conf)
	cap=$here/$name.pcap
	[ -f "$cap" ] || cap=$here/$name.pcapng
	# A configuration may replay another test's capture.
	other=$(sed -n 's/^# capture: *//p' "$conf")
	[ -z "$other" ] || cap=$here/$other
	"$moat" replay -c "$conf" --trace --events "$tmp/$name.events" "$cap" \
		>"$tmp/$name.out"
	if diff -u "$here/$name.expected" "$tmp/$name.out"; then
		echo "ok: $name"
	else
		echo "FAIL: $name (the diff above: expected, then got)"
		fail=1
	fi
	# The alerts and logs the engine raised, where the test names them.
	if [ -f "$here/$name.events" ]; then
		if diff -u "$here/$name.events" "$tmp/$name.events"; then
			echo "ok: $name events"
		else
			echo "FAIL: $name events (the diff above)"
			fail=1
		fi
	fi
done
exit $fail
