#!/bin/bash
# UDP per the rules: 5353 passes (and its reply comes back by state),
# 5354 is not passed and gets no answer.
#
#   client --- router --- out0 [moat] in0 --- server (UDP echo :5353 :5354)
. "$(dirname "$0")/lib.sh"
start_moat
cat >"$STATE/udp_echo.py" <<'PY'
import select, socket, sys, time
socks = []
for port in (5353, 5354):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.18.1.10", port))
    socks.append(s)
end = time.time() + 15
while time.time() < end:
    r, _, _ = select.select(socks, [], [], 0.5)
    for s in r:
        data, peer = s.recvfrom(2048)
        s.sendto(b"echo:" + data, peer)
PY
cat >"$STATE/udp_ask.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
s.sendto(b"ping", ("198.18.1.10", int(sys.argv[1])))
try:
    print(s.recvfrom(2048)[0].decode())
except socket.timeout:
    print("timeout")
PY
lab exec server timeout 20 python3 "$STATE/udp_echo.py" &
echo_pid=$!
sleep 0.5
a=$(lab exec client python3 "$STATE/udp_ask.py" 5353)
b=$(lab exec client python3 "$STATE/udp_ask.py" 5354)
kill "$echo_pid" 2>/dev/null || true
wait "$echo_pid" 2>/dev/null || true
[ "$a" = "echo:ping" ] || fail "UDP 5353: '$a', expected the echo"
[ "$b" = "timeout" ] || fail "UDP 5354: '$b', expected no answer"
note "UDP 5353 answered through moat, 5354 dropped"
echo "PASS"
