#!/bin/sh
# Decode every capture of the corpus (tests/corpus) with `moat decode
# --verify-checksums` and check, for each file:
#   - no crash (exit 0, or 1 with a message when libpcap refuses the file or
#     finds it damaged part-way; a sanitizer report anywhere fails),
#   - every line is a packet line or a "# " summary line, and there are as
#     many packet lines as the summary counts,
#   - every refusal names a real reason (not "none", not "?").
# Files libpcap itself refuses are skipped and counted.
#
# usage: test_corpus.sh MOAT CORPUS_DIR
set -eu

moat=$1
corpus=$2
[ -x "$moat" ] || { echo "test_corpus: $moat is not executable" >&2; exit 1; }
[ -d "$corpus" ] || { echo "test_corpus: no corpus at $corpus" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

files=0 read_ok=0 skipped=0 damaged=0 packets=0 refused=0 failed=0

fail() {
	echo "FAIL $1: $2"
	failed=$((failed + 1))
}

check_lines() {
	f=$1
	# Packet lines: INDEX TS VIEW or INDEX TS REFUSED REASON: VIEW.
	bad=$(grep -v -E '^# |^[0-9]+ [0-9]+\.[0-9]{9} ' "$tmp/out" | head -1)
	[ -z "$bad" ] || fail "$f" "unexpected line: $bad"
	n=$(grep -c -E '^[0-9]+ ' "$tmp/out" || true)
	want=$(sed -n 's/^# packets \([0-9]*\),.*/\1/p' "$tmp/out")
	[ "$n" = "$want" ] || fail "$f" "$n packet lines, summary says $want"
	r=$(grep -c ' REFUSED ' "$tmp/out" || true)
	named=$(grep -c -E '^[0-9]+ [^ ]+ REFUSED [a-z0-9]+(-[a-z0-9]+)*: ' \
		"$tmp/out" || true)
	[ "$r" = "$named" ] || fail "$f" "$((r - named)) refusals without a reason"
	if grep -q -E ' REFUSED (none|\?):' "$tmp/out"; then
		fail "$f" "refusal with reason none/?"
	fi
	packets=$((packets + n))
	refused=$((refused + r))
}

for f in $(find "$corpus" -type f \( -name '*.pcap' -o -name '*.pcapng' \
		-o -name '*.cap' -o -name '*.trace' \) | sort); do
	files=$((files + 1))
	rc=0
	"$moat" decode --verify-checksums "$f" >"$tmp/out" 2>"$tmp/err" || rc=$?
	if grep -q -E 'Sanitizer|runtime error|LeakSanitizer' "$tmp/err"; then
		fail "$f" "sanitizer report"
		sed -n 1,20p "$tmp/err"
		continue
	fi
	case $rc in
	0)
		read_ok=$((read_ok + 1))
		check_lines "$f"
		;;
	1)
		if grep -q 'cannot read capture' "$tmp/err"; then
			skipped=$((skipped + 1))
			echo "skip (libpcap refuses) ${f#"$corpus"/}: $(cat "$tmp/err")"
		elif grep -q 'damaged capture' "$tmp/err"; then
			damaged=$((damaged + 1))
			check_lines "$f"
		else
			fail "$f" "exit 1 without a clear message"
		fi
		;;
	*)
		fail "$f" "exit status $rc"
		;;
	esac
done

echo "corpus: $files files, $read_ok read, $damaged damaged part-way," \
	"$skipped refused by libpcap; $packets packets, $refused refused" \
	"by decode; $failed failures"
[ "$files" -gt 0 ] || { echo "FAIL: no captures found"; exit 1; }
[ "$failed" -eq 0 ]
