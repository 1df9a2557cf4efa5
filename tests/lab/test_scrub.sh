#!/bin/bash
# Scrub through `moat run`: with `max-mss 1000` the server learns a
# clamped MSS from the client's SYN (and the client from the server's
# SYN-ACK); with `min-ttl 100` the server's echo replies leave moat with
# TTL 100 (99 at the client, after the router).
#
#   client --- router --- out0 [moat] in0 --- server (TCP :5201)
. "$(dirname "$0")/lib.sh"
conf=$STATE/scrub.conf
sed 's/^    antispoof on$/    antispoof on\n    max-mss 1000\n    min-ttl 100/' "$CONF" >"$conf"
grep -q '^    max-mss 1000$' "$conf" || fail "could not write $conf"
start_moat "$conf"
cat >"$STATE/mss_srv.py" <<'PY'
import socket, struct, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.1.10", 5201))
s.listen(1)
s.settimeout(10)
c, _ = s.accept()
# TCP_MAXSEG on an accepted socket: the MSS it sends with, bounded by
# what the client's SYN said.
print(c.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG))
c.close()
PY
cat >"$STATE/mss_cli.py" <<'PY'
import socket, time
c = socket.create_connection(("198.18.1.10", 5201), timeout=3)
print(c.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG))
time.sleep(0.3)
c.close()
PY
lab exec server timeout 15 python3 "$STATE/mss_srv.py" >"$STATE/mss_srv.out" &
srv=$!
sleep 0.5
cli=$(lab exec client python3 "$STATE/mss_cli.py")
wait "$srv" || fail "the server saw no connection"
srvmss=$(cat "$STATE/mss_srv.out")
# 1000 less the 12 bytes of timestamps, or 1000 without them.
[ "$srvmss" -le 1000 ] || fail "server's MSS $srvmss, expected at most 1000"
[ "$cli" -le 1000 ] || fail "client's MSS $cli, expected at most 1000"
note "MSS through moat: server $srvmss, client $cli (max-mss 1000)"
ttl=$(lab exec client ping -c 1 -W 1 198.18.1.10 | sed -n 's/.*ttl=\([0-9]*\).*/\1/p')
[ "$ttl" = 99 ] || fail "echo reply TTL '$ttl' at the client, expected 99"
note "echo reply TTL at the client: $ttl (min-ttl 100, one router after moat)"
note "scrub: $(lab ctl stats --json | grep -o '"scrub":{[^}]*}')"
echo "PASS"
