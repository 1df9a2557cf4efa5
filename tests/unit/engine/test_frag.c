/*
 * Fragments through the whole engine (src/engine/frag_glue.c over
 * src/frag): a DNS-like answer larger than the MTU, IPv4 and IPv6, in
 * order and out of order, after the query opened its flow; overlaps, tiny
 * first fragments, datagrams past 65535 bytes, too many fragments,
 * time-outs, eviction, a first fragment no rule passes, atomic fragments,
 * `frag-max 0`, a full emit buffer and bursts.  Each test names the RFC
 * section whose behaviour it checks.  Time is injected.
 */
#include <stdlib.h>

#include "harness.h"
#include "moat/frag.h"

#include "../frag/frags.h"

static const char *const conf =
	"zone outside { interface out0; default }\n"
	"zone inside { interface in0; networks { 198.18.1.0/24, "
	"2001:db8:1::/48 } }\n"
	"options { frag-timeout 30 }\n"
	"pass from inside\n";

enum { OUTSIDE = 0, INSIDE = 1 };

/* The answer: 3000 bytes of UDP from the server's port 53. */
static const struct fr_dgram ans4 = { 4, "198.18.100.53", "198.18.1.10",
				      0x1234, 17, 53, 40000, 3000, 0 };
static const struct fr_dgram ans6 = { 6, "2001:db8:100::53", "2001:db8:1::10",
				      0xabcdef01, 17, 53, 40000, 3000, 0 };

struct ft {
	struct harness h;
	uint8_t frame[FR_CAP];
	uint32_t len;
};

static void ft_start(struct ft *t, const char *c)
{
	memset(t, 0, sizeof(*t));
	h_start(&t->h, c);
}

/* Run @len bytes of t->frame from @zone. */
static const struct moat_result *ft_run(struct ft *t, int zone)
{
	struct moat_frame f = { t->frame, t->len, t->len, MOAT_LINK_ETHERNET,
				(int16_t)zone };

	moat_emit_reset(&t->h.out);
	moat_engine_process(t->h.eng, &f, t->h.now, &t->h.res, &t->h.out);
	return &t->h.res;
}

static const struct moat_result *ft_piece(struct ft *t,
					  const struct fr_dgram *d,
					  uint32_t off, uint32_t len, bool more,
					  void (*poke)(uint8_t *, uint32_t))
{
	t->len = fr_piece(t->frame, d, off, len, more, poke);
	return ft_run(t, OUTSIDE);
}

static const struct moat_result *ft_add(struct ft *t,
					const struct fr_dgram *d, uint32_t off,
					uint32_t len, bool more)
{
	return ft_piece(t, d, off, len, more, NULL);
}

/* The query that opens the flow the answer belongs to: a whole UDP
 * datagram from the inside client, its checksum right. */
static void ft_query(struct ft *t, const struct fr_dgram *d)
{
	struct fr_dgram q = { d->ipv, d->dst, d->src, d->id + 1, 17, d->dport,
			      d->sport, 40, 9 };
	struct moat_pkt p;

	t->len = fr_piece(t->frame, &q, 0, 40, false, NULL);
	if (d->ipv == 4) {
		/* fr_piece writes a fragment header only for IPv6; an IPv4
		 * piece at 0 without M is a whole datagram. */
		assert_int_equal(moat_pkt_decode(&p, t->frame, t->len, t->len,
						 MOAT_LINK_ETHERNET),
				 MOAT_R_NONE);
		moat_pkt_fill_checksums(&p);
	} else {
		t->len = fr_atomic6(t->frame, &q);
		assert_int_equal(moat_pkt_decode(&p, t->frame, t->len, t->len,
						 MOAT_LINK_ETHERNET),
				 MOAT_R_NONE);
		moat_pkt_fill_checksums(&p);
	}
	assert_verdict(ft_run(t, INSIDE), MOAT_VERDICT_PASS, MOAT_R_RULE_PASS);
}

static uint64_t reason(struct ft *t, enum moat_reason r)
{
	return moat_engine_counters(t->h.eng)->reason[r];
}

/* The frag table's counters as the engine's stats give them. */
static struct moat_frag_stats frag_stats(struct ft *t)
{
	struct moat_engine_stats st;

	moat_engine_stats(t->h.eng, &st);
	return st.frag;
}

/* RFC 791 section 3.2, RFC 8200 section 4.5: the pieces of an answer in
 * order; the first is judged by the flow the query opened, the rest follow
 * it and leave unchanged. */
static void in_order(const struct fr_dgram *d)
{
	uint8_t want[FR_CAP];
	uint32_t wlen;
	struct ft t;

	ft_start(&t, conf);
	ft_query(&t, d);
	assert_verdict(ft_add(&t, d, 0, 1448, true), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_int_equal(t.h.res.out_zone, INSIDE);
	wlen = fr_piece(want, d, 1448, 1448, true, NULL);
	assert_verdict(ft_add(&t, d, 1448, 1448, true), MOAT_VERDICT_PASS,
		       MOAT_R_FRAG_FIRST_PASSED);
	assert_int_equal(t.h.res.rule, 1);
	assert_int_equal(t.h.res.out_zone, INSIDE);
	assert_false(t.h.res.rewritten);
	assert_memory_equal(t.frame, want, wlen);
	assert_verdict(ft_add(&t, d, 2896, 104, false), MOAT_VERDICT_PASS,
		       MOAT_R_FRAG_FIRST_PASSED);
	assert_int_equal(t.h.out.count, 0);
	assert_int_equal(frag_stats(&t).completed, 1);
	assert_int_equal(frag_stats(&t).datagrams, 0);
	h_stop(&t.h);
}

static void rfc791_3_2_v4_in_order(void **state)
{
	(void)state;
	in_order(&ans4);
}

static void rfc8200_4_5_v6_in_order(void **state)
{
	(void)state;
	in_order(&ans6);
}

/* RFC 791 section 3.2 ("fragments may arrive out of order"): the pieces
 * before the first wait; when it passes they leave, unchanged, through
 * the emit buffer, towards the first's egress zone. */
static void out_of_order(const struct fr_dgram *d)
{
	uint8_t want[FR_CAP];
	uint32_t wlen;
	struct ft t;

	ft_start(&t, conf);
	ft_query(&t, d);
	assert_verdict(ft_add(&t, d, 2896, 104, false), MOAT_VERDICT_DROP,
		       MOAT_R_FRAG_HELD);
	assert_int_equal(t.h.out.count, 0);
	assert_verdict(ft_add(&t, d, 1448, 1448, true), MOAT_VERDICT_DROP,
		       MOAT_R_FRAG_HELD);
	assert_int_equal(frag_stats(&t).held, 2);
	assert_verdict(ft_add(&t, d, 0, 1448, true), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_int_equal(t.h.out.count, 2);
	wlen = fr_piece(want, d, 1448, 1448, true, NULL);
	assert_int_equal(t.h.out.frames[0].len, wlen);
	assert_memory_equal(t.h.out.frames[0].data, want, wlen);
	wlen = fr_piece(want, d, 2896, 104, false, NULL);
	assert_int_equal(t.h.out.frames[1].len, wlen);
	assert_memory_equal(t.h.out.frames[1].data, want, wlen);
	for (int i = 0; i < 2; i++)
		assert_int_equal(t.h.out.frames[i].out_zone, INSIDE);
	assert_int_equal(moat_engine_counters(t.h.eng)->emitted, 2);
	assert_int_equal(frag_stats(&t).released, 2);
	assert_int_equal(frag_stats(&t).held, 0);
	assert_int_equal(frag_stats(&t).completed, 1);
	/* Each packet counted once: the held pieces as held, nothing else. */
	assert_int_equal(reason(&t, MOAT_R_FRAG_HELD), 2);
	assert_int_equal(moat_engine_counters(t.h.eng)->packets, 4);
	h_stop(&t.h);
}

static void rfc791_3_2_v4_out_of_order(void **state)
{
	(void)state;
	out_of_order(&ans4);
}

static void rfc8200_4_5_v6_out_of_order(void **state)
{
	(void)state;
	out_of_order(&ans6);
}

/* Without the query no flow and no rule passes the answer: its first
 * fragment is dropped for the policy, the rest as frag-first-dropped, and
 * the ones held for it are never sent. */
static void first_dropped(void **state)
{
	struct ft t;

	(void)state;
	ft_start(&t, conf);
	assert_verdict(ft_add(&t, &ans4, 2896, 104, false), MOAT_VERDICT_DROP,
		       MOAT_R_FRAG_HELD);
	assert_verdict(ft_add(&t, &ans4, 0, 1448, true), MOAT_VERDICT_DROP,
		       MOAT_R_POLICY_DROP);
	assert_int_equal(t.h.out.count, 0);
	assert_verdict(ft_add(&t, &ans4, 1448, 1448, true), MOAT_VERDICT_DROP,
		       MOAT_R_FRAG_FIRST_DROPPED);
	assert_int_equal(frag_stats(&t).held_lost, 1);
	assert_int_equal(moat_engine_counters(t.h.eng)->emitted, 0);
	h_stop(&t.h);
}

/* Other bytes where the piece at 1000 overlaps the first (to 1448). */
static void flip(uint8_t *b, uint32_t len)
{
	(void)len;
	b[10] ^= 0xff;
}

/* RFC 1858 section 4 (IPv4) and RFC 5722 (IPv6): a piece that overlaps
 * another with other bytes refuses the whole datagram. */
static void overlap(const struct fr_dgram *d)
{
	struct ft t;

	ft_start(&t, conf);
	ft_query(&t, d);
	assert_verdict(ft_add(&t, d, 0, 1448, true), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_verdict(ft_piece(&t, d, 1000, 1448, true, flip),
		       MOAT_VERDICT_DROP, MOAT_R_FRAG_OVERLAP);
	/* Refused: even an honest piece of it is dropped now. */
	assert_verdict(ft_add(&t, d, 1448, 1448, true), MOAT_VERDICT_DROP,
		       MOAT_R_FRAG_OVERLAP);
	assert_int_equal(reason(&t, MOAT_R_FRAG_OVERLAP), 2);
	h_stop(&t.h);
}

static void rfc1858_4_v4_overlap(void **state)
{
	(void)state;
	overlap(&ans4);
}

static void rfc5722_v6_overlap(void **state)
{
	(void)state;
	overlap(&ans6);
}

/* RFC 8200 section 4.5: an exact duplicate is dropped alone. */
static void duplicate_alone(void **state)
{
	struct ft t;

	(void)state;
	ft_start(&t, conf);
	ft_query(&t, &ans6);
	ft_add(&t, &ans6, 0, 1448, true);
	assert_verdict(ft_add(&t, &ans6, 1448, 1448, true), MOAT_VERDICT_PASS,
		       MOAT_R_FRAG_FIRST_PASSED);
	assert_verdict(ft_add(&t, &ans6, 1448, 1448, true), MOAT_VERDICT_DROP,
		       MOAT_R_FRAG_DUPLICATE);
	assert_verdict(ft_add(&t, &ans6, 2896, 104, false), MOAT_VERDICT_PASS,
		       MOAT_R_FRAG_FIRST_PASSED);
	h_stop(&t.h);
}

/* RFC 1858 section 3.1, RFC 7112: a first fragment without the whole
 * transport header (16 bytes of a 20-byte TCP header) is refused by
 * decode, before any table. */
static void rfc1858_3_1_tiny_first(void **state)
{
	static const struct fr_dgram tcp4 = { 4, "198.18.100.7", "198.18.1.10",
					      77, 6, 4444, 80, 1000, 0 };
	static const struct fr_dgram tcp6 = { 6, "2001:db8:100::7",
					      "2001:db8:1::10", 77, 6, 4444,
					      80, 1000, 0 };
	struct ft t;

	(void)state;
	ft_start(&t, "zone outside { interface out0; default }\n"
		     "zone inside { interface in0; networks { 198.18.1.0/24, "
		     "2001:db8:1::/48 } }\npass to inside tcp port 80\n");
	assert_verdict(ft_add(&t, &tcp4, 0, 16, true), MOAT_VERDICT_DROP,
		       MOAT_R_FRAG_TINY);
	assert_verdict(ft_add(&t, &tcp6, 0, 16, true), MOAT_VERDICT_DROP,
		       MOAT_R_FRAG_TINY);
	/* Its rest, with nothing to follow, waits and times out. */
	assert_verdict(ft_add(&t, &tcp4, 16, 984, false), MOAT_VERDICT_DROP,
		       MOAT_R_FRAG_HELD);
	h_stop(&t.h);
}

/* RFC 791 section 3.1 (total length 16 bits), RFC 8200 section 4.5: a
 * fragment whose end lies past 65535 bytes of datagram. */
static void rfc8200_4_5_too_big(void **state)
{
	struct ft t;

	(void)state;
	ft_start(&t, conf);
	assert_verdict(ft_add(&t, &ans4, 65528, 16, false), MOAT_VERDICT_DROP,
		       MOAT_R_FRAG_TOO_BIG);
	assert_verdict(ft_add(&t, &ans6, 65528, 16, false), MOAT_VERDICT_DROP,
		       MOAT_R_FRAG_TOO_BIG);
	h_stop(&t.h);
}

/* More pieces than MOAT_FRAG_PER_DATAGRAM_MAX (pf's limit): the datagram
 * is refused.  8-byte pieces are legal (RFC 791 3.2) but no honest sender
 * cuts a datagram into 65. */
static void too_many(void **state)
{
	struct fr_dgram d = ans4;
	struct ft t;
	uint32_t i;

	(void)state;
	d.total = 8 * 80;
	ft_start(&t, conf);
	ft_query(&t, &d);
	assert_verdict(ft_add(&t, &d, 0, 8, true), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	for (i = 1; i < MOAT_FRAG_PER_DATAGRAM_MAX; i++)
		assert_verdict(ft_add(&t, &d, 8 * i, 8, true),
			       MOAT_VERDICT_PASS, MOAT_R_FRAG_FIRST_PASSED);
	assert_verdict(ft_add(&t, &d, 8 * i, 8, true), MOAT_VERDICT_DROP,
		       MOAT_R_FRAG_TOO_MANY);
	assert_verdict(ft_add(&t, &d, 8 * (i + 1), 8, true), MOAT_VERDICT_DROP,
		       MOAT_R_FRAG_TOO_MANY);
	h_stop(&t.h);
}

/* RFC 791 section 3.2 (the reassembly timer), RFC 8200 section 4.5 (60
 * seconds at most): a datagram whose first fragment does not come within
 * frag-timeout loses what was held; its stragglers, the first among
 * them, are dropped as frag-timeout. */
static void timeout(void **state)
{
	struct ft t;

	(void)state;
	ft_start(&t, conf);
	ft_query(&t, &ans4);
	assert_verdict(ft_add(&t, &ans4, 1448, 1448, true), MOAT_VERDICT_DROP,
		       MOAT_R_FRAG_HELD);
	t.h.now += 29 * SEC;
	moat_emit_reset(&t.h.out);
	moat_engine_tick(t.h.eng, t.h.now, &t.h.out);
	assert_int_equal(frag_stats(&t).held, 1);
	t.h.now += 2 * SEC;
	moat_engine_tick(t.h.eng, t.h.now, &t.h.out);
	assert_int_equal(frag_stats(&t).held, 0);
	assert_int_equal(frag_stats(&t).timed_out, 1);
	assert_int_equal(frag_stats(&t).held_lost, 1);
	assert_int_equal(t.h.out.count, 0);
	assert_verdict(ft_add(&t, &ans4, 0, 1448, true), MOAT_VERDICT_DROP,
		       MOAT_R_FRAG_TIMEOUT);
	h_stop(&t.h);
}

/* A pool sized by frag-max: when it is full the oldest undecided datagram
 * goes, and the newest is kept. */
static void eviction(void **state)
{
	struct fr_dgram d = ans4;
	struct ft t;

	(void)state;
	ft_start(&t, "zone outside { interface out0; default }\n"
		     "zone inside { interface in0; networks 198.18.1.0/24 }\n"
		     "options { frag-max 16 }\npass from inside\n");
	assert_int_equal(frag_stats(&t).datagram_capacity, 16);
	ft_query(&t, &d);
	for (uint32_t i = 0; i < 20; i++) {
		d.id = 0x100 + i;
		assert_verdict(ft_add(&t, &d, 1448, 1448, true),
			       MOAT_VERDICT_DROP, MOAT_R_FRAG_HELD);
	}
	assert_int_equal(frag_stats(&t).evicted, 4);
	assert_int_equal(frag_stats(&t).held_lost, 4);
	assert_int_equal(frag_stats(&t).held, 16);
	/* The oldest was evicted: its first fragment finds nothing held. */
	d.id = 0x100;
	assert_verdict(ft_add(&t, &d, 0, 1448, true), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_int_equal(t.h.out.count, 0);
	/* The newest still waits for its first, and gets its held piece. */
	d.id = 0x100 + 19;
	assert_verdict(ft_add(&t, &d, 0, 1448, true), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_int_equal(t.h.out.count, 1);
	h_stop(&t.h);
}

/* Held pieces beyond what one emit buffer holds leave with the next tick. */
static void emit_full_then_tick(void **state)
{
	struct fr_dgram d = ans4;
	struct ft t;
	uint32_t n = MOAT_EMIT_MAX + 3;

	(void)state;
	d.total = 1448 * (n + 1);
	ft_start(&t, conf);
	ft_query(&t, &d);
	for (uint32_t i = 1; i <= n; i++)
		assert_verdict(ft_add(&t, &d, 1448 * i, 1448, i < n),
			       MOAT_VERDICT_DROP, MOAT_R_FRAG_HELD);
	assert_verdict(ft_add(&t, &d, 0, 1448, true), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_int_equal(t.h.out.count, MOAT_EMIT_MAX);
	moat_emit_reset(&t.h.out);
	moat_engine_tick(t.h.eng, t.h.now, &t.h.out);
	assert_int_equal(t.h.out.count, 3);
	assert_int_equal(moat_engine_counters(t.h.eng)->emitted, n);
	assert_int_equal(frag_stats(&t).completed, 1);
	h_stop(&t.h);
}

/* RFC 6946 section 4: an atomic fragment is a whole packet, judged as
 * one and sharing no state with fragments of the same identification. */
static void rfc6946_atomic(void **state)
{
	struct fr_dgram q = { 6, "2001:db8:1::10", "2001:db8:100::53", 7, 17,
			      40000, 53, 40, 3 };
	struct moat_pkt p;
	struct ft t;

	(void)state;
	ft_start(&t, conf);
	/* A piece of datagram 7 waits... */
	struct fr_dgram other = { 6, "2001:db8:1::10", "2001:db8:100::53", 7,
				  17, 40000, 53, 3000, 0 };
	t.len = fr_piece(t.frame, &other, 1448, 1448, true, NULL);
	assert_verdict(ft_run(&t, INSIDE), MOAT_VERDICT_DROP,
		       MOAT_R_FRAG_HELD);
	/* ... and an atomic fragment with the same ID is its own packet. */
	t.len = fr_atomic6(t.frame, &q);
	assert_int_equal(moat_pkt_decode(&p, t.frame, t.len, t.len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
	assert_false(p.frag & MOAT_FRAG_IS);
	moat_pkt_fill_checksums(&p);
	assert_verdict(ft_run(&t, INSIDE), MOAT_VERDICT_PASS, MOAT_R_RULE_PASS);
	assert_int_equal(t.h.out.count, 0);
	assert_int_equal(frag_stats(&t).held, 1);
	h_stop(&t.h);
}

/* frag-max 0: no table; every fragment dropped as before reassembly. */
static void frag_max_zero(void **state)
{
	struct ft t;

	(void)state;
	ft_start(&t, "zone outside { interface out0; default }\n"
		     "zone inside { interface in0; networks 198.18.1.0/24 }\n"
		     "options { frag-max 0 }\npass from inside\n");
	ft_query(&t, &ans4);
	assert_verdict(ft_add(&t, &ans4, 0, 1448, true), MOAT_VERDICT_DROP,
		       MOAT_R_FRAGMENT);
	assert_verdict(ft_add(&t, &ans4, 1448, 1448, true), MOAT_VERDICT_DROP,
		       MOAT_R_FRAGMENT);
	assert_int_equal(frag_stats(&t).datagram_capacity, 0);
	h_stop(&t.h);
}

/* A burst decides like one call per frame in order: the first fragment's
 * verdict is recorded before the burst's next fragment is looked at. */
static void burst_out_of_order(void **state)
{
	static uint8_t fr[3][FR_CAP];
	struct moat_frame f[3];
	struct moat_result res[3];
	static struct moat_emit out[3];
	const uint32_t off[3] = { 2896, 0, 1448 }, len[3] = { 104, 1448, 1448 };
	struct ft t;

	(void)state;
	ft_start(&t, conf);
	ft_query(&t, &ans6);
	for (int i = 0; i < 3; i++) {
		uint32_t l = fr_piece(fr[i], &ans6, off[i], len[i], i != 0,
				      NULL);

		f[i] = (struct moat_frame){ fr[i], l, l, MOAT_LINK_ETHERNET,
					    OUTSIDE };
		moat_emit_reset(&out[i]);
	}
	moat_engine_process_burst(t.h.eng, f, 3, t.h.now, res, out);
	assert_verdict(&res[0], MOAT_VERDICT_DROP, MOAT_R_FRAG_HELD);
	assert_verdict(&res[1], MOAT_VERDICT_PASS, MOAT_R_STATE_MATCH);
	assert_int_equal(out[1].count, 1);
	assert_verdict(&res[2], MOAT_VERDICT_PASS, MOAT_R_FRAG_FIRST_PASSED);
	assert_int_equal(frag_stats(&t).completed, 1);
	h_stop(&t.h);
}

/* Reload keeps the table's size and takes the new time-out. */
static void reload_timeout(void **state)
{
	struct moat_diags d;
	struct moat_config *c2;
	struct ft t;

	(void)state;
	ft_start(&t, conf);
	c2 = moat_config_parse_string("t2.conf",
		"zone outside { interface out0; default }\n"
		"zone inside { interface in0; networks 198.18.1.0/24 }\n"
		"options { frag-timeout 5; frag-max 64 }\npass from inside\n",
		&d);
	assert_non_null(c2);
	assert_int_equal(moat_engine_reload(t.h.eng, c2), 0);
	moat_config_destroy(t.h.cfg);
	t.h.cfg = c2;
	assert_int_equal(frag_stats(&t).datagram_capacity, 1024);
	assert_verdict(ft_add(&t, &ans4, 1448, 1448, true), MOAT_VERDICT_DROP,
		       MOAT_R_FRAG_HELD);
	t.h.now += 6 * SEC;
	moat_engine_tick(t.h.eng, t.h.now, &t.h.out);
	assert_int_equal(frag_stats(&t).timed_out, 1);
	h_stop(&t.h);
}

/* Cut the IPv4 packet in @f (Ethernet, 20-byte IP header) at @cut bytes of
 * its payload into two fragments of datagram @id, as a router would (RFC
 * 791 3.2). */
static void split4(const uint8_t *f, uint32_t len, uint32_t cut, uint16_t id,
		   uint8_t *a, uint32_t *la, uint8_t *b, uint32_t *lb)
{
	const uint32_t h = 14 + 20;
	uint8_t *out[2] = { a, b };
	uint32_t from[2] = { 0, cut }, n[2] = { cut, len - h - cut };

	for (int i = 0; i < 2; i++) {
		uint8_t *ip = out[i] + 14;

		memcpy(out[i], f, h);
		memcpy(out[i] + h, f + h + from[i], n[i]);
		fr_put16(ip + 2, 20 + n[i]);
		fr_put16(ip + 4, id);
		fr_put16(ip + 6, (i == 0 ? 0x2000 : 0) | (from[i] / 8));
		ip[10] = ip[11] = 0;
		fr_put16(ip + 10, moat_csum_fold(moat_csum_partial(ip, 20, 0)));
	}
	*la = h + cut;
	*lb = h + n[1];
}

/* The same for IPv6 (RFC 8200 section 4.5): a fragment header after the
 * 40-byte header, the TCP segment as the fragmentable part. */
static void split6(const uint8_t *f, uint32_t len, uint32_t cut, uint32_t id,
		   uint8_t *a, uint32_t *la, uint8_t *b, uint32_t *lb)
{
	const uint32_t h = 14 + 40;
	uint8_t *out[2] = { a, b };
	uint32_t from[2] = { 0, cut }, n[2] = { cut, len - h - cut };

	for (int i = 0; i < 2; i++) {
		uint8_t *ip = out[i] + 14, *fh = out[i] + h;

		memcpy(out[i], f, h);
		memcpy(fh + 8, f + h + from[i], n[i]);
		fr_put16(ip + 4, 8 + n[i]);
		ip[6] = 44;
		fh[0] = f[14 + 6];
		fh[1] = 0;
		fr_put16(fh + 2, from[i] | (i == 0 ? 1 : 0));
		fr_put16(fh + 4, id >> 16);
		fr_put16(fh + 6, id & 0xffff);
	}
	*la = h + 8 + cut;
	*lb = h + 8 + n[1];
}

static void split(int ipv, const uint8_t *f, uint32_t len, uint32_t id,
		  uint8_t *a, uint32_t *la, uint8_t *b, uint32_t *lb)
{
	if (ipv == 4)
		split4(f, len, 1480, (uint16_t)id, a, la, b, lb);
	else
		split6(f, len, 1448, id, a, la, b, lb);
}

/* A TCP segment cut into fragments (RFC 791 3.2: a router may cut
 * anything without DF; RFC 8200 4.5: an IPv6 sender may cut its own): the
 * flow judged it by its first piece, yet the receiver's ACK of the whole
 * segment (RFC 9293 3.4) must pass, and an ACK of more must not. */
static void tcp_in_fragments(int ipv)
{
	static uint8_t payload[2000], whole[4096], a[FR_CAP], b[FR_CAP];
	static const struct moat_l2 l2 = {
		{ 2, 0, 0, 0, 0, 1 }, { 2, 0, 0, 0, 0, 2 }, 0, { 0 } };
	const char *cli = ipv == 4 ? "198.18.100.10" : "2001:db8:100::10";
	const char *srv = ipv == 4 ? "198.18.1.10" : "2001:db8:1::10";
	struct moat_tcp_spec sp;
	uint32_t len, la, lb;
	struct ft t;

	ft_start(&t, "zone outside { interface out0; default }\n"
		     "zone inside { interface in0; networks { 198.18.1.0/24, "
		     "2001:db8:1::/48 } }\n"
		     "pass from outside to { 198.18.1.10, 2001:db8:1::10 } "
		     "tcp port 80\n");
	struct seg syn = { cli, srv, 40000, 80, 100, 0, MOAT_TCP_SYN, 0, 0, 0,
			   NULL };
	struct seg sa = { srv, cli, 80, 40000, 500, 101,
			  MOAT_TCP_SYN | MOAT_TCP_ACK, 0, 0, 0, NULL };
	struct seg ack = { cli, srv, 40000, 80, 101, 501, MOAT_TCP_ACK, 0, 0, 0,
			   NULL };
	assert_verdict(h_tcp(&t.h, OUTSIDE, &syn), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	assert_verdict(h_tcp(&t.h, INSIDE, &sa), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_verdict(h_tcp(&t.h, OUTSIDE, &ack), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	/* 2000 bytes of data at 101, in two fragments. */
	memset(&sp, 0, sizeof(sp));
	moat_addr_parse(&sp.src, cli);
	moat_addr_parse(&sp.dst, srv);
	sp.sport = 40000;
	sp.dport = 80;
	sp.seq = 101;
	sp.ack = 501;
	sp.flags = MOAT_TCP_ACK | MOAT_TCP_PSH;
	sp.win = 65535;
	memset(payload, 'x', sizeof(payload));
	sp.payload = payload;
	sp.payload_len = sizeof(payload);
	len = moat_pkt_build_tcp(whole, sizeof(whole), MOAT_LINK_ETHERNET, &l2,
				 &sp);
	assert_true(len > 0);
	split(ipv, whole, len, 0x77, a, &la, b, &lb);
	/* The second piece first, then the first: out of order too. */
	memcpy(t.frame, b, lb);
	t.len = lb;
	assert_verdict(ft_run(&t, OUTSIDE), MOAT_VERDICT_DROP,
		       MOAT_R_FRAG_HELD);
	memcpy(t.frame, a, la);
	t.len = la;
	assert_verdict(ft_run(&t, OUTSIDE), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_int_equal(t.h.out.count, 1);
	/* The server acknowledges all 2000 bytes. */
	struct seg ack2 = { srv, cli, 80, 40000, 501, 2101, MOAT_TCP_ACK, 0, 0,
			    0, NULL };
	assert_verdict(h_tcp(&t.h, INSIDE, &ack2), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	/* In order this time: 2000 more bytes, then the ACK of them. */
	sp.seq = 2101;
	len = moat_pkt_build_tcp(whole, sizeof(whole), MOAT_LINK_ETHERNET, &l2,
				 &sp);
	split(ipv, whole, len, 0x78, a, &la, b, &lb);
	memcpy(t.frame, a, la);
	t.len = la;
	assert_verdict(ft_run(&t, OUTSIDE), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	memcpy(t.frame, b, lb);
	t.len = lb;
	assert_verdict(ft_run(&t, OUTSIDE), MOAT_VERDICT_PASS,
		       MOAT_R_FRAG_FIRST_PASSED);
	struct seg ack3 = { srv, cli, 80, 40000, 501, 4101, MOAT_TCP_ACK, 0, 0,
			    0, NULL };
	assert_verdict(h_tcp(&t.h, INSIDE, &ack3), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	/* But not an ACK of more than was sent. */
	ack3.ack = 4200;
	assert_verdict(h_tcp(&t.h, INSIDE, &ack3), MOAT_VERDICT_DROP,
		       MOAT_R_TCP_ACK_UNSENT);
	h_stop(&t.h);
}

static void rfc791_3_2_v4_tcp_in_fragments(void **state)
{
	(void)state;
	tcp_in_fragments(4);
}

static void rfc8200_4_5_v6_tcp_in_fragments(void **state)
{
	(void)state;
	tcp_in_fragments(6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc791_3_2_v4_in_order),
		cmocka_unit_test(rfc8200_4_5_v6_in_order),
		cmocka_unit_test(rfc791_3_2_v4_out_of_order),
		cmocka_unit_test(rfc8200_4_5_v6_out_of_order),
		cmocka_unit_test(first_dropped),
		cmocka_unit_test(rfc1858_4_v4_overlap),
		cmocka_unit_test(rfc5722_v6_overlap),
		cmocka_unit_test(duplicate_alone),
		cmocka_unit_test(rfc1858_3_1_tiny_first),
		cmocka_unit_test(rfc8200_4_5_too_big),
		cmocka_unit_test(too_many),
		cmocka_unit_test(timeout),
		cmocka_unit_test(eviction),
		cmocka_unit_test(emit_full_then_tick),
		cmocka_unit_test(rfc6946_atomic),
		cmocka_unit_test(frag_max_zero),
		cmocka_unit_test(burst_out_of_order),
		cmocka_unit_test(reload_timeout),
		cmocka_unit_test(rfc791_3_2_v4_tcp_in_fragments),
		cmocka_unit_test(rfc8200_4_5_v6_tcp_in_fragments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
