#!/bin/bash
# A client reuses its port while the server still holds the old connection
# (RFC 9293 section 3.10.7.3, RFC 5961 section 4), with real Linux stacks
# on both ends.  The client's RST of the first connection is lost (an
# nftables rule in the client's namespace eats it), so the server keeps it
# ESTABLISHED.  The client then connects again from the same port: its SYN
# lands outside the old window and must pass moat (tcp-syn-reuse); the
# server answers with a challenge ACK of the old connection, the client's
# SYN-SENT stack answers that with a RST at the ACK's number, which closes
# the old connection at the server and at moat, and the client's SYN
# retransmission (Linux sends it at once in this case) opens the new one.  Without this moat
# drops the SYN and the client cannot connect until the old flow expires.
#
#   client :45000 --- router --- out0 [moat] in0 --- server :5201 (python),
#                                                           :80 (nginx)
. "$(dirname "$0")/lib.sh"
start_moat
cat >"$STATE/hold.py" <<'PY'
# Accept one connection at a time, answer "hi", keep it open until the
# peer closes or resets it; report what became of each.
import socket, sys, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("198.18.1.10", 5201))
srv.listen(8)
srv.settimeout(20)
end = time.time() + 25
while time.time() < end:
    try:
        c, peer = srv.accept()
    except socket.timeout:
        break
    c.sendall(b"hi")
    c.settimeout(20)
    try:
        while c.recv(100):
            pass
        print("closed", peer[1], flush=True)
    except ConnectionResetError:
        print("reset", peer[1], flush=True)
    except socket.timeout:
        print("held", peer[1], flush=True)
PY
cat >"$STATE/reuse.py" <<'PY'
# usage: reuse.py first|second PORT (5201: the holding server; 80: nginx)
import socket, struct, sys, time
port = int(sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.100.10", 45000))
s.settimeout(8)
t = time.time()
try:
    s.connect(("198.18.1.10", port))
    if port == 5201:
        assert s.recv(2) == b"hi"
    elif sys.argv[1] == "first":
        s.sendall(b"GET / HTTP/1.1\r\n")  # nginx waits for the rest
    else:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 200")
except (OSError, AssertionError) as e:
    print("connect failed after %.1f s: %r" % (time.time() - t, e))
    sys.exit(1)
print("connected in %.2f s" % (time.time() - t))
if sys.argv[1] == "first":
    # Forget the connection at once: SO_LINGER 0 sends a RST (which the
    # test's nftables rule drops) and leaves no TIME_WAIT behind.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
PY
lab exec server timeout 30 /usr/bin/python3 "$STATE/hold.py" >"$STATE/hold.out" 2>&1 &
srv_pid=$!
sleep 0.5
# Connect from port 45000 to $1, forget it with the RST lost, connect
# again from the same port.
reuse() {
	local first second left
	lab exec client nft -f - <<'NFT' || skip "no nftables in the client namespace"
table inet reuse {
	chain out {
		type filter hook output priority 0;
		tcp sport 45000 tcp flags & (fin | rst) != 0 drop
	}
}
NFT
	first=$(lab exec client /usr/bin/python3 "$STATE/reuse.py" first "$1") ||
		fail "first connection to :$1: $first"
	note "first connection to :$1: $first; its RST lost, the server still holds it"
	lab exec client nft delete table inet reuse
	sleep 0.5
	left=$(lab exec client ss -tan "( sport = :45000 and dport = :$1 )" | sed 1d)
	[ -z "$left" ] || fail "the client still has a socket on port 45000: $left"
	second=$(lab exec client /usr/bin/python3 "$STATE/reuse.py" second "$1") || {
		lab ctl stats | sed 's/^/    /'
		fail "second connection to :$1 from the same port: $second"
	}
	note "second connection from the same port: $second"
}
reuse 5201
sleep 0.5
kill "$srv_pid" 2>/dev/null || true
wait "$srv_pid" 2>/dev/null || true
grep -q "^reset 45000" "$STATE/hold.out" ||
	fail "the server did not see the old connection reset: $(cat "$STATE/hold.out")"
note "server: $(tr '\n' ' ' <"$STATE/hold.out")"
n=$(reason_count tcp-syn-reuse)
[ "$n" -ge 1 ] || fail "moat counted no tcp-syn-reuse"
note "moat: tcp-syn-reuse $n, rule-pass $(reason_count rule-pass)"

# The same through the SYN proxy (cookies always): every number the two
# ends see differs, and the SYN, the server's ACK and the RST are
# translated like any segment.
lab stop-moat >/dev/null
sed 's/syncookies auto/syncookies on/' "$CONF" >"$STATE/cookies.conf"
start_moat "$STATE/cookies.conf"
# The first SYN to a server moat does not know goes through to learn its
# options; from the next one on, cookies.
[ "$(curl_rc http://198.18.1.10/)" = 0 ] || fail "the teaching GET failed"
reuse 80
n=$(reason_count tcp-syn-reuse)
c=$(reason_count syn-cookie-sent)
[ "$n" -ge 1 ] || fail "moat counted no tcp-syn-reuse behind the proxy"
[ "$c" -ge 2 ] || fail "only $c cookie SYN-ACKs: the connections were not proxied"
note "moat: tcp-syn-reuse $n, syn-cookie-sent $c"
echo "PASS"
