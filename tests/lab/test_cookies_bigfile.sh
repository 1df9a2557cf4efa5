#!/bin/bash
# With `syncookies on` every connection goes through moat's SYN proxy
# (cookie handshake, then sequence translation for the whole flow): the
# 10 MB file must arrive intact, with the client's TCP timestamps on and
# with them off (the cookie then carries no timestamp-encoded options).
#
#   client --- router --- out0 [moat: syncookies on, proxy] in0 --- server
. "$(dirname "$0")/lib.sh"
start_moat
lab ctl syncookies on >/dev/null
# The proxy lets the first SYN to a server through to learn its options
# (MSS, window scale, SACK, timestamps); the fetches after it are proxied.
lab exec client curl -s -o /dev/null --max-time 3 http://198.18.1.10/ || fail "GET /"
lab exec client sysctl -qw net.ipv4.tcp_timestamps=1
bigfile_ok || fail "10 MB file with timestamps: corrupted or cut"
lab exec client sysctl -qw net.ipv4.tcp_timestamps=0
bigfile_ok || fail "10 MB file without timestamps: corrupted or cut"
n=$(reason_count syn-cookie-sent)
[ "$n" -ge 2 ] || fail "syn-cookie-sent $n: the proxy did not answer"
note "10 MB intact with and without timestamps; syn-cookie-sent $n"
echo "PASS"
