#!/bin/bash
# HTTP through moat: a page, and the 10 MB file intact (sha256).
#
#   client --- internet --- router --- out0 [moat] in0 --- server (nginx)
. "$(dirname "$0")/lib.sh"
start_moat
page=$(lab exec client curl -s --max-time 3 http://198.18.1.10/) || fail "GET / failed"
case $page in *"hello from 198.18.1.10"*) ;; *) fail "unexpected page: $page" ;; esac
bigfile_ok || fail "10 MB file corrupted or cut"
note "GET / and the 10 MB file (sha256 equal) through moat"
lab ctl stats | sed -n '1,5p;/^port/p' | sed 's/^/  /'
echo "PASS"
