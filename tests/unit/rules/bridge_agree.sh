#!/bin/sh
# `moat check --bridge` and `moat run` refuse the same configurations with
# the same words (both ask moat_config_bridge_ports), and plain `moat
# check` only warns.  usage: bridge_agree.sh MOAT GOLDEN_DIR
# run stops at its configuration, before any socket: no root needed.
set -eu
moat=$1 dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "$dir"/bridge-none.conf "$dir"/bridge-one.conf "$dir"/bridge-three.conf; do
	"$moat" check -c "$f" 2>"$tmp/warn" >/dev/null ||
		{ echo "FAIL: moat check -c $f exits non-zero"; exit 1; }
	grep -q ': warning: not runnable as a bridge' "$tmp/warn" ||
		{ echo "FAIL: no bridge warning for $f"; cat "$tmp/warn"; exit 1; }
	if "$moat" check --bridge -c "$f" 2>"$tmp/check" >/dev/null; then
		echo "FAIL: moat check --bridge accepts $f"; exit 1
	fi
	if "$moat" run -c "$f" -s "$tmp/sock" 2>"$tmp/run" >/dev/null; then
		echo "FAIL: moat run accepts $f"; exit 1
	fi
	grep ': error: not runnable' "$tmp/check" >"$tmp/c"
	sed -n 's/^moat run: //p' "$tmp/run" | grep ': error: not runnable' >"$tmp/r" || true
	[ -s "$tmp/c" ] && cmp -s "$tmp/c" "$tmp/r" ||
		{ echo "FAIL: check and run differ on $f:"; cat "$tmp/c" "$tmp/run"; exit 1; }
	sed 's/^/ok: /' "$tmp/c"
done
# A bridge configuration draws no such word from check --bridge.
"$moat" check --bridge -c "$dir"/design.conf >/dev/null 2>"$tmp/check"
! grep -q 'not runnable' "$tmp/check"
