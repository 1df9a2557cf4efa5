#!/bin/bash
# The control socket: stats (text and JSON), metrics in Prometheus text
# format, flows, a bad command, socket mode 0600; `log` rules land in the
# --pcap-log file, which tshark reads.
#
#   client --- router --- out0 [moat -s SOCK --pcap-log F] in0 --- server
. "$(dirname "$0")/lib.sh"
start_moat "$CONF" --pcap-log "$STATE/logged.pcap"
[ "$(stat -c %a "$STATE/moat.sock")" = 600 ] || fail "socket mode $(stat -c %a "$STATE/moat.sock")"
lab exec client curl -s -o /dev/null --max-time 3 http://198.18.1.10/ || fail "GET /"
# rsh (514) is blocked with `log`.
curl_rc http://198.18.1.10:514/ 1 >/dev/null
lab ctl stats | grep -q '^packets [1-9]' || fail "stats: no packets"
lab ctl stats --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["packets"] > 0' ||
	fail "stats --json is not valid JSON"
lab ctl metrics | grep -q '^moat_packets_total{verdict="pass"} [1-9]' || fail "metrics"
lab ctl flows >/dev/null || fail "flows"
# Filtered: the rsh attempt was blocked (no flow), the GET's flow is there.
lab ctl flows dst 198.18.1.10 dport 80 proto tcp | grep -q '198.18.1.10:80 ' ||
	fail "flows dst 198.18.1.10 dport 80 lists nothing"
[ -z "$(lab ctl flows dport 514)" ] || fail "a flow to the blocked rsh port"
lab ctl flows dport 80 --json | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert rows and all(r["dest_port"] == 80 and r["community_id"].startswith("1:")
                    for r in rows), rows' || fail "flows --json"
# The SYN proxy's mode per protected destination: the GET's SYN was seen.
lab ctl stats --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert any(s["dst"] == "198.18.1.10" and s["port"] == 80
           for s in d["engine"]["synproxy"]), d["engine"]["synproxy"]' ||
	fail "stats --json has no SYN proxy mode for 198.18.1.10:80"
if lab ctl bogus 2>/dev/null; then fail "a bogus command succeeded"; fi
lab stop-moat >/dev/null
# SIGTERM: a clean stop that prints the counters and logs it.
grep -q '^packets [1-9]' "$STATE/moat.out" || fail "no counters printed at stop"
grep -q '"moat":{"what":"stop"' "$STATE/events.jsonl" || fail "no stop in the event log"
python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    assert e["timestamp"] and e["event_type"], e' "$STATE/events.jsonl" ||
	fail "the event log is not JSON lines of the event schema"
n=$(tshark -r "$STATE/logged.pcap" 2>/dev/null | wc -l)
[ "$n" -ge 1 ] || fail "no frame in the pcap log"
note "stats, stats --json, metrics, flows answer; $n logged frames readable by tshark"
echo "PASS"
