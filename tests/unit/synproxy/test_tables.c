/*
 * The SYN proxy's fixed tables: the lossy SYN-ACK retransmit table
 * (overwrite, due times, resumable scans), backend option learning
 * (defaults and updates), and the hybrid mode detector (switches both
 * ways, hysteresis).  Time is injected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "moat/defaults.h"
#include "moat/syn.h"

#define MS 1000000ull
#define SEC 1000000000ull

static const uint8_t seed[16] = { 9, 8, 7, 6, 5, 4, 3, 2, 1 };
static const uint64_t T0 = 1000 * SEC;

static void tuple(struct moat_syn_tuple *t, uint16_t sport)
{
	moat_addr_parse(&t->src, "198.18.100.10");
	moat_addr_parse(&t->dst, "198.18.1.10");
	t->sport = sport;
	t->dport = 80;
}

static void entry(struct moat_syn_rtx_entry *e, uint16_t sport, uint64_t now)
{
	memset(e, 0, sizeof(*e));
	tuple(&e->t, sport);
	e->c.isn = 1000u + sport;
	e->cookie = 0xc0c0c0c0u ^ sport;
	e->first_ns = now;
	e->zone = 0;
}

/* ---- retransmit table ------------------------------------------------- */

static void test_rtx_due_times(void **state)
{
	static const struct {
		uint64_t at_ms;
		uint32_t want;
		uint8_t sent;
	} rows[] = {
		{ 0, 0, 0 }, { 999, 0, 0 },
		{ 1000, 1, 1 },    /* first retransmit at +1 s */
		{ 1500, 0, 0 }, { 2999, 0, 0 },
		{ 3000, 1, 2 },    /* second and last at +3 s */
		{ 10000, 0, 0 },
	};
	struct moat_syn_rtx *r = moat_syn_rtx_create(64, seed);
	struct moat_syn_rtx_entry e, out[4];
	unsigned i;

	(void)state;
	assert_non_null(r);
	entry(&e, 40000, T0);
	moat_syn_rtx_record(r, &e);
	assert_int_equal(moat_syn_rtx_count(r), 1);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(moat_syn_rtx_due(r, T0 + rows[i].at_ms * MS,
						  out, 4), rows[i].want);
		if (rows[i].want) {
			assert_int_equal(out[0].sent, rows[i].sent);
			assert_int_equal(out[0].cookie, e.cookie);
			assert_int_equal(out[0].c.isn, e.c.isn);
		}
	}
	assert_int_equal(moat_syn_rtx_count(r), 0);
	assert_null(moat_syn_rtx_find(r, &e.t));
	moat_syn_rtx_destroy(r);
}

static void test_rtx_clear_and_resyn(void **state)
{
	struct moat_syn_rtx *r = moat_syn_rtx_create(64, seed);
	struct moat_syn_rtx_entry e, again, out[2];

	(void)state;
	entry(&e, 40001, T0);
	moat_syn_rtx_record(r, &e);
	/* The client retransmits its SYN at +0.9 s: schedule unchanged. */
	again = e;
	again.first_ns = T0 + 900 * MS;
	moat_syn_rtx_record(r, &again);
	assert_int_equal(moat_syn_rtx_find(r, &e.t)->first_ns, T0);
	assert_int_equal(moat_syn_rtx_due(r, T0 + 1000 * MS, out, 2), 1);
	/* The final ACK clears it: nothing more is sent. */
	assert_true(moat_syn_rtx_clear(r, &e.t));
	assert_false(moat_syn_rtx_clear(r, &e.t));
	assert_int_equal(moat_syn_rtx_due(r, T0 + 5000 * MS, out, 2), 0);
	assert_int_equal(moat_syn_rtx_count(r), 0);
	moat_syn_rtx_destroy(r);
}

/* A flood overwrites; the table never grows. */
static void test_rtx_overwrite(void **state)
{
	struct moat_syn_rtx *r = moat_syn_rtx_create(60, seed); /* -> 64 */
	struct moat_syn_rtx_entry e, first;
	const struct moat_syn_rtx_entry *f;
	uint32_t i;
	bool evicted = false;

	(void)state;
	entry(&first, 1, T0);
	moat_syn_rtx_record(r, &first);
	for (i = 2; i < 20000; i++) {
		entry(&e, (uint16_t)i, T0);
		moat_syn_rtx_record(r, &e);
		assert_true(moat_syn_rtx_count(r) <= 64);
		if (!moat_syn_rtx_find(r, &first.t))
			evicted = true;
	}
	assert_true(evicted);
	assert_int_equal(moat_syn_rtx_count(r), 64);
	/* The last one recorded is there, whole. */
	f = moat_syn_rtx_find(r, &e.t);
	assert_non_null(f);
	assert_int_equal(f->cookie, e.cookie);
	moat_syn_rtx_destroy(r);
}

/* A tick with room for few frames resumes where it stopped. */
static void test_rtx_resumable(void **state)
{
	struct moat_syn_rtx *r = moat_syn_rtx_create(4096, seed);
	struct moat_syn_rtx_entry e, out[8];
	uint32_t total = 0, n, calls = 0;
	uint16_t i;

	(void)state;
	for (i = 0; i < 100; i++) {
		entry(&e, (uint16_t)(30000 + i), T0);
		moat_syn_rtx_record(r, &e);
	}
	n = moat_syn_rtx_count(r); /* a few may have collided */
	assert_true(n > 90);
	do {
		total += moat_syn_rtx_due(r, T0 + 1000 * MS, out, 8);
		calls++;
	} while (calls < 100 && total < n);
	assert_int_equal(total, n);
	assert_true(calls >= n / 8);
	moat_syn_rtx_destroy(r);
}

/* ---- backend learning ------------------------------------------------- */

static void synack(struct moat_pkt *p, const char *src, uint16_t port,
		   uint8_t present, uint16_t mss, uint8_t ws)
{
	memset(p, 0, sizeof(*p));
	moat_addr_parse(&p->src, src);
	moat_addr_parse(&p->dst, "198.18.100.10");
	p->ipv = p->src.family;
	p->proto = MOAT_IPPROTO_TCP;
	p->sport = port;
	p->dport = 40000;
	p->tcp_flags = MOAT_TCP_SYN | MOAT_TCP_ACK;
	p->opt.present = present;
	p->opt.mss = mss;
	p->opt.wscale = ws;
}

static void test_backend(void **state)
{
	const uint8_t all = MOAT_TCPOPT_MSS | MOAT_TCPOPT_WSCALE |
			    MOAT_TCPOPT_SACK_PERM | MOAT_TCPOPT_TS;
	static const struct {
		const char *addr;
		uint16_t port;
		uint8_t present;
		uint16_t mss;
		uint8_t ws;
		/* what get() answers afterwards */
		uint16_t want_mss;
		uint8_t want_ws;
		bool sack, ts;
	} rows[] = {
		{ "198.18.1.10", 80, 0xff, 1460, 7, 1460, 7, true, true },
		/* an answer to a SYN that offered less (a client without
		 * timestamps): the MSS is the newest, options stay learned */
		{ "198.18.1.10", 80, MOAT_TCPOPT_MSS, 1400, 0, 1400,
		  7, true, true },
		/* no MSS option: the family's default */
		{ "198.18.1.11", 25, MOAT_TCPOPT_TS, 0, 0, 536,
		  MOAT_SYN_WSCALE_NONE, false, true },
		{ "2001:db8:1::10", 443, 0xff, 1440, 9, 1440, 9, true, true },
		{ "2001:db8:1::11", 443, 0, 0, 0, 1220, MOAT_SYN_WSCALE_NONE,
		  false, false },
	};
	struct moat_syn_backend *b = moat_syn_backend_create(256, seed);
	struct moat_syn_backend_opts o;
	struct moat_addr a;
	struct moat_pkt p;
	unsigned i;

	(void)state;
	/* Unknown: safe defaults. */
	moat_addr_parse(&a, "198.18.1.10");
	moat_syn_backend_get(b, &a, 80, &o);
	assert_false(o.known);
	assert_int_equal(o.mss, 536);
	assert_int_equal(o.wscale, MOAT_SYN_WSCALE_NONE);
	assert_false(o.sack_ok || o.ts_ok);
	moat_addr_parse(&a, "2001:db8::1");
	moat_syn_backend_get(b, &a, 80, &o);
	assert_int_equal(o.mss, 1220);

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		synack(&p, rows[i].addr, rows[i].port,
		       rows[i].present == 0xff ? all : rows[i].present,
		       rows[i].mss, rows[i].ws);
		moat_syn_backend_learn(b, &p, T0);
		moat_syn_backend_get(b, &p.src, rows[i].port, &o);
		assert_true(o.known);
		assert_int_equal(o.mss, rows[i].want_mss);
		assert_int_equal(o.wscale, rows[i].want_ws);
		assert_int_equal(o.sack_ok, rows[i].sack);
		assert_int_equal(o.ts_ok, rows[i].ts);
		/* another port of the same address is not learned */
		moat_syn_backend_get(b, &p.src, (uint16_t)(rows[i].port + 1),
				     &o);
		assert_false(o.known);
	}
	/* A SYN alone teaches nothing. */
	synack(&p, "198.18.1.12", 80, all, 1460, 7);
	p.tcp_flags = MOAT_TCP_SYN;
	moat_syn_backend_learn(b, &p, T0);
	moat_syn_backend_get(b, &p.src, 80, &o);
	assert_false(o.known);
	moat_syn_backend_destroy(b);
}

/* ---- hybrid mode detector -------------------------------------------- */

/* Thresholds the tests below count against: 256 half-open, and the
 * defaults (0) for the rate (1000/s) and the quiet period (10 s). */
static struct moat_syn_modes *modes(void)
{
	struct moat_syn_mode_params par = { .half_open = 256 };

	return moat_syn_mode_create(64, &par, seed);
}

/* @n SYNs spread evenly over [from, from + span); counts switches. */
static int syns(struct moat_syn_modes *m, const struct moat_addr *d,
		uint64_t from, uint64_t span, uint32_t n, bool *last,
		struct moat_syn_mode_event *ev)
{
	const struct moat_syn_dst_state *st;
	bool sw;
	int switches = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		st = moat_syn_mode_syn(m, d, 80, from + span * i / n, ev, &sw);
		*last = st->cookies;
		switches += sw;
	}
	return switches;
}

static void test_mode_rate_both_ways(void **state)
{
	struct moat_syn_modes *m = modes();
	struct moat_syn_mode_event ev, evs[4];
	struct moat_addr d, other;
	bool cookies;

	(void)state;
	moat_addr_parse(&d, "198.18.1.10");
	moat_addr_parse(&other, "198.18.1.11");
	/* 900 SYN/s for 3 s: under the threshold, state mode. */
	assert_int_equal(syns(m, &d, T0, 3 * SEC, 2700, &cookies, &ev), 0);
	assert_false(cookies);
	/* 5000 SYN/s: switches once, reported. */
	assert_int_equal(syns(m, &d, T0 + 3 * SEC, SEC, 5000, &cookies, &ev),
			 1);
	assert_true(cookies);
	assert_true(ev.cookies);
	assert_true(ev.rate >= 1000);
	assert_int_equal(ev.port, 80);
	assert_true(moat_syn_mode_cookies(m, &d, 80));
	/* Another destination is unaffected. */
	assert_false(moat_syn_mode_cookies(m, &other, 80));
	/* 700 SYN/s for 20 s: above half the threshold, stays (hysteresis). */
	assert_int_equal(syns(m, &d, T0 + 4 * SEC, 20 * SEC, 14000, &cookies,
			      &ev), 0);
	assert_true(cookies);
	assert_int_equal(moat_syn_mode_tick(m, T0 + 24 * SEC, evs, 4), 0);
	/* 100 SYN/s: quiet starts; not yet back after 9 s ... */
	assert_int_equal(syns(m, &d, T0 + 24 * SEC, 9 * SEC, 900, &cookies,
			      &ev), 0);
	assert_true(cookies);
	assert_int_equal(moat_syn_mode_tick(m, T0 + 33 * SEC, evs, 4), 0);
	/* ... but after the quiet period, the tick switches it back. */
	assert_int_equal(moat_syn_mode_tick(m, T0 + 36 * SEC, evs, 4), 1);
	assert_false(evs[0].cookies);
	assert_true(moat_addr_eq(&evs[0].dst, &d));
	assert_false(moat_syn_mode_cookies(m, &d, 80));
	assert_int_equal(moat_syn_mode_tick(m, T0 + 40 * SEC, evs, 4), 0);
	moat_syn_mode_destroy(m);
}

static void test_mode_half_open(void **state)
{
	struct moat_syn_modes *m = modes();
	struct moat_syn_mode_event ev, evs[2];
	struct moat_addr d;
	int i, switches = 0;
	bool sw;

	(void)state;
	moat_addr_parse(&d, "2001:db8:1::10");
	for (i = 0; i < 255; i++) {
		moat_syn_mode_half_open(m, &d, 80, +1, T0, &ev, &sw);
		switches += sw;
	}
	assert_int_equal(switches, 0);
	moat_syn_mode_half_open(m, &d, 80, +1, T0, &ev, &sw);
	assert_true(sw && ev.cookies);
	assert_int_equal(ev.half_open, 256);
	/* Down to 128 (half): not quiet yet. */
	moat_syn_mode_half_open(m, &d, 80, -128, T0 + SEC, &ev, &sw);
	assert_false(sw);
	assert_int_equal(moat_syn_mode_tick(m, T0 + 20 * SEC, evs, 2), 0);
	/* 127: quiet from here; back 10 s later. */
	moat_syn_mode_half_open(m, &d, 80, -1, T0 + 21 * SEC, &ev, &sw);
	assert_false(sw);
	assert_int_equal(moat_syn_mode_tick(m, T0 + 30 * SEC, evs, 2), 0);
	assert_int_equal(moat_syn_mode_tick(m, T0 + 31 * SEC, evs, 2), 1);
	assert_false(evs[0].cookies);
	/* Going below zero is clamped. */
	moat_syn_mode_half_open(m, &d, 80, -1000, T0 + 32 * SEC, &ev, &sw);
	assert_false(sw);
	assert_int_equal(moat_syn_mode_find(m, &d, 80)->half_open, 0);
	moat_syn_mode_destroy(m);
}

/* Fields left 0 take the options' defaults (moat/defaults.h). */
static void test_mode_defaults(void **state)
{
	struct moat_syn_mode_params par = { 0 }, d;
	struct moat_syn_modes *m = moat_syn_mode_create(64, &par, seed);
	struct moat_syn_mode_event ev;
	struct moat_addr dst;
	int switches = 0;
	bool sw;

	(void)state;
	moat_syn_mode_params_default(&d);
	assert_int_equal(d.half_open, MOAT_DEFAULT_SYNCOOKIES_THRESHOLD);
	assert_int_equal(d.rate, MOAT_DEFAULT_SYNCOOKIES_RATE);
	assert_int_equal(d.quiet_s, MOAT_DEFAULT_SYNCOOKIES_QUIET);
	moat_addr_parse(&dst, "198.18.1.10");
	for (uint32_t i = 1; i < d.half_open; i++) {
		moat_syn_mode_half_open(m, &dst, 80, +1, T0, &ev, &sw);
		switches += sw;
	}
	assert_int_equal(switches, 0);
	moat_syn_mode_half_open(m, &dst, 80, +1, T0, &ev, &sw);
	assert_true(sw && ev.cookies);
	assert_int_equal(ev.half_open, MOAT_DEFAULT_SYNCOOKIES_THRESHOLD);
	moat_syn_mode_destroy(m);
}

/*
 * The record an XDP program would read: the documented layout
 * (moat/syn_decide.h) at the documented offsets, filled as documented.
 */
static void test_mode_record(void **state)
{
	struct moat_syn_modes *m = modes();
	const struct moat_syn_dst_state *st;
	struct moat_syn_mode_event ev;
	struct moat_addr d, v6;
	bool sw;

	(void)state;
	assert_int_equal(offsetof(struct moat_syn_dst_key, port), 16);
	assert_int_equal(offsetof(struct moat_syn_dst_key, family), 18);
	assert_int_equal(offsetof(struct moat_syn_dst_state, half_open), 4);
	assert_int_equal(offsetof(struct moat_syn_dst_state, syn_cur), 8);
	assert_int_equal(offsetof(struct moat_syn_dst_state, syn_prev), 12);
	assert_int_equal(offsetof(struct moat_syn_dst_state, syn_sec), 16);
	assert_int_equal(offsetof(struct moat_syn_dst_state, quiet_ns), 24);
	assert_int_equal(offsetof(struct moat_syn_dst_state, last_ns), 32);
	assert_int_equal(offsetof(struct moat_syn_dst_slot, st), 24);
	moat_addr_parse(&d, "198.18.1.10");
	moat_addr_parse(&v6, "::ffff:198.18.1.10"); /* same bytes, family 6 */
	assert_null(moat_syn_mode_find(m, &d, 80));
	for (int i = 0; i < 3; i++)
		moat_syn_mode_syn(m, &d, 80, T0 + 100 * MS * (uint64_t)i, &ev,
				  &sw);
	moat_syn_mode_half_open(m, &d, 80, +2, T0 + 300 * MS, &ev, &sw);
	st = moat_syn_mode_syn(m, &d, 80, T0 + SEC + 10 * MS, &ev, &sw);
	assert_ptr_equal(st, moat_syn_mode_find(m, &d, 80));
	assert_int_equal(st->syn_cur, 1);
	assert_int_equal(st->syn_prev, 3);
	assert_int_equal(st->syn_sec, T0 / SEC + 1);
	assert_int_equal(st->half_open, 2);
	assert_int_equal(st->last_ns, T0 + SEC + 10 * MS);
	assert_int_equal(st->cookies, 0);
	assert_null(moat_syn_mode_find(m, &d, 81));
	assert_null(moat_syn_mode_find(m, &v6, 80));
	moat_syn_mode_destroy(m);
}

/* Custom thresholds, changed at run time (reload). */
static void test_mode_set(void **state)
{
	struct moat_syn_mode_params par = { .rate = 10, .quiet_s = 2 };
	struct moat_syn_modes *m = moat_syn_mode_create(8, &par, seed);
	struct moat_syn_mode_event ev;
	struct moat_addr d, other;
	bool cookies;

	(void)state;
	moat_addr_parse(&d, "198.18.1.10");
	moat_addr_parse(&other, "198.18.1.11");
	assert_int_equal(syns(m, &d, T0, SEC, 10, &cookies, &ev), 1);
	assert_true(cookies);
	par.rate = 1000;
	moat_syn_mode_set(m, &par);
	assert_int_equal(syns(m, &other, T0, SEC, 10, &cookies, &ev), 0);
	assert_false(cookies);
	moat_syn_mode_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtx_due_times),
		cmocka_unit_test(test_rtx_clear_and_resyn),
		cmocka_unit_test(test_rtx_overwrite),
		cmocka_unit_test(test_rtx_resumable),
		cmocka_unit_test(test_backend),
		cmocka_unit_test(test_mode_rate_both_ways),
		cmocka_unit_test(test_mode_half_open),
		cmocka_unit_test(test_mode_defaults),
		cmocka_unit_test(test_mode_record),
		cmocka_unit_test(test_mode_set),
	};

	return cmocka_run_group_tests_name("synproxy_tables", tests, NULL,
					   NULL);
}
