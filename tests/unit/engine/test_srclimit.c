/*
 * Per-rule and per-source limits (src/engine/srclimit.c) through the real
 * packet path with injected time: max-conn, max-src-conn, max-src-rate,
 * overload with expiry, a full source table, counts across expiry and
 * reload, and the address-trust watch.
 */
#include <stdlib.h>

#include "harness.h"

#include "engine/engine_impl.h"

/* Allocation counters (the linker's --wrap, see meson.build): the limits
 * and the hijack checks must not allocate on the packet path. */
#include "../alloc_count.h"

#define ZONES                                                                  \
	"zone outside { interface out0; default }\n"                          \
	"zone inside { interface in0; networks 198.18.1.0/24 }\n"

static const char *const conf =
	ZONES
	"set bad = { 192.0.2.1 }\n"
	"options { policy drop\n antispoof on\n syncookies off\n"
	" timeout tcp.opening 5 }\n"
	"pass from outside to 198.18.1.10 tcp port 80 max-src-conn 2\n"
	"pass from outside to 198.18.1.10 tcp port 25 max-conn 3\n"
	"pass from outside to 198.18.1.10 tcp port 22 max-src-rate 3/second"
	" overload @bad expire 10\n"
	"pass from outside to 198.18.1.10 tcp port 443\n"
	"pass from outside to 198.18.1.10 tcp port 513\n"
	"pass from outside to 198.18.1.10 udp port 2049\n"
	"pass from inside\n";

#define SERVER "198.18.1.10"
#define CLIENT "198.18.100.10"

static const struct moat_result *syn(struct harness *h, const char *src,
				     uint16_t sport, uint16_t dport)
{
	struct seg s = { src, SERVER, sport, dport, 1000, 0, MOAT_TCP_SYN, 0,
			 0, 0, NULL };

	return h_tcp(h, OUT, &s);
}

static struct moat_src_stats stats(struct harness *h)
{
	struct moat_src_stats st;

	moat_engine_src_stats(h->eng, &st);
	return st;
}

/* Let every half-open flow time out (tcp.opening 5) and sweep. */
static void expire_all(struct harness *h)
{
	h->now += 6 * SEC;
	for (int i = 0; i < 64; i++)
		moat_engine_tick(h->eng, h->now, &h->out);
}

static void max_src_conn(void **state)
{
	struct harness *h = *state;

	assert_verdict(syn(h, "198.18.100.10", 1, 80), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	assert_verdict(syn(h, "198.18.100.10", 2, 80), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	assert_verdict(syn(h, "198.18.100.10", 3, 80), MOAT_VERDICT_DROP,
		       MOAT_R_MAX_SRC_CONN);
	assert_int_equal(h->res.rule, 1);
	/* Another source has its own count; another rule is not limited. */
	assert_verdict(syn(h, "198.18.100.11", 1, 80), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	assert_verdict(syn(h, "198.18.100.10", 3, 443), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	/* A retransmitted SYN belongs to its flow: not a new connection. */
	assert_verdict(syn(h, "198.18.100.10", 1, 80), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	/* The flows time out: the source may connect again. */
	expire_all(h);
	assert_int_equal(stats(h).nodes, 0);
	assert_verdict(syn(h, "198.18.100.10", 4, 80), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	assert_verdict(syn(h, "198.18.100.10", 5, 80), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	assert_verdict(syn(h, "198.18.100.10", 6, 80), MOAT_VERDICT_DROP,
		       MOAT_R_MAX_SRC_CONN);
}

/* A RST ends a flow; when conntrack frees it the count drops. */
static void closed_flow_uncounted(void **state)
{
	struct harness *h = *state;
	struct seg rst = { SERVER, "198.18.100.10", 80, 1, 0, 1001,
			   MOAT_TCP_RST | MOAT_TCP_ACK, 0, 0, 0, NULL };

	syn(h, "198.18.100.10", 1, 80);
	syn(h, "198.18.100.10", 2, 80);
	assert_verdict(h_tcp(h, IN, &rst), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	/* Closed but still in the table (time-wait): still counted. */
	assert_verdict(syn(h, "198.18.100.10", 3, 80), MOAT_VERDICT_DROP,
		       MOAT_R_MAX_SRC_CONN);
	/* The same tuple again replaces the closed flow. */
	assert_verdict(syn(h, "198.18.100.10", 1, 80), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	assert_verdict(syn(h, "198.18.100.10", 3, 80), MOAT_VERDICT_DROP,
		       MOAT_R_MAX_SRC_CONN);
}

static void max_conn(void **state)
{
	struct harness *h = *state;

	assert_verdict(syn(h, "198.18.100.1", 1, 25), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	assert_verdict(syn(h, "198.18.100.2", 1, 25), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	assert_verdict(syn(h, "198.18.100.3", 1, 25), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	assert_verdict(syn(h, "198.18.100.4", 1, 25), MOAT_VERDICT_DROP,
		       MOAT_R_MAX_CONN);
	/* max-conn alone keeps no source nodes. */
	assert_int_equal(stats(h).nodes, 0);
	expire_all(h);
	assert_verdict(syn(h, "198.18.100.4", 1, 25), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
}

static void max_src_rate_and_overload(void **state)
{
	struct harness *h = *state;

	for (uint16_t p = 1; p <= 3; p++)
		assert_verdict(syn(h, "192.0.2.7", p, 22), MOAT_VERDICT_PASS,
			       MOAT_R_RULE_PASS);
	assert_verdict(syn(h, "192.0.2.7", 4, 22), MOAT_VERDICT_DROP,
		       MOAT_R_MAX_SRC_RATE);
	assert_int_equal(h_events_with(h, MOAT_EV_OVERLOAD, NULL), 1);
	assert_int_equal(stats(h).overload_active, 1);
	/* Overloaded: refused by every rule, whatever its limits. */
	h->now += 2 * SEC;
	assert_verdict(syn(h, "192.0.2.7", 5, 443), MOAT_VERDICT_DROP,
		       MOAT_R_OVERLOAD);
	assert_verdict(syn(h, "192.0.2.7", 6, 22), MOAT_VERDICT_DROP,
		       MOAT_R_OVERLOAD);
	/* Others are not. */
	assert_verdict(syn(h, "192.0.2.8", 1, 22), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	/* Expiry (10 s) through the tick's sweep. */
	h->now += 9 * SEC;
	moat_engine_tick(h->eng, h->now, &h->out);
	moat_engine_tick(h->eng, h->now, &h->out);
	assert_int_equal(stats(h).overload_active, 0);
	assert_int_equal(h_events_with(h, MOAT_EV_OVERLOAD_EXPIRED, NULL), 1);
	assert_verdict(syn(h, "192.0.2.7", 7, 443), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
}

/* The bucket refills with time: 3 per second sustained, never more. */
static void max_src_rate_refills(void **state)
{
	struct harness *h = *state;
	int passed = 0;

	/* Source under no overload: rule 3 has one, so use the lapse
	 * between refusals: one SYN every 1/3 s always passes. */
	for (uint16_t p = 1; p <= 30; p++) {
		h->now += SEC / 3 + 1;
		passed += syn(h, "192.0.2.9", p, 22)->verdict ==
			  MOAT_VERDICT_PASS;
	}
	assert_int_equal(passed, 30);
	assert_int_equal(stats(h).overloads, 0);
}

/* Lossy, bounded: a flood of distinct sources fills the table, then is
 * refused with a reason; nothing grows and nothing crashes. */
static void source_table_full(void **state)
{
	struct harness h;
	char a[32];
	int full = 0;
	struct moat_src_stats st;

	(void)state;
	h_start(&h, ZONES
		"options { policy drop\n syncookies off\n max-flows 4096 }\n"
		"pass from outside to 198.18.1.10 tcp port 22"
		" max-src-rate 5/second\n");
	st = stats(&h);
	assert_int_equal(st.capacity, 1024);
	for (int i = 0; i < 1100; i++) {
		snprintf(a, sizeof(a), "203.0.%d.%d", 113 + i / 250,
			 1 + i % 250);
		if (syn(&h, a, 1, 22)->reason == MOAT_R_SRC_TABLE_FULL)
			full++;
	}
	assert_int_equal(full, 1100 - 1024);
	assert_int_equal(stats(&h).nodes, 1024);
	assert_int_equal(stats(&h).table_full, 76);
	/* A second later the buckets have refilled: nodes are reusable. */
	h.now += 2 * SEC;
	assert_verdict(syn(&h, "198.51.100.1", 1, 22), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	h_stop(&h);
}

static void reload_recounts(void **state)
{
	struct harness h;
	struct moat_config *c2, *c3;
	struct moat_diags d;

	(void)state;
	h_start(&h, conf);
	syn(&h, "198.18.100.10", 1, 80);
	syn(&h, "198.18.100.10", 2, 80);
	assert_verdict(syn(&h, "198.18.100.10", 3, 80), MOAT_VERDICT_DROP,
		       MOAT_R_MAX_SRC_CONN);
	/* Rule 1 now allows 3 per source: the 2 alive still count. */
	c2 = moat_config_parse_string("c2", ZONES
		"options { policy drop\n syncookies off\n"
		" timeout tcp.opening 5 }\n"
		"pass from outside to 198.18.1.10 tcp port 80"
		" max-src-conn 3\n", &d);
	assert_non_null(c2);
	assert_int_equal(moat_engine_reload(h.eng, c2), 0);
	moat_config_destroy(h.cfg);
	h.cfg = c2;
	assert_int_equal(stats(&h).nodes, 1);
	assert_verdict(syn(&h, "198.18.100.10", 3, 80), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	assert_verdict(syn(&h, "198.18.100.10", 4, 80), MOAT_VERDICT_DROP,
		       MOAT_R_MAX_SRC_CONN);
	/* Rule 1 without limits: nothing is counted any more. */
	c3 = moat_config_parse_string("c3", ZONES
		"options { policy drop\n syncookies off\n"
		" timeout tcp.opening 5 }\n"
		"pass from outside to 198.18.1.10 tcp port 80\n", &d);
	assert_non_null(c3);
	assert_int_equal(moat_engine_reload(h.eng, c3), 0);
	moat_config_destroy(h.cfg);
	h.cfg = c3;
	assert_int_equal(stats(&h).nodes, 0);
	assert_verdict(syn(&h, "198.18.100.10", 4, 80), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	expire_all(&h);
	assert_int_equal(stats(&h).nodes, 0);
	h_stop(&h);
}

/* An overload entry follows its set by name across a reload. */
static void reload_keeps_overload(void **state)
{
	struct harness h;
	struct moat_config *c2;
	struct moat_diags d;

	(void)state;
	h_start(&h, conf);
	for (uint16_t p = 1; p <= 4; p++)
		syn(&h, "192.0.2.7", p, 22);
	assert_int_equal(stats(&h).overload_active, 1);
	c2 = moat_config_parse_string("c2", ZONES
		"set other = { 192.0.2.200 }\n"
		"set bad = { 192.0.2.1 }\n"
		"options { policy drop\n syncookies off }\n"
		"pass from outside to 198.18.1.10 tcp port 22"
		" max-src-rate 3/second overload @bad expire 10\n"
		"pass from outside to 198.18.1.10 tcp port 443\n", &d);
	assert_non_null(c2);
	assert_int_equal(moat_engine_reload(h.eng, c2), 0);
	moat_config_destroy(h.cfg);
	h.cfg = c2;
	assert_int_equal(stats(&h).overload_active, 1);
	assert_verdict(syn(&h, "192.0.2.7", 9, 443), MOAT_VERDICT_DROP,
		       MOAT_R_OVERLOAD);
	h_stop(&h);
}

static void address_trust_watched(void **state)
{
	struct harness *h = *state;
	struct moat_l2 l2 = { { 2, 0, 0, 0, 0, 1 }, { 2, 0, 0, 0, 0, 2 }, 0,
			      { 0 } };
	struct moat_tcp_spec sp;

	assert_verdict(syn(h, "198.18.100.10", 1023, 513), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	assert_int_equal(stats(h).address_trust, 1);
	struct moat_event ev;
	assert_int_equal(h_events_with(h, MOAT_EV_ADDRESS_TRUST, &ev), 1);
	assert_string_equal(ev.u.trust.service, "rlogin");
	/* The retransmitted SYN is the same connection. */
	syn(h, "198.18.100.10", 1023, 513);
	assert_int_equal(stats(h).address_trust, 1);
	/* Not a trust service. */
	syn(h, "198.18.100.10", 1023, 443);
	assert_int_equal(stats(h).address_trust, 1);
	/* From inside to inside: not from outside. */
	memset(&sp, 0, sizeof(sp));
	moat_addr_parse(&sp.src, "198.18.1.20");
	moat_addr_parse(&sp.dst, "198.18.1.10");
	sp.sport = 1000;
	sp.dport = 514;
	sp.seq = 1;
	sp.flags = MOAT_TCP_SYN;
	sp.win = 1000;
	h->len = moat_pkt_build_tcp(h->frame, sizeof(h->frame),
				    MOAT_LINK_ETHERNET, &l2, &sp);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_PASS, MOAT_R_RULE_PASS);
	assert_int_equal(stats(h).address_trust, 1);
}

static void stats_json(void **state)
{
	struct harness *h = *state;
	static struct moat_engine_stats st;

	moat_engine_stats(h->eng, &st);
	/* The default 262144 flows: one source node per 16 flows. */
	assert_int_equal(st.sources.capacity, 16384);
	assert_int_equal(st.capacity, 262144);
	assert_int_equal(st.hijack.injection, 0);
}

/* IPv6 sources are keyed like IPv4 ones; a v4 and a v6 source that share
 * their last 4 bytes are different sources. */
static void ipv6_sources(void **state)
{
	struct harness h;
	struct seg s = { "2001:db8:100::10", "2001:db8:1::10", 1, 80, 1, 0,
			 MOAT_TCP_SYN, 0, 0, 0, NULL };

	(void)state;
	h_start(&h, ZONES
		"options { syncookies off }\n"
		"pass from outside to { 198.18.1.10, 2001:db8:1::10 } tcp"
		" port 80 max-src-conn 1\n");
	assert_verdict(h_tcp(&h, OUT, &s), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	s.sport = 2;
	assert_verdict(h_tcp(&h, OUT, &s), MOAT_VERDICT_DROP,
		       MOAT_R_MAX_SRC_CONN);
	s.src = "2001:db8:100::11";
	assert_verdict(h_tcp(&h, OUT, &s), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	s.src = "::ffff:198.18.100.10"; /* martian on the wire */
	assert_verdict(h_tcp(&h, OUT, &s), MOAT_VERDICT_DROP,
		       MOAT_R_MARTIAN_SRC);
	assert_verdict(syn(&h, "198.18.100.10", 1, 80), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	assert_int_equal(stats(&h).nodes, 3);
	h_stop(&h);
}

/* Cookie handshake from @src on @sport: the final ACK's result. */
static const struct moat_result *cookie_handshake(struct harness *h,
						  const char *src,
						  uint16_t sport)
{
	struct seg s = { src, SERVER, sport, 80, 7000, 0, MOAT_TCP_SYN, 0, 0,
			 0, NULL };
	struct moat_pkt p;

	assert_verdict(h_tcp(h, OUT, &s), MOAT_VERDICT_DROP,
		       MOAT_R_SYN_COOKIE_SENT);
	assert_int_equal(moat_pkt_decode(&p, h->out.frames[0].data,
					 h->out.frames[0].len,
					 h->out.frames[0].len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
	s.seq = 7001;
	s.ack = p.seq + 1;
	s.flags = MOAT_TCP_ACK;
	h->now += SEC / 1000;
	return h_tcp(h, OUT, &s);
}

/* With the SYN proxy, admission happens at the final ACK of the cookie
 * handshake: a spoofed SYN costs no count, a real client is counted. */
static void synproxy_admits_at_final_ack(void **state)
{
	struct harness h;
	struct seg teach = { "198.18.100.99", SERVER, 999, 80, 1, 0,
			     MOAT_TCP_SYN, 0, 0, 0, NULL };
	struct seg synack = { SERVER, "198.18.100.99", 80, 999, 99, 2,
			      MOAT_TCP_SYN | MOAT_TCP_ACK, 0, 0, 0, NULL };

	(void)state;
	h_start(&h, ZONES
		"options { syncookies on }\n"
		"pass from outside to 198.18.1.10 tcp port 80 synproxy"
		" max-src-conn 1\n");
	/* moat learns the unknown server from one real handshake first. */
	h_tcp(&h, OUT, &teach);
	h_tcp(&h, IN, &synack);
	h.now += SEC;
	/* Spoofed SYNs from the client's address: no count. */
	for (uint16_t p = 1; p <= 5; p++) {
		struct seg s = { CLIENT, SERVER, p, 80, 1, 0, MOAT_TCP_SYN,
				 0, 0, 0, NULL };
		assert_verdict(h_tcp(&h, OUT, &s), MOAT_VERDICT_DROP,
			       MOAT_R_SYN_COOKIE_SENT);
	}
	assert_int_equal(stats(&h).nodes, 1); /* the teaching client's */
	assert_int_not_equal(cookie_handshake(&h, CLIENT, 100)->reason,
			     MOAT_R_MAX_SRC_CONN);
	assert_int_equal(stats(&h).nodes, 2);
	assert_verdict(cookie_handshake(&h, CLIENT, 101), MOAT_VERDICT_DROP,
		       MOAT_R_MAX_SRC_CONN);
	h_stop(&h);
}

/* An honest session on port 443 with one forged segment: blocked. */
static void forged_session(struct harness *h, uint16_t port)
{
	struct seg syn_ = { CLIENT, SERVER, port, 443, 1000, 0, MOAT_TCP_SYN,
			    0, 0, 0, NULL };
	struct seg synack = { SERVER, CLIENT, 443, port, 5000, 1001,
			      MOAT_TCP_SYN | MOAT_TCP_ACK, 0, 0, 0, NULL };
	struct seg d = { CLIENT, SERVER, port, 443, 1001, 5001,
			 MOAT_TCP_ACK | MOAT_TCP_PSH, 0, 100, 'a', NULL };

	h_tcp(h, OUT, &syn_);
	h_tcp(h, IN, &synack);
	h_tcp(h, OUT, &d);
	d.fill = 'b';
	h_tcp(h, OUT, &d);
}

/* Sources over their limits, overloads and their expiry, a full source
 * table, hijack alerts with blocking and RSTs, ticks, for a long time:
 * no allocation after create. */
static void long_run_allocates_nothing(void **state)
{
	struct harness h;
	const struct moat_counters *c;
	unsigned long before;
	char a[32];

	(void)state;
	before = test_allocs;
	h_start(&h, ZONES
		"set bad = { 192.0.2.1 }\n"
		"options { policy drop\n syncookies off\n max-flows 4096\n"
		" detect hijack\n timeout tcp.opening 2\n"
		" timeout tcp.timewait 2 }\n"
		"pass from outside to 198.18.1.10 tcp port 22"
		" max-src-rate 2/minute max-src-conn 3 overload @bad expire 3\n"
		"pass from outside to 198.18.1.10 tcp port 80 max-conn 300\n"
		"pass from outside to 198.18.1.10 tcp port 443\n");
	/* The counter sees the core's allocations: create made some. */
	assert_true(test_allocs > before);
	moat_engine_hijack_set_block(h.eng, true);
	before = test_allocs;
	for (int i = 0; i < 20000; i++) {
		if (i % 3 == 0)
			snprintf(a, sizeof(a), "100.%d.%d.%d", 64 + i % 50,
				 (i / 50) % 250, 1 + i % 200);
		else
			snprintf(a, sizeof(a), "203.0.113.%d", 1 + i % 40);
		syn(&h, a, (uint16_t)(1000 + i % 5000), i & 1 ? 22 : 80);
		if (i % 100 == 0)
			forged_session(&h, (uint16_t)(10000 + i / 100));
		h.now += SEC / 500;
		if (i % 50 == 0)
			moat_engine_tick(h.eng, h.now, &h.out);
	}
	assert_int_equal(test_allocs - before, 0);
	c = moat_engine_counters(h.eng);
	/* Every path was taken. */
	assert_true(c->reason[MOAT_R_MAX_CONN] > 0);
	assert_true(c->reason[MOAT_R_MAX_SRC_RATE] > 0);
	assert_true(c->reason[MOAT_R_OVERLOAD] > 0);
	assert_true(c->reason[MOAT_R_SRC_TABLE_FULL] > 0);
	assert_int_equal(c->reason[MOAT_R_HIJACK_BLOCKED], 200);
	h_stop(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		h_test(max_src_conn, conf),
		h_test(closed_flow_uncounted, conf),
		h_test(max_conn, conf),
		h_test(max_src_rate_and_overload, conf),
		h_test(max_src_rate_refills, conf),
		cmocka_unit_test(source_table_full),
		cmocka_unit_test(reload_recounts),
		cmocka_unit_test(reload_keeps_overload),
		h_test(address_trust_watched, conf),
		h_test(stats_json, conf),
		cmocka_unit_test(ipv6_sources),
		cmocka_unit_test(synproxy_admits_at_final_ack),
		cmocka_unit_test(long_run_allocates_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
