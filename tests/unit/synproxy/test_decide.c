/*
 * The SYN proxy's one decision (moat/syn_decide.h, src/synproxy/decide.c):
 * the pure function over its whole input space, then the one call through
 * the detector's phases with injected time (calm, flooded, held by the
 * hysteresis, cooling, back), the server-learning probe, and the half-open
 * accounting on real conntrack entries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "moat/ct.h"
#include "moat/syn_proxy.h"

#define MS 1000000ull
#define SEC 1000000000ull

static const uint64_t T0 = 1764150000ull * SEC;

#define OFF MOAT_SYNCOOKIES_OFF
#define ON MOAT_SYNCOOKIES_ON
#define AUTO MOAT_SYNCOOKIES_AUTO
#define T MOAT_SYN_TRACK
#define P MOAT_SYN_PROBE
#define C MOAT_SYN_COOKIE
#define S MOAT_SYN_SHED

/*
 * The decision table, written out: mode in force, destination flooded
 * (the detector's record says cookies), the server still to be learned
 * (probe due), shedding, source known -> decision.
 */
static const struct row {
	uint8_t mode, flooded, probe, shed, known, want;
} table[] = {
	{ OFF, 0, 0, 0, 0, T },
	{ OFF, 0, 0, 0, 1, T },
	{ OFF, 0, 0, 1, 0, T },
	{ OFF, 0, 0, 1, 1, T },
	{ OFF, 0, 1, 0, 0, T },
	{ OFF, 0, 1, 0, 1, T },
	{ OFF, 0, 1, 1, 0, T },
	{ OFF, 0, 1, 1, 1, T },
	{ OFF, 1, 0, 0, 0, T },
	{ OFF, 1, 0, 0, 1, T },
	{ OFF, 1, 0, 1, 0, T },
	{ OFF, 1, 0, 1, 1, T },
	{ OFF, 1, 1, 0, 0, T },
	{ OFF, 1, 1, 0, 1, T },
	{ OFF, 1, 1, 1, 0, T },
	{ OFF, 1, 1, 1, 1, T },
	{ ON, 0, 0, 0, 0, C },
	{ ON, 0, 0, 0, 1, C },
	{ ON, 0, 0, 1, 0, S },
	{ ON, 0, 0, 1, 1, C },
	{ ON, 0, 1, 0, 0, P },
	{ ON, 0, 1, 0, 1, P },
	{ ON, 0, 1, 1, 0, P },
	{ ON, 0, 1, 1, 1, P },
	{ ON, 1, 0, 0, 0, C },
	{ ON, 1, 0, 0, 1, C },
	{ ON, 1, 0, 1, 0, S },
	{ ON, 1, 0, 1, 1, C },
	{ ON, 1, 1, 0, 0, P },
	{ ON, 1, 1, 0, 1, P },
	{ ON, 1, 1, 1, 0, P },
	{ ON, 1, 1, 1, 1, P },
	{ AUTO, 0, 0, 0, 0, T },
	{ AUTO, 0, 0, 0, 1, T },
	{ AUTO, 0, 0, 1, 0, T },
	{ AUTO, 0, 0, 1, 1, T },
	{ AUTO, 0, 1, 0, 0, T },
	{ AUTO, 0, 1, 0, 1, T },
	{ AUTO, 0, 1, 1, 0, T },
	{ AUTO, 0, 1, 1, 1, T },
	{ AUTO, 1, 0, 0, 0, C },
	{ AUTO, 1, 0, 0, 1, C },
	{ AUTO, 1, 0, 1, 0, S },
	{ AUTO, 1, 0, 1, 1, C },
	{ AUTO, 1, 1, 0, 0, P },
	{ AUTO, 1, 1, 0, 1, P },
	{ AUTO, 1, 1, 1, 0, P },
	{ AUTO, 1, 1, 1, 1, P },
};

static enum moat_syn_decision want_for(uint8_t mode, bool flooded,
				       bool probe, bool shed, bool known)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].mode == mode && table[i].flooded == flooded &&
		    table[i].probe == probe && table[i].shed == shed &&
		    table[i].known == known)
			return (enum moat_syn_decision)table[i].want;
	fail_msg("no row");
	return T;
}

static void test_decision_table(void **state)
{
	struct moat_syn_dst_state dst;
	struct moat_syn_question q;

	(void)state;
	assert_int_equal(sizeof(table) / sizeof(table[0]), 3 * 2 * 2 * 2 * 2);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct row *r = &table[i];

		memset(&dst, 0, sizeof(dst));
		dst.cookies = r->flooded;
		/* Fields the decision must not read. */
		dst.half_open = 100000;
		dst.syn_cur = dst.syn_prev = 100000;
		dst.quiet = 1;
		memset(&q, 0, sizeof(q));
		q.mode = r->mode;
		q.shed = r->shed;
		q.src_known = r->known;
		if (moat_syn_decision(&dst, r->probe, &q) != r->want)
			fail_msg("row %zu: mode %u flooded %u probe %u shed %u "
				 "known %u: got %d, want %u", i, r->mode,
				 r->flooded, r->probe, r->shed, r->known,
				 moat_syn_decision(&dst, r->probe, &q),
				 r->want);
		/* Without a record the destination was never flooded. */
		if (!r->flooded)
			assert_int_equal(moat_syn_decision(NULL, r->probe, &q),
					 r->want);
	}
	/* A mode outside the enum is auto: the detector decides. */
	memset(&q, 0, sizeof(q));
	q.mode = 7;
	dst.cookies = 1;
	assert_int_equal(moat_syn_decision(&dst, false, &q), C);
	dst.cookies = 0;
	assert_int_equal(moat_syn_decision(&dst, false, &q), T);
	assert_int_equal(moat_syn_decision(NULL, false, &q), T);
}

/* ---- the one call, with state ---------------------------------------- */

struct world {
	struct moat_syn *syn;
	struct moat_ct *ct;
	struct moat_emit out;
	uint8_t frame[256];
	struct moat_pkt p;
	uint64_t now;
	uint16_t sport;
	int switches, to_cookies;
};

static void world_init(struct world *w)
{
	struct moat_syn_params sp = { 0 };
	struct moat_ct_params cp;

	memset(w, 0, sizeof(*w));
	memset(sp.secret, 0x33, sizeof(sp.secret));
	/* Cookies at 100 SYN/s or 8 half-open; back after 5 s under half. */
	sp.mode.rate = 100;
	sp.mode.half_open = 8;
	sp.mode.quiet_s = 5;
	w->syn = moat_syn_create(&sp);
	assert_non_null(w->syn);
	moat_ct_params_default(&cp);
	cp.max_flows = 64;
	memset(cp.seed, 4, sizeof(cp.seed));
	w->ct = moat_ct_create(&cp);
	assert_non_null(w->ct);
	w->now = T0;
	w->sport = 1024;
}

static void world_fini(struct world *w)
{
	moat_syn_destroy(w->syn);
	moat_ct_destroy(w->ct);
}

/* Build and decode one segment into w->p. */
static void segment(struct world *w, const char *src, const char *dst,
		    uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		    uint8_t flags)
{
	static const struct moat_l2 l2 = { { 2, 0, 0, 0, 0, 1 },
					   { 2, 0, 0, 0, 0, 2 }, 0, { 0 } };
	struct moat_tcp_spec s = { 0 };
	uint32_t len;

	moat_addr_parse(&s.src, src);
	moat_addr_parse(&s.dst, dst);
	s.sport = sport;
	s.dport = dport;
	s.seq = seq;
	s.ack = ack;
	s.flags = flags;
	s.win = 65535;
	len = moat_pkt_build_tcp(w->frame, sizeof(w->frame),
				 MOAT_LINK_ETHERNET, &l2, &s);
	assert_true(len > 0);
	assert_int_equal(moat_pkt_decode(&w->p, w->frame, len, len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
}

#define SERVER "198.18.1.10"

/* The server's SYN-ACK, seen: the backend table learns it. */
static void learn_server(struct world *w, uint16_t port)
{
	segment(w, SERVER, "198.18.100.10", port, 40000, 7, 8,
		MOAT_TCP_SYN | MOAT_TCP_ACK);
	moat_syn_learn(w->syn, &w->p, w->now);
}

/* Ask about one SYN from a new source port at @now. */
static enum moat_syn_decision ask(struct world *w, uint16_t dport,
				  uint8_t mode, bool shed, bool known,
				  uint64_t now)
{
	struct moat_syn_question q = { .mode = mode, .shed = shed,
				       .src_known = known };
	struct moat_syn_mode_event ev;
	enum moat_syn_decision d;
	bool sw;

	segment(w, "198.18.130.1", SERVER, w->sport++, dport, 1000, 0,
		MOAT_TCP_SYN);
	d = moat_syn_decide(w->syn, &w->p, &q, now, &ev, &sw);
	if (sw) {
		w->switches++;
		w->to_cookies += ev.cookies;
		assert_int_equal(ev.port, dport);
	}
	return d;
}

/* Every (mode, shed, known) at @now, against the table. */
static void ask_all(struct world *w, bool flooded, const char *phase)
{
	static const uint8_t modes[] = { OFF, ON, AUTO };

	for (int m = 0; m < 3; m++)
		for (int shed = 0; shed < 2; shed++)
			for (int known = 0; known < 2; known++) {
				enum moat_syn_decision d, want;

				d = ask(w, 80, modes[m], shed, known, w->now);
				want = want_for(modes[m], flooded, false, shed,
						known);
				if (d != want)
					fail_msg("%s: mode %u shed %d known %d:"
						 " got %d, want %d", phase,
						 modes[m], shed, known, d,
						 want);
			}
}

/* @n SYNs (mode auto) spread over [w->now, w->now + span). */
static void flood(struct world *w, uint32_t n, uint64_t span)
{
	for (uint32_t i = 0; i < n; i++)
		ask(w, 80, AUTO, false, false, w->now + span * i / n);
	w->now += span;
}

static void tick(struct world *w, uint64_t at)
{
	struct moat_syn_tick_report rep;

	w->now = at;
	moat_emit_reset(&w->out);
	moat_syn_tick(w->syn, w->ct, w->now, &w->out, &rep);
	for (uint32_t i = 0; i < rep.mode_events; i++) {
		w->switches++;
		w->to_cookies += rep.ev[i].cookies;
	}
}

static bool flooded_now(struct world *w)
{
	struct moat_addr d;

	moat_addr_parse(&d, SERVER);
	return moat_syn_mode_cookies(moat_syn_modes(w->syn), &d, 80);
}

/*
 * The detector's phases by the SYN rate, each asked every (mode, shed,
 * known): the mode in force decides whether the detector's verdict counts,
 * and every SYN is counted whatever the mode.
 */
static void test_decide_rate_phases(void **state)
{
	struct world w;

	(void)state;
	world_init(&w);
	learn_server(&w, 80);
	/* Calm: no record yet. */
	ask_all(&w, false, "calm");
	assert_false(flooded_now(&w));
	/* 200 SYN/s: one switch into cookies, reported. */
	w.now += SEC;
	flood(&w, 200, SEC);
	assert_int_equal(w.switches, 1);
	assert_int_equal(w.to_cookies, 1);
	ask_all(&w, true, "flooded");
	/* 60 SYN/s for 10 s: above half the threshold, held. */
	flood(&w, 600, 10 * SEC);
	tick(&w, w.now);
	ask_all(&w, true, "held by the hysteresis");
	/* 10 SYN/s: quiet begins within a second; 4 s on, still cookies. */
	flood(&w, 40, 4 * SEC);
	tick(&w, w.now);
	assert_int_equal(w.switches, 1);
	ask_all(&w, true, "cooling");
	/* Three more quiet seconds: the tick switches it back. */
	tick(&w, w.now + 3 * SEC);
	assert_int_equal(w.switches, 2);
	assert_int_equal(w.to_cookies, 1);
	assert_false(flooded_now(&w));
	ask_all(&w, false, "back");
	/* The SYNs asked under `off` and `on` count too: 100 of them in a
	 * second switch the destination although none was asked in auto. */
	w.now += 10 * SEC;
	for (int i = 0; i < 100; i++)
		ask(&w, 80, i % 2 ? OFF : ON, false, false,
		    w.now + SEC * (uint64_t)i / 100);
	assert_int_equal(w.switches, 3);
	assert_true(flooded_now(&w));
	world_fini(&w);
}

/* Open a flow for a SYN the decision sent to the server. */
static struct moat_ct_entry *open_flow(struct world *w, uint16_t sport,
				       enum moat_syn_decision *d)
{
	struct moat_syn_question q = { .mode = AUTO };
	struct moat_syn_mode_event ev;
	struct moat_ct_entry *e;
	enum moat_reason why;
	bool sw;

	segment(w, "198.18.100.10", SERVER, sport, 80, 5000u + sport, 0,
		MOAT_TCP_SYN);
	*d = moat_syn_decide(w->syn, &w->p, &q, w->now, &ev, &sw);
	if (*d != T && *d != P)
		return NULL;
	e = moat_ct_insert(w->ct, &w->p, w->now, &why);
	assert_non_null(e);
	moat_syn_half_open_start(w->syn, e, w->now, &ev, &sw);
	if (sw) {
		w->switches++;
		w->to_cookies += ev.cookies;
	}
	return e;
}

static uint32_t half_open(struct world *w)
{
	const struct moat_syn_dst_state *st;
	struct moat_addr d;

	moat_addr_parse(&d, SERVER);
	st = moat_syn_mode_find(moat_syn_modes(w->syn), &d, 80);
	return st ? st->half_open : 0;
}

/* A handshake of @e completes: the server's SYN-ACK, the client's ACK. */
static void complete(struct world *w, struct moat_ct_entry *e,
		     uint16_t sport)
{
	struct moat_syn_mode_event ev;
	bool sw;

	segment(w, SERVER, "198.18.100.10", 80, sport, 90000, 5001u + sport,
		MOAT_TCP_SYN | MOAT_TCP_ACK);
	assert_int_equal(moat_ct_track(w->ct, e, MOAT_CT_REPLY, &w->p, w->now),
			 MOAT_R_STATE_MATCH);
	moat_syn_tracked(w->syn, e, MOAT_CT_REPLY, &w->p, w->now, &ev, &sw);
	segment(w, "198.18.100.10", SERVER, sport, 80, 5001u + sport, 90001,
		MOAT_TCP_ACK);
	assert_int_equal(moat_ct_track(w->ct, e, MOAT_CT_ORIG, &w->p, w->now),
			 MOAT_R_STATE_MATCH);
	assert_int_equal(e->state, MOAT_CT_ESTABLISHED);
	moat_syn_tracked(w->syn, e, MOAT_CT_ORIG, &w->p, w->now, &ev, &sw);
	if (sw)
		w->switches++;
}

/*
 * The half-open count per destination, owned by decide.c: each flow the
 * decision sent to the server counts once until its handshake completes
 * or it leaves the table; the count switches the destination both ways.
 */
static void test_half_open_accounting(void **state)
{
	struct moat_ct_entry *e[8];
	struct moat_syn_mode_event ev;
	enum moat_syn_decision d;
	struct world w;
	bool sw;

	(void)state;
	world_init(&w);
	/* The first SYN to an unknown server: state mode anyway (auto, calm),
	 * and its SYN-ACK teaches the server. */
	for (int i = 0; i < 7; i++) {
		e[i] = open_flow(&w, (uint16_t)(2000 + i), &d);
		assert_int_equal(d, T);
		assert_true(e[i]->flags & MOAT_CT_F_HALFOPEN);
		assert_int_equal(half_open(&w), i + 1);
	}
	/* Counted once, however often it is reported. */
	moat_syn_half_open_start(w.syn, e[0], w.now, &ev, &sw);
	assert_false(sw);
	assert_int_equal(half_open(&w), 7);
	/* The eighth: 8 half-open, cookies from here. */
	e[7] = open_flow(&w, 2007, &d);
	assert_int_equal(d, T);
	assert_int_equal(w.switches, 1);
	assert_int_equal(w.to_cookies, 1);
	w.now += 10 * MS;
	/* One handshake completes: the server is learned from its SYN-ACK,
	 * the count drops. */
	complete(&w, e[0], 2000);
	assert_false(e[0]->flags & MOAT_CT_F_HALFOPEN);
	assert_int_equal(half_open(&w), 7);
	moat_syn_tracked(w.syn, e[0], MOAT_CT_ORIG, &w.p, w.now, &ev, &sw);
	assert_int_equal(half_open(&w), 7);
	/* Still flooded (7 >= 8 / 2), the server learned: a cookie, no
	 * probe. */
	assert_null(open_flow(&w, 2101, &d));
	assert_int_equal(d, C);
	/* Flows that leave the table uncount, once. */
	for (int i = 1; i < 5; i++) {
		moat_syn_flow_gone(w.syn, e[i], w.now, &ev, &sw);
		moat_syn_flow_gone(w.syn, e[i], w.now, &ev, &sw);
		assert_false(e[i]->flags & MOAT_CT_F_HALFOPEN);
	}
	assert_int_equal(half_open(&w), 3);
	/* A flow completed before is not uncounted again when it goes. */
	moat_syn_flow_gone(w.syn, e[0], w.now, &ev, &sw);
	assert_int_equal(half_open(&w), 3);
	/* Under half of both thresholds: back to state mode after 5 s. */
	tick(&w, w.now + SEC);
	tick(&w, w.now + 5 * SEC + MS);
	assert_int_equal(w.switches, 2);
	assert_false(flooded_now(&w));
	/* A flow not in a handshake state is never counted. */
	segment(&w, "198.18.100.11", SERVER, 3000, 80, 1, 0, MOAT_TCP_SYN);
	struct moat_ct_entry *est = moat_ct_insert_as(w.ct, &w.p,
						      MOAT_CT_ESTABLISHED,
						      w.now, NULL);
	assert_non_null(est);
	moat_syn_half_open_start(w.syn, est, w.now, &ev, &sw);
	assert_false(est->flags & MOAT_CT_F_HALFOPEN);
	assert_int_equal(half_open(&w), 3);
	world_fini(&w);
}

/*
 * The server's options unknown: in cookie mode one SYN a second goes to
 * the server (PROBE), before shedding; once learned, never again.  Under
 * `off` (or `auto` calm) nothing is probed: the SYNs go there anyway.
 */
static void test_probe(void **state)
{
	struct world w;

	(void)state;
	world_init(&w);
	assert_int_equal(ask(&w, 80, OFF, false, false, w.now), T);
	assert_int_equal(ask(&w, 80, AUTO, false, false, w.now), T);
	assert_int_equal(ask(&w, 80, ON, true, false, w.now), P);
	assert_int_equal(ask(&w, 80, ON, false, false, w.now), C);
	assert_int_equal(ask(&w, 80, ON, true, false, w.now + 500 * MS), S);
	assert_int_equal(ask(&w, 80, ON, true, true, w.now + 999 * MS), C);
	assert_int_equal(ask(&w, 80, ON, false, false, w.now + SEC), P);
	/* Another port of the same host is another server. */
	assert_int_equal(ask(&w, 443, ON, false, false, w.now + SEC), P);
	assert_int_equal(ask(&w, 443, ON, false, false, w.now + SEC), C);
	learn_server(&w, 80);
	assert_int_equal(ask(&w, 80, ON, false, false, w.now + 5 * SEC), C);
	assert_int_equal(ask(&w, 80, ON, false, false, w.now + 9 * SEC), C);
	world_fini(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decision_table),
		cmocka_unit_test(test_decide_rate_phases),
		cmocka_unit_test(test_half_open_accounting),
		cmocka_unit_test(test_probe),
	};

	return cmocka_run_group_tests_name("synproxy_decide", tests, NULL,
					   NULL);
}
