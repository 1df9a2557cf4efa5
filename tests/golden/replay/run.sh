#!/bin/sh
# Golden replay test: every capture under the corpus's tcp/ folder through
# the real engine with an allow-all configuration that still tracks state.
# The drops that remain are listed, packet by packet, in corpus-tcp.expected,
# and each capture with drops is explained in EXPLAINED.md.  A changed
# verdict shows as a diff and fails; nothing is rewritten.
# usage: run.sh MOAT CORPUS_DIR
set -eu
moat=$1
corpus=$2
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT

for f in "$corpus"/tcp/*; do
	name=$(basename "$f")
	summary=$("$moat" replay -c "$here/allow-all.conf" --json "$f" 2>&1 |
		tail -n 1)
	echo "$name $summary" >>"$out"
	"$moat" replay -c "$here/allow-all.conf" --trace "$f" 2>/dev/null |
		awk -F'\t' -v n="$name" '$2 == "drop" { print n, $1, $3 }' >>"$out"
done

if ! diff -u "$here/corpus-tcp.expected" "$out"; then
	echo "FAIL: replay verdicts changed (see the diff above)"
	exit 1
fi
# Every capture that still has drops must be explained.
missing=0
for name in $(awk 'NF == 3 { print $1 }' "$out" | sort -u); do
	if ! grep -q "^## $name" "$here/EXPLAINED.md"; then
		echo "FAIL: drops in $name are not explained in EXPLAINED.md"
		missing=1
	fi
done
[ "$missing" -eq 0 ]
echo "ok: $(grep -c ' {' "$out") captures, $(awk 'NF == 3' "$out" | wc -l) drops, all explained"
