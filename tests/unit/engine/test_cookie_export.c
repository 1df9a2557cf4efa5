/*
 * The engine's export of its cookie decisions (moat_engine_cookie_export,
 * src/engine/cookie_export.c) and the SYN counts a fast path feeds back
 * (moat_engine_cookie_syns): what the XDP loader mirrors into the
 * program's maps, without the kernel.  The program itself against the
 * engine: tests/unit/xdp.
 */
#include "harness.h"

#define CLIENT "198.18.100.10"
#define SERVER "198.18.1.10"

static const char *const conf_auto =
	"zone outside { interface out0; default }\n"
	"zone inside { interface in0; networks 198.18.1.0/24 }\n"
	"options { syncookies auto\n syncookies-rate 100\n"
	" syncookies-threshold 100000\n syncookies-quiet 5 }\n"
	"pass from outside to 198.18.1.10 tcp port 80 synproxy\n"
	"pass from inside\n";

static const struct moat_tcp_opts copt = {
	.present = MOAT_TCPOPT_MSS | MOAT_TCPOPT_WSCALE |
		   MOAT_TCPOPT_SACK_PERM | MOAT_TCPOPT_TS,
	.mss = 1460, .wscale = 7, .tsval = 1000,
};

static int drain(struct harness *h, struct moat_engine_cookie_dst *d)
{
	return moat_engine_cookie_dsts_drain(h->eng, d,
					     MOAT_ENGINE_COOKIE_RING + 1);
}

static uint8_t syn_reason(struct harness *h, uint16_t sport)
{
	struct seg syn = { CLIENT, SERVER, sport, 80, 1000u * sport, 0,
			   MOAT_TCP_SYN, 64240, 0, 0, &copt };

	h->now += SEC / 1000;
	return (uint8_t)h_tcp(h, OUT, &syn)->reason;
}

/* The server's SYN-ACK for the SYN from @sport (which went through). */
static void server_answers(struct harness *h, uint16_t sport)
{
	struct moat_tcp_opts s = { .present = MOAT_TCPOPT_MSS |
					      MOAT_TCPOPT_WSCALE |
					      MOAT_TCPOPT_TS,
				   .mss = 1400, .wscale = 5, .tsval = 9,
				   .tsecr = 1000 };
	struct seg synack = { SERVER, CLIENT, 80, sport, 7, 1000u * sport + 1,
			      MOAT_TCP_SYN | MOAT_TCP_ACK, 65160, 0, 0, &s };

	assert_verdict(h_tcp(h, IN, &synack), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
}

static void export_follows_decisions(void **state)
{
	struct moat_engine_cookie_dst d[MOAT_ENGINE_COOKIE_RING + 1];
	struct harness h;

	(void)state;
	h_start(&h, conf_auto);
	/* Off until asked for. */
	moat_engine_set_syncookies(h.eng, MOAT_SYNCOOKIES_ON);
	assert_int_equal(drain(&h, d), 0);
	moat_engine_cookie_export(h.eng, true);

	/* A server not learned yet: the probe goes through, and a cookie
	 * made with the defaults is not exported (the fast path would
	 * never let a probe through again). */
	assert_int_equal(syn_reason(&h, 40000), MOAT_R_RULE_PASS);
	assert_int_equal(syn_reason(&h, 40001), MOAT_R_SYN_COOKIE_SENT);
	assert_int_equal(drain(&h, d), 0);
	server_answers(&h, 40000);

	/* Learned: one record for a run of cookies to one destination. */
	assert_int_equal(syn_reason(&h, 40002), MOAT_R_SYN_COOKIE_SENT);
	assert_int_equal(syn_reason(&h, 40003), MOAT_R_SYN_COOKIE_SENT);
	assert_int_equal(drain(&h, d), 1);
	assert_int_equal(d[0].cookies, 1);
	assert_int_equal(d[0].all, 0);
	assert_int_equal(d[0].key.family, MOAT_AF_INET);
	assert_int_equal(d[0].key.port, 80);
	assert_int_equal(d[0].key.addr[15], 10);
	assert_int_equal(d[0].mss, 1400);
	assert_int_equal(d[0].wscale, 5);
	assert_true(d[0].ts_ok);
	assert_false(d[0].sack_ok);

	/* A forced mode and a reload both take everything out. */
	moat_engine_set_syncookies(h.eng, MOAT_SYNCOOKIES_AUTO);
	assert_int_equal(drain(&h, d), 1);
	assert_int_equal(d[0].all, 1);
	assert_int_equal(moat_engine_reload(h.eng, h.cfg), 0);
	assert_int_equal(drain(&h, d), 1);
	assert_int_equal(d[0].all, 1);

	/* A full ring: a lost `state` record becomes `all`. */
	for (int i = 0; i < MOAT_ENGINE_COOKIE_RING + 3; i++) {
		moat_engine_set_syncookies(h.eng, MOAT_SYNCOOKIES_ON);
		assert_int_equal(syn_reason(&h, (uint16_t)(41000 + i)),
				 MOAT_R_SYN_COOKIE_SENT);
	}
	int n = drain(&h, d);
	assert_true(n >= 1);
	assert_int_equal(d[0].all, 1);
	assert_int_equal(drain(&h, d), 0);
	h_stop(&h);
}

/*
 * Under `auto` a flood puts the destination in cookie mode; SYNs the fast
 * path answers never reach the engine, but their counts keep the
 * detector there.  Without them the quiet period switches it back, and
 * the export says so.
 */
static void fed_counts_hold_cookie_mode(void **state)
{
	struct moat_engine_cookie_dst d[MOAT_ENGINE_COOKIE_RING + 1];
	struct moat_syn_dst_key key = { .port = 80, .family = MOAT_AF_INET };
	struct harness h;
	char src[32];

	(void)state;
	h_start(&h, conf_auto);
	moat_engine_cookie_export(h.eng, true);
	assert_int_equal(syn_reason(&h, 40000), MOAT_R_RULE_PASS);
	server_answers(&h, 40000);
	for (int i = 0; i < 300; i++) {
		snprintf(src, sizeof(src), "198.18.130.%d", 1 + i % 250);
		struct seg f = { src, SERVER, (uint16_t)(1024 + i), 80, 77, 0,
				 MOAT_TCP_SYN, 0, 0, 0, NULL };
		h.now += SEC / 1000;
		h_tcp(&h, OUT, &f);
	}
	assert_int_equal(h.res.reason, MOAT_R_SYN_COOKIE_SENT);
	assert_int_equal(drain(&h, d), 1);
	assert_int_equal(d[0].cookies, 1);

	/* 20 s of flood answered elsewhere: 100 SYNs every 100 ms. */
	key.addr[10] = key.addr[11] = 0xff;
	key.addr[12] = 198;
	key.addr[13] = 18;
	key.addr[14] = 1;
	key.addr[15] = 10;
	for (int i = 0; i < 200; i++) {
		h.now += SEC / 10;
		moat_engine_cookie_syns(h.eng, &key, 100, h.now);
		moat_emit_reset(&h.out);
		moat_engine_tick(h.eng, h.now, &h.out);
	}
	assert_int_equal(drain(&h, d), 0);
	/* The flood ends: after the quiet period, back to state mode. */
	for (int i = 0; i < 200; i++) {
		h.now += SEC / 10;
		moat_emit_reset(&h.out);
		moat_engine_tick(h.eng, h.now, &h.out);
	}
	assert_int_equal(drain(&h, d), 1);
	assert_int_equal(d[0].cookies, 0);
	assert_int_equal(d[0].all, 0);
	assert_memory_equal(d[0].key.addr, key.addr, 16);
	h_stop(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(export_follows_decisions),
		cmocka_unit_test(fed_counts_hold_cookie_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
