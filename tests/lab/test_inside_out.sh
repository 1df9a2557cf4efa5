#!/bin/bash
# The inside may connect out (`pass from inside`), and the replies come
# back by state: the server fetches a page from a web server on the client.
#
#   server ---> in0 [moat] out0 ---> router ---> client :8000 (python http.server)
. "$(dirname "$0")/lib.sh"
start_moat
mkdir -p "$STATE/clientwww"
echo "hello from the client" >"$STATE/clientwww/index.html"
lab exec client timeout 20 python3 -m http.server --bind 198.18.100.10 \
	--directory "$STATE/clientwww" 8000 >/dev/null 2>&1 &
srv=$!
for i in $(seq 30); do
	lab exec client sh -c 'exec 3<>/dev/tcp/198.18.100.10/8000' 2>/dev/null && break
	sleep 0.1
done
out=$(lab exec server curl -s --max-time 3 http://198.18.100.10:8000/) || true
kill "$srv" 2>/dev/null || true
wait "$srv" 2>/dev/null || true
[ "$out" = "hello from the client" ] || fail "inside could not connect out: '$out'"
# And the outside cannot open the same port towards the inside.
rc=$(curl_rc http://198.18.1.10:8000/ 2)
[ "$rc" != 0 ] || fail "outside reached the inside's port 8000"
# The router's own address is outside, not a spoofed inside one.
lab exec server ping -q -c 2 -W 1 198.18.1.1 >/dev/null || fail "server cannot ping the router"
note "server -> client:8000 works; client -> server:8000 blocked (curl $rc)"
echo "PASS"
