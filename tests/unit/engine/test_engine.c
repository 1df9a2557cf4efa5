/*
 * The engine end to end with injected time: hand-built sessions through
 * the real packet path (decode, antispoof, conntrack, rules, translation),
 * and the attacks it must refuse.
 */
#include "harness.h"

static const char *const conf =
	"zone outside { interface out0; default }\n"
	"zone inside { interface in0; networks 198.18.1.0/24 }\n"
	"set bogons = { 198.19.250.0/24, 2001:db8:dead::/48 }\n"
	"options { policy drop\n antispoof on\n syncookies off\n"
	" bogons @bogons }\n"
	"block from outside tcp port 512-514\n"
	"reject from outside to 198.18.1.10 tcp port 8080\n"
	"pass from outside to 198.18.1.10 tcp port { 80, 443 }\n"
	"pass from outside to 198.18.1.10 tcp port 22 modulate\n"
	"pass from outside to 198.18.1.10 udp port 53\n"
	"pass from outside icmp type echo-request limit 2/second\n"
	"pass from inside\n";

#define CLIENT "198.18.100.10"
#define SERVER "198.18.1.10"

static void default_deny(void **state)
{
	struct harness *h = *state;
	struct seg s = { CLIENT, SERVER, 40001, 8000, 1, 0, MOAT_TCP_SYN,
			 0, 0, 0, NULL };

	assert_verdict(h_tcp(h, OUT, &s), MOAT_VERDICT_DROP,
		       MOAT_R_POLICY_DROP);
	s.dport = 513;
	assert_verdict(h_tcp(h, OUT, &s), MOAT_VERDICT_DROP,
		       MOAT_R_RULE_BLOCK);
	assert_int_equal(h->res.rule, 1);
	/* Not a SYN and no state: refused whatever the rules say. */
	s.dport = 80;
	s.flags = MOAT_TCP_ACK;
	assert_verdict(h_tcp(h, OUT, &s), MOAT_VERDICT_DROP,
		       MOAT_R_TCP_NO_STATE);
}

static void session_data_and_close(void **state)
{
	struct harness *h = *state;
	struct seg req = { CLIENT, SERVER, 40000, 80, 1001, 5001,
			   MOAT_TCP_ACK | MOAT_TCP_PSH, 0, 100, 'a', NULL };
	struct seg resp = { SERVER, CLIENT, 80, 40000, 5001, 1101,
			    MOAT_TCP_ACK | MOAT_TCP_PSH, 0, 1000, 'b', NULL };

	h_handshake(h, CLIENT, SERVER, 40000, 80, 1000, 5000);
	assert_verdict(h_tcp(h, OUT, &req), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_verdict(h_tcp(h, IN, &resp), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	/* The response is lost and sent again: a retransmission passes. */
	assert_verdict(h_tcp(h, IN, &resp), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	/* Out of order inside the window: the second segment first. */
	resp.seq = 7001;
	assert_verdict(h_tcp(h, IN, &resp), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	resp.seq = 6001;
	assert_verdict(h_tcp(h, IN, &resp), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	/* FIN both ways. */
	struct seg fin = { CLIENT, SERVER, 40000, 80, 1101, 8001,
			   MOAT_TCP_ACK | MOAT_TCP_FIN, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, OUT, &fin), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	struct seg fin2 = { SERVER, CLIENT, 80, 40000, 8001, 1102,
			    MOAT_TCP_ACK | MOAT_TCP_FIN, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, IN, &fin2), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	struct seg last = { CLIENT, SERVER, 40000, 80, 1102, 8002,
			    MOAT_TCP_ACK, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, OUT, &last), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	/* New data after both FINs: no honest endpoint sends it. */
	struct seg late = { CLIENT, SERVER, 40000, 80, 1102, 8002,
			    MOAT_TCP_ACK | MOAT_TCP_PSH, 0, 10, 'z', NULL };
	assert_int_equal(h_tcp(h, OUT, &late)->verdict, MOAT_VERDICT_DROP);
}

static void blind_injection_refused(void **state)
{
	struct harness *h = *state;

	h_handshake(h, CLIENT, SERVER, 40000, 443, 1000, 5000);
	/* Data far beyond the window the server allowed. */
	struct seg inj = { CLIENT, SERVER, 40000, 443, 1001 + 10000000, 5001,
			   MOAT_TCP_ACK | MOAT_TCP_PSH, 0, 100, 'x', NULL };
	assert_int_equal(h_tcp(h, OUT, &inj)->verdict, MOAT_VERDICT_DROP);
	/* A RST with a guessed SEQ far away. */
	struct seg rst = { SERVER, CLIENT, 443, 40000, 5001 + 3000000, 0,
			   MOAT_TCP_RST, 0, 0, 0, NULL };
	const struct moat_result *r = h_tcp(h, IN, &rst);
	assert_int_equal(r->verdict, MOAT_VERDICT_DROP);
	assert_int_equal(r->reason, MOAT_R_TCP_RST_OUT_OF_WINDOW);
	/* An ACK of data the server never sent. */
	struct seg ack = { CLIENT, SERVER, 40000, 443, 1001, 5001 + 900000,
			   MOAT_TCP_ACK, 0, 0, 0, NULL };
	r = h_tcp(h, OUT, &ack);
	assert_verdict(r, MOAT_VERDICT_DROP, MOAT_R_TCP_ACK_UNSENT);
	/* The honest flow goes on. */
	struct seg ok = { CLIENT, SERVER, 40000, 443, 1001, 5001,
			  MOAT_TCP_ACK | MOAT_TCP_PSH, 0, 10, 'o', NULL };
	assert_verdict(h_tcp(h, OUT, &ok), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
}

static void antispoof_and_martians(void **state)
{
	struct harness *h = *state;
	/* From outside, claiming to be an inside host. */
	struct seg s = { "198.18.1.77", SERVER, 1234, 80, 1, 0, MOAT_TCP_SYN,
			 0, 0, 0, NULL };

	assert_verdict(h_tcp(h, OUT, &s), MOAT_VERDICT_DROP,
		       MOAT_R_SPOOF_ZONE);
	/* From inside with a source that is not an inside address. */
	s.src = "198.18.200.1";
	s.dst = CLIENT;
	assert_verdict(h_tcp(h, IN, &s), MOAT_VERDICT_DROP,
		       MOAT_R_SPOOF_EGRESS);
	s.src = "127.0.0.1";
	s.dst = SERVER;
	assert_verdict(h_tcp(h, OUT, &s), MOAT_VERDICT_DROP,
		       MOAT_R_MARTIAN_SRC);
	s.src = "224.0.0.5";
	assert_verdict(h_tcp(h, OUT, &s), MOAT_VERDICT_DROP,
		       MOAT_R_MARTIAN_SRC);
	s.src = CLIENT;
	s.dst = "0.1.2.3";
	assert_verdict(h_tcp(h, OUT, &s), MOAT_VERDICT_DROP,
		       MOAT_R_MARTIAN_DST);
	s.src = "::1";
	s.dst = "2001:db8::1";
	assert_verdict(h_tcp(h, OUT, &s), MOAT_VERDICT_DROP,
		       MOAT_R_MARTIAN_SRC);
	/* The administrator's bogon list. */
	s.src = "198.19.250.7";
	s.dst = SERVER;
	assert_verdict(h_tcp(h, OUT, &s), MOAT_VERDICT_DROP,
		       MOAT_R_BOGON_SRC);
	s.src = "2001:db8:dead::1";
	s.dst = "2001:db8::1";
	assert_verdict(h_tcp(h, OUT, &s), MOAT_VERDICT_DROP,
		       MOAT_R_BOGON_SRC);
}

static void reject_answers_with_rst(void **state)
{
	struct harness *h = *state;
	struct seg s = { CLIENT, SERVER, 40002, 8080, 777, 0, MOAT_TCP_SYN,
			 0, 0, 0, NULL };
	struct moat_pkt p;

	assert_verdict(h_tcp(h, OUT, &s), MOAT_VERDICT_DROP,
		       MOAT_R_RULE_REJECT);
	assert_int_equal(h->out.count, 1);
	assert_int_equal(h->out.frames[0].out_zone, OUT);
	assert_int_equal(moat_pkt_decode(&p, h->out.frames[0].data,
					 h->out.frames[0].len,
					 h->out.frames[0].len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
	assert_int_equal(p.tcp_flags, MOAT_TCP_RST | MOAT_TCP_ACK);
	assert_int_equal(p.ack, 778);
	assert_int_equal(p.sport, 8080);
	assert_int_equal(p.dport, 40002);
	assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);
}

static void inside_may_connect_out(void **state)
{
	struct harness *h = *state;
	struct seg syn = { SERVER, "198.18.100.20", 50000, 25, 9, 0,
			   MOAT_TCP_SYN, 0, 0, 0, NULL };
	struct seg synack = { "198.18.100.20", SERVER, 25, 50000, 99, 10,
			      MOAT_TCP_SYN | MOAT_TCP_ACK, 0, 0, 0, NULL };

	assert_verdict(h_tcp(h, IN, &syn), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	assert_verdict(h_tcp(h, OUT, &synack), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
}

/* The server's ISNs seen outside are shifted; the server sees its own. */
static void modulation_translates_both_ways(void **state)
{
	struct harness *h = *state;
	struct seg syn = { CLIENT, SERVER, 40010, 22, 1000, 0, MOAT_TCP_SYN,
			   0, 0, 0, NULL };
	struct moat_pkt p;
	uint32_t client_isn_in, server_isn_out;

	assert_verdict(h_tcp(h, OUT, &syn), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	h_decode(h, &p);
	client_isn_in = p.seq;
	assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);

	struct seg synack = { SERVER, CLIENT, 22, 40010, 5000,
			      client_isn_in + 1, MOAT_TCP_SYN | MOAT_TCP_ACK,
			      0, 0, 0, NULL };
	assert_verdict(h_tcp(h, IN, &synack), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	h_decode(h, &p);
	assert_int_equal(p.ack, 1001); /* the client sees its own ISN */
	server_isn_out = p.seq;
	assert_int_not_equal(server_isn_out, 5000);
	assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);

	struct seg ack = { CLIENT, SERVER, 40010, 22, 1001,
			   server_isn_out + 1, MOAT_TCP_ACK, 0, 5, 'd', NULL };
	assert_verdict(h_tcp(h, OUT, &ack), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	h_decode(h, &p);
	assert_int_equal(p.ack, 5001); /* the server sees its own ISN */
	assert_int_equal(p.seq, client_isn_in + 1);
	assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);
}

static void udp_reply_and_unrelated_icmp(void **state)
{
	struct harness *h = *state;
	static const struct moat_l2 l2 = { { 2 }, { 4 }, 0, { 0 } };
	struct moat_pkt q;
	uint8_t udp[64] = {
		/* Ethernet */
		2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00,
		/* IPv4: 20 + 8 + 4 bytes */
		0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0,
		198, 18, 100, 10, 198, 18, 1, 10,
		/* UDP 5353 -> 53, length 12 */
		0x14, 0xe9, 0, 53, 0, 12, 0, 0, 'a', 'b', 'c', 'd',
	};

	h->len = 14 + 32;
	memcpy(h->frame, udp, h->len);
	assert_int_equal(moat_pkt_decode(&q, h->frame, h->len, h->len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
	moat_pkt_fill_checksums(&q);
	assert_verdict(h_run(h, OUT), MOAT_VERDICT_PASS, MOAT_R_RULE_PASS);

	/* The server answers with a port unreachable about that datagram:
	 * related to a known flow, it passes back to the client. */
	{
		uint8_t dgram[64];
		struct moat_pkt q2;
		struct moat_addr srv;
		memcpy(dgram, h->frame, h->len);
		assert_int_equal(moat_pkt_decode(&q2, dgram, 14 + 32, 14 + 32,
						 MOAT_LINK_ETHERNET),
				 MOAT_R_NONE);
		moat_addr_parse(&srv, SERVER);
		h->len = moat_pkt_build_unreach(h->frame, sizeof(h->frame),
						MOAT_LINK_ETHERNET, &l2, &srv,
						3, &q2);
		assert_true(h->len > 0);
		assert_verdict(h_run(h, IN), MOAT_VERDICT_PASS,
			       MOAT_R_STATE_MATCH);
	}

	/* An unreachable about a flow that never existed. */
	struct seg s = { SERVER, "198.18.100.99", 80, 33333, 1, 0,
			 MOAT_TCP_SYN, 0, 0, 0, NULL };
	struct moat_pkt orig;
	struct moat_addr from;
	h_build(h, &s);
	assert_int_equal(moat_pkt_decode(&orig, h->frame, h->len, h->len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
	uint8_t copy[2048];
	memcpy(copy, h->frame, h->len);
	orig.frame = copy;
	moat_addr_parse(&from, "198.18.100.1");
	h->len = moat_pkt_build_unreach(h->frame, sizeof(h->frame),
					MOAT_LINK_ETHERNET, &l2, &from, 1,
					&orig);
	assert_true(h->len > 0);
	assert_verdict(h_run(h, OUT), MOAT_VERDICT_DROP,
		       MOAT_R_ICMP_UNRELATED);
}

static void echo_rate_limit(void **state)
{
	struct harness *h = *state;
	uint8_t icmp[14 + 28] = {
		2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00,
		0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0,
		198, 18, 100, 10, 198, 18, 1, 10,
		8, 0, 0, 0, 0x12, 0x34, 0, 1,
	};
	struct moat_pkt q;
	int passed = 0;

	for (int i = 0; i < 5; i++) {
		icmp[14 + 20 + 7] = (uint8_t)i; /* sequence */
		icmp[14 + 20 + 5] = (uint8_t)i; /* a new identifier each */
		h->len = sizeof(icmp);
		memcpy(h->frame, icmp, h->len);
		assert_int_equal(moat_pkt_decode(&q, h->frame, h->len, h->len,
						 MOAT_LINK_ETHERNET),
				 MOAT_R_NONE);
		moat_pkt_fill_checksums(&q);
		if (h_run(h, OUT)->verdict == MOAT_VERDICT_PASS)
			passed++;
		else
			assert_int_equal(h->res.reason, MOAT_R_RATE_LIMIT);
	}
	assert_int_equal(passed, 2);
	h->now += 2 * SEC;
	memcpy(h->frame, icmp, h->len);
	h->frame[14 + 20 + 5] = 99;
	assert_int_equal(moat_pkt_decode(&q, h->frame, h->len, h->len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
	moat_pkt_fill_checksums(&q);
	assert_int_equal(h_run(h, OUT)->verdict, MOAT_VERDICT_PASS);
}

static void non_ip_passes_and_counters_add_up(void **state)
{
	struct harness *h = *state;
	uint8_t arp[42] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			    2, 0, 0, 0, 0, 2, 0x08, 0x06 };
	const struct moat_counters *c;
	uint64_t sum = 0;

	h->len = sizeof(arp);
	memcpy(h->frame, arp, h->len);
	assert_verdict(h_run(h, OUT), MOAT_VERDICT_PASS, MOAT_R_NON_IP);
	h->len = 10; /* a runt */
	assert_int_equal(h_run(h, OUT)->verdict, MOAT_VERDICT_DROP);
	c = moat_engine_counters(h->eng);
	for (int r = 0; r < MOAT_R_COUNT; r++)
		sum += c->reason[r];
	assert_int_equal(sum, c->packets);
	assert_int_equal(c->passed + c->dropped, c->packets);
}

/* With `nonip drop` the same ARP frame is refused with a reason of its
 * own: a reason has one class (include/moat/reason.h). */
static void non_ip_drop_is_its_own_reason(void **state)
{
	struct harness h;
	uint8_t arp[42] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			    2, 0, 0, 0, 0, 2, 0x08, 0x06 };

	(void)state;
	h_start(&h, "zone outside { interface out0; default }\n"
		    "zone inside { interface in0; networks 198.18.1.0/24 }\n"
		    "options { nonip drop }\npass from inside\n");
	h.len = sizeof(arp);
	memcpy(h.frame, arp, h.len);
	assert_verdict(h_run(&h, OUT), MOAT_VERDICT_DROP, MOAT_R_NON_IP_DROP);
	assert_int_equal(moat_reason_class(MOAT_R_NON_IP_DROP), MOAT_CLASS_DROP);
	h_stop(&h);
}

/* A `log` rule raises an event that is data: the kind, the packet's flow
 * key and ingress zone, the rule; nothing formatted. */
static void log_rule_event_is_data(void **state)
{
	struct harness h;
	struct seg syn = { CLIENT, SERVER, 40000, 513, 1000, 0, MOAT_TCP_SYN,
			   0, 0, 0, NULL };
	struct moat_event ev[4];
	struct moat_addr src, dst;

	(void)state;
	h_start(&h, "zone outside { interface out0; default }\n"
		    "zone inside { interface in0; networks 198.18.1.0/24 }\n"
		    "options { policy drop }\n"
		    "block from outside tcp port 513 log\n");
	h.now = 7 * SEC;
	assert_verdict(h_tcp(&h, OUT, &syn), MOAT_VERDICT_DROP,
		       MOAT_R_RULE_BLOCK);
	assert_int_equal(moat_engine_events_drain(h.eng, ev, 4), 1);
	assert_int_equal(ev[0].kind, MOAT_EV_RULE);
	assert_true(ev[0].time_ns == 7 * SEC);
	assert_int_equal(ev[0].in_zone, OUT);
	moat_addr_parse(&src, CLIENT);
	moat_addr_parse(&dst, SERVER);
	assert_true(moat_addr_eq(&ev[0].key.src, &src));
	assert_true(moat_addr_eq(&ev[0].key.dst, &dst));
	assert_int_equal(ev[0].key.sport, 40000);
	assert_int_equal(ev[0].key.dport, 513);
	assert_int_equal(ev[0].key.proto, MOAT_IPPROTO_TCP);
	assert_int_equal(ev[0].u.rule.number, 1);
	assert_int_equal(ev[0].u.rule.line, 4);
	assert_int_equal(ev[0].u.rule.action, MOAT_EV_ACTION_BLOCK);
	assert_int_equal(moat_engine_events_drain(h.eng, ev, 4), 0);
	/* More than the ring holds: the oldest go, and the loss counts. */
	for (int i = 0; i < 300; i++) {
		syn.sport = (uint16_t)(1024 + i);
		h_tcp(&h, OUT, &syn);
	}
	static struct moat_engine_stats st;
	moat_engine_stats(h.eng, &st);
	assert_int_equal(st.events_lost, 300 - 256);
	int n = 0, got;
	while ((got = moat_engine_events_drain(h.eng, ev, 4)) > 0) {
		if (n == 0)
			assert_int_equal(ev[0].key.sport, 1024 + 300 - 256);
		n += got;
	}
	assert_int_equal(n, 256);
	h_stop(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(non_ip_drop_is_its_own_reason),
		cmocka_unit_test(log_rule_event_is_data),
		h_test(default_deny, conf),
		h_test(session_data_and_close, conf),
		h_test(blind_injection_refused, conf),
		h_test(antispoof_and_martians, conf),
		h_test(reject_answers_with_rst, conf),
		h_test(inside_may_connect_out, conf),
		h_test(modulation_translates_both_ways, conf),
		h_test(udp_reply_and_unrelated_icmp, conf),
		h_test(echo_rate_limit, conf),
		h_test(non_ip_passes_and_counters_add_up, conf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
