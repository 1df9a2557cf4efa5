/*
 * Hijack and injection detection (src/engine/hijack.c) through the real
 * packet path with injected time: in-window segments that rewrite bytes
 * already seen, ACK storms, TTL jumps, and the reset of both sides when
 * blocking is on.
 */
#include "harness.h"

#include "engine/engine_impl.h"

static const char *const conf =
	"zone outside { interface out0; default }\n"
	"zone inside { interface in0; networks 198.18.1.0/24 }\n"
	"options { policy drop\n antispoof on\n syncookies off\n"
	" detect hijack }\n"
	"pass from outside to 198.18.1.10 tcp port 80\n"
	"pass from outside to 198.18.1.10 tcp port 22 modulate\n"
	"pass from inside\n";

static const char *const conf_off =
	"zone outside { interface out0; default }\n"
	"zone inside { interface in0; networks 198.18.1.0/24 }\n"
	"options { policy drop\n syncookies off }\n"
	"pass from outside to 198.18.1.10 tcp port 80\n";

#define CLIENT "198.18.100.10"
#define SERVER "198.18.1.10"
#define CISN 1000u
#define SISN 5000u

static struct moat_hijack_stats stats(struct harness *h)
{
	struct moat_hijack_stats st;

	moat_engine_hijack_stats(h->eng, &st);
	return st;
}

static bool is_hijack(const struct moat_event *ev, int kind)
{
	return ev->kind == MOAT_EV_HIJACK &&
	       (kind < 0 || (int)ev->u.hijack.kind == kind);
}

/* Drains the events; how many are hijack alerts of @kind (-1: any). */
static int hijacks(struct harness *h, int kind, struct moat_event *last)
{
	return h_events_match(h, is_hijack, kind, last);
}

static void honest_retransmissions_are_quiet(void **state)
{
	struct harness *h = *state;
	struct seg d = { CLIENT, SERVER, 40000, 80, CISN + 1, SISN + 1,
			 MOAT_TCP_ACK | MOAT_TCP_PSH, 0, 200, 'a', NULL };

	h_handshake(h, CLIENT, SERVER, 40000, 80, CISN, SISN);
	assert_verdict(h_tcp(h, OUT, &d), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	/* The same bytes again, then cut shorter, then longer: all honest. */
	h->now += SEC / 5;
	assert_verdict(h_tcp(h, OUT, &d), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	d.len = 100;
	assert_verdict(h_tcp(h, OUT, &d), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	d.len = 300;
	assert_verdict(h_tcp(h, OUT, &d), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	/* A BSD keepalive: the last byte again, with garbage in it. */
	d.seq = CISN + 1 + 299;
	d.len = 1;
	d.fill = 0;
	assert_verdict(h_tcp(h, OUT, &d), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_int_equal(stats(h).injection, 0);
	assert_int_equal(hijacks(h, -1, NULL), 0);
}

static void injection_alerts(void **state)
{
	struct harness *h = *state;
	struct seg d = { SERVER, CLIENT, 80, 40000, SISN + 1, CISN + 1,
			 MOAT_TCP_ACK | MOAT_TCP_PSH, 0, 100, 'b', NULL };
	struct moat_event ev;

	h_handshake(h, CLIENT, SERVER, 40000, 80, CISN, SISN);
	assert_verdict(h_tcp(h, IN, &d), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	/* Same SEQ and length, other bytes: detected, not blocked. */
	d.fill = 'X';
	h->now += SEC / 10;
	assert_verdict(h_tcp(h, IN, &d), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_int_equal(stats(h).injection, 1);
	assert_int_equal(hijacks(h, MOAT_EV_HIJACK_INJECTION, &ev), 1);
	h_assert_addr(&ev.key.src, "198.18.1.10");
	assert_int_equal(ev.key.sport, 80);
	assert_int_equal(ev.key.dport, 40000);
	assert_int_equal(ev.key.proto, MOAT_IPPROTO_TCP);
	assert_int_equal(ev.in_zone, IN);
	assert_int_equal(ev.u.hijack.seq, 5001);
	assert_int_equal(ev.u.hijack.len_seen, 100);
	assert_int_equal(ev.u.hijack.len_new, 100);
	assert_int_equal(ev.u.hijack.dir, MOAT_CT_REPLY);
	assert_true(ev.time_ns == 1000 * SEC + 120000000ull);
	/* The first copy stays the reference: the forgery again alerts
	 * again, the original does not. */
	assert_verdict(h_tcp(h, IN, &d), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	d.fill = 'b';
	assert_verdict(h_tcp(h, IN, &d), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_int_equal(stats(h).injection, 2);
	/* Longer, and its first 100 bytes differ: still an injection. */
	d.fill = 'c';
	d.len = 150;
	assert_verdict(h_tcp(h, IN, &d), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_int_equal(stats(h).injection, 3);
}

/* Shorter than the first copy: the heads (64 bytes) are compared. */
static void injection_shorter_segment(void **state)
{
	struct harness *h = *state;
	uint8_t a[200], b[200];
	struct seg d = { CLIENT, SERVER, 40000, 80, CISN + 1, SISN + 1,
			 MOAT_TCP_ACK | MOAT_TCP_PSH, 0, 200, 0, NULL };

	for (int i = 0; i < 200; i++)
		a[i] = b[i] = (uint8_t)i;
	h_handshake(h, CLIENT, SERVER, 40000, 80, CISN, SISN);
	assert_verdict(h_tcp_ex(h, OUT, &d, 64, a), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	d.len = 80;
	assert_verdict(h_tcp_ex(h, OUT, &d, 64, b), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_int_equal(stats(h).injection, 0);
	b[10] ^= 0xff;
	assert_verdict(h_tcp_ex(h, OUT, &d, 64, b), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_int_equal(stats(h).injection, 1);
	/* Too short to compare heads: nothing can be said. */
	d.len = 20;
	assert_verdict(h_tcp_ex(h, OUT, &d, 64, b), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_int_equal(stats(h).injection, 1);
}

static void injection_blocked_resets_both_sides(void **state)
{
	struct harness *h = *state;
	struct seg d = { CLIENT, SERVER, 40000, 80, CISN + 1, SISN + 1,
			 MOAT_TCP_ACK | MOAT_TCP_PSH, 0, 100, 'a', NULL };
	struct moat_pkt p;

	moat_engine_hijack_set_block(h->eng, true);
	h_handshake(h, CLIENT, SERVER, 40000, 80, CISN, SISN);
	assert_verdict(h_tcp(h, OUT, &d), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	d.fill = 'Z';
	assert_verdict(h_tcp(h, OUT, &d), MOAT_VERDICT_DROP,
		       MOAT_R_HIJACK_BLOCKED);
	assert_int_equal(h->out.count, 2);
	/* To the server, as from the client, at the client's next SEQ. */
	assert_int_equal(moat_pkt_decode(&p, h->out.frames[0].data,
					 h->out.frames[0].len,
					 h->out.frames[0].len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
	assert_int_equal(p.tcp_flags, MOAT_TCP_RST);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 80);
	assert_int_equal(p.seq, CISN + 101);
	assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);
	assert_int_equal(h->out.frames[0].out_zone, IN);
	/* To the client, as from the server, at the server's next SEQ. */
	assert_int_equal(moat_pkt_decode(&p, h->out.frames[1].data,
					 h->out.frames[1].len,
					 h->out.frames[1].len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
	assert_int_equal(p.tcp_flags, MOAT_TCP_RST);
	assert_int_equal(p.sport, 80);
	assert_int_equal(p.dport, 40000);
	assert_int_equal(p.seq, SISN + 1);
	assert_int_equal(h->out.frames[1].out_zone, OUT);
	/* The rest of the flow is refused. */
	d.seq = CISN + 101;
	assert_verdict(h_tcp(h, OUT, &d), MOAT_VERDICT_DROP,
		       MOAT_R_HIJACK_BLOCKED);
	assert_int_equal(stats(h).blocked, 1);
	assert_int_equal(stats(h).rst_sent, 2);
}

/* With modulation, the RST towards the client carries the SEQ it sees. */
static void blocked_rst_is_translated(void **state)
{
	struct harness *h = *state;
	struct seg syn = { CLIENT, SERVER, 41000, 22, CISN, 0, MOAT_TCP_SYN,
			   0, 0, 0, NULL };
	struct seg synack = { SERVER, CLIENT, 22, 41000, SISN, 0,
			      MOAT_TCP_SYN | MOAT_TCP_ACK, 0, 0, 0, NULL };
	struct moat_pkt p;
	uint32_t cseq, sseq;

	moat_engine_hijack_set_block(h->eng, true);
	assert_verdict(h_tcp(h, OUT, &syn), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	h_decode(h, &p);
	cseq = p.seq; /* the client's ISN as the server sees it */
	synack.ack = cseq + 1;
	assert_verdict(h_tcp(h, IN, &synack), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	h_decode(h, &p);
	sseq = p.seq; /* the server's ISN as the client sees it */
	struct seg ack = { CLIENT, SERVER, 41000, 22, CISN + 1, sseq + 1,
			   MOAT_TCP_ACK, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, OUT, &ack), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	struct seg d = { SERVER, CLIENT, 22, 41000, SISN + 1, cseq + 1,
			 MOAT_TCP_ACK | MOAT_TCP_PSH, 0, 50, 's', NULL };
	assert_verdict(h_tcp(h, IN, &d), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	d.fill = 'S';
	assert_verdict(h_tcp(h, IN, &d), MOAT_VERDICT_DROP,
		       MOAT_R_HIJACK_BLOCKED);
	assert_int_equal(h->out.count, 2);
	assert_int_equal(moat_pkt_decode(&p, h->out.frames[0].data,
					 h->out.frames[0].len,
					 h->out.frames[0].len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
	assert_int_equal(p.seq, cseq + 1); /* towards the server */
	assert_int_equal(moat_pkt_decode(&p, h->out.frames[1].data,
					 h->out.frames[1].len,
					 h->out.frames[1].len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
	assert_int_equal(p.seq, sseq + 51); /* towards the client */
}

static void ack_storm_alerts_once(void **state)
{
	struct harness *h = *state;
	struct seg c = { CLIENT, SERVER, 40000, 80, CISN + 1, SISN + 90001,
			 MOAT_TCP_ACK, 0, 0, 0, NULL };
	struct seg s = { SERVER, CLIENT, 80, 40000, SISN + 1, CISN + 70001,
			 MOAT_TCP_ACK, 0, 0, 0, NULL };
	struct moat_event ev;

	h_handshake(h, CLIENT, SERVER, 40000, 80, CISN, SISN);
	/* One direction alone is not a storm. */
	for (int i = 0; i < 20; i++) {
		h->now += SEC / 1000;
		assert_verdict(h_tcp(h, OUT, &c), MOAT_VERDICT_DROP,
			       MOAT_R_TCP_ACK_UNSENT);
	}
	assert_int_equal(stats(h).ack_storm, 0);
	for (int i = 0; i < 7; i++) {
		h->now += SEC / 1000;
		h_tcp(h, IN, &s);
	}
	assert_int_equal(stats(h).ack_storm, 0);
	h->now += SEC / 1000;
	assert_verdict(h_tcp(h, IN, &s), MOAT_VERDICT_DROP,
		       MOAT_R_TCP_ACK_UNSENT);
	assert_int_equal(stats(h).ack_storm, 1);
	assert_int_equal(hijacks(h, MOAT_EV_HIJACK_ACK_STORM, &ev), 1);
	assert_int_equal(ev.u.hijack.acks_orig, 20);
	assert_int_equal(ev.u.hijack.acks_reply, 8);
	/* The storm goes on (past its first window): no second alert. */
	for (int i = 0; i < 400; i++) {
		h->now += SEC / 100;
		h_tcp(h, i & 1 ? IN : OUT, i & 1 ? &s : &c);
	}
	assert_int_equal(stats(h).ack_storm, 1);
	/* Quiet for two seconds, then a new storm: a new alert. */
	h->now += 2 * SEC;
	for (int i = 0; i < 16; i++) {
		h->now += SEC / 1000;
		h_tcp(h, i & 1 ? IN : OUT, i & 1 ? &s : &c);
	}
	assert_int_equal(stats(h).ack_storm, 2);
}

/* Slow unsent ACKs (fewer than 8 per direction in any second) are not. */
static void slow_unsent_acks_are_no_storm(void **state)
{
	struct harness *h = *state;
	struct seg c = { CLIENT, SERVER, 40000, 80, CISN + 1, SISN + 90001,
			 MOAT_TCP_ACK, 0, 0, 0, NULL };
	struct seg s = { SERVER, CLIENT, 80, 40000, SISN + 1, CISN + 70001,
			 MOAT_TCP_ACK, 0, 0, 0, NULL };

	h_handshake(h, CLIENT, SERVER, 40000, 80, CISN, SISN);
	for (int i = 0; i < 100; i++) {
		h->now += SEC / 4;
		h_tcp(h, i & 1 ? IN : OUT, i & 1 ? &s : &c);
	}
	assert_int_equal(stats(h).ack_storm, 0);
}

static void ttl_jump_alerts(void **state)
{
	struct harness *h = *state;
	struct seg d = { SERVER, CLIENT, 80, 40000, SISN + 1, CISN + 1,
			 MOAT_TCP_ACK | MOAT_TCP_PSH, 0, 10, 'r', NULL };
	struct moat_event ev;

	/* every TTL 64 so far */
	h_handshake(h, CLIENT, SERVER, 40000, 80, CISN, SISN);
	/* Within the tolerance: a route change of a hop or two. */
	assert_verdict(h_tcp_ex(h, IN, &d, 62, NULL), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_int_equal(stats(h).ttl_jump, 0);
	d.seq += 10;
	assert_verdict(h_tcp_ex(h, IN, &d, 52, NULL), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_int_equal(stats(h).ttl_jump, 1);
	assert_int_equal(hijacks(h, MOAT_EV_HIJACK_TTL_JUMP, &ev), 1);
	assert_int_equal(ev.u.hijack.ttl_first, 64);
	assert_int_equal(ev.u.hijack.ttl_now, 52);
	/* Once per flow and direction. */
	d.seq += 10;
	h_tcp_ex(h, IN, &d, 40, NULL);
	assert_int_equal(stats(h).ttl_jump, 1);
	struct seg c = { CLIENT, SERVER, 40000, 80, CISN + 1, SISN + 31,
			 MOAT_TCP_ACK, 0, 0, 0, NULL };
	h_tcp_ex(h, OUT, &c, 128, NULL);
	assert_int_equal(stats(h).ttl_jump, 2);
}

/* During the handshake a TTL change is not "mid-flow". */
static void ttl_change_in_handshake_is_quiet(void **state)
{
	struct harness *h = *state;
	struct seg syn = { CLIENT, SERVER, 40002, 80, CISN, 0, MOAT_TCP_SYN,
			   0, 0, 0, NULL };

	assert_verdict(h_tcp_ex(h, OUT, &syn, 64, NULL), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	assert_verdict(h_tcp_ex(h, OUT, &syn, 30, NULL), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_int_equal(stats(h).ttl_jump, 0);
}

static void off_by_default(void **state)
{
	struct harness h;
	struct seg d = { CLIENT, SERVER, 40000, 80, CISN + 1, SISN + 1,
			 MOAT_TCP_ACK | MOAT_TCP_PSH, 0, 100, 'a', NULL };

	(void)state;
	h_start(&h, conf_off);
	h_handshake(&h, CLIENT, SERVER, 40000, 80, CISN, SISN);
	h_tcp(&h, OUT, &d);
	d.fill = 'q';
	assert_verdict(h_tcp(&h, OUT, &d), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	d.seq += 100;
	h_tcp_ex(&h, OUT, &d, 10, NULL);
	assert_int_equal(stats(&h).injection, 0);
	assert_int_equal(stats(&h).ttl_jump, 0);
	h_stop(&h);
}

/* IPv6: the same checks, the event names the v6 addresses. */
static void ipv6_injection(void **state)
{
	struct harness h;
	struct seg syn = { "2001:db8:100::10", "2001:db8:1::10", 40000, 80,
			   CISN, 0, MOAT_TCP_SYN, 0, 0, 0, NULL };
	struct seg synack = { "2001:db8:1::10", "2001:db8:100::10", 80, 40000,
			      SISN, CISN + 1, MOAT_TCP_SYN | MOAT_TCP_ACK, 0,
			      0, 0, NULL };
	struct seg d = { "2001:db8:100::10", "2001:db8:1::10", 40000, 80,
			 CISN + 1, SISN + 1, MOAT_TCP_ACK | MOAT_TCP_PSH, 0,
			 30, 'a', NULL };
	struct moat_event ev;

	(void)state;
	h_start(&h, "zone outside { interface out0; default }\n"
		    "zone inside { interface in0; networks 2001:db8:1::/48 }\n"
		    "options { syncookies off\n detect hijack }\n"
		    "pass from outside to 2001:db8:1::10 tcp port 80\n");
	h_tcp(&h, OUT, &syn);
	h_tcp(&h, IN, &synack);
	assert_verdict(h_tcp(&h, OUT, &d), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	d.fill = 'e';
	assert_verdict(h_tcp(&h, OUT, &d), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_int_equal(hijacks(&h, MOAT_EV_HIJACK_INJECTION, &ev), 1);
	h_assert_addr(&ev.key.src, "2001:db8:100::10");
	h_stop(&h);
}

/* Many flows through a small table: slots are reused, nothing grows, no
 * false alarm from another flow's fingerprint. */
static void many_flows_no_false_alarm(void **state)
{
	struct harness *h = *state;
	struct moat_hijack_stats st = stats(h);

	assert_int_equal(st.seg_slots & (st.seg_slots - 1), 0);
	assert_true(st.bytes == st.seg_slots * 16ull + st.flow_slots * 32ull);
	for (uint16_t port = 20000; port < 20400; port++) {
		struct seg d = { CLIENT, SERVER, port, 80, CISN + 1,
				 SISN + 1, MOAT_TCP_ACK | MOAT_TCP_PSH, 0, 64,
				 (uint8_t)port, NULL };
		h_handshake(h, CLIENT, SERVER, port, 80, CISN, SISN);
		assert_verdict(h_tcp(h, OUT, &d), MOAT_VERDICT_PASS,
			       MOAT_R_STATE_MATCH);
	}
	assert_int_equal(stats(h).injection, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		h_test(honest_retransmissions_are_quiet, conf),
		h_test(injection_alerts, conf),
		h_test(injection_shorter_segment, conf),
		h_test(injection_blocked_resets_both_sides, conf),
		h_test(blocked_rst_is_translated, conf),
		h_test(ack_storm_alerts_once, conf),
		h_test(slow_unsent_acks_are_no_storm, conf),
		h_test(ttl_jump_alerts, conf),
		h_test(ttl_change_in_handshake_is_quiet, conf),
		cmocka_unit_test(off_by_default),
		cmocka_unit_test(ipv6_injection),
		h_test(many_flows_no_false_alarm, conf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
