/*
 * The flow table: lookup from both directions, IPv4 and IPv6 keys, eviction
 * order when full, expiry by (injected) time, ICMP echo and ICMP errors,
 * UDP, bursts, and no allocation after create (malloc and friends are
 * wrapped at link time and counted).
 */
#include <stdlib.h>

#include "ct_test.h"
#include "moat/defaults.h"

/* Allocation counter: -Wl,--wrap=malloc and the others (meson.build). */
#include "../alloc_count.h"

#define C4 "198.18.100.10"
#define S4 "198.18.1.10"
#define C6 "2001:db8:100::10"
#define S6 "2001:db8:1::10"

enum { SYN = MOAT_TCP_SYN, ACK = MOAT_TCP_ACK, RST = MOAT_TCP_RST };

/* A complete handshake: the flow ends up ESTABLISHED. */
static struct moat_ct_entry *open_tcp(struct moat_ct *ct, const char *c,
				      const char *s, uint16_t cport,
				      uint64_t now)
{
	struct moat_ct_entry *e;
	struct moat_pkt p;

	ct_pkt_tcp(&p, c, s, cport, 80, SYN, 100, 0, 65535, 0);
	e = moat_ct_insert(ct, &p, now, NULL);
	if (!e)
		return NULL;
	ct_pkt_tcp(&p, s, c, 80, cport, SYN | ACK, 900, 101, 65535, 0);
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_REPLY, &p, now),
			 MOAT_R_STATE_MATCH);
	ct_pkt_tcp(&p, c, s, cport, 80, ACK, 101, 901, 65535, 0);
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_ORIG, &p, now),
			 MOAT_R_STATE_MATCH);
	assert_int_equal(e->state, MOAT_CT_ESTABLISHED);
	return e;
}

static struct moat_ct_entry *syn(struct moat_ct *ct, uint16_t cport,
				 uint64_t now, enum moat_reason *why)
{
	struct moat_pkt p;

	ct_pkt_tcp(&p, C4, S4, cport, 80, SYN, 100, 0, 65535, 0);
	return moat_ct_insert(ct, &p, now, why);
}

static void test_lookup_both_directions(void **state)
{
	static const struct {
		const char *c, *s;
	} fams[] = { { C4, S4 }, { C6, S6 } };
	struct moat_ct *ct = ct_test_table(64);

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct moat_ct_entry *e = open_tcp(ct, fams[i].c, fams[i].s,
						   40000, SEC(1));
		struct moat_addr src, dst;
		uint16_t sp, dp;
		struct moat_pkt p;
		int dir = -1;

		ct_pkt_tcp(&p, fams[i].c, fams[i].s, 40000, 80, ACK, 0, 0, 0, 0);
		assert_ptr_equal(moat_ct_lookup(ct, &p, &dir), e);
		assert_int_equal(dir, MOAT_CT_ORIG);
		ct_pkt_tcp(&p, fams[i].s, fams[i].c, 80, 40000, ACK, 0, 0, 0, 0);
		assert_ptr_equal(moat_ct_lookup(ct, &p, &dir), e);
		assert_int_equal(dir, MOAT_CT_REPLY);
		moat_ct_entry_addrs(e, MOAT_CT_REPLY, &src, &dst, &sp, &dp);
		assert_true(moat_addr_eq(&src, &p.src));
		assert_true(moat_addr_eq(&dst, &p.dst));
		assert_int_equal(sp, 80);
		assert_int_equal(dp, 40000);
		/* a different port, protocol or address is another flow */
		ct_pkt_tcp(&p, fams[i].c, fams[i].s, 40001, 80, ACK, 0, 0, 0, 0);
		assert_null(moat_ct_lookup(ct, &p, &dir));
		ct_pkt_udp(&p, fams[i].c, fams[i].s, 40000, 80);
		assert_null(moat_ct_lookup(ct, &p, &dir));
		ct_pkt_tcp(&p, fams[i].s, fams[i].s, 40000, 80, ACK, 0, 0, 0, 0);
		assert_null(moat_ct_lookup(ct, &p, &dir));
	}
	/* 198.18.1.10 and ::ffff:198.18.1.10 are not the same host */
	{
		struct moat_pkt p;
		int dir;

		ct_pkt_tcp(&p, "::ffff:198.18.100.10", "::ffff:198.18.1.10",
			   40000, 80, ACK, 0, 0, 0, 0);
		p.src.family = p.dst.family = MOAT_AF_INET6;
		assert_null(moat_ct_lookup(ct, &p, &dir));
	}
	assert_int_equal(moat_ct_count(ct), 2);
	moat_ct_destroy(ct);
}

/* Many flows, each found from both sides; removal keeps the others. */
static void test_many_flows(void **state)
{
	struct moat_ct *ct = ct_test_table(4096);
	struct moat_ct_entry *e[4096];
	struct moat_pkt p;
	int dir;

	(void)state;
	for (int i = 0; i < 4096; i++) {
		ct_pkt_udp(&p, C4, S4, (uint16_t)(1024 + i), 53);
		e[i] = moat_ct_insert(ct, &p, SEC(1), NULL);
		assert_non_null(e[i]);
	}
	for (int i = 0; i < 4096; i += 2)
		moat_ct_remove(ct, e[i]);
	for (int i = 0; i < 4096; i++) {
		ct_pkt_udp(&p, S4, C4, 53, (uint16_t)(1024 + i));
		assert_ptr_equal(moat_ct_lookup(ct, &p, &dir),
				 i % 2 ? e[i] : NULL);
	}
	assert_int_equal(moat_ct_count(ct), 2048);
	moat_ct_destroy(ct);
}

static void test_burst_equals_serial(void **state)
{
	enum { N = 100 };
	struct moat_ct *ct = ct_test_table(64);
	struct moat_pkt pk[N];
	const struct moat_pkt *pp[N];
	struct moat_ct_entry *out[N];
	int dirs[N];

	(void)state;
	for (int i = 0; i < N; i++) {
		ct_pkt_udp(&pk[i], C4, S4, (uint16_t)(2000 + i), 53);
		if (i % 3 == 0)
			assert_non_null(moat_ct_insert(ct, &pk[i], SEC(1), NULL));
		if (i % 2)
			ct_pkt_udp(&pk[i], S4, C4, 53, (uint16_t)(2000 + i));
		pp[i] = &pk[i];
	}
	moat_ct_lookup_burst(ct, pp, N, out, dirs);
	for (int i = 0; i < N; i++) {
		int dir = -1;

		assert_ptr_equal(out[i], moat_ct_lookup(ct, &pk[i], &dir));
		if (out[i])
			assert_int_equal(dirs[i], dir);
		assert_true((out[i] != NULL) == (i % 3 == 0));
	}
	moat_ct_destroy(ct);
}

/* Full: half-open, then unreplied UDP, ICMP, time-wait, closing; never
 * established. */
static void test_eviction_order(void **state)
{
	struct moat_ct *ct = ct_test_table(4);
	struct moat_ct_entry *e1, *e2, *e3, *h;
	struct moat_ct_stats st;
	enum moat_reason why;
	struct moat_pkt p;
	int dir;

	(void)state;
	e1 = open_tcp(ct, C4, S4, 1, SEC(1));
	e2 = open_tcp(ct, C4, S4, 2, SEC(1));
	h = syn(ct, 3, SEC(1), NULL);
	e3 = open_tcp(ct, C4, S4, 4, SEC(1));
	assert_non_null(h);
	/* a SYN flood replaces the oldest half-open flow, one by one */
	assert_non_null(syn(ct, 10, SEC(2), &why));
	ct_pkt_tcp(&p, C4, S4, 3, 80, ACK, 0, 0, 0, 0);
	assert_null(moat_ct_lookup(ct, &p, &dir));
	assert_non_null(syn(ct, 11, SEC(2), &why));
	ct_pkt_tcp(&p, C4, S4, 10, 80, ACK, 0, 0, 0, 0);
	assert_null(moat_ct_lookup(ct, &p, &dir));
	moat_ct_get_stats(ct, &st);
	assert_int_equal(st.evicted_halfopen, 2);

	/* now e1..e3 + one half-open: UDP takes the half-open's place */
	ct_pkt_udp(&p, C4, S4, 5353, 53);
	struct moat_ct_entry *u = moat_ct_insert(ct, &p, SEC(3), &why);
	assert_non_null(u);
	moat_ct_get_stats(ct, &st);
	assert_int_equal(st.evicted_halfopen, 3);
	/* ICMP replaces unreplied UDP */
	ct_pkt_echo(&p, C4, S4, 8, 77);
	assert_non_null(moat_ct_insert(ct, &p, SEC(3), &why));
	moat_ct_get_stats(ct, &st);
	assert_int_equal(st.evicted_other, 1);
	/* a UDP flow replaces the ICMP one */
	ct_pkt_udp(&p, C4, S4, 5354, 53);
	u = moat_ct_insert(ct, &p, SEC(3), &why);
	assert_non_null(u);
	moat_ct_get_stats(ct, &st);
	assert_int_equal(st.evicted_other, 2);
	/* replied UDP is as precious as established TCP */
	ct_pkt_udp(&p, S4, C4, 53, 5354);
	assert_int_equal(moat_ct_track(ct, u, MOAT_CT_REPLY, &p, SEC(3)),
			 MOAT_R_STATE_MATCH);
	assert_null(syn(ct, 12, SEC(4), &why));
	assert_int_equal(why, MOAT_R_STATE_TABLE_FULL);
	/* closing flows go before established ones, time-wait before them */
	ct_pkt_tcp(&p, C4, S4, 2, 80, MOAT_TCP_FIN | ACK, 101, 901, 65535, 0);
	assert_int_equal(moat_ct_track(ct, e2, MOAT_CT_ORIG, &p, SEC(5)),
			 MOAT_R_STATE_MATCH);
	assert_int_equal(e2->state, MOAT_CT_FIN_WAIT);
	ct_pkt_tcp(&p, C4, S4, 4, 80, RST, 101, 0, 0, 0);
	assert_int_equal(moat_ct_track(ct, e3, MOAT_CT_ORIG, &p, SEC(5)),
			 MOAT_R_STATE_MATCH);
	assert_int_equal(e3->state, MOAT_CT_CLOSED);
	assert_non_null(syn(ct, 13, SEC(6), &why)); /* evicts e3 (closed) */
	assert_int_equal(e2->state, MOAT_CT_FIN_WAIT);
	ct_pkt_tcp(&p, C4, S4, 4, 80, ACK, 0, 0, 0, 0);
	assert_null(moat_ct_lookup(ct, &p, &dir));
	assert_non_null(syn(ct, 14, SEC(6), &why)); /* evicts 13 */
	assert_int_equal(e2->state, MOAT_CT_FIN_WAIT);
	assert_int_equal(e1->state, MOAT_CT_ESTABLISHED);
	moat_ct_get_stats(ct, &st);
	assert_int_equal(st.refused_full, 1);
	assert_int_equal(st.evicted_halfopen, 4);
	assert_int_equal(st.evicted_other, 3);
	assert_int_equal(moat_ct_count(ct), 4);
	moat_ct_destroy(ct);
}

static void test_eviction_closing(void **state)
{
	struct moat_ct *ct = ct_test_table(2);
	struct moat_ct_entry *e1, *e2;
	struct moat_ct_stats st;
	struct moat_pkt p;
	int dir;

	(void)state;
	e1 = open_tcp(ct, C4, S4, 1, SEC(1));
	e2 = open_tcp(ct, C4, S4, 2, SEC(1));
	ct_pkt_tcp(&p, S4, C4, 80, 2, MOAT_TCP_FIN | ACK, 901, 101, 65535, 0);
	assert_int_equal(moat_ct_track(ct, e2, MOAT_CT_REPLY, &p, SEC(2)),
			 MOAT_R_STATE_MATCH);
	assert_non_null(syn(ct, 3, SEC(3), NULL));
	ct_pkt_tcp(&p, C4, S4, 2, 80, ACK, 0, 0, 0, 0);
	assert_null(moat_ct_lookup(ct, &p, &dir));
	assert_int_equal(e1->state, MOAT_CT_ESTABLISHED);
	moat_ct_get_stats(ct, &st);
	assert_int_equal(st.evicted_other, 1);
	moat_ct_destroy(ct);
}

struct expiry_row {
	const char *what;
	enum moat_ct_state st;   /* reached via the packets below */
	uint32_t timeout;        /* default for that state */
};

/* Each state times out after its own timeout, to the second. */
static void test_expiry_by_state(void **state)
{
	static const struct expiry_row rows[] = {
		{ "syn-sent", MOAT_CT_SYN_SENT, MOAT_DEFAULT_TIMEOUT_TCP_OPENING },
		{ "established", MOAT_CT_ESTABLISHED,
		  MOAT_DEFAULT_TIMEOUT_TCP_ESTABLISHED },
		{ "closed", MOAT_CT_CLOSED, MOAT_DEFAULT_TIMEOUT_TCP_TIMEWAIT },
		{ "udp-first", MOAT_CT_UDP_FIRST, MOAT_DEFAULT_TIMEOUT_UDP_FIRST },
		{ "udp-multiple", MOAT_CT_UDP_MULTIPLE,
		  MOAT_DEFAULT_TIMEOUT_UDP_MULTIPLE },
		{ "icmp", MOAT_CT_ICMP, MOAT_DEFAULT_TIMEOUT_ICMP },
		{ "other (gre)", MOAT_CT_OTHER, MOAT_DEFAULT_TIMEOUT_OTHER },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct moat_ct *ct = ct_test_table(16);
		uint64_t t0 = SEC(5000);
		struct moat_ct_entry *e = NULL;
		struct moat_pkt p;

		switch (rows[i].st) {
		case MOAT_CT_SYN_SENT:
			e = syn(ct, 1, t0, NULL);
			break;
		case MOAT_CT_ESTABLISHED:
		case MOAT_CT_CLOSED:
			e = open_tcp(ct, C4, S4, 1, t0 - SEC(100));
			if (rows[i].st == MOAT_CT_CLOSED) {
				ct_pkt_tcp(&p, C4, S4, 1, 80, RST, 101, 0, 0, 0);
				assert_int_equal(moat_ct_track(ct, e, 0, &p, t0),
						 MOAT_R_STATE_MATCH);
			} else {
				moat_ct_touch(ct, e, t0);
			}
			break;
		case MOAT_CT_UDP_FIRST:
		case MOAT_CT_UDP_MULTIPLE:
			ct_pkt_udp(&p, C4, S4, 1, 53);
			e = moat_ct_insert(ct, &p, t0 - SEC(10), NULL);
			ct_pkt_udp(&p, S4, C4, 53, 1);
			if (rows[i].st == MOAT_CT_UDP_MULTIPLE)
				moat_ct_track(ct, e, MOAT_CT_REPLY, &p, t0);
			else
				moat_ct_touch(ct, e, t0);
			break;
		case MOAT_CT_OTHER:
			/* An address pair: the other way finds the same flow,
			 * and each packet renews it. */
			ct_pkt_base(&p, C4, S4, 47);
			e = moat_ct_insert(ct, &p, t0 - SEC(300), NULL);
			ct_pkt_base(&p, S4, C4, 47);
			assert_ptr_equal(moat_ct_lookup(ct, &p, &(int){ 0 }), e);
			assert_int_equal(moat_ct_track(ct, e, MOAT_CT_REPLY, &p,
						       t0), MOAT_R_STATE_MATCH);
			ct_pkt_base(&p, S4, C4, 50);
			assert_null(moat_ct_lookup(ct, &p, &(int){ 0 }));
			break;
		default:
			ct_pkt_echo(&p, C4, S4, 8, 9);
			e = moat_ct_insert(ct, &p, t0, NULL);
			break;
		}
		assert_non_null(e);
		assert_int_equal(e->state, rows[i].st);
		/* walk time forward in uneven steps, as ticks do */
		for (uint64_t t = t0; t < t0 + SEC(rows[i].timeout);
		     t += SEC(7)) {
			assert_int_equal(moat_ct_expire(ct, t, 100), 0);
			assert_int_equal(moat_ct_count(ct), 1);
		}
		assert_int_equal(moat_ct_expire(ct, t0 + SEC(rows[i].timeout) -
						    1, 100), 0);
		assert_int_equal(moat_ct_expire(ct, t0 + SEC(rows[i].timeout),
						100), 1);
		assert_int_equal(moat_ct_count(ct), 0);
		moat_ct_destroy(ct);
	}
}

/* Traffic keeps a flow alive; the wheel moves it lazily. */
static void test_expiry_refresh_and_budget(void **state)
{
	struct moat_ct *ct = ct_test_table(64);
	struct moat_ct_stats st;
	struct moat_pkt p;
	int dir, total = 0;

	(void)state;
	for (int i = 0; i < 20; i++) {
		ct_pkt_udp(&p, C4, S4, (uint16_t)(100 + i), 53);
		assert_non_null(moat_ct_insert(ct, &p, SEC(100), NULL));
	}
	/* flow 0 keeps talking every 50 s */
	for (int t = 150; t <= 400; t += 50) {
		struct moat_ct_entry *e;

		ct_pkt_udp(&p, C4, S4, 100, 53);
		e = moat_ct_lookup(ct, &p, &dir);
		assert_non_null(e);
		assert_int_equal(moat_ct_track(ct, e, dir, &p, SEC(t)),
				 MOAT_R_STATE_MATCH);
		int n = moat_ct_expire(ct, SEC(t), 7);
		total += n;
		while (n == 7) {
			n = moat_ct_expire(ct, SEC(t), 7);
			total += n;
		}
	}
	assert_int_equal(total, 19);
	assert_int_equal(moat_ct_count(ct), 1);
	assert_int_equal(moat_ct_expire(ct, SEC(459), 100), 0);
	assert_int_equal(moat_ct_expire(ct, SEC(460), 100), 1);
	moat_ct_get_stats(ct, &st);
	assert_int_equal(st.expired, 20);
	assert_int_equal(st.inserted, 20);
	assert_int_equal(st.removed, 0);
	moat_ct_destroy(ct);
}

/* A flow due more than a wheel revolution ahead, with sparse ticks and a
 * time jump. */
static void test_expiry_long_and_jumps(void **state)
{
	struct moat_ct *ct = ct_test_table(16); /* 1024-slot wheel */
	struct moat_ct_params par;
	struct moat_pkt p;

	(void)state;
	open_tcp(ct, C4, S4, 1, SEC(10));
	open_tcp(ct, C4, S4, 2, SEC(10));
	for (uint32_t t = 10; t < 10 + 86400; t += 997)
		assert_int_equal(moat_ct_expire(ct, SEC(t), 1), 0);
	assert_int_equal(moat_ct_expire(ct, SEC(10 + 86400), 1), 1);
	assert_int_equal(moat_ct_expire(ct, SEC(10 + 86400), 1), 1);
	/* reload: shorter UDP timeouts apply to the next packet */
	moat_ct_params_default(&par);
	par.to.udp_first = 5;
	moat_ct_set_params(ct, &par);
	ct_pkt_udp(&p, C4, S4, 1, 53);
	assert_non_null(moat_ct_insert(ct, &p, SEC(100000), NULL));
	/* nothing for days, then one tick */
	assert_int_equal(moat_ct_expire(ct, SEC(100004), 10), 0);
	assert_int_equal(moat_ct_expire(ct, SEC(900000), 10), 1);
	moat_ct_destroy(ct);
}

/* More flows in one slot than a call may visit, due after more than a
 * revolution: the hand must not get stuck there. */
static void test_expiry_crowded_slot(void **state)
{
	struct moat_ct *ct = ct_test_table(400); /* 1024-slot wheel */
	struct moat_ct_params par;
	uint64_t t0 = SEC(10000);
	struct moat_pkt p;
	int removed = 0;

	(void)state;
	moat_ct_params_default(&par);
	par.to.udp_first = 5000;
	moat_ct_set_params(ct, &par);
	for (int i = 0; i < 300; i++) {
		ct_pkt_udp(&p, C4, S4, (uint16_t)(1000 + i), 53);
		assert_non_null(moat_ct_insert(ct, &p, t0, NULL));
	}
	ct_pkt_echo(&p, C4, S4, 8, 1);
	assert_non_null(moat_ct_insert(ct, &p, t0 + SEC(2000), NULL));
	for (uint32_t t = 0; t <= 2040; t++)
		removed += moat_ct_expire(ct, t0 + SEC(t), 1);
	assert_int_equal(removed, 1); /* the ICMP flow, on time */
	assert_int_equal(moat_ct_count(ct), 300);
	for (uint32_t t = 2041; t < 5000; t += 3)
		removed += moat_ct_expire(ct, t0 + SEC(t), 1);
	assert_int_equal(removed, 1);
	for (uint32_t t = 5000; t < 5400; t++)
		removed += moat_ct_expire(ct, t0 + SEC(t), 1);
	assert_int_equal(removed, 301);
	moat_ct_destroy(ct);
}

static void test_icmp_echo(void **state)
{
	struct moat_ct *ct = ct_test_table(16);
	struct moat_ct_entry *e;
	enum moat_reason why;
	struct moat_pkt p;
	int dir;

	(void)state;
	ct_pkt_echo(&p, C4, S4, 0, 5);
	assert_null(moat_ct_insert(ct, &p, SEC(1), &why));
	assert_int_equal(why, MOAT_R_ICMP_REPLY_UNMATCHED);
	ct_pkt_echo(&p, C4, S4, 3, 5);
	assert_null(moat_ct_insert(ct, &p, SEC(1), &why));
	assert_int_equal(why, MOAT_R_ICMP_UNRELATED);

	static const char *const fam[2][2] = { { C4, S4 }, { C6, S6 } };
	for (int f = 0; f < 2; f++) {
		uint8_t req = f ? 128 : 8, rep = f ? 129 : 0;

		ct_pkt_echo(&p, fam[f][0], fam[f][1], req, 5);
		e = moat_ct_insert(ct, &p, SEC(1), &why);
		assert_non_null(e);
		assert_int_equal(e->state, MOAT_CT_ICMP);
		ct_pkt_echo(&p, fam[f][1], fam[f][0], rep, 5);
		assert_ptr_equal(moat_ct_lookup(ct, &p, &dir), e);
		assert_int_equal(moat_ct_track(ct, e, dir, &p, SEC(1)),
				 MOAT_R_STATE_MATCH);
		/* another identifier is another flow */
		ct_pkt_echo(&p, fam[f][1], fam[f][0], rep, 6);
		assert_null(moat_ct_lookup(ct, &p, &dir));
		/* a reply travelling like the request */
		ct_pkt_echo(&p, fam[f][0], fam[f][1], rep, 5);
		assert_ptr_equal(moat_ct_lookup(ct, &p, &dir), e);
		assert_int_equal(moat_ct_track(ct, e, dir, &p, SEC(1)),
				 MOAT_R_ICMP_REPLY_UNMATCHED);
		ct_pkt_echo(&p, fam[f][1], fam[f][0], req, 5);
		assert_int_equal(moat_ct_track(ct, e, MOAT_CT_REPLY, &p, SEC(1)),
				 MOAT_R_ICMP_UNRELATED);
	}
	moat_ct_destroy(ct);
}

/* ICMP errors: the flow of the quoted packet, and which way it went. */
static void test_icmp_inner(void **state)
{
	struct moat_ct *ct = ct_test_table(16);
	struct moat_ct_entry *e, *u;
	struct moat_pkt p, err;
	int dir = -1;

	(void)state;
	e = open_tcp(ct, C4, S4, 40000, SEC(1));
	ct_pkt_udp(&p, C4, S4, 5000, 53);
	u = moat_ct_insert(ct, &p, SEC(1), NULL);

	/* a router says the client's segment could not be delivered */
	ct_pkt_echo(&err, "198.18.0.1", C4, 3, 0);
	err.icmp_code = 4;
	err.inner.present = true;
	err.inner.ipv = 4;
	err.inner.proto = MOAT_IPPROTO_TCP;
	err.inner.src = ct_addr(C4);
	err.inner.dst = ct_addr(S4);
	err.inner.sport = 40000;
	err.inner.dport = 80;
	err.inner.seq = 101;
	err.inner.has_seq = true;
	assert_ptr_equal(moat_ct_lookup_inner(ct, &err, &dir), e);
	assert_int_equal(dir, MOAT_CT_ORIG);
	assert_true(moat_ct_icmp_seq_ok(e, dir, err.inner.seq));
	assert_false(moat_ct_icmp_seq_ok(e, dir, err.inner.seq + 5000000));
	/* about the server's segment */
	err.inner.src = ct_addr(S4);
	err.inner.dst = ct_addr(C4);
	err.inner.sport = 80;
	err.inner.dport = 40000;
	assert_ptr_equal(moat_ct_lookup_inner(ct, &err, &dir), e);
	assert_int_equal(dir, MOAT_CT_REPLY);
	assert_true(moat_ct_icmp_seq_ok(e, dir, 901));
	/* UDP, quoted from the reply side */
	err.inner.proto = MOAT_IPPROTO_UDP;
	err.inner.sport = 53;
	err.inner.dport = 5000;
	assert_ptr_equal(moat_ct_lookup_inner(ct, &err, &dir), u);
	assert_int_equal(dir, MOAT_CT_REPLY);
	/* nothing quoted, or no such flow */
	err.inner.dport = 5001;
	assert_null(moat_ct_lookup_inner(ct, &err, &dir));
	err.inner.present = false;
	assert_null(moat_ct_lookup_inner(ct, &err, &dir));
	moat_ct_destroy(ct);
}

static int count_fn(struct moat_ct_entry *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

static int remove_udp_fn(struct moat_ct_entry *e, void *arg)
{
	if (e->proto == MOAT_IPPROTO_UDP)
		moat_ct_remove(arg, e);
	return 0;
}

static void test_udp_counts_foreach(void **state)
{
	struct moat_ct *ct = ct_test_table(16);
	uint32_t n[MOAT_CT_STATE_COUNT];
	struct moat_ct_entry *u;
	struct moat_pkt p;
	int seen = 0;

	(void)state;
	ct_pkt_udp(&p, C6, S6, 5000, 53);
	u = moat_ct_insert(ct, &p, SEC(1), NULL);
	assert_int_equal(u->state, MOAT_CT_UDP_FIRST);
	ct_pkt_udp(&p, C6, S6, 5000, 53);
	assert_int_equal(moat_ct_track(ct, u, MOAT_CT_ORIG, &p, SEC(2)),
			 MOAT_R_STATE_MATCH);
	assert_int_equal(u->state, MOAT_CT_UDP_FIRST);
	ct_pkt_udp(&p, S6, C6, 53, 5000);
	assert_int_equal(moat_ct_track(ct, u, MOAT_CT_REPLY, &p, SEC(2)),
			 MOAT_R_STATE_MATCH);
	assert_int_equal(u->state, MOAT_CT_UDP_MULTIPLE);
	assert_int_equal(moat_ct_ttl(u, SEC(2)), 120);
	ct_pkt_udp(&p, C4, S4, 5000, 53);
	moat_ct_insert(ct, &p, SEC(2), NULL);
	open_tcp(ct, C4, S4, 1, SEC(2));
	syn(ct, 2, SEC(2), NULL);
	/* another protocol (GRE) is tracked by addresses */
	ct_pkt_base(&p, C4, S4, 47);
	assert_int_equal(moat_ct_insert(ct, &p, SEC(2), NULL)->state,
			 MOAT_CT_OTHER);

	moat_ct_count_by_state(ct, n);
	assert_int_equal(n[MOAT_CT_UDP_MULTIPLE], 1);
	assert_int_equal(n[MOAT_CT_UDP_FIRST], 1);
	assert_int_equal(n[MOAT_CT_ESTABLISHED], 1);
	assert_int_equal(n[MOAT_CT_SYN_SENT], 1);
	assert_int_equal(n[MOAT_CT_OTHER], 1);
	moat_ct_foreach(ct, count_fn, &seen);
	assert_int_equal(seen, 5);
	moat_ct_foreach(ct, remove_udp_fn, ct);
	assert_int_equal(moat_ct_count(ct), 3);
	assert_string_equal(moat_ct_state_name(MOAT_CT_TIME_WAIT), "time-wait");
	assert_string_equal(moat_ct_state_name(MOAT_CT_STATE_COUNT), "?");
	moat_ct_destroy(ct);
}

static void count_hook(struct moat_ct_entry *e, void *arg)
{
	assert_true(e->state != MOAT_CT_NONE);
	(*(int *)arg)++;
}

/* The free hook sees every way out: remove, eviction, expiry. */
static void test_free_hook(void **state)
{
	struct moat_ct *ct = ct_test_table(2);
	struct moat_ct_entry *e;
	int calls = 0;

	(void)state;
	moat_ct_set_free_hook(ct, count_hook, &calls);
	e = syn(ct, 1, SEC(1), NULL);
	syn(ct, 2, SEC(1), NULL);
	moat_ct_remove(ct, e);
	assert_int_equal(calls, 1);
	syn(ct, 3, SEC(1), NULL);
	syn(ct, 4, SEC(1), NULL); /* evicts 2 */
	assert_int_equal(calls, 2);
	assert_int_equal(moat_ct_expire(ct, SEC(31), 10), 2);
	assert_int_equal(calls, 4);
	moat_ct_set_free_hook(ct, NULL, NULL);
	syn(ct, 5, SEC(40), NULL);
	assert_int_equal(moat_ct_expire(ct, SEC(70), 10), 1);
	assert_int_equal(calls, 4);
	moat_ct_destroy(ct);
}

static void test_create_params(void **state)
{
	struct moat_ct_params par;

	(void)state;
	moat_ct_params_default(&par);
	par.max_flows = 0;
	assert_null(moat_ct_create(&par));
	assert_null(moat_ct_create(NULL));
	moat_ct_destroy(NULL);
	par.max_flows = 1;
	struct moat_ct *ct = moat_ct_create(&par);
	assert_non_null(ct);
	assert_int_equal(moat_ct_capacity(ct), 1);
	assert_non_null(syn(ct, 1, SEC(1), NULL));
	assert_non_null(syn(ct, 2, SEC(1), NULL));
	assert_int_equal(moat_ct_count(ct), 1);
	moat_ct_destroy(ct);
}

/* After create, the packet path never allocates. */
static void test_no_allocation(void **state)
{
	struct moat_ct *ct = ct_test_table(256);
	unsigned long before = test_allocs;
	struct moat_pkt p;
	int dir;

	(void)state;
	for (uint32_t i = 0; i < 20000; i++) {
		uint64_t now = SEC(10 + i / 10);
		struct moat_ct_entry *e;

		ct_pkt_tcp(&p, C4, S4, (uint16_t)(i % 1000), 80, SYN, i, 0,
			   1000, 0);
		e = moat_ct_lookup(ct, &p, &dir);
		if (!e)
			e = moat_ct_insert(ct, &p, now, NULL);
		else
			moat_ct_track(ct, e, dir, &p, now);
		ct_pkt_tcp(&p, C6, S6, (uint16_t)(i % 500), 80, ACK, 0, 0, 0, 0);
		if (i % 3 == 0 && !moat_ct_lookup(ct, &p, &dir))
			open_tcp(ct, C6, S6, (uint16_t)(i % 500), now);
		moat_ct_expire(ct, now, 16);
	}
	assert_int_equal(test_allocs, before);
	moat_ct_destroy(ct);
}

static uint64_t rnd_state = 88172645463325252ull;

static uint32_t rnd(uint32_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state % n);
}

struct walk {
	struct moat_ct *ct;
	uint32_t n;
};

static int check_fn(struct moat_ct_entry *e, void *arg)
{
	struct walk *w = arg;
	struct moat_pkt p;
	int dir;

	w->n++;
	assert_true(e->state > MOAT_CT_NONE && e->state < MOAT_CT_STATE_COUNT);
	memset(&p, 0, sizeof(p));
	moat_ct_entry_addrs(e, MOAT_CT_REPLY, &p.src, &p.dst, &p.sport,
			    &p.dport);
	p.proto = e->proto;
	assert_ptr_equal(moat_ct_lookup(w->ct, &p, &dir), e);
	assert_int_equal(dir, MOAT_CT_REPLY);
	return 0;
}

static void check_invariants(struct moat_ct *ct)
{
	uint32_t n[MOAT_CT_STATE_COUNT], sum = 0;
	struct walk w = { ct, 0 };

	moat_ct_count_by_state(ct, n);
	for (int i = 1; i < MOAT_CT_STATE_COUNT; i++)
		sum += n[i];
	assert_int_equal(sum, moat_ct_count(ct));
	assert_true(moat_ct_count(ct) <= moat_ct_capacity(ct));
	moat_ct_foreach(ct, check_fn, &w);
	assert_int_equal(w.n, moat_ct_count(ct));
}

/* Random packets, time steps and removals: the table stays consistent. */
static void test_random_invariants(void **state)
{
	static const uint8_t flags[] = {
		MOAT_TCP_SYN, MOAT_TCP_SYN | MOAT_TCP_ACK, MOAT_TCP_ACK,
		MOAT_TCP_ACK | MOAT_TCP_FIN, MOAT_TCP_RST,
		MOAT_TCP_RST | MOAT_TCP_ACK, MOAT_TCP_ACK | MOAT_TCP_PSH, 0,
	};
	struct moat_ct *ct = ct_test_table(50);
	uint64_t now = SEC(1000);
	struct moat_ct_stats st;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		struct moat_ct_entry *e;
		struct moat_pkt p;
		bool back = rnd(2);
		int dir;
		uint16_t port = (uint16_t)(1 + rnd(80));
		uint32_t base = rnd(4) * 1000;

		switch (rnd(3)) {
		case 0:
			ct_pkt_tcp(&p, back ? S4 : C4, back ? C4 : S4,
				   back ? 80 : port, back ? port : 80,
				   flags[rnd(8)], base + rnd(3000),
				   base + rnd(3000), (uint16_t)rnd(70000),
				   (uint16_t)rnd(1500));
			if (rnd(4) == 0) {
				p.opt.present = MOAT_TCPOPT_WSCALE;
				p.opt.wscale = (uint8_t)rnd(16);
			}
			break;
		case 1:
			ct_pkt_udp(&p, back ? S6 : C6, back ? C6 : S6,
				   back ? 53 : port, back ? port : 53);
			break;
		default:
			ct_pkt_echo(&p, back ? S4 : C4, back ? C4 : S4,
				    (uint8_t)(rnd(2) ? 8 : 0), port);
			break;
		}
		e = moat_ct_lookup(ct, &p, &dir);
		if (!e) {
			moat_ct_insert(ct, &p, now, NULL);
		} else if (rnd(50) == 0) {
			moat_ct_remove(ct, e);
		} else if (moat_ct_track(ct, e, dir, &p, now) ==
				   MOAT_R_TCP_NO_STATE) {
			moat_ct_remove(ct, e);
			moat_ct_insert(ct, &p, now, NULL);
		}
		now += rnd(8) == 0 ? SEC(rnd(200)) : rnd(100000000);
		if (rnd(10) == 0)
			moat_ct_expire(ct, now, (int)rnd(8));
		if (i % 1000 == 0)
			check_invariants(ct);
	}
	check_invariants(ct);
	moat_ct_get_stats(ct, &st);
	assert_true(st.expired > 1000);
	assert_true(st.evicted_halfopen + st.evicted_other > 100);
	assert_int_equal(st.inserted - st.removed - st.expired -
				 st.evicted_halfopen - st.evicted_other,
			 moat_ct_count(ct));
	moat_ct_destroy(ct);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_both_directions),
		cmocka_unit_test(test_many_flows),
		cmocka_unit_test(test_burst_equals_serial),
		cmocka_unit_test(test_eviction_order),
		cmocka_unit_test(test_eviction_closing),
		cmocka_unit_test(test_expiry_by_state),
		cmocka_unit_test(test_expiry_refresh_and_budget),
		cmocka_unit_test(test_expiry_long_and_jumps),
		cmocka_unit_test(test_expiry_crowded_slot),
		cmocka_unit_test(test_icmp_echo),
		cmocka_unit_test(test_icmp_inner),
		cmocka_unit_test(test_udp_counts_foreach),
		cmocka_unit_test(test_free_hook),
		cmocka_unit_test(test_create_params),
		cmocka_unit_test(test_no_allocation),
		cmocka_unit_test(test_random_invariants),
	};

	return cmocka_run_group_tests_name("conntrack-table", tests, NULL, NULL);
}
