/*
 * A small harness for driving the engine in tests: a configuration from a
 * string, frames built with the codec's builders, injected time, and
 * helpers that send a segment and return the result.
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

static inline void h_build(struct harness *h, const struct seg *s)
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
	if (s->opt)
		sp.opt = *s->opt;
	memset(payload, s->fill, s->len);
	sp.payload = payload;
	sp.payload_len = s->len;
	h->len = moat_pkt_build_tcp(h->frame, sizeof(h->frame),
				    MOAT_LINK_ETHERNET, &l2, &sp);
	assert_true(h->len > 0);
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

#endif
