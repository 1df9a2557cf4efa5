#!/bin/sh
# The engine is a pure function of (packet, zone, time): the libraries of
# the core (util, pkt, rules, conntrack, frag, synproxy, engine) must not
# read a clock or touch a socket, and those on the packet's path must not
# print or format: no printf and no snprintf family (events, stats and
# flows leave the engine as structs, src/io formats them; --explain uses
# the bounded moat_fmt of src/util).
# nm -u lists what each library needs from outside; this checks the lists.
# (The rules library reads configuration files and prints the compiled
# form for `moat check --print`: control plane, so stdio is allowed there;
# the synproxy library's secret loader reads a key file for the CLI.)
# usage: core_clean.sh BUILD_SRC_DIR
set -eu
src=$1
clock='clock_gettime|gettimeofday|time|clock|nanosleep|usleep|sleep'
net='socket|bind|connect|accept|listen|send|sendto|sendmsg|sendmmsg|recv|recvfrom|recvmsg|recvmmsg|poll|ppoll|select|epoll_wait|ioctl'
print='printf|fprintf|vfprintf|puts|fputs|fputc|putchar|fwrite|perror|syslog|dprintf|vprintf|vdprintf|vsyslog'
format='snprintf|vsnprintf|sprintf|vsprintf|asprintf|vasprintf|strftime|__snprintf_chk|__vsnprintf_chk|__sprintf_chk|__vsprintf_chk'
fail=0
for lib in util/libmoat_util.a pkt/libmoat_pkt.a rules/libmoat_rules.a \
	   conntrack/libmoat_ct.a frag/libmoat_frag.a synproxy/libmoat_syn.a \
	   engine/libmoat_engine.a; do
	deny="^($clock|$net)\$"
	case $lib in
	rules/*) ;;
	*) deny="^($clock|$net|$print|$format)\$" ;;
	esac
	bad=$(nm -u "$src/$lib" | awk '{ print $2 }' | sed 's/@.*//' |
		grep -E "$deny" | sort -u | tr '\n' ' ' || true)
	if [ -n "$bad" ]; then
		echo "FAIL: $lib needs $bad"
		fail=1
	else
		echo "ok: $lib"
	fi
done
exit $fail
