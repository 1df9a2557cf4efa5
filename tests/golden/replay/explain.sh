#!/bin/sh
# `moat replay --explain N` walks one packet through every check: the
# injected RST of zeek's rst-inject trace, refused by the window check.
# usage: explain.sh MOAT CORPUS_DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"$1" replay -c "$here/allow-all.conf" --explain 2 \
	"$2/tcp/zeek__tcp-rst-inject-rae.pcap" | head -n 9 |
	diff -u "$here/explain-rst-inject.expected" -
