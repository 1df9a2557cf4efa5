/*
 * The defaults of moat.conf(5)'s `options { }`, in one place: what an
 * option is when the configuration does not name it.  The parser
 * (moat_options_defaults), conntrack (moat_ct_params_default) and the SYN
 * proxy's flood detector (moat_syn_mode_params_default) all take their
 * values from here, and moat.conf(5) states them; the test rules-defaults
 * (tests/unit/rules/defaults.sh) fails when the man page or any of those
 * three says something else.
 *
 * Header-only and freestanding (no libc; only moat/syncookies.h, itself
 * freestanding), so that the XDP program of the fast path can include it
 * and size and tune its maps as the engine does.
 *
 * An option whose value is a word is given as the truth of one of its
 * words (MOAT_DEFAULT_POLICY_PASS 0: drop), so the value does not depend
 * on how enums elsewhere number their words.
 */
#ifndef MOAT_DEFAULTS_H
#define MOAT_DEFAULTS_H

#include "moat/syncookies.h"

enum moat_default {
	/* policy drop: default deny, the first promise of doc/design.md
	 * (only what a rule names is reachable). */
	MOAT_DEFAULT_POLICY_PASS = 0,

	/* syncookies auto, the hybrid mode: state (and the server's own
	 * SYN-ACK retransmissions) while calm, cookies only under flood,
	 * where their cost (options lost without timestamps, a lost final
	 * ACK) is worth paying (doc/synproxy.md). */
	MOAT_DEFAULT_SYNCOOKIES = MOAT_SYNCOOKIES_AUTO,

	/* syncookies-threshold 64: half the lab server's listen backlog of
	 * 128, so cookies start before the server's own queue overflows. */
	MOAT_DEFAULT_SYNCOOKIES_THRESHOLD = 64,

	/* syncookies-rate 1000 SYNs a second to one destination: more than
	 * the honest clients of one small service open in a second, far
	 * less than a flood sends. */
	MOAT_DEFAULT_SYNCOOKIES_RATE = 1000,

	/* syncookies-quiet 10 s: longer than a flood's usual pauses (so
	 * the mode does not flap), shorter than a client's patience. */
	MOAT_DEFAULT_SYNCOOKIES_QUIET = 10,

	/* antispoof on: BCP 38 costs nothing when the zones are right, and
	 * forged inside sources are exactly what blind spoofing needs. */
	MOAT_DEFAULT_ANTISPOOF = 1,

	/* max-flows 262144: 32 MiB of flow entries (128 bytes each), room
	 * for a busy server's connections and a flood's half-open ones
	 * (evicted first) on a small gateway. */
	MOAT_DEFAULT_MAX_FLOWS = 262144,

	/* pickup off: only a SYN creates TCP state, so a blind ACK cannot
	 * open a flow; `loose` is for taking over a running gateway. */
	MOAT_DEFAULT_PICKUP_LOOSE = 0,

	/* Timeouts, seconds.  tcp.opening 30, tcp.established 24 h and
	 * tcp.closing 15 min are pf(4)'s. */
	MOAT_DEFAULT_TIMEOUT_TCP_OPENING = 30,
	MOAT_DEFAULT_TIMEOUT_TCP_ESTABLISHED = 86400,
	MOAT_DEFAULT_TIMEOUT_TCP_CLOSING = 900,
	/* tcp.timewait 60: long enough for the last ACK's retransmissions,
	 * shorter than pf's tcp.closed 90 s so that a flood of short
	 * connections frees slots sooner. */
	MOAT_DEFAULT_TIMEOUT_TCP_TIMEWAIT = 60,
	/* udp.first 60, udp.multiple 120, icmp 20: pf's. */
	MOAT_DEFAULT_TIMEOUT_UDP_FIRST = 60,
	MOAT_DEFAULT_TIMEOUT_UDP_MULTIPLE = 120,
	MOAT_DEFAULT_TIMEOUT_ICMP = 20,
	/* other 600 (GRE, ESP, SCTP...): Linux conntrack's generic
	 * timeout; tunnels go quiet for longer than pf's 60 s. */
	MOAT_DEFAULT_TIMEOUT_OTHER = 600,

	/* rst-check exact: RFC 5961 section 3.2, a blind RST must guess
	 * the exact SEQ instead of any in the window. */
	MOAT_DEFAULT_RST_EXACT = 1,

	/* checksum verify: a bad checksum is a damaged or crafted packet,
	 * and moat's own checks read fields a checksum protects. */
	MOAT_DEFAULT_CHECKSUM_VERIFY = 1,

	/* detect off (and no block): the detector keeps two extra tables
	 * and its alerts need a reader; only encryption cures hijacking. */
	MOAT_DEFAULT_DETECT_HIJACK = 0,
	MOAT_DEFAULT_HIJACK_BLOCK = 0,

	/* nonip pass: a bridge that drops ARP cuts the hosts behind it off;
	 * moat filters IP. */
	MOAT_DEFAULT_NONIP_PASS = 1,

	/* log off: events are counted either way; logging them is asked. */
	MOAT_DEFAULT_LOG = 0,

	/* frag-max 1024: 1024 fragments of at most one 1600-byte frame each
	 * is about 2 MiB, room for some 300 datagrams of a 4000-byte DNS
	 * answer in flight at once.  frag-timeout 30: Linux's ipfrag_time
	 * (RFC 8200 section 4.5 allows up to 60, pf uses 60). */
	MOAT_DEFAULT_FRAG_MAX = 1024,
	MOAT_DEFAULT_FRAG_TIMEOUT = 30,

	/* Scrub off (max-mss off, min-ttl off, random-id off, tcp-reserved
	 * keep): each rewrites what the ends sent, which an administrator
	 * asks for knowingly, as in pf. */
	MOAT_DEFAULT_MAX_MSS = 0,
	MOAT_DEFAULT_MIN_TTL = 0,
	MOAT_DEFAULT_RANDOM_ID = 0,
	MOAT_DEFAULT_TCP_RESERVED_CLEAR = 0,

	/* io auto (enum moat_opt_io 0): AF_XDP where the driver has native
	 * XDP, else AF_PACKET, saying why; the fastest that works. */
	MOAT_DEFAULT_IO = 0,

	/* xdp off (enum moat_xdp_mode 0): the XDP fast path answers SYNs
	 * without the rules' per-source limits (doc/synproxy.md), so it is
	 * asked for, not assumed. */
	MOAT_DEFAULT_XDP = 0,
};

#endif
