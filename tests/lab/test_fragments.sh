#!/bin/bash
# IP fragments through `moat run` (virtual reassembly, doc/fragments.md):
# UDP datagrams and pings larger than the 1500-byte MTU, cut by their
# senders, arrive whole both ways; the fragments of a datagram no rule
# passes are dropped, their reasons in `moat ctl stats`.  IPv4 only: the
# lab (scripts/lab) has no IPv6 addresses yet; the IPv6 paths are covered
# by tests/unit/engine/test_frag.c.
#
#   client 198.18.100.10 --- router --- out0 [moat] in0 --- server 198.18.1.10
#     asks 5353 (passed) and 5354 (not passed)      answers 5353 with 4000 bytes
. "$(dirname "$0")/lib.sh"
start_moat
cat >"$STATE/frag_srv.py" <<'PY'
import select, socket, time
socks = []
for port in (5353, 5354):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.18.1.10", port))
    socks.append(s)
end = time.time() + 20
while time.time() < end:
    r, _, _ = select.select(socks, [], [], 0.5)
    for s in r:
        data, peer = s.recvfrom(65535)
        # The answer: 4000 bytes (fragmented by this host's IP layer)
        # that say how much of the question arrived.
        body = ("got %d;" % len(data)).encode()
        s.sendto(body + bytes((i * 7) & 0xff for i in range(4000 - len(body))), peer)
PY
cat >"$STATE/frag_ask.py" <<'PY'
import socket, sys
port, size = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.5)
s.sendto(b"q" * size, ("198.18.1.10", port))
try:
    data = s.recvfrom(65535)[0]
    head, _, rest = data.partition(b";")
    ok = len(data) == 4000 and all(
        rest[i] == (i * 7) & 0xff for i in range(len(rest)))
    print("%s len %d %s" % (head.decode(), len(data), "intact" if ok else "CORRUPT"))
except socket.timeout:
    print("timeout")
PY
lab exec server timeout 25 python3 "$STATE/frag_srv.py" &
srv=$!
sleep 0.5

# A small question, an answer of 4000 bytes (3 fragments) back.
a=$(lab exec client python3 "$STATE/frag_ask.py" 5353 32)
[ "$a" = "got 32 len 4000 intact" ] || fail "UDP 4000-byte answer: '$a'"
note "4000-byte UDP answer arrived whole: $a"
# A question of 3000 bytes (fragmented by the client) and the answer.
b=$(lab exec client python3 "$STATE/frag_ask.py" 5353 3000)
[ "$b" = "got 3000 len 4000 intact" ] || fail "UDP 3000-byte question: '$b'"
note "3000-byte UDP question arrived whole: $b"

# ping -s 3000 both ways (echo requests and replies in fragments).
lab exec client ping -c 3 -i 0.3 -W 1 -s 3000 198.18.1.10 >"$STATE/ping1" 2>&1 ||
	{ cat "$STATE/ping1"; fail "ping -s 3000 client -> server"; }
lab exec server ping -c 3 -i 0.3 -W 1 -s 3000 198.18.100.10 >"$STATE/ping2" 2>&1 ||
	{ cat "$STATE/ping2"; fail "ping -s 3000 server -> client"; }
note "ping -s 3000: $(grep -o '[0-9]* received' "$STATE/ping1") client->server," \
	"$(grep -o '[0-9]* received' "$STATE/ping2") server->client"

passed=$(reason_count frag-first-passed)
[ "$passed" -ge 4 ] || fail "frag-first-passed is $passed, expected fragments passed"

# 5354: no rule passes it; its first fragment is dropped by the policy,
# the others follow it as frag-first-dropped (or were held, frag-held).
before=$(( $(reason_count frag-first-dropped) + $(reason_count frag-held) ))
c=$(lab exec client python3 "$STATE/frag_ask.py" 5354 3000)
[ "$c" = "timeout" ] || fail "UDP 5354 (not passed): '$c', expected no answer"
after=$(( $(reason_count frag-first-dropped) + $(reason_count frag-held) ))
[ "$after" -gt "$before" ] || fail "no fragment of the refused datagram counted"
kill "$srv" 2>/dev/null || true
wait "$srv" 2>/dev/null || true
note "refused datagram: $(lab ctl stats | grep -E '^reason (frag|policy-drop)' | tr '\n' ' ')"
note "frag table: $(lab ctl stats --json | grep -o '"frag":{[^}]*}')"
echo "PASS"
