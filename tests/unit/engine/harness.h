/*
 * The one harness for driving the engine in tests: a configuration from a
 * string, frames built with the codec's builders, injected time, helpers
 * that send a segment and return the result, and cmocka fixtures.
 *
 * A test that runs on one configuration is listed as
 *   h_test(fn, conf)
 * and finds in *state a harness started on @conf (h_setup), stopped after
 * it (h_teardown).  A test that needs another engine on the way calls
 * h_stop() and h_start() itself.  Allocation counting is
 * tests/unit/alloc_count.h.
 */
#ifndef MOAT_TEST_ENGINE_HARNESS_H
#define MOAT_TEST_ENGINE_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "moat/engine.h"
#include "moat/pkt.h"
#include "moat/rules.h"

#define SEC 1000000000ull

/* The zones of the tests' configurations: outside first, inside second. */
enum { OUT = 0, IN = 1 };

struct harness {
	struct moat_config *cfg;
	struct moat_engine *eng;
	struct moat_emit out;
	struct moat_result res;
	uint64_t now;
	uint8_t frame[2048];
	uint32_t len;
};

static inline void h_start(struct harness *h, const char *conf)
{
	struct moat_engine_params par;
	struct moat_diags d;

	memset(h, 0, sizeof(*h));
	h->cfg = moat_config_parse_string("test.conf", conf, &d);
	if (!h->cfg)
		for (int i = 0; i < d.count; i++)
			fprintf(stderr, "%d:%d: %s\n", d.d[i].line,
				d.d[i].col, d.d[i].msg);
	assert_non_null(h->cfg);
	memset(par.secret, 0x5a, sizeof(par.secret));
	h->eng = moat_engine_create(h->cfg, &par);
	assert_non_null(h->eng);
	h->now = 1000 * SEC;
}

static inline void h_stop(struct harness *h)
{
	moat_engine_destroy(h->eng);
	moat_config_destroy(h->cfg);
}

/* cmocka fixtures: *state holds the configuration's text on entry (the
 * prestate of h_test) and the started harness after. */
static inline int h_setup(void **state)
{
	static struct harness h;

	h_start(&h, *state);
	*state = &h;
	return 0;
}

static inline int h_teardown(void **state)
{
	h_stop(*state);
	return 0;
}

#define h_test(f, conf)                                                        \
	cmocka_unit_test_prestate_setup_teardown(f, h_setup, h_teardown,      \
						 (void *)(uintptr_t)(conf))

/* A TCP segment; @flags as MOAT_TCP_*; @opt may be NULL. */
struct seg {
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint16_t len;      /* payload bytes (filled with @fill) */
	uint8_t fill;
	const struct moat_tcp_opts *opt;
};

/* Build @s into h->frame with IP TTL @ttl (0: the builder's 64) and, when
 * @data is not NULL, its @s->len payload bytes instead of @s->fill. */
static inline void h_build_ex(struct harness *h, const struct seg *s,
			      uint8_t ttl, const uint8_t *data)
{
	static const struct moat_l2 l2 = {
		{ 2, 0, 0, 0, 0, 1 }, { 2, 0, 0, 0, 0, 2 }, 0, { 0 } };
	static uint8_t payload[1500];
	struct moat_tcp_spec sp;

	memset(&sp, 0, sizeof(sp));
	assert_int_equal(moat_addr_parse(&sp.src, s->src), 0);
	assert_int_equal(moat_addr_parse(&sp.dst, s->dst), 0);
	sp.sport = s->sport;
	sp.dport = s->dport;
	sp.seq = s->seq;
	sp.ack = s->ack;
	sp.flags = s->flags;
	sp.win = s->win ? s->win : 65535;
	sp.ttl = ttl;
	if (s->opt)
		sp.opt = *s->opt;
	assert_true(s->len <= sizeof(payload));
	if (!data) {
		memset(payload, s->fill, s->len);
		data = payload;
	}
	sp.payload = data;
	sp.payload_len = s->len;
	h->len = moat_pkt_build_tcp(h->frame, sizeof(h->frame),
				    MOAT_LINK_ETHERNET, &l2, &sp);
	assert_true(h->len > 0);
}

static inline void h_build(struct harness *h, const struct seg *s)
{
	h_build_ex(h, s, 0, NULL);
}

/* Run the frame in h->frame through the engine from zone @zone. */
static inline const struct moat_result *h_run(struct harness *h, int zone)
{
	struct moat_frame f = { h->frame, h->len, h->len, MOAT_LINK_ETHERNET,
				(int16_t)zone };

	moat_emit_reset(&h->out);
	moat_engine_process(h->eng, &f, h->now, &h->res, &h->out);
	/* Every verdict agrees with its reason's class (include/moat/
	 * reason.h): the one table the stats and metrics read. */
	assert_int_equal(h->res.verdict,
			 moat_reason_verdict(moat_reason_class(h->res.reason)));
	return &h->res;
}

static inline const struct moat_result *h_tcp(struct harness *h, int zone,
					      const struct seg *s)
{
	h_build(h, s);
	return h_run(h, zone);
}

/* h_tcp with a TTL and payload bytes of its own (h_build_ex). */
static inline const struct moat_result *h_tcp_ex(struct harness *h, int zone,
						 const struct seg *s,
						 uint8_t ttl,
						 const uint8_t *data)
{
	h_build_ex(h, s, ttl, data);
	return h_run(h, zone);
}

/* Decode what the engine left in h->frame (after a rewrite). */
static inline void h_decode(struct harness *h, struct moat_pkt *p)
{
	assert_int_equal(moat_pkt_decode(p, h->frame, h->len, h->len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
}

#define assert_verdict(r, v, reason_)                                          \
	do {                                                                   \
		const struct moat_result *r_ = (r);                           \
		if (r_->verdict != (v) || r_->reason != (reason_))            \
			fail_msg("got %s/%s, want %s/%s",                     \
				 r_->verdict ? "drop" : "pass",               \
				 moat_reason_name(r_->reason),                \
				 (v) ? "drop" : "pass",                       \
				 moat_reason_name(reason_));                  \
	} while (0)

/*
 * A handshake from @c:@sport (outside) to @srv:@dport (inside) with ISNs
 * @cisn and @sisn, 10 ms between segments; each must pass (the SYN by a
 * rule, the rest as the flow's).  Not for modulated or proxied flows,
 * whose numbers change on the way.
 */
static inline void h_handshake(struct harness *h, const char *c,
			       const char *srv, uint16_t sport, uint16_t dport,
			       uint32_t cisn, uint32_t sisn)
{
	struct seg syn = { c, srv, sport, dport, cisn, 0, MOAT_TCP_SYN,
			   0, 0, 0, NULL };
	struct seg synack = { srv, c, dport, sport, sisn, cisn + 1,
			      MOAT_TCP_SYN | MOAT_TCP_ACK, 0, 0, 0, NULL };
	struct seg ack = { c, srv, sport, dport, cisn + 1, sisn + 1,
			   MOAT_TCP_ACK, 0, 0, 0, NULL };

	assert_verdict(h_tcp(h, OUT, &syn), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	h->now += SEC / 100;
	assert_verdict(h_tcp(h, IN, &synack), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	h->now += SEC / 100;
	assert_verdict(h_tcp(h, OUT, &ack), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
}

/* Drain the engine's events: how many contain @needle; the last of them
 * is copied to @last (when not NULL). */
/* Drains the events; returns how many @match accepts (NULL: any), the last
 * of them in @last when given. */
static inline int h_events_match(struct harness *h,
				 bool (*match)(const struct moat_event *,
					       int),
				 int arg, struct moat_event *last)
{
	struct moat_event ev[64];
	int n, hits = 0;

	while ((n = moat_engine_events_drain(h->eng, ev, 64)) > 0)
		for (int i = 0; i < n; i++)
			if (!match || match(&ev[i], arg)) {
				hits++;
				if (last)
					*last = ev[i];
			}
	return hits;
}

static inline bool h_event_is(const struct moat_event *ev, int kind)
{
	return ev->kind == (enum moat_event_kind)kind;
}

/* Drains the events; returns how many are of @kind. */
static inline int h_events_with(struct harness *h, enum moat_event_kind kind,
				struct moat_event *last)
{
	return h_events_match(h, h_event_is, (int)kind, last);
}

static inline void h_assert_addr(const struct moat_addr *a, const char *text)
{
	struct moat_addr want;

	assert_int_equal(moat_addr_parse(&want, text), 0);
	assert_true(moat_addr_eq(a, &want));
}

#endif
