/*
 * The SYN proxy through the engine, with injected time: cookie handshake,
 * the server side, translation of every later segment, stale and forged
 * cookies, the lost final ACK, the server's RST, and the hybrid mode's
 * switch in both directions.
 */
#include "harness.h"

#define CLIENT "198.18.100.10"
#define SERVER "198.18.1.10"

static const char *const conf_on =
	"zone outside { interface out0; default }\n"
	"zone inside { interface in0; networks 198.18.1.0/24 }\n"
	"options { syncookies on }\n"
	"pass from outside to 198.18.1.10 tcp port 80 synproxy\n"
	"pass from inside\n";

static const char *const conf_auto =
	"zone outside { interface out0; default }\n"
	"zone inside { interface in0; networks 198.18.1.0/24 }\n"
	"options { syncookies auto\n syncookies-rate 100\n"
	" syncookies-quiet 5 }\n"
	"pass from outside to 198.18.1.10 tcp port 80 synproxy\n"
	"pass from inside\n";

static const struct moat_tcp_opts client_opts = {
	.present = MOAT_TCPOPT_MSS | MOAT_TCPOPT_WSCALE |
		   MOAT_TCPOPT_SACK_PERM | MOAT_TCPOPT_TS,
	.mss = 1460, .wscale = 7, .tsval = 111111, .tsecr = 0,
};

static void emitted(struct harness *h, uint32_t i, struct moat_pkt *p)
{
	assert_true(i < h->out.count);
	assert_int_equal(moat_pkt_decode(p, h->out.frames[i].data,
					 h->out.frames[i].len,
					 h->out.frames[i].len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
	assert_int_equal(moat_pkt_verify_checksums(p), MOAT_R_NONE);
}

/*
 * A server moat knows nothing of: its first SYN goes through (state mode)
 * so the SYN-ACK teaches moat what the server does; after that, cookies.
 */
static void teach_server(struct harness *h)
{
	struct seg syn = { CLIENT, SERVER, 39999, 80, 1, 0, MOAT_TCP_SYN,
			   64240, 0, 0, &client_opts };
	struct moat_tcp_opts srv = client_opts;

	assert_verdict(h_tcp(h, OUT, &syn), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	srv.tsval = 1;
	srv.tsecr = client_opts.tsval;
	struct seg synack = { SERVER, CLIENT, 80, 39999, 99, 2,
			      MOAT_TCP_SYN | MOAT_TCP_ACK, 65160, 0, 0, &srv };
	assert_verdict(h_tcp(h, IN, &synack), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	h->now += SEC / 100;
}

/* Client SYN -> cookie SYN-ACK.  Returns the cookie. */
static uint32_t client_syn(struct harness *h, uint16_t sport, uint32_t isn,
			   uint32_t *tsval)
{
	struct seg syn = { CLIENT, SERVER, sport, 80, isn, 0, MOAT_TCP_SYN,
			   64240, 0, 0, &client_opts };
	struct moat_pkt p;

	assert_verdict(h_tcp(h, OUT, &syn), MOAT_VERDICT_DROP,
		       MOAT_R_SYN_COOKIE_SENT);
	assert_int_equal(h->out.count, 1);
	assert_int_equal(h->out.frames[0].out_zone, OUT);
	emitted(h, 0, &p);
	assert_int_equal(p.tcp_flags, MOAT_TCP_SYN | MOAT_TCP_ACK);
	assert_int_equal(p.ack, isn + 1);
	assert_int_equal(p.sport, 80);
	assert_int_equal(p.dport, sport);
	assert_true(p.win > 0); /* no zero-window stall */
	/* Timestamps only once the server is known to do them. */
	if (p.opt.present & MOAT_TCPOPT_TS)
		assert_int_equal(p.opt.tsecr, client_opts.tsval);
	if (tsval)
		*tsval = (p.opt.present & MOAT_TCPOPT_TS) ? p.opt.tsval : 0;
	return p.seq;
}

/*
 * One proxied session on @sport.  The first one teaches moat the server's
 * options (it answers a server it does not know with safe defaults: no
 * window scaling, no timestamps); later ones carry them.
 */
static void proxied_session(struct harness *h, uint16_t sport, bool learned)
{
	struct moat_pkt p;
	uint32_t isn = 1000000u * sport, cookie, our_ts = 0, server_isn = 7000;
	struct moat_tcp_opts ack_opts = { .present = MOAT_TCPOPT_TS };
	/* With scaling (shift 7) 502 means 64256 bytes; without, say so. */
	uint16_t cwin = learned ? 502 : 64256;

	cookie = client_syn(h, sport, isn, &our_ts);
	if (learned)
		assert_true(our_ts != 0); /* the server does timestamps */
	h->now += SEC / 1000;
	ack_opts.tsval = 111112;
	ack_opts.tsecr = our_ts;
	struct seg ack = { CLIENT, SERVER, sport, 80, isn + 1, cookie + 1,
			   MOAT_TCP_ACK | MOAT_TCP_PSH, cwin, 100, 'r',
			   our_ts ? &ack_opts : NULL };
	/* The final ACK carries the first request bytes: held. */
	assert_verdict(h_tcp(h, OUT, &ack), MOAT_VERDICT_DROP,
		       MOAT_R_SYN_PROXY_HELD);
	assert_int_equal(h->out.count, 1);
	assert_int_equal(h->out.frames[0].out_zone, IN);
	emitted(h, 0, &p);
	/* The client asked for no ECN: the server must not be offered it. */
	assert_int_equal(p.tcp_flags, MOAT_TCP_SYN);
	assert_int_equal(p.seq, isn);
	assert_true(p.opt.present & MOAT_TCPOPT_MSS);

	/* The server answers; moat ACKs it and releases the held data. */
	h->now += SEC / 1000;
	struct moat_tcp_opts srv_opts = client_opts;
	srv_opts.tsval = 555;
	srv_opts.tsecr = p.opt.tsval;
	if (!(p.opt.present & MOAT_TCPOPT_TS))
		srv_opts.present &= (uint8_t)~MOAT_TCPOPT_TS;
	struct seg synack = { SERVER, CLIENT, 80, sport, server_isn, isn + 1,
			      MOAT_TCP_SYN | MOAT_TCP_ACK, 65160, 0, 0,
			      &srv_opts };
	assert_verdict(h_tcp(h, IN, &synack), MOAT_VERDICT_DROP,
		       MOAT_R_SYN_PROXY_CONSUMED);
	assert_true(h->out.count >= 2);
	emitted(h, 0, &p);
	assert_int_equal(p.tcp_flags & (MOAT_TCP_SYN | MOAT_TCP_ACK),
			 MOAT_TCP_ACK);
	assert_int_equal(p.ack, server_isn + 1);
	assert_int_equal(h->out.frames[0].out_zone, IN);
	emitted(h, h->out.count - 1, &p);
	assert_int_equal(p.payload_len, 100);
	assert_int_equal(p.seq, isn + 1);
	assert_int_equal(p.ack, server_isn + 1);
	uint32_t moat_tsval = p.opt.tsval;

	/* The response: the server's numbers become the cookie's. */
	h->now += SEC / 1000;
	struct moat_tcp_opts ts = { .present = MOAT_TCPOPT_TS, .tsval = 556,
				    .tsecr = moat_tsval };
	struct seg resp = { SERVER, CLIENT, 80, sport, server_isn + 1,
			    isn + 101, MOAT_TCP_ACK | MOAT_TCP_PSH, 509, 1000,
			    'R', our_ts ? &ts : NULL };
	assert_verdict(h_tcp(h, IN, &resp), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_true(h->res.rewritten);
	h_decode(h, &p);
	assert_int_equal(p.seq, cookie + 1);
	assert_int_equal(p.ack, isn + 101);
	assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);
	if (our_ts)
		assert_int_equal(p.opt.tsecr, 111112); /* the client's clock */

	/* The client acknowledges in its own numbers; the server sees its. */
	struct moat_tcp_opts ts2 = { .present = MOAT_TCPOPT_TS,
				     .tsval = 111113, .tsecr = p.opt.tsval };
	struct seg cack = { CLIENT, SERVER, sport, 80, isn + 101,
			    cookie + 1 + 1000, MOAT_TCP_ACK, cwin, 0, 0,
			    our_ts ? &ts2 : NULL };
	assert_verdict(h_tcp(h, OUT, &cack), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	h_decode(h, &p);
	assert_int_equal(p.ack, server_isn + 1 + 1000);
	if (our_ts)
		assert_int_equal(p.opt.tsecr, 556); /* the server's clock */
	assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);
}

static void full_proxied_session(void **state)
{
	struct harness h;

	(void)state;
	h_start(&h, conf_on);
	teach_server(&h);
	proxied_session(&h, 40000, true);
	h.now += SEC;
	proxied_session(&h, 40100, true);
	h_stop(&h);
}

static void forged_and_stale_cookies(void **state)
{
	struct harness h;
	uint32_t cookie;

	(void)state;
	h_start(&h, conf_on);
	teach_server(&h);
	cookie = client_syn(&h, 40001, 5000, NULL);
	/* A blind attacker guessing the cookie. */
	struct seg forged = { CLIENT, SERVER, 40001, 80, 5001, cookie + 2,
			      MOAT_TCP_ACK, 0, 0, 0, NULL };
	assert_verdict(h_tcp(&h, OUT, &forged), MOAT_VERDICT_DROP,
		       MOAT_R_SYN_COOKIE_BAD);
	/* The right cookie from another source address. */
	struct seg other = { "198.18.100.11", SERVER, 40001, 80, 5001,
			     cookie + 1, MOAT_TCP_ACK, 0, 0, 0, NULL };
	assert_int_equal(h_tcp(&h, OUT, &other)->verdict, MOAT_VERDICT_DROP);
	/* The right cookie, a wrong ISN. */
	struct seg isn = { CLIENT, SERVER, 40001, 80, 6001, cookie + 1,
			   MOAT_TCP_ACK, 0, 0, 0, NULL };
	assert_int_equal(h_tcp(&h, OUT, &isn)->verdict, MOAT_VERDICT_DROP);
	/* Three counters (192 s) later the cookie is stale. */
	h.now += 3 * 64 * SEC;
	struct seg late = { CLIENT, SERVER, 40001, 80, 5001, cookie + 1,
			    MOAT_TCP_ACK, 0, 0, 0, NULL };
	const struct moat_result *r = h_tcp(&h, OUT, &late);
	assert_int_equal(r->verdict, MOAT_VERDICT_DROP);
	assert_true(r->reason == MOAT_R_SYN_COOKIE_STALE ||
		    r->reason == MOAT_R_SYN_COOKIE_BAD);
	h_stop(&h);
}

static void lost_final_ack_is_recovered(void **state)
{
	struct harness h;
	struct moat_pkt p;
	uint32_t cookie, again;

	(void)state;
	h_start(&h, conf_on);
	teach_server(&h);
	cookie = client_syn(&h, 40002, 777, NULL);
	/* A retransmitted SYN gets the same cookie. */
	h.now += SEC / 2;
	again = client_syn(&h, 40002, 777, NULL);
	assert_int_equal(again, cookie);
	/* No final ACK: moat sends the SYN-ACK again by itself. */
	int sent = 0;
	for (int i = 0; i < 50; i++) {
		h.now += SEC / 10;
		moat_emit_reset(&h.out);
		moat_engine_tick(h.eng, h.now, &h.out);
		for (uint32_t k = 0; k < h.out.count; k++) {
			emitted(&h, k, &p);
			assert_int_equal(p.tcp_flags,
					 MOAT_TCP_SYN | MOAT_TCP_ACK);
			assert_int_equal(p.seq, cookie);
			sent++;
		}
	}
	assert_true(sent >= 1 && sent <= 2);
	h_stop(&h);
}

static void server_rst_resets_client(void **state)
{
	struct harness h;
	struct moat_pkt p;
	uint32_t cookie, isn = 4242;

	(void)state;
	h_start(&h, conf_on);
	teach_server(&h);
	cookie = client_syn(&h, 40003, isn, NULL);
	struct seg ack = { CLIENT, SERVER, 40003, 80, isn + 1, cookie + 1,
			   MOAT_TCP_ACK, 0, 0, 0, NULL };
	h_tcp(&h, OUT, &ack);
	assert_int_equal(h.res.verdict, MOAT_VERDICT_DROP);
	assert_int_equal(h.out.count, 1);
	/* Nothing listens on the server. */
	struct seg rst = { SERVER, CLIENT, 80, 40003, 0, isn + 1,
			   MOAT_TCP_RST | MOAT_TCP_ACK, 0, 0, 0, NULL };
	assert_verdict(h_tcp(&h, IN, &rst), MOAT_VERDICT_DROP,
		       MOAT_R_SYN_PROXY_SERVER_RST);
	assert_int_equal(h.out.count, 1);
	emitted(&h, 0, &p);
	assert_true(p.tcp_flags & MOAT_TCP_RST);
	assert_int_equal(h.out.frames[0].out_zone, OUT);
	assert_int_equal(p.dport, 40003);
	assert_int_equal(p.seq, cookie + 1);
	h_stop(&h);
}

/* The server never answers the proxy's SYN: moat sends it again, then
 * gives up and resets the client; the flow is gone. */
static void silent_server(void **state)
{
	struct harness h;
	struct moat_pkt p;
	uint32_t cookie, isn = 9000;
	int syns = 0, rsts = 0;

	(void)state;
	h_start(&h, conf_on);
	teach_server(&h);
	cookie = client_syn(&h, 40004, isn, NULL);
	struct seg ack = { CLIENT, SERVER, 40004, 80, isn + 1, cookie + 1,
			   MOAT_TCP_ACK, 0, 0, 0, NULL };
	h_tcp(&h, OUT, &ack);
	assert_int_equal(h.out.count, 1); /* the SYN to the server */
	for (int i = 0; i < 60; i++) {
		h.now += SEC / 10;
		moat_emit_reset(&h.out);
		moat_engine_tick(h.eng, h.now, &h.out);
		for (uint32_t k = 0; k < h.out.count; k++) {
			emitted(&h, k, &p);
			if (p.tcp_flags == MOAT_TCP_SYN && p.dport == 80)
				syns++;
			if ((p.tcp_flags & MOAT_TCP_RST) && p.dport == 40004)
				rsts++;
		}
	}
	assert_true(syns >= 1);
	assert_int_equal(rsts, 1);
	/* The flow is gone: a late copy of the final ACK, its cookie still
	 * valid, opens the server side anew (a new SYN to the server). */
	const struct moat_result *r = h_tcp(&h, OUT, &ack);
	assert_int_equal(r->verdict, MOAT_VERDICT_DROP);
	assert_int_equal(r->reason, MOAT_R_SYN_PROXY_CONSUMED);
	assert_int_equal(h.out.count, 1);
	emitted(&h, 0, &p);
	assert_int_equal(p.tcp_flags, MOAT_TCP_SYN);
	h_stop(&h);
}

/*
 * A valid final ACK when the flow table is full of established flows
 * (never evicted): the flow is refused like any other new flow, counted
 * as state-table-full, and nothing goes to the server.
 */
static void final_ack_into_a_full_table(void **state)
{
	static const char *const conf =
		"zone outside { interface out0; default }\n"
		"zone inside { interface in0; networks 198.18.1.0/24 }\n"
		"options { syncookies on\n max-flows 16 }\n"
		"pass from outside to 198.18.1.10 tcp port 80 synproxy\n"
		"pass from inside\n";
	struct harness h;
	uint32_t cookie, isn = 31337;
	unsigned long flows;
	int i;

	(void)state;
	h_start(&h, conf);
	teach_server(&h);
	for (i = 0; i < 64; i++) {
		struct seg syn = { SERVER, "198.18.100.20", (uint16_t)(2000 + i),
				   443, 100, 0, MOAT_TCP_SYN, 0, 0, 0, NULL };
		struct seg sa = { "198.18.100.20", SERVER, 443,
				  (uint16_t)(2000 + i), 500, 101,
				  MOAT_TCP_SYN | MOAT_TCP_ACK, 0, 0, 0, NULL };
		struct seg ack = { SERVER, "198.18.100.20", (uint16_t)(2000 + i),
				   443, 101, 501, MOAT_TCP_ACK, 0, 0, 0, NULL };

		if (h_tcp(&h, IN, &syn)->reason == MOAT_R_STATE_TABLE_FULL)
			break;
		assert_verdict(h_tcp(&h, OUT, &sa), MOAT_VERDICT_PASS,
			       MOAT_R_STATE_MATCH);
		assert_verdict(h_tcp(&h, IN, &ack), MOAT_VERDICT_PASS,
			       MOAT_R_STATE_MATCH);
	}
	assert_true(i >= 16 && i < 64);
	flows = moat_engine_flow_count(h.eng);
	cookie = client_syn(&h, 40300, isn, NULL);
	struct seg ack = { CLIENT, SERVER, 40300, 80, isn + 1, cookie + 1,
			   MOAT_TCP_ACK, 0, 0, 0, NULL };
	assert_verdict(h_tcp(&h, OUT, &ack), MOAT_VERDICT_DROP,
		       MOAT_R_STATE_TABLE_FULL);
	assert_int_equal(h.out.count, 0);
	assert_int_equal(moat_engine_flow_count(h.eng), flows);
	h_stop(&h);
}

static void reload(struct harness *h, const char *conf)
{
	struct moat_config *cfg;
	struct moat_diags d;

	cfg = moat_config_parse_string("reload.conf", conf, &d);
	assert_non_null(cfg);
	moat_engine_reload(h->eng, cfg);
	moat_config_destroy(h->cfg);
	h->cfg = cfg;
}

/* A calm SYN from @sport: cookie (true) or passed to the server (false). */
static bool gets_cookie(struct harness *h, uint16_t sport)
{
	struct seg syn = { CLIENT, SERVER, sport, 80, 1000u * sport, 0,
			   MOAT_TCP_SYN, 64240, 0, 0, &client_opts };
	const struct moat_result *r = h_tcp(h, OUT, &syn);

	h->now += SEC / 10;
	if (r->reason == MOAT_R_SYN_COOKIE_SENT)
		return true;
	assert_verdict(r, MOAT_VERDICT_PASS, MOAT_R_RULE_PASS);
	return false;
}

/*
 * Which mode a SYN meets: `moat ctl syncookies` when given (across
 * reloads, `auto` included), else the rule's own `syncookies`, else the
 * options'.  No flood here: `auto` means state mode.
 */
static void mode_in_force(void **state)
{
	static const char *const conf_off =
		"zone outside { interface out0; default }\n"
		"zone inside { interface in0; networks 198.18.1.0/24 }\n"
		"options { syncookies off }\n"
		"pass from outside to 198.18.1.10 tcp port 80 synproxy\n";
	static const char *const conf_rule_on =
		"zone outside { interface out0; default }\n"
		"zone inside { interface in0; networks 198.18.1.0/24 }\n"
		"options { syncookies off }\n"
		"pass from outside to 198.18.1.10 tcp port 80 synproxy "
		"syncookies on\n";
	struct harness h;

	(void)state;
	h_start(&h, conf_auto);
	teach_server(&h);
	assert_false(gets_cookie(&h, 41100));          /* options auto */
	moat_engine_set_syncookies(h.eng, MOAT_SYNCOOKIES_ON);
	assert_true(gets_cookie(&h, 41101));           /* forced on */
	reload(&h, conf_off);
	assert_true(gets_cookie(&h, 41102));           /* ... across reload */
	moat_engine_set_syncookies(h.eng, MOAT_SYNCOOKIES_OFF);
	assert_false(gets_cookie(&h, 41103));          /* forced off */
	reload(&h, conf_rule_on);
	assert_false(gets_cookie(&h, 41104));          /* beats the rule */
	moat_engine_set_syncookies(h.eng, MOAT_SYNCOOKIES_AUTO);
	assert_false(gets_cookie(&h, 41105));          /* forced auto too */
	h_stop(&h);

	h_start(&h, conf_rule_on);
	teach_server(&h);
	assert_true(gets_cookie(&h, 41106));           /* the rule's on */
	reload(&h, conf_off);
	assert_false(gets_cookie(&h, 41107));          /* the options' off */
	h_stop(&h);
}

/* Shedding load: sources that completed a handshake before keep getting
 * cookies; unknown ones are dropped at once until the pressure ends. */
static void shedding_keeps_known_clients(void **state)
{
	struct harness h;

	(void)state;
	h_start(&h, conf_on);
	teach_server(&h);
	proxied_session(&h, 40200, true); /* CLIENT completes a handshake */
	moat_engine_set_shed(h.eng, true);
	struct seg spoofed = { "198.18.130.7", SERVER, 5555, 80, 1, 0,
			       MOAT_TCP_SYN, 0, 0, 0, NULL };
	assert_verdict(h_tcp(&h, OUT, &spoofed), MOAT_VERDICT_DROP,
		       MOAT_R_SYN_SHED);
	assert_int_equal(h.out.count, 0);
	client_syn(&h, 40201, 777777, NULL); /* still answered */
	moat_engine_set_shed(h.eng, false);
	spoofed.sport = 5556;
	assert_verdict(h_tcp(&h, OUT, &spoofed), MOAT_VERDICT_DROP,
		       MOAT_R_SYN_COOKIE_SENT);
	h_stop(&h);
}

static void hybrid_switches_both_ways(void **state)
{
	struct harness h;
	char src[32];

	(void)state;
	h_start(&h, conf_auto);
	/* Quiet: the SYN passes to the server, tracked. */
	struct seg syn = { CLIENT, SERVER, 41000, 80, 1, 0, MOAT_TCP_SYN, 0,
			   0, 0, NULL };
	assert_verdict(h_tcp(&h, OUT, &syn), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	/* A flood from spoofed sources: 1000 SYNs in 1 s. */
	int cookies = 0;
	for (int i = 0; i < 1000; i++) {
		snprintf(src, sizeof(src), "198.18.%d.%d", 128 + i / 250,
			 1 + i % 250);
		struct seg f = { src, SERVER, (uint16_t)(1024 + i), 80,
				 (uint32_t)i * 7919u, 0, MOAT_TCP_SYN, 0, 0, 0,
				 NULL };
		h.now += SEC / 1000;
		if (h_tcp(&h, OUT, &f)->reason == MOAT_R_SYN_COOKIE_SENT)
			cookies++;
	}
	assert_true(cookies > 800);
	/* `moat ctl stats` shows the destination in cookie mode. */
	static struct moat_engine_stats st;
	struct moat_addr server;
	bool listed = false;
	moat_engine_stats(h.eng, &st);
	assert_int_equal(moat_addr_parse(&server, "198.18.1.10"), 0);
	for (uint32_t i = 0; i < st.nsyn; i++)
		listed |= moat_addr_eq(&st.syn[i].dst, &server) &&
			  st.syn[i].port == 80 && st.syn[i].cookies;
	assert_true(listed);
	/* After the flood, a quiet period brings state mode back. */
	for (int i = 0; i < 400; i++) {
		h.now += SEC / 10;
		moat_emit_reset(&h.out);
		moat_engine_tick(h.eng, h.now, &h.out);
	}
	syn.sport = 41001;
	assert_verdict(h_tcp(&h, OUT, &syn), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	h_stop(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_proxied_session),
		cmocka_unit_test(forged_and_stale_cookies),
		cmocka_unit_test(lost_final_ack_is_recovered),
		cmocka_unit_test(server_rst_resets_client),
		cmocka_unit_test(silent_server),
		cmocka_unit_test(final_ack_into_a_full_table),
		cmocka_unit_test(mode_in_force),
		cmocka_unit_test(shedding_keeps_known_clients),
		cmocka_unit_test(hybrid_switches_both_ways),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
