#!/bin/sh
# In a pcapng capture the interface decides the ingress zone: the same
# inside-sourced SYN passes when seen on in0 and is a spoofed source when
# seen on out0 (doc/design.md: zone by pcapng interface name first).
# usage: ifaces.sh MOAT
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$here/make-ifaces-pcapng.py" "$tmp/ifaces.pcapng"
"$1" replay -c "$here/ifaces.conf" --trace "$tmp/ifaces.pcapng" |
	head -n 2 >"$tmp/trace"
printf '1\tpass\trule-pass:1\n2\tdrop\tspoof-zone\n' | diff -u - "$tmp/trace"
