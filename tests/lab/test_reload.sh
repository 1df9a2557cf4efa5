#!/bin/bash
# Reload under traffic: a rate-limited 10 MB transfer (about 5 s) goes on
# across 20 reloads (SIGHUP and `moat ctl reload` in turn) and arrives
# intact; a configuration with an error is refused and the old rules stay.
#
#   client --- router --- out0 [moat, reloaded 20 times] in0 --- server
. "$(dirname "$0")/lib.sh"
cp "$CONF" "$STATE/moat.conf"
start_moat "$STATE/moat.conf"
want=$(cat "$STATE/big.sha256")
lab exec client curl -s --max-time 30 --limit-rate 2M \
	http://198.18.1.10/big.bin -o "$STATE/got.bin" &
cp=$!
sleep 0.3
for i in $(seq 20); do
	if [ $((i % 2)) = 0 ]; then
		kill -HUP "$(cat "$STATE/moat.pid")"
	else
		lab ctl reload >/dev/null || fail "reload $i failed"
	fi
	sleep 0.2
done
wait "$cp" || fail "the transfer broke during the reloads (curl $?)"
[ "$(sha256sum <"$STATE/got.bin" | cut -d' ' -f1)" = "$want" ] ||
	fail "file corrupted across reloads"
r=$(lab ctl stats | awk '$1 == "reloads" { print $2 }')
[ "$r" -ge 20 ] || fail "only $r reloads counted"
# A broken configuration: refused, the old rules keep working.
echo "pass from outside to 198.18.1.10 tcp port bogus" >>"$STATE/moat.conf"
if lab ctl reload 2>"$STATE/reload.err"; then fail "a broken config was accepted"; fi
grep -q "moat.conf:" "$STATE/reload.err" || fail "no FILE:LINE:COL error: $(cat "$STATE/reload.err")"
[ "$(curl_rc http://198.18.1.10/)" = 0 ] || fail "old rules lost after a failed reload"
note "10 MB intact across $r reloads; broken config refused: $(head -1 "$STATE/reload.err")"
echo "PASS"
