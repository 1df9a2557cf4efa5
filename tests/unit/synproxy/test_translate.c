/*
 * Sequence translation: random rows of segments (both families, with and
 * without timestamps and SACK blocks, aligned and unaligned options) are
 * rewritten in place and must equal, byte for byte, the same segment built
 * from scratch with the translated numbers (so the incremental checksum
 * equals a full recompute); the window rescale table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "moat/syn.h"

static uint32_t rng_state = 12345;

static uint32_t rnd(void)
{
	/* xorshift32: deterministic rows, no libc state */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static const struct moat_l2 l2 = {
	.dst = { 2, 0, 0, 0, 0, 1 }, .src = { 2, 0, 0, 0, 0, 2 },
};

static uint32_t build(uint8_t *buf, const struct moat_tcp_spec *s, int vlan)
{
	struct moat_l2 l = l2;

	if (vlan) {
		l.vlan_count = 1;
		l.vlan[0] = 42;
	}
	return moat_pkt_build_tcp(buf, 1600, MOAT_LINK_ETHERNET, &l, s);
}

static void random_spec(struct moat_tcp_spec *s, uint8_t *payload)
{
	unsigned i;

	memset(s, 0, sizeof(*s));
	if (rnd() & 1) {
		moat_addr_parse(&s->src, "198.18.1.10");
		moat_addr_parse(&s->dst, "198.18.100.10");
	} else {
		moat_addr_parse(&s->src, "2001:db8:1::10");
		moat_addr_parse(&s->dst, "2001:db8:100::10");
	}
	s->sport = 80;
	s->dport = (uint16_t)rnd();
	s->seq = rnd();
	s->ack = rnd();
	s->flags = MOAT_TCP_ACK | (rnd() & 1 ? MOAT_TCP_PSH : 0);
	s->win = (uint16_t)rnd();
	if (rnd() & 1) {
		s->opt.present |= MOAT_TCPOPT_TS;
		s->opt.tsval = rnd();
		s->opt.tsecr = rnd();
	}
	s->opt.sack_count = (uint8_t)(rnd() % 4);
	if (s->opt.sack_count)
		s->opt.present |= MOAT_TCPOPT_SACK;
	for (i = 0; i < s->opt.sack_count; i++) {
		s->opt.sack[i][0] = rnd();
		s->opt.sack[i][1] = s->opt.sack[i][0] + rnd() % 100000;
	}
	s->payload_len = (uint16_t)(rnd() % 1400);
	for (i = 0; i < s->payload_len; i++)
		payload[i] = (uint8_t)rnd();
	s->payload = payload;
}

static void random_xlate(struct moat_syn_xlate *x)
{
	memset(x, 0, sizeof(*x));
	x->seq = rnd() & 3 ? rnd() : 0;
	x->ack = rnd() & 3 ? rnd() : 0;
	x->tsval = rnd() & 1 ? rnd() : 0;
	x->tsecr = rnd() & 1 ? rnd() : 0;
	if (rnd() % 3 == 0) {
		x->win_shl = (uint8_t)(rnd() % 15);
		x->win_shr = (uint8_t)(rnd() % 15);
	}
}

/* @s with @x applied, as a sender would have built it. */
static void apply(struct moat_tcp_spec *s, const struct moat_syn_xlate *x)
{
	unsigned i;

	s->seq += x->seq;
	s->ack += x->ack;
	for (i = 0; i < s->opt.sack_count; i++) {
		s->opt.sack[i][0] += x->ack;
		s->opt.sack[i][1] += x->ack;
	}
	s->opt.tsval += x->tsval;
	s->opt.tsecr += x->tsecr;
	s->win = moat_syn_rescale_window(s->win, x->win_shl, x->win_shr);
}

static void test_random_rows(void **state)
{
	static uint8_t payload[1500], a[1600], b[1600];
	struct moat_tcp_spec s;
	struct moat_syn_xlate x;
	struct moat_pkt p, q;
	uint32_t la, lb;
	int row, vlan;

	(void)state;
	for (row = 0; row < 2000; row++) {
		random_spec(&s, payload);
		random_xlate(&x);
		vlan = row & 1;
		la = build(a, &s, vlan);
		assert_true(la > 0);
		assert_int_equal(moat_pkt_decode(&p, a, la, la,
						 MOAT_LINK_ETHERNET),
				 MOAT_R_NONE);
		moat_syn_translate(&p, &x);
		assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);
		apply(&s, &x);
		lb = build(b, &s, vlan);
		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la);
		/* The view follows the frame. */
		assert_int_equal(moat_pkt_decode(&q, b, lb, lb,
						 MOAT_LINK_ETHERNET),
				 MOAT_R_NONE);
		assert_int_equal(p.seq, q.seq);
		assert_int_equal(p.ack, q.ack);
		assert_int_equal(p.win, q.win);
		if (s.opt.present & MOAT_TCPOPT_TS) {
			assert_int_equal(p.opt.tsval, q.opt.tsval);
			assert_int_equal(p.opt.tsecr, q.opt.tsecr);
		}
		assert_int_equal(p.opt.sack_count, q.opt.sack_count);
		assert_memory_equal(p.opt.sack, q.opt.sack,
				    sizeof(p.opt.sack[0]) * q.opt.sack_count);
	}
}

/*
 * Options at odd offsets (one NOP before TS or SACK): patched word by
 * word.  The frame is built with 12 payload bytes that then become the
 * options by raising the data offset.
 */
static void odd_frame(uint8_t *f, uint32_t *len, const uint8_t opts[12])
{
	static const uint8_t data[12];
	struct moat_tcp_spec s = { 0 };
	struct moat_pkt p;

	moat_addr_parse(&s.src, "198.18.100.10");
	moat_addr_parse(&s.dst, "198.18.1.10");
	s.sport = 1234;
	s.dport = 80;
	s.seq = 1000;
	s.ack = 2000;
	s.flags = MOAT_TCP_ACK;
	s.win = 500;
	s.payload = data;
	s.payload_len = 12;
	*len = build(f, &s, 0);
	memcpy(f + 14 + 20 + 20, opts, 12);
	f[14 + 20 + 12] = 8 << 4;
	assert_int_equal(moat_pkt_decode(&p, f, *len, *len, MOAT_LINK_ETHERNET),
			 MOAT_R_NONE);
	moat_pkt_fill_checksums(&p);
}

static void test_odd_offsets(void **state)
{
	static const uint8_t ts_opts[12] = { 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8,
					     0 };
	static const uint8_t sack_opts[12] = { 1, 5, 10, 0, 0, 1, 0, 0, 0, 2,
					       0, 0 };
	const uint8_t *rows[] = { ts_opts, sack_opts };
	struct moat_syn_xlate x = { .seq = 0x01020304, .ack = 0xfffffff0,
				    .tsval = 0x11111111, .tsecr = 0x80000001 };
	uint8_t f[200], g[200];
	struct moat_pkt p;
	uint32_t len;
	unsigned r;

	(void)state;
	for (r = 0; r < 2; r++) {
		odd_frame(f, &len, rows[r]);
		assert_int_equal(moat_pkt_decode(&p, f, len, len,
						 MOAT_LINK_ETHERNET),
				 MOAT_R_NONE);
		if (r == 0)
			assert_int_equal(p.opt.ts_off, 23);
		else
			assert_int_equal(p.opt.sack_off, 23);
		assert_true(moat_syn_translate(&p, &x));
		assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);
		/* Full recompute on a copy changes nothing. */
		memcpy(g, f, len);
		assert_int_equal(moat_pkt_decode(&p, g, len, len,
						 MOAT_LINK_ETHERNET),
				 MOAT_R_NONE);
		moat_pkt_fill_checksums(&p);
		assert_memory_equal(f, g, len);
		if (r == 0) {
			assert_int_equal(p.opt.tsval, 0x01020304u + 0x11111111u);
			assert_int_equal(p.opt.tsecr, 0x05060708u + 0x80000001u);
		} else {
			assert_int_equal(p.opt.sack[0][0], 0x100u - 16);
			assert_int_equal(p.opt.sack[0][1], 0x200u - 16);
		}
	}
}

static void test_rescale_window(void **state)
{
	static const struct {
		uint16_t win;
		uint8_t shl, shr;
		uint16_t want;
	} rows[] = {
		{ 1000, 7, 7, 1000 },      /* same scale: untouched */
		{ 1000, 7, 2, 32000 },     /* server scales more than told */
		{ 1000, 8, 2, 64000 },
		{ 2000, 8, 2, 65535 },     /* clamped */
		{ 65535, 14, 0, 65535 },
		{ 256, 0, 7, 2 },          /* server scales less than told */
		{ 3, 0, 7, 1 },            /* never rounded to a zero window */
		{ 0, 7, 0, 0 },            /* a real zero window stays */
		{ 0, 0, 7, 0 },
	};
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(moat_syn_rescale_window(rows[i].win,
							 rows[i].shl,
							 rows[i].shr),
				 rows[i].want);
}

/* SYN windows are never scaled; TSecr and ACK without ACK are left. */
static void test_syn_untouched_fields(void **state)
{
	struct moat_tcp_spec s = { 0 };
	struct moat_syn_xlate x = { .seq = 5, .ack = 7, .tsecr = 9,
				    .win_shl = 0, .win_shr = 3 };
	uint8_t f[200];
	struct moat_pkt p;
	uint32_t len;

	(void)state;
	moat_addr_parse(&s.src, "198.18.100.10");
	moat_addr_parse(&s.dst, "198.18.1.10");
	s.sport = 1234;
	s.dport = 80;
	s.seq = 1000;
	s.flags = MOAT_TCP_SYN;
	s.win = 64240;
	s.opt.present = MOAT_TCPOPT_TS;
	s.opt.tsval = 100;
	len = build(f, &s, 0);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_NONE);
	assert_true(moat_syn_translate(&p, &x));
	assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);
	assert_int_equal(p.seq, 1005);
	assert_int_equal(p.ack, 0);
	assert_int_equal(p.win, 64240);
	assert_int_equal(p.opt.tsecr, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_rows),
		cmocka_unit_test(test_odd_offsets),
		cmocka_unit_test(test_rescale_window),
		cmocka_unit_test(test_syn_untouched_fields),
	};

	return cmocka_run_group_tests_name("synproxy_translate", tests, NULL,
					   NULL);
}
