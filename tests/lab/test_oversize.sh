#!/bin/bash
# Super-frames are never dropped silently: with TSO/GSO turned back on at
# the server, its veth hands moat frames far larger than the MTU, which
# cannot be sent out of out0; moat counts every one (oversize) in
# `moat ctl stats`.  (Their partial checksums, TX offload being on, are
# completed by moat first, as the NIC would have.)
#
#   client --- router --- out0 [moat] in0 --- server (TSO/GSO on: 64 KB frames)
. "$(dirname "$0")/lib.sh"
start_moat
lab exec server ethtool -K eth0 tx on sg on tso on gso on >/dev/null 2>&1 ||
	skip "cannot turn TSO on for a veth"
# A veth whose peer runs XDP (moat's AF_XDP on in0) has TSO fixed off: the
# kernel segments before the wire, so no super-frame can reach moat.
if lab exec server ethtool -k eth0 | grep -q 'tcp-segmentation: off \[fixed\]'; then
	skip "TSO is fixed off on a veth whose peer runs XDP (io $MOAT_IO): no super-frames to count"
fi
lab exec client curl -s -o /dev/null --max-time 3 http://198.18.1.10/big.bin || true
n=$(lab ctl stats | awk '$1 == "port" && $2 == "out0" { for (i = 3; i < NF; i++) if ($i == "oversize") print $(i + 1) }')
[ "${n:-0}" -gt 0 ] || { lab ctl stats | sed 's/^/    /'; fail "no oversize frame counted"; }
note "super-frames from the server counted, not sent: oversize $n at out0"
echo "PASS"
