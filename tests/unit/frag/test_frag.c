/*
 * Virtual reassembly (src/frag) with crafted fragment sequences, IPv4 and
 * IPv6: in order, out of order, duplicates, overlaps with the same and
 * with other bytes, tiny first fragments, datagrams past 65535 bytes, too
 * many fragments, time-outs, a full pool and eviction, atomic fragments.
 * Each test names the RFC section whose behaviour it checks.  Time is
 * injected; the packet path is checked not to allocate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "moat/frag.h"
#include "moat/pkt.h"

#include "../alloc_count.h"
#include "frags.h"

#define SEC 1000000000ull

struct t {
	struct moat_frag *f;
	struct moat_emit out;
	uint8_t frame[FR_CAP];
	uint32_t len;
	struct moat_pkt p;
	struct moat_frag_verdict v;
	uint64_t now;
};

static void t_start(struct t *t, uint32_t slots)
{
	struct moat_frag_params par = { slots, 30 * SEC, { 0 } };

	memset(t, 0, sizeof(*t));
	memset(par.seed, 0x42, sizeof(par.seed));
	t->f = moat_frag_create(&par);
	assert_non_null(t->f);
	t->now = 1000 * SEC;
	moat_emit_reset(&t->out);
}

static void t_stop(struct t *t)
{
	moat_frag_destroy(t->f);
}

/* Decode the frame in t->frame and hand it to the table. */
static const struct moat_frag_verdict *t_feed(struct t *t)
{
	assert_int_equal(moat_pkt_decode(&t->p, t->frame, t->len, t->len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
	assert_true(t->p.frag & MOAT_FRAG_IS);
	moat_frag_add(t->f, &t->p, t->now, &t->v);
	return &t->v;
}

static const struct moat_frag_verdict *
t_piece(struct t *t, const struct fr_dgram *d, uint32_t off, uint32_t len,
	bool more, void (*poke)(uint8_t *, uint32_t))
{
	t->len = fr_piece(t->frame, d, off, len, more, poke);
	return t_feed(t);
}

static const struct moat_frag_verdict *
t_add(struct t *t, const struct fr_dgram *d, uint32_t off, uint32_t len,
      bool more)
{
	return t_piece(t, d, off, len, more, NULL);
}

static uint32_t t_decide(struct t *t, bool pass)
{
	struct moat_frag_decision dec = { pass, 3, false, 1 };

	assert_int_equal(t->v.action, MOAT_FRAG_DECIDE);
	return moat_frag_decide(t->f, t->v.datagram, &dec, &t->out);
}

static void stats(struct t *t, struct moat_frag_stats *st)
{
	moat_frag_get_stats(t->f, st);
}

#define assert_frag(vp, act, why)                                             \
	do {                                                                   \
		const struct moat_frag_verdict *v_ = (vp);                    \
		if (v_->action != (act) || v_->reason != (why))               \
			fail_msg("got action %d/%s, want %d/%s", v_->action,  \
				 moat_reason_name(v_->reason), (act),         \
				 moat_reason_name(why));                      \
	} while (0)

static const struct fr_dgram dns4 = { 4, "198.18.100.53", "198.18.1.10",
				      0x1234, 17, 53, 40000, 3000, 0 };
static const struct fr_dgram dns6 = { 6, "2001:db8:100::53", "2001:db8:1::10",
				      0xabcdef01, 17, 53, 40000, 3000, 0 };

/*
 * One fragment of a sequence and the table's answer.  After a DECIDE the
 * rules answer @pass (rule 3, t_decide); a later fragment that follows
 * the first carries that rule.  A zero row ends a sequence.
 */
struct step {
	uint32_t off, len;
	bool more;
	void (*poke)(uint8_t *, uint32_t); /* changes the piece's bytes */
	uint8_t action;                    /* enum moat_frag_action */
	enum moat_reason why;
	bool pass;
};

/* A sequence from a fresh table, and the table's counters after it. */
struct sequence {
	const char *what;
	const struct fr_dgram *d;
	struct step step[6];
	uint32_t datagrams, slots, held;
	uint64_t held_lost, completed;
};

static void flip_last(uint8_t *b, uint32_t len)
{
	b[len - 1] ^= 0xff;
}

static void flip_first(uint8_t *b, uint32_t len)
{
	(void)len;
	b[0] ^= 0xff;
}

#define FIRST_PASSES(off, len, more)                                           \
	{ off, len, more, NULL, MOAT_FRAG_DECIDE, MOAT_R_NONE, true }
#define FIRST_DROPPED_BY_RULES(off, len, more)                                 \
	{ off, len, more, NULL, MOAT_FRAG_DECIDE, MOAT_R_NONE, false }
#define FOLLOWS(off, len, more)                                                \
	{ off, len, more, NULL, MOAT_FRAG_PASS, MOAT_R_FRAG_FIRST_PASSED,      \
	  false }
#define DROPPED(off, len, more, why)                                           \
	{ off, len, more, NULL, MOAT_FRAG_DROP, why, false }
#define POKED(off, len, more, poke, act, why)                                  \
	{ off, len, more, poke, act, why, false }

static const struct sequence sequences[] = {
	/* RFC 791 3.2 (reassembly), RFC 8200 4.5: three fragments as a
	 * sender with a 1500-byte MTU cuts 3000 bytes; once whole, the
	 * entry and its slots are free again. */
	{ "RFC 791 3.2: v4 in order", &dns4,
	  { FIRST_PASSES(0, 1480, true), FOLLOWS(1480, 1480, true),
	    FOLLOWS(2960, 40, false) },
	  .completed = 1 },
	{ "RFC 8200 4.5: v6 in order", &dns6,
	  { FIRST_PASSES(0, 1480, true), FOLLOWS(1480, 1480, true),
	    FOLLOWS(2960, 40, false) },
	  .completed = 1 },
	/* The first fragment dropped: what was held is lost, the rest
	 * follow it. */
	{ "first dropped", &dns4,
	  { DROPPED(1480, 1480, true, MOAT_R_FRAG_HELD),
	    FIRST_DROPPED_BY_RULES(0, 1480, true),
	    DROPPED(2960, 40, false, MOAT_R_FRAG_FIRST_DROPPED) },
	  .datagrams = 1, .held_lost = 1 },
	/* RFC 8200 4.5: an exact duplicate may be dropped alone; the
	 * datagram goes on (both families). */
	{ "RFC 8200 4.5: v4 duplicate", &dns4,
	  { FIRST_PASSES(0, 1480, true),
	    DROPPED(0, 1480, true, MOAT_R_FRAG_DUPLICATE),
	    FOLLOWS(1480, 1480, true),
	    DROPPED(1480, 1480, true, MOAT_R_FRAG_DUPLICATE),
	    FOLLOWS(2960, 40, false) },
	  .completed = 1 },
	{ "RFC 8200 4.5: v6 duplicate", &dns6,
	  { FIRST_PASSES(0, 1480, true),
	    DROPPED(0, 1480, true, MOAT_R_FRAG_DUPLICATE),
	    FOLLOWS(1480, 1480, true),
	    DROPPED(1480, 1480, true, MOAT_R_FRAG_DUPLICATE),
	    FOLLOWS(2960, 40, false) },
	  .completed = 1 },
	/* RFC 791: IPv4 reassembly takes an overlap; with the same bytes
	 * it is harmless and passes. */
	{ "RFC 791: v4 overlap, same bytes", &dns4,
	  { FIRST_PASSES(0, 1480, true), FOLLOWS(1400, 1480, true),
	    FOLLOWS(2880, 120, false) },
	  .completed = 1 },
	/* RFC 1858 section 4: overlapping fragments with other bytes make
	 * the host see a datagram nobody checked: the datagram is refused,
	 * from then on every fragment of it.  The second piece rewrites
	 * byte 1479 of the first. */
	{ "RFC 1858 4: v4 overlap, other bytes", &dns4,
	  { FIRST_PASSES(0, 1480, true),
	    POKED(1472, 1488, true, flip_first, MOAT_FRAG_DROP,
		  MOAT_R_FRAG_OVERLAP),
	    DROPPED(2960, 40, false, MOAT_R_FRAG_OVERLAP) },
	  .datagrams = 1 },
	/* The same before the first came: held pieces that disagree refuse
	 * the datagram, and the first fragment then is dropped too (it
	 * would be completed by bytes nobody can tell). */
	{ "RFC 1858 4: overlap before the first", &dns4,
	  { DROPPED(1480, 1480, true, MOAT_R_FRAG_HELD),
	    POKED(2952, 48, false, flip_first, MOAT_FRAG_DROP,
		  MOAT_R_FRAG_OVERLAP),
	    DROPPED(0, 1480, true, MOAT_R_FRAG_OVERLAP) },
	  .datagrams = 1, .held_lost = 1 },
	/* A later piece that rewrites the first fragment's UDP header. */
	{ "RFC 1858 4: overlap of the first's bytes", &dns4,
	  { { 0, 1480, true, flip_last, MOAT_FRAG_DECIDE, MOAT_R_NONE, true },
	    DROPPED(1472, 1488, true, MOAT_R_FRAG_OVERLAP) },
	  .datagrams = 1 },
	/* RFC 5722, RFC 8200 4.5: in IPv6 any overlap but an exact
	 * duplicate refuses the datagram, whatever the bytes. */
	{ "RFC 5722: v6 overlap", &dns6,
	  { FIRST_PASSES(0, 1480, true),
	    DROPPED(1400, 1480, true, MOAT_R_FRAG_OVERLAP),
	    DROPPED(2880, 120, false, MOAT_R_FRAG_OVERLAP) },
	  .datagrams = 1 },
	/* RFC 8200 4.5: two fragments that disagree about the datagram's
	 * end, one past it, or a last one that ends before pieces seen. */
	{ "RFC 8200 4.5: two ends", &dns4,
	  { DROPPED(1480, 40, false, MOAT_R_FRAG_HELD),
	    DROPPED(1480, 48, false, MOAT_R_FRAG_OVERLAP) },
	  .datagrams = 1, .held_lost = 1 },
	{ "RFC 8200 4.5: past the end", &dns4,
	  { DROPPED(1480, 40, false, MOAT_R_FRAG_HELD),
	    DROPPED(1528, 16, true, MOAT_R_FRAG_OVERLAP) },
	  .datagrams = 1, .held_lost = 1 },
	{ "RFC 8200 4.5: an end before pieces seen", &dns4,
	  { DROPPED(1480, 1480, true, MOAT_R_FRAG_HELD),
	    DROPPED(1480, 8, false, MOAT_R_FRAG_OVERLAP) },
	  .datagrams = 1, .held_lost = 1 },
};

static void run_sequence(const struct sequence *q)
{
	struct moat_frag_stats st;
	const struct moat_frag_verdict *v;
	struct t t;

	t_start(&t, 64);
	for (int i = 0; i < 6 && q->step[i].len; i++) {
		const struct step *s = &q->step[i];

		v = t_piece(&t, q->d, s->off, s->len, s->more, s->poke);
		if (v->action != s->action || v->reason != s->why)
			fail_msg("%s, fragment %d (offset %u): got %d/%s, "
				 "want %d/%s", q->what, i + 1, s->off,
				 v->action, moat_reason_name(v->reason),
				 s->action, moat_reason_name(s->why));
		if (v->action == MOAT_FRAG_DECIDE)
			assert_int_equal(t_decide(&t, s->pass), 0);
		else if (v->reason == MOAT_R_FRAG_FIRST_PASSED ||
			 v->reason == MOAT_R_FRAG_FIRST_DROPPED)
			assert_int_equal(v->rule, 3);
	}
	assert_int_equal(t.out.count, 0);
	stats(&t, &st);
	if (st.datagrams != q->datagrams || st.slots != q->slots ||
	    st.held != q->held || st.held_lost != q->held_lost ||
	    st.completed != q->completed)
		fail_msg("%s: datagrams %u slots %u held %u held_lost %llu "
			 "completed %llu, want %u %u %u %llu %llu", q->what,
			 st.datagrams, st.slots, st.held,
			 (unsigned long long)st.held_lost,
			 (unsigned long long)st.completed, q->datagrams,
			 q->slots, q->held, (unsigned long long)q->held_lost,
			 (unsigned long long)q->completed);
	t_stop(&t);
}

/* In order, first dropped, duplicates, overlaps and ends: the rows of
 * sequences[]. */
static void fragment_sequences(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(sequences) / sizeof(sequences[0]); i++)
		run_sequence(&sequences[i]);
}

/* Out of order: the later pieces wait for the first, then leave unchanged
 * in offset order. */
static void out_of_order(const struct fr_dgram *d)
{
	uint8_t want[2][FR_CAP];
	uint32_t wlen[2];
	struct moat_frag_stats st;
	struct t t;

	t_start(&t, 64);
	wlen[1] = fr_piece(want[1], d, 2960, 40, false, NULL);
	wlen[0] = fr_piece(want[0], d, 1480, 1480, true, NULL);
	assert_frag(t_add(&t, d, 2960, 40, false), MOAT_FRAG_DROP,
		    MOAT_R_FRAG_HELD);
	assert_frag(t_add(&t, d, 1480, 1480, true), MOAT_FRAG_DROP,
		    MOAT_R_FRAG_HELD);
	stats(&t, &st);
	assert_int_equal(st.held, 2);
	assert_frag(t_add(&t, d, 0, 1480, true), MOAT_FRAG_DECIDE, MOAT_R_NONE);
	assert_int_equal(t_decide(&t, true), 2);
	assert_int_equal(t.out.count, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(t.out.frames[i].len, wlen[i]);
		assert_memory_equal(t.out.frames[i].data, want[i], wlen[i]);
		assert_int_equal(t.out.frames[i].out_zone, 1);
		assert_int_equal(t.out.frames[i].linktype, MOAT_LINK_ETHERNET);
	}
	stats(&t, &st);
	assert_int_equal(st.held, 0);
	assert_int_equal(st.released, 2);
	assert_int_equal(st.completed, 1);
	assert_int_equal(st.datagrams, 0);
	t_stop(&t);
}

static void rfc791_v4_out_of_order(void **state)
{
	(void)state;
	out_of_order(&dns4);
}

static void rfc8200_4_5_v6_out_of_order(void **state)
{
	(void)state;
	out_of_order(&dns6);
}

/* A datagram with a hole is not whole, however small the hole. */
static void hole_keeps_datagram(void **state)
{
	struct moat_frag_stats st;
	struct t t;

	(void)state;
	t_start(&t, 64);
	assert_frag(t_add(&t, &dns4, 0, 1480, true), MOAT_FRAG_DECIDE,
		    MOAT_R_NONE);
	t_decide(&t, true);
	assert_frag(t_add(&t, &dns4, 1488, 1472, true), MOAT_FRAG_PASS,
		    MOAT_R_FRAG_FIRST_PASSED);
	assert_frag(t_add(&t, &dns4, 2960, 40, false), MOAT_FRAG_PASS,
		    MOAT_R_FRAG_FIRST_PASSED);
	stats(&t, &st);
	assert_int_equal(st.completed, 0);
	assert_int_equal(st.datagrams, 1);
	assert_frag(t_add(&t, &dns4, 1480, 8, true), MOAT_FRAG_PASS,
		    MOAT_R_FRAG_FIRST_PASSED);
	stats(&t, &st);
	assert_int_equal(st.completed, 1);
	assert_int_equal(st.datagrams, 0);
	t_stop(&t);
}

/* RFC 1858 3.1 (IPv4), RFC 7112 (IPv6): a first fragment that does not
 * hold the whole transport header never reaches the table (decode refuses
 * it), so the rest of its datagram waits for a first that never comes,
 * and times out unsent. */
static void rfc1858_3_1_rfc7112_tiny_first(void **state)
{
	const struct fr_dgram *ds[] = { &dns4, &dns6 };
	struct moat_frag_stats st;
	struct t t;

	(void)state;
	for (int i = 0; i < 2; i++) {
		t_start(&t, 64);
		/* 0 bytes after the IP (and fragment) header: no UDP. */
		t.len = fr_piece(t.frame, ds[i], 0, 0, true, NULL);
		assert_int_equal(moat_pkt_decode(&t.p, t.frame, t.len, t.len,
						 MOAT_LINK_ETHERNET),
				 MOAT_R_FRAG_TINY);
		assert_frag(t_add(&t, ds[i], 0 + 8, 1480, true),
			    MOAT_FRAG_DROP, MOAT_R_FRAG_HELD);
		t.now += 31 * SEC;
		moat_frag_tick(t.f, t.now, &t.out);
		assert_int_equal(t.out.count, 0);
		stats(&t, &st);
		assert_int_equal(st.held_lost, 1);
		assert_int_equal(st.timed_out, 1);
		t_stop(&t);
	}
}

/* RFC 791 (total length), RFC 8200 4.5: a fragment whose offset and length
 * would make the datagram longer than 65535 bytes is refused at decode. */
static void rfc8200_4_5_past_65535(void **state)
{
	struct fr_dgram big = dns4;
	struct t t;

	(void)state;
	big.total = 65535;
	t_start(&t, 64);
	t.len = fr_piece(t.frame, &big, 65520, 16, false, NULL);
	assert_int_equal(moat_pkt_decode(&t.p, t.frame, t.len, t.len,
					 MOAT_LINK_ETHERNET),
			 MOAT_R_FRAG_TOO_BIG);
	/* The largest legal IPv4 datagram ends at 65535 - 20. */
	assert_frag(t_add(&t, &big, 65512, 3, false), MOAT_FRAG_DROP,
		    MOAT_R_FRAG_HELD);
	big = dns6;
	big.total = 65535;
	t.len = fr_piece(t.frame, &big, 65528, 8, false, NULL);
	assert_int_equal(moat_pkt_decode(&t.p, t.frame, t.len, t.len,
					 MOAT_LINK_ETHERNET),
			 MOAT_R_FRAG_TOO_BIG);
	assert_frag(t_add(&t, &big, 65528, 7, false), MOAT_FRAG_DROP,
		    MOAT_R_FRAG_HELD);
	t_stop(&t);
}

/* pf's limit: more than 64 fragments for one datagram is an attack on the
 * reassembler, not a datagram; it is refused. */
static void too_many_fragments(void **state)
{
	struct fr_dgram d = dns4;
	struct moat_frag_stats st;
	struct t t;

	(void)state;
	d.total = 8 * 70;
	t_start(&t, 256);
	assert_frag(t_add(&t, &d, 0, 8, true), MOAT_FRAG_DECIDE, MOAT_R_NONE);
	t_decide(&t, true);
	for (uint32_t i = 1; i < MOAT_FRAG_PER_DATAGRAM_MAX; i++)
		assert_frag(t_add(&t, &d, 8 * i, 8, true), MOAT_FRAG_PASS,
			    MOAT_R_FRAG_FIRST_PASSED);
	assert_frag(t_add(&t, &d, 8 * 64, 8, true), MOAT_FRAG_DROP,
		    MOAT_R_FRAG_TOO_MANY);
	assert_frag(t_add(&t, &d, 8 * 65, 8, false), MOAT_FRAG_DROP,
		    MOAT_R_FRAG_TOO_MANY);
	stats(&t, &st);
	assert_int_equal(st.slots, 0);
	t_stop(&t);
}

/* RFC 791's reassembly timer (and RFC 8200 4.5's 60 s at most): what was
 * held is lost; stragglers are dropped as frag-timeout while the marker
 * lasts, then the key is free again. */
static void rfc791_timeout(void **state)
{
	struct moat_frag_stats st;
	struct t t;

	(void)state;
	t_start(&t, 64);
	assert_frag(t_add(&t, &dns4, 1480, 1480, true), MOAT_FRAG_DROP,
		    MOAT_R_FRAG_HELD);
	t.now += 29 * SEC;
	moat_frag_tick(t.f, t.now, &t.out);
	stats(&t, &st);
	assert_int_equal(st.held, 1);
	t.now += 1 * SEC;
	moat_frag_tick(t.f, t.now, &t.out);
	stats(&t, &st);
	assert_int_equal(st.held, 0);
	assert_int_equal(st.held_lost, 1);
	assert_int_equal(st.timed_out, 1);
	assert_int_equal(st.slots, 0);
	assert_int_equal(st.datagrams, 1); /* the marker */
	assert_frag(t_add(&t, &dns4, 0, 1480, true), MOAT_FRAG_DROP,
		    MOAT_R_FRAG_TIMEOUT);
	t.now += 30 * SEC;
	moat_frag_tick(t.f, t.now, &t.out);
	stats(&t, &st);
	assert_int_equal(st.datagrams, 0);
	assert_frag(t_add(&t, &dns4, 0, 1480, true), MOAT_FRAG_DECIDE,
		    MOAT_R_NONE);
	t_stop(&t);
}

/* A passed datagram that never completes times out too. */
static void passed_incomplete_times_out(void **state)
{
	struct moat_frag_stats st;
	struct t t;

	(void)state;
	t_start(&t, 64);
	assert_frag(t_add(&t, &dns6, 0, 1480, true), MOAT_FRAG_DECIDE,
		    MOAT_R_NONE);
	t_decide(&t, true);
	t.now += 30 * SEC;
	moat_frag_tick(t.f, t.now, &t.out);
	stats(&t, &st);
	assert_int_equal(st.timed_out, 1);
	assert_int_equal(st.slots, 0);
	assert_frag(t_add(&t, &dns6, 2960, 40, false), MOAT_FRAG_DROP,
		    MOAT_R_FRAG_TIMEOUT);
	t_stop(&t);
}

/* The pool: when full, the oldest datagram goes; undecided ones before
 * passed ones; one datagram cannot evict itself. */
static void pool_eviction(void **state)
{
	struct moat_frag_stats st;
	struct fr_dgram d = dns4;
	struct t t;

	(void)state;
	t_start(&t, 16);
	/* 16 datagrams waiting, one fragment each: the pool is full. */
	for (uint32_t i = 0; i < 16; i++) {
		d.id = 100 + i;
		assert_frag(t_add(&t, &d, 1480, 1480, true), MOAT_FRAG_DROP,
			    MOAT_R_FRAG_HELD);
		t.now += SEC / 1000;
	}
	stats(&t, &st);
	assert_int_equal(st.slots, 16);
	d.id = 200;
	assert_frag(t_add(&t, &d, 1480, 1480, true), MOAT_FRAG_DROP,
		    MOAT_R_FRAG_HELD);
	stats(&t, &st);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(st.held_lost, 1);
	assert_int_equal(st.slots, 16);
	/* The oldest (id 100) is gone: its first fragment is new again. */
	d.id = 100;
	assert_frag(t_add(&t, &d, 0, 1480, true), MOAT_FRAG_DECIDE,
		    MOAT_R_NONE);
	t_decide(&t, true);
	assert_int_equal(t.out.count, 0);
	t_stop(&t);
}

static void pool_prefers_undecided(void **state)
{
	struct moat_frag_stats st;
	struct fr_dgram d = dns4;
	struct t t;

	(void)state;
	t_start(&t, 16);
	/* The oldest datagram passed and is on its way... */
	d.id = 1;
	assert_frag(t_add(&t, &d, 0, 1480, true), MOAT_FRAG_DECIDE,
		    MOAT_R_NONE);
	t_decide(&t, true);
	/* ...then junk fills the rest. */
	for (uint32_t i = 0; i < 16; i++) {
		d.id = 100 + i;
		t.now += SEC / 1000;
		assert_frag(t_add(&t, &d, 1480, 1480, true), MOAT_FRAG_DROP,
			    MOAT_R_FRAG_HELD);
	}
	stats(&t, &st);
	assert_int_equal(st.evicted, 1);
	/* The passed datagram survived: its next piece still passes. */
	d.id = 1;
	assert_frag(t_add(&t, &d, 1480, 1480, true), MOAT_FRAG_PASS,
		    MOAT_R_FRAG_FIRST_PASSED);
	t_stop(&t);
}

static void pool_full_for_one_datagram(void **state)
{
	struct fr_dgram d = dns4;
	struct t t;

	(void)state;
	d.total = 8 * 40;
	t_start(&t, 16);
	assert_frag(t_add(&t, &d, 0, 8, true), MOAT_FRAG_DECIDE, MOAT_R_NONE);
	t_decide(&t, true);
	for (uint32_t i = 1; i < 16; i++)
		assert_frag(t_add(&t, &d, 8 * i, 8, true), MOAT_FRAG_PASS,
			    MOAT_R_FRAG_FIRST_PASSED);
	assert_frag(t_add(&t, &d, 8 * 16, 8, true), MOAT_FRAG_DROP,
		    MOAT_R_FRAG_POOL_FULL);
	t_stop(&t);
}

/* More held than one emit buffer takes: the rest leave with the tick. */
static void release_across_ticks(void **state)
{
	struct fr_dgram d = dns4;
	struct moat_frag_stats st;
	struct t t;

	(void)state;
	d.total = 8 * 12;
	t_start(&t, 64);
	for (uint32_t i = 1; i < 12; i++)
		assert_frag(t_add(&t, &d, 8 * i, 8, i < 11), MOAT_FRAG_DROP,
			    MOAT_R_FRAG_HELD);
	assert_frag(t_add(&t, &d, 0, 8, true), MOAT_FRAG_DECIDE, MOAT_R_NONE);
	assert_int_equal(t_decide(&t, true), MOAT_EMIT_MAX);
	stats(&t, &st);
	assert_int_equal(st.held, 11 - MOAT_EMIT_MAX);
	moat_emit_reset(&t.out);
	assert_int_equal(moat_frag_tick(t.f, t.now, &t.out),
			 11 - MOAT_EMIT_MAX);
	/* Offsets go on where the first buffer stopped. */
	assert_int_equal(moat_pkt_decode(&t.p, t.out.frames[0].data,
					 t.out.frames[0].len,
					 t.out.frames[0].len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
	assert_int_equal(t.p.frag_off, 8 * (MOAT_EMIT_MAX + 1));
	stats(&t, &st);
	assert_int_equal(st.held, 0);
	assert_int_equal(st.completed, 1);
	t_stop(&t);
}

/* A frame larger than a slot cannot be sent again: it is not held. */
static void too_large_to_hold(void **state)
{
	struct fr_dgram d = dns4;
	struct t t;

	(void)state;
	d.total = 9000;
	t_start(&t, 64);
	assert_frag(t_add(&t, &d, 4000, 4000, true), MOAT_FRAG_DROP,
		    MOAT_R_FRAG_POOL_FULL);
	/* Once the first passed, it follows (its bytes are not kept: an
	 * overlap with it cannot be told from an attack). */
	assert_frag(t_add(&t, &d, 0, 4000, true), MOAT_FRAG_DECIDE,
		    MOAT_R_NONE);
	t_decide(&t, true);
	assert_frag(t_add(&t, &d, 4000, 4000, true), MOAT_FRAG_PASS,
		    MOAT_R_FRAG_FIRST_PASSED);
	assert_frag(t_add(&t, &d, 3992, 8, true), MOAT_FRAG_DROP,
		    MOAT_R_FRAG_OVERLAP);
	t_stop(&t);
}

/* RFC 6946: an atomic fragment (offset 0, M clear) is a whole packet,
 * decoded as one and never mixed with fragments of the same id. */
static void rfc6946_atomic_fragment(void **state)
{
	struct moat_frag_stats st;
	struct fr_dgram d = dns6;
	struct t t;

	(void)state;
	t_start(&t, 64);
	assert_frag(t_add(&t, &d, 1480, 1480, true), MOAT_FRAG_DROP,
		    MOAT_R_FRAG_HELD);
	d.total = 100;
	t.len = fr_atomic6(t.frame, &d);
	assert_int_equal(moat_pkt_decode(&t.p, t.frame, t.len, t.len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
	assert_int_equal(t.p.frag, 0);
	assert_int_equal(t.p.proto, 17);
	assert_int_equal(t.p.dport, 40000);
	stats(&t, &st);
	assert_int_equal(st.held, 1);
	assert_int_equal(st.datagrams, 1);
	t_stop(&t);
}

/* IPv4 keys include the protocol (RFC 791), IPv6 keys do not (RFC 8200). */
static void keys(void **state)
{
	struct fr_dgram d = dns4;
	struct t t;

	(void)state;
	t_start(&t, 64);
	assert_frag(t_add(&t, &d, 1480, 1480, true), MOAT_FRAG_DROP,
		    MOAT_R_FRAG_HELD);
	d.proto = 47;
	assert_frag(t_add(&t, &d, 1480, 1480, true), MOAT_FRAG_DROP,
		    MOAT_R_FRAG_HELD);
	d = dns4;
	d.src = "198.18.100.54";
	assert_frag(t_add(&t, &d, 1480, 1480, true), MOAT_FRAG_DROP,
		    MOAT_R_FRAG_HELD);
	d = dns6;
	assert_frag(t_add(&t, &d, 1480, 1480, true), MOAT_FRAG_DROP,
		    MOAT_R_FRAG_HELD);
	d.proto = 47;
	assert_frag(t_add(&t, &d, 1480, 1480, true), MOAT_FRAG_DROP,
		    MOAT_R_FRAG_DUPLICATE);
	t_stop(&t);
}

/* Create allocates; nothing after it does, whatever the traffic. */
static void no_allocation(void **state)
{
	struct fr_dgram d = dns4;
	unsigned long before;
	struct t t;

	(void)state;
	t_start(&t, 32);
	before = test_allocs;
	for (uint32_t i = 0; i < 5000; i++) {
		d.id = i;
		d.ipv = (i & 1) ? 6 : 4;
		d.src = d.ipv == 4 ? "198.18.100.53" : "2001:db8:100::53";
		d.dst = d.ipv == 4 ? "198.18.1.10" : "2001:db8:1::10";
		if (i % 3 == 0) {
			t_add(&t, &d, 1480, 1480, true);
			t_add(&t, &d, 2960, 40, false);
		}
		if (t_add(&t, &d, 0, 1480, true)->action == MOAT_FRAG_DECIDE) {
			moat_emit_reset(&t.out);
			t_decide(&t, i % 5 != 0);
		}
		t.now += SEC / 100;
		if (i % 10 == 0)
			moat_frag_tick(t.f, t.now, &t.out);
	}
	assert_int_equal(test_allocs - before, 0);
	t_stop(&t);
}

static void create_refuses(void **state)
{
	struct moat_frag_params par = { 8, SEC, { 1 } };

	(void)state;
	assert_null(moat_frag_create(&par));
	par.slots = MOAT_FRAG_SLOTS_MAX + 1;
	assert_null(moat_frag_create(&par));
	par.slots = 16;
	par.timeout_ns = 0;
	assert_null(moat_frag_create(&par));
	assert_null(moat_frag_create(NULL));
	moat_frag_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fragment_sequences),
		cmocka_unit_test(rfc791_v4_out_of_order),
		cmocka_unit_test(rfc8200_4_5_v6_out_of_order),
		cmocka_unit_test(hole_keeps_datagram),
		cmocka_unit_test(rfc1858_3_1_rfc7112_tiny_first),
		cmocka_unit_test(rfc8200_4_5_past_65535),
		cmocka_unit_test(too_many_fragments),
		cmocka_unit_test(rfc791_timeout),
		cmocka_unit_test(passed_incomplete_times_out),
		cmocka_unit_test(pool_eviction),
		cmocka_unit_test(pool_prefers_undecided),
		cmocka_unit_test(pool_full_for_one_datagram),
		cmocka_unit_test(release_across_ticks),
		cmocka_unit_test(too_large_to_hold),
		cmocka_unit_test(rfc6946_atomic_fragment),
		cmocka_unit_test(keys),
		cmocka_unit_test(no_allocation),
		cmocka_unit_test(create_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
