#!/bin/sh
# The SYN proxy's decision header, the cookie core and moat/defaults.h must
# compile where the XDP fast path includes them: clang's BPF target,
# freestanding, with only the
# compiler's own headers (stdint.h, stdbool.h).  clang is a build
# dependency (scripts/packages.txt), so its absence fails.
# usage: decide_bpf.sh INCLUDE_DIR SOURCE
set -eu
inc=$1
src=$2
out=$(mktemp /tmp/moat-decide-bpf.XXXXXX)
trap 'rm -f "$out"' EXIT
res=$(clang -print-resource-dir)
clang -target bpf -O2 -std=c11 -Wall -Wextra -Werror -ffreestanding \
	-nostdinc -isystem "$res/include" -I "$inc" -c "$src" -o "$out"
echo "moat/syn_decide.h, moat/cookie_core.h and moat/defaults.h compile for the BPF target"
