/*
 * IP fragments, IPv4 and IPv6: virtual reassembly.
 *
 * A later fragment carries no ports, so nothing after decode can judge it
 * alone.  moat does not rebuild the datagram (pf's scrub, nftables'
 * defrag): it decides the datagram once, on its first fragment, which holds
 * the whole transport header (decode refuses one that does not, RFC 1858
 * 3.1, RFC 7112), and gives every other fragment of the datagram that
 * verdict.  Each fragment leaves exactly as it came, so a bridge needs no
 * refragmenting and the MTU of the far side never matters
 * (doc/fragments.md says why this and not full reassembly).
 *
 * On the packet's path this is the stage after sanity and antispoof:
 *
 *   fragment -> moat_frag_add()
 *     first (offset 0) ... MOAT_FRAG_DECIDE: the engine takes it through
 *                          flows and rules, then moat_frag_decide()
 *     later, decided ..... MOAT_FRAG_PASS / MOAT_FRAG_DROP: as the first
 *     later, undecided ... kept (copied: the engine only borrows frames)
 *                          and dropped from the input as frag-held; when
 *                          the first passes, moat_frag_decide() sends the
 *                          copies out through struct moat_emit
 *
 * Every fragment's bytes are kept until the datagram is complete, so that
 * one overlapping another with different bytes is seen (and with it the
 * datagram refused: a host would reassemble something nobody checked).
 *
 * Memory: two pools allocated by moat_frag_create(), never on the path: N
 * slots of MOAT_FRAG_SLOT_BYTES for fragments and N datagram entries.  When
 * either is empty the oldest datagram is evicted, undecided and refused
 * ones first; moat_frag_tick() times datagrams out.  Nothing here reads a
 * clock: time comes in as @now_ns.
 *
 * Threading: one table per engine (per core); no locking.
 */
#ifndef MOAT_FRAG_H
#define MOAT_FRAG_H

#include <stdbool.h>
#include <stdint.h>

#include "moat/emit.h"
#include "moat/pkt.h"
#include "moat/reason.h"

enum {
	/* Fragments per datagram: pf's PF_FRAG_ENTRY_LIMIT.  A 65535-byte
	 * datagram over IPv6's minimum MTU of 1280 needs 54. */
	MOAT_FRAG_PER_DATAGRAM_MAX = 64,
	/* A slot holds one frame: what the engine can emit again. */
	MOAT_FRAG_SLOT_BYTES = MOAT_EMIT_FRAME_MAX,
	MOAT_FRAG_SLOTS_MIN = 16,
	MOAT_FRAG_SLOTS_MAX = 65536,
	/* Undecided and refused datagrams preferred for eviction among
	 * this many of the oldest. */
	MOAT_FRAG_EVICT_SCAN = 8,
	MOAT_FRAG_EXPIRE_BUDGET = 4096, /* datagrams timed out per tick */
};

struct moat_frag_params {
	uint32_t slots;       /* fragments kept at once, and datagrams */
	uint64_t timeout_ns;  /* from a datagram's first fragment seen */
	uint8_t seed[16];     /* SipHash key of the datagram table */
};

struct moat_frag;

/* Returns NULL (errno set) on a bad size or no memory. */
struct moat_frag *moat_frag_create(const struct moat_frag_params *par);
void moat_frag_destroy(struct moat_frag *f); /* accepts NULL */

/* Reload: a new timeout; the pools keep the size they were created with. */
void moat_frag_set_timeout(struct moat_frag *f, uint64_t timeout_ns);

enum moat_frag_action {
	MOAT_FRAG_DECIDE = 0, /* the first fragment: decide it, then report */
	MOAT_FRAG_PASS = 1,   /* follows its first fragment's pass */
	MOAT_FRAG_DROP = 2,   /* dropped, for ->reason */
};

struct moat_frag_verdict {
	uint8_t action;            /* enum moat_frag_action */
	enum moat_reason reason;   /* PASS: frag-first-passed; DROP: why */
	int rule;                  /* the first fragment's deciding rule */
	bool log;                  /* ... and whether that rule logs */
	uint32_t datagram;         /* DECIDE, PASS: the datagram's handle
				      (valid until the next add() or tick) */
	uint32_t reach;            /* DECIDE, PASS: the highest end of the
				      fragmentable part seen so far (held
				      fragments included) */
};

/*
 * A fragment (p->frag & MOAT_FRAG_IS, decoded without error) arrived.
 * Fills @v.  The frame is copied when it must be kept; @p is not kept.
 * Drops, with their reasons:
 *   frag-held           later fragment before the first: kept, not lost
 *   frag-first-dropped  the first fragment was dropped
 *   frag-duplicate      the same offset, length and bytes again
 *   frag-overlap        overlaps with other bytes (IPv4), overlaps at all
 *                       (IPv6, RFC 5722), or disagrees about where the
 *                       datagram ends; the datagram is refused from then
 *   frag-too-many       more than MOAT_FRAG_PER_DATAGRAM_MAX; refused too
 *   frag-pool-full      no slot could be had (or the frame exceeds one)
 *   frag-timeout        its datagram timed out already
 */
void moat_frag_add(struct moat_frag *f, const struct moat_pkt *p,
		   uint64_t now_ns, struct moat_frag_verdict *v);

/* How the first fragment of a datagram ended. */
struct moat_frag_decision {
	bool pass;
	int rule;
	bool log;
	int16_t out_zone;          /* where its held fragments leave */
};

/*
 * Report the verdict of the first fragment that moat_frag_add() answered
 * with MOAT_FRAG_DECIDE (@datagram from its verdict), before the next call
 * to moat_frag_add().  On a pass the fragments held for it go out through
 * @out in offset order (those that find it full leave with a later tick).
 * Returns how many were emitted.
 */
uint32_t moat_frag_decide(struct moat_frag *f, uint32_t datagram,
			  const struct moat_frag_decision *d,
			  struct moat_emit *out);

/*
 * Time datagrams out (their held fragments are lost; the datagram stays
 * one more timeout as a marker, so its stragglers are dropped as
 * frag-timeout rather than held again), and send held fragments that an
 * earlier emit buffer had no room for.  Returns how many were emitted.
 */
uint32_t moat_frag_tick(struct moat_frag *f, uint64_t now_ns,
			struct moat_emit *out);

struct moat_frag_stats {
	uint32_t datagrams, datagram_capacity; /* entries in use, all */
	uint32_t slots, slot_capacity;         /* fragments kept, all */
	uint32_t held;                         /* awaiting their first */
	uint64_t released;       /* held fragments sent once the first passed */
	uint64_t held_lost;      /* held fragments that never could be sent */
	uint64_t timed_out;      /* datagrams that timed out incomplete */
	uint64_t evicted;        /* datagrams evicted for room */
	uint64_t completed;      /* passed datagrams seen whole */
	uint64_t bytes;          /* memory of the table */
};
void moat_frag_get_stats(const struct moat_frag *f,
			 struct moat_frag_stats *st);

#endif
