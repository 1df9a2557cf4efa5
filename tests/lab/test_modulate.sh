#!/bin/bash
# Sequence modulation with real stacks: curl fetches the 10 MB file from
# nginx through a `modulate` rule, intact, while the ISN the client sees in
# the server's SYN-ACK is not the one the server chose (captured on both
# sides with tshark).
#
#   client --- internet --- router --- out0 [moat: modulate] in0 --- server
. "$(dirname "$0")/lib.sh"
conf=$STATE/modulate.conf
sed 's|^pass from outside to 198.18.1.10 tcp port 80 synproxy$|pass from outside to 198.18.1.10 tcp port 80 modulate|' \
	"$CONF" >"$conf"
grep -q 'port 80 modulate' "$conf" || fail "could not write the modulate rule"
start_moat "$conf"

# The SYN-ACK's SEQ as each side sees it.
synack='tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack) and port 80'
for role in client server; do
	lab exec "$role" timeout 15 tshark -i eth0 -c 1 -f "$synack" \
		-o tcp.relative_sequence_numbers:FALSE -T fields -e tcp.seq \
		>"$STATE/isn.$role" 2>/dev/null &
	eval "pid_$role=\$!"
done
sleep 2
bigfile_ok || fail "10 MB file corrupted or cut through modulate"
wait "$pid_client" "$pid_server" || true
c=$(cat "$STATE/isn.client")
s=$(cat "$STATE/isn.server")
[ -n "$c" ] && [ -n "$s" ] || fail "no SYN-ACK captured (client '$c', server '$s')"
[ "$c" != "$s" ] || fail "the client saw the server's own ISN $s"
lab ctl flows | grep -q modulate || note "(the flow had already closed)"
note "10 MB intact; server ISN $s seen outside as $c"
echo "PASS"
