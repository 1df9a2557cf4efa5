/*
 * The SYN proxy's one decision: what happens to a SYN that a `synproxy`
 * rule passed.  Tracked to the server (state mode), answered with a
 * cookie, or dropped unanswered because the gateway sheds load.
 *
 * The decision is a pure function, moat_syn_decision(), of three inputs,
 * all plain data:
 *
 *   - the destination's record in the flood detector's table
 *     (struct moat_syn_dst_state, layout below): is it flooded;
 *   - whether the server's TCP options still have to be learned, and no
 *     SYN went to it for that in the last second (backend.c);
 *   - the question the engine asks (struct moat_syn_question): the mode in
 *     force for this SYN (`moat ctl syncookies`, else the rule's
 *     `syncookies`, else the options'), whether the I/O side sheds load,
 *     and whether the source completed a handshake through moat before.
 *
 * moat_syn_decide() (moat/syn_proxy.h) is the one call the engine makes:
 * it counts the SYN in the destination's record, applies the hysteresis,
 * reads the server's learning state, and returns this function's answer.
 *
 * Header-only and self-contained (only <stdbool.h>, <stdint.h> and
 * moat/syncookies.h), so that the XDP program of the fast path can include
 * it, keep the same records in a map, and ask the same question of the
 * same state; its answers are tested against the engine's.
 */
#ifndef MOAT_SYN_DECIDE_H
#define MOAT_SYN_DECIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "moat/syncookies.h"

/* What happens to the SYN.  The values are stable (maps, traces). */
enum moat_syn_decision {
	/* State mode: the SYN goes to the server and conntrack tracks it;
	 * the server retransmits its own SYN-ACK, nothing is lost. */
	MOAT_SYN_TRACK = 0,
	/* Cookie mode, but the server's options are not learned yet: this
	 * one SYN goes to the server as in state mode, so that its SYN-ACK
	 * teaches them (at most one a second per server). */
	MOAT_SYN_PROBE = 1,
	/* Answer with a cookie SYN-ACK; the SYN is dropped, no state kept. */
	MOAT_SYN_COOKIE = 2,
	/* Shedding load and the source never completed a handshake through
	 * moat: dropped unanswered (reason syn-shed). */
	MOAT_SYN_SHED = 3,
};

/*
 * A protected destination (address, port): the key of a detector record.
 *
 *   offset  size  field
 *        0    16  addr    network order; IPv4 as ::ffff:a.b.c.d
 *       16     2  port    host order
 *       18     1  family  4 or 6; 0: the slot is empty
 *       19     1  pad     0
 */
struct moat_syn_dst_key {
	uint8_t addr[16];
	uint16_t port;
	uint8_t family;
	uint8_t pad;
};

/*
 * The flood detector's state of one destination.  Written by the engine's
 * detector (src/synproxy/mode.c) only; the decision reads `cookies`.
 *
 *   offset  size  field
 *        0     1  cookies    1: flooded, SYNs under `auto` get cookies
 *        1     1  quiet      1: under half of both thresholds since
 *                            quiet_ns (on the way back to state mode)
 *        2     2  pad        0
 *        4     4  half_open  handshakes passed to the server (TRACK,
 *                            PROBE) that have not completed yet
 *        8     4  syn_cur    SYNs counted in second syn_sec
 *       12     4  syn_prev   SYNs counted in second syn_sec - 1
 *       16     8  syn_sec    the second syn_cur counts (time_ns / 10^9)
 *       24     8  quiet_ns   when the quiet period began
 *       32     8  last_ns    the last SYN (the oldest way is evicted)
 *
 * The SYN rate is a sliding second: syn_prev weighted by the part of the
 * previous second still inside the window, plus syn_cur.  Switch to
 * cookies at half_open >= H or rate >= R; back after quiet_s seconds
 * under H/2 and R/2 (H, R, quiet_s: options syncookies-threshold,
 * syncookies-rate, syncookies-quiet).
 */
struct moat_syn_dst_state {
	uint8_t cookies;
	uint8_t quiet;
	uint16_t pad;
	uint32_t half_open;
	uint32_t syn_cur;
	uint32_t syn_prev;
	uint64_t syn_sec;
	uint64_t quiet_ns;
	uint64_t last_ns;
};

/*
 * One slot of the detector's table: 64 bytes, one cache line.  The table
 * is sets x MOAT_SYN_DST_WAYS slots, sets a power of two; a destination
 * lives in set (syn_hash_dst(seed, addr, port) & (sets - 1)), in any of
 * its ways (src/synproxy/hash.c, mode.c).
 *
 *   offset  size  field
 *        0    20  key
 *       20     4  pad   0
 *       24    40  st
 */
enum { MOAT_SYN_DST_WAYS = 4 };

struct moat_syn_dst_slot {
	struct moat_syn_dst_key key;
	uint32_t pad;
	struct moat_syn_dst_state st;
};

_Static_assert(sizeof(struct moat_syn_dst_key) == 20, "key layout");
_Static_assert(sizeof(struct moat_syn_dst_state) == 40, "state layout");
_Static_assert(sizeof(struct moat_syn_dst_slot) == 64, "slot layout");

/* What the engine knows of a SYN beyond its destination. */
struct moat_syn_question {
	uint8_t mode;       /* enum moat_syncookies_mode in force */
	uint8_t shed;       /* 1: the I/O side sheds load */
	uint8_t src_known;  /* 1: the source completed a handshake through
			       moat before; read only when shed is 1 */
	uint8_t pad;
};

/*
 * The decision over that state.  @dst is the destination's record, NULL
 * when the detector has none (never flooded); @probe_due: the server's
 * options are unknown and no SYN went to it to learn them in the last
 * MOAT_SYN_PROBE_NS.
 *
 *   mode   flooded  probe_due  shed  src_known  ->  decision
 *   off    any      any        any   any            TRACK
 *   auto   no       any        any   any            TRACK
 *   auto   yes      yes        any   any            PROBE
 *   on     any      yes        any   any            PROBE
 *   auto   yes      no         no    any            COOKIE
 *   on     any      no         no    any            COOKIE
 *   auto   yes      no         yes   yes            COOKIE
 *   on     any      no         yes   yes            COOKIE
 *   auto   yes      no         yes   no             SHED
 *   on     any      no         yes   no             SHED
 *
 * A mode outside the enum is taken as auto (the detector decides).
 */
static inline enum moat_syn_decision
moat_syn_decision(const struct moat_syn_dst_state *dst, bool probe_due,
		  const struct moat_syn_question *q)
{
	bool cookies;

	if (q->mode == MOAT_SYNCOOKIES_OFF)
		cookies = false;
	else if (q->mode == MOAT_SYNCOOKIES_ON)
		cookies = true;
	else
		cookies = dst && dst->cookies;
	if (!cookies)
		return MOAT_SYN_TRACK;
	if (probe_due)
		return MOAT_SYN_PROBE;
	if (q->shed && !q->src_known)
		return MOAT_SYN_SHED;
	return MOAT_SYN_COOKIE;
}

#endif
