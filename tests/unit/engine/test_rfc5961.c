/*
 * RST, SYN and stale segments of established flows through the engine:
 * challenge ACKs (RFC 5961 sections 3.2, 4.2 and 7), a client that reuses
 * its port while the server still holds the old connection (RFC 9293
 * section 3.10.7.3, RFC 5961 section 4), a server that lost it, and
 * retransmissions of acknowledged data more than a window behind.
 */
#include "harness.h"

static const char *const conf =
	"zone outside { interface out0; default }\n"
	"zone inside { interface in0; networks 198.18.1.0/24 }\n"
	"options { policy drop\n syncookies off }\n"
	"pass from outside to 198.18.1.10 tcp port 80\n"
	"pass from outside to 198.18.1.10 tcp port 22 modulate\n"
	"pass from inside\n";

#define CLIENT "198.18.100.10"
#define SERVER "198.18.1.10"
#define CISN 1000u
#define SISN 5000u

/* Numbers as each end sees them (modulation shifts the server's outside
 * and the client's inside). */
struct conn {
	uint16_t dport;
	uint32_t c_out;  /* client's next SEQ, as the client knows it */
	uint32_t s_out;  /* server's next SEQ, as the client sees it */
	uint32_t c_in;   /* client's next SEQ, as the server sees it */
	uint32_t s_in;   /* server's next SEQ, as the server knows it */
};

static void decoded(struct harness *h, struct moat_pkt *p)
{
	h_decode(h, p);
	assert_int_equal(moat_pkt_verify_checksums(p), MOAT_R_NONE);
}

/* A handshake and 100 bytes each way, all acknowledged. */
static void open_conn(struct harness *h, struct conn *c, uint16_t dport)
{
	struct moat_pkt p;

	c->dport = dport;
	struct seg syn = { CLIENT, SERVER, 40000, dport, CISN, 0, MOAT_TCP_SYN,
			   0, 0, 0, NULL };
	assert_verdict(h_tcp(h, OUT, &syn), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	decoded(h, &p);
	c->c_in = p.seq + 1;
	struct seg synack = { SERVER, CLIENT, dport, 40000, SISN, c->c_in,
			      MOAT_TCP_SYN | MOAT_TCP_ACK, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, IN, &synack), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	decoded(h, &p);
	c->s_out = p.seq + 1;
	c->c_out = CISN + 1;
	c->s_in = SISN + 1;
	struct seg req = { CLIENT, SERVER, 40000, dport, c->c_out, c->s_out,
			   MOAT_TCP_ACK | MOAT_TCP_PSH, 0, 100, 'q', NULL };
	assert_verdict(h_tcp(h, OUT, &req), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	c->c_out += 100;
	c->c_in += 100;
	struct seg resp = { SERVER, CLIENT, dport, 40000, c->s_in, c->c_in,
			    MOAT_TCP_ACK | MOAT_TCP_PSH, 0, 100, 'r', NULL };
	assert_verdict(h_tcp(h, IN, &resp), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	c->s_in += 100;
	c->s_out += 100;
	struct seg ack = { CLIENT, SERVER, 40000, dport, c->c_out, c->s_out,
			   MOAT_TCP_ACK, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, OUT, &ack), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	h->now += SEC;
}

/* The one frame the engine emitted: an ACK leaving into @zone. */
static void emitted_ack(struct harness *h, int zone, struct moat_pkt *p)
{
	assert_int_equal(h->out.count, 1);
	assert_int_equal(h->out.frames[0].out_zone, zone);
	assert_int_equal(moat_pkt_decode(p, h->out.frames[0].data,
					 h->out.frames[0].len,
					 h->out.frames[0].len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
	assert_int_equal(moat_pkt_verify_checksums(p), MOAT_R_NONE);
	assert_int_equal(p->tcp_flags, MOAT_TCP_ACK);
}

/*
 * RFC 5961 section 3.2 (rst-check exact): a RST inside the window but not
 * at rcv.nxt is dropped and answered with the ACK the server would send;
 * a client that really lost the connection answers that with a RST at its
 * ACK number, which passes and closes the flow.
 */
static void rst_in_window_gets_a_challenge_ack(void **state)
{
	struct harness *h = *state;
	struct moat_pkt p;
	struct conn c;

	open_conn(h, &c, 80);
	struct seg rst = { CLIENT, SERVER, 40000, 80, c.c_out + 3000, 0,
			   MOAT_TCP_RST, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, OUT, &rst), MOAT_VERDICT_DROP,
		       MOAT_R_TCP_RST_CHALLENGE);
	emitted_ack(h, OUT, &p);
	assert_string_equal(moat_addr_format(&p.src, (char[64]){ 0 }, 64),
			    SERVER);
	assert_int_equal(p.sport, 80);
	assert_int_equal(p.dport, 40000);
	assert_int_equal(p.seq, c.s_out);
	assert_int_equal(p.ack, c.c_out);
	assert_int_equal(p.win, 65535);
	/* The client's stack answers the ACK of a connection it no longer
	 * has: <SEQ=SEG.ACK><CTL=RST> (RFC 9293 3.10.7.1). */
	rst.seq = p.ack;
	assert_verdict(h_tcp(h, OUT, &rst), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_int_equal(h->out.count, 0);
	/* The next SYN on the tuple opens a new flow; a RST outside its
	 * window is dropped unanswered (RFC 5961 3.2). */
	h->now += SEC;
	open_conn(h, &c, 80);
	rst.seq = c.c_out + 3000000;
	assert_verdict(h_tcp(h, OUT, &rst), MOAT_VERDICT_DROP,
		       MOAT_R_TCP_RST_OUT_OF_WINDOW);
	assert_int_equal(h->out.count, 0);
}

/*
 * RFC 5961 section 7: at most a budget a second, drawn between 500 and
 * 1500 each second so that the count does not tell an off-path attacker
 * what his neighbours' forgeries hit (CVE-2016-5696).
 */
static void challenge_acks_are_throttled(void **state)
{
	struct harness *h = *state;
	uint32_t sent[4] = { 0 };
	struct conn c;
	static struct moat_engine_stats st;

	open_conn(h, &c, 80);
	h->now = 2000 * SEC; /* the start of a second */
	for (int s = 0; s < 4; s++) {
		for (int i = 0; i < 2000; i++) {
			struct seg rst = { CLIENT, SERVER, 40000, 80,
					   c.c_out + 10 + (uint32_t)i, 0,
					   MOAT_TCP_RST, 0, 0, 0, NULL };
			assert_verdict(h_tcp(h, OUT, &rst), MOAT_VERDICT_DROP,
				       MOAT_R_TCP_RST_CHALLENGE);
			sent[s] += h->out.count;
			h->now += SEC / 4000;
		}
		h->now += SEC / 2;
		assert_true(sent[s] >= 500 && sent[s] <= 1500);
	}
	/* Not the same budget every second. */
	assert_false(sent[0] == sent[1] && sent[1] == sent[2] &&
		     sent[2] == sent[3]);
	moat_engine_stats(h->eng, &st);
	assert_int_equal(st.challenge.sent,
			 sent[0] + sent[1] + sent[2] + sent[3]);
	assert_int_equal(st.challenge.limited,
			 8000 - (sent[0] + sent[1] + sent[2] + sent[3]));
	assert_int_equal(st.challenge.unknown, 0);
}

/*
 * The client reuses its port while the server still holds the old
 * connection (the client's FIN or RST was lost).  Its new SYN lands
 * outside the window: moat passes it (tcp-syn-reuse, the flow unchanged),
 * the server answers with an ACK of the old connection, the client's RST
 * at that ACK's number clears it at moat and at the server, and the
 * client's next SYN opens a new flow.
 */
static void port_reuse_recovers(void **state)
{
	struct harness *h = *state;
	struct conn c;

	open_conn(h, &c, 80);
	struct seg syn = { CLIENT, SERVER, 40000, 80, 77777777, 0,
			   MOAT_TCP_SYN, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, OUT, &syn), MOAT_VERDICT_PASS,
		       MOAT_R_TCP_SYN_REUSE);
	assert_int_equal(h->out.count, 0);
	/* The server's challenge ACK (RFC 5961 4.2), its own numbers. */
	struct seg chal = { SERVER, CLIENT, 80, 40000, c.s_in, c.c_in,
			    MOAT_TCP_ACK, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, IN, &chal), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	struct seg rst = { CLIENT, SERVER, 40000, 80, c.c_out, 0,
			   MOAT_TCP_RST, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, OUT, &rst), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	h->now += SEC;
	assert_verdict(h_tcp(h, OUT, &syn), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	struct seg synack = { SERVER, CLIENT, 80, 40000, 99999, 77777778,
			      MOAT_TCP_SYN | MOAT_TCP_ACK, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, IN, &synack), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
}

/*
 * The same when the new ISN happens to fall inside the old window: an RFC
 * 793 server would reset on it, so moat answers it (section 4.2) and the
 * client recovers just the same.
 */
static void port_reuse_in_window(void **state)
{
	struct harness *h = *state;
	struct moat_pkt p;
	struct conn c;

	open_conn(h, &c, 80);
	struct seg syn = { CLIENT, SERVER, 40000, 80, c.c_out + 500, 0,
			   MOAT_TCP_SYN, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, OUT, &syn), MOAT_VERDICT_DROP,
		       MOAT_R_TCP_SYN_IN_WINDOW);
	emitted_ack(h, OUT, &p);
	assert_int_equal(p.seq, c.s_out);
	assert_int_equal(p.ack, c.c_out);
	struct seg rst = { CLIENT, SERVER, 40000, 80, p.ack, 0, MOAT_TCP_RST,
			   0, 0, 0, NULL };
	assert_verdict(h_tcp(h, OUT, &rst), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	h->now += SEC;
	assert_verdict(h_tcp(h, OUT, &syn), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
}

/*
 * Through modulation the numbers differ on each side: the SYN and the
 * server's ACK are translated like any segment, the client's RST lands
 * at the server's rcv.nxt, and moat's own challenge ACK carries the
 * server's SEQ as the client knows it.
 */
static void port_reuse_through_modulation(void **state)
{
	struct harness *h = *state;
	struct moat_pkt p;
	struct conn c;

	open_conn(h, &c, 22);
	assert_int_not_equal(c.s_out, c.s_in);
	struct seg rst = { CLIENT, SERVER, 40000, 22, c.c_out + 7, 0,
			   MOAT_TCP_RST, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, OUT, &rst), MOAT_VERDICT_DROP,
		       MOAT_R_TCP_RST_CHALLENGE);
	emitted_ack(h, OUT, &p);
	assert_int_equal(p.seq, c.s_out);
	assert_int_equal(p.ack, c.c_out);

	struct seg syn = { CLIENT, SERVER, 40000, 22, 77777777, 0,
			   MOAT_TCP_SYN, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, OUT, &syn), MOAT_VERDICT_PASS,
		       MOAT_R_TCP_SYN_REUSE);
	struct seg chal = { SERVER, CLIENT, 22, 40000, c.s_in, c.c_in,
			    MOAT_TCP_ACK, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, IN, &chal), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	decoded(h, &p);
	assert_int_equal(p.ack, c.c_out); /* the client's own numbers */
	assert_int_equal(p.seq, c.s_out);
	rst.seq = p.ack;
	assert_verdict(h_tcp(h, OUT, &rst), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	decoded(h, &p);
	assert_int_equal(p.seq, c.c_in); /* the server's rcv.nxt */
	h->now += SEC;
	assert_verdict(h_tcp(h, OUT, &syn), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
}

/*
 * The server lost the connection (it restarted) and the client reuses the
 * port: the server answers the passed SYN with a SYN-ACK, which the old
 * flow cannot take.  moat drops it and challenges the server with the old
 * connection's ACK; the server answers with a RST at that ACK's number,
 * which closes the old flow, and the client's SYN retransmission opens the
 * new one.
 */
static void server_that_lost_the_connection(void **state)
{
	struct harness *h = *state;
	struct moat_pkt p;
	struct conn c;

	open_conn(h, &c, 80);
	struct seg syn = { CLIENT, SERVER, 40000, 80, 77777777, 0,
			   MOAT_TCP_SYN, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, OUT, &syn), MOAT_VERDICT_PASS,
		       MOAT_R_TCP_SYN_REUSE);
	struct seg synack = { SERVER, CLIENT, 80, 40000, 424242, 77777778,
			      MOAT_TCP_SYN | MOAT_TCP_ACK, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, IN, &synack), MOAT_VERDICT_DROP,
		       MOAT_R_TCP_SYN_IN_WINDOW);
	emitted_ack(h, IN, &p);
	assert_int_equal(p.seq, c.c_in);
	assert_int_equal(p.ack, c.s_in);
	struct seg rst = { SERVER, CLIENT, 80, 40000, p.ack, 0, MOAT_TCP_RST,
			   0, 0, 0, NULL };
	assert_verdict(h_tcp(h, IN, &rst), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	h->now += SEC;
	assert_verdict(h_tcp(h, OUT, &syn), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	assert_verdict(h_tcp(h, IN, &synack), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
}

/*
 * A retransmission of acknowledged data more than a window behind passes
 * (tcp-stale-retransmit) and, on a modulated flow, is translated; data
 * ahead of the window never does.
 */
static void stale_retransmission_passes(void **state)
{
	struct harness *h = *state;
	struct moat_pkt p;
	struct conn c;

	open_conn(h, &c, 22);
	uint32_t first = c.c_out;
	for (int i = 0; i < 3; i++) {
		struct seg d = { CLIENT, SERVER, 40000, 22, c.c_out, c.s_out,
				 MOAT_TCP_ACK, 0, 1400, 'd', NULL };
		for (int k = 0; k < 43; k++) { /* 60200 bytes */
			assert_verdict(h_tcp(h, OUT, &d), MOAT_VERDICT_PASS,
				       MOAT_R_STATE_MATCH);
			d.seq += 1400;
		}
		c.c_out = d.seq;
		c.c_in += 43 * 1400;
		struct seg a = { SERVER, CLIENT, 22, 40000, c.s_in, c.c_in,
				 MOAT_TCP_ACK, 0, 0, 0, NULL };
		assert_verdict(h_tcp(h, IN, &a), MOAT_VERDICT_PASS,
			       MOAT_R_STATE_MATCH);
	}
	struct seg old = { CLIENT, SERVER, 40000, 22, first + 60000, c.s_out,
			   MOAT_TCP_ACK, 0, 1400, 'd', NULL };
	assert_verdict(h_tcp(h, OUT, &old), MOAT_VERDICT_PASS,
		       MOAT_R_TCP_STALE_RETRANSMIT);
	assert_true(h->res.rewritten);
	decoded(h, &p);
	assert_int_equal(p.seq, c.c_in - 3 * 43 * 1400 + 60000);
	old.seq = first; /* beyond two windows */
	assert_verdict(h_tcp(h, OUT, &old), MOAT_VERDICT_DROP,
		       MOAT_R_TCP_OUT_OF_WINDOW);
	old.seq = c.c_out + 65535;
	assert_verdict(h_tcp(h, OUT, &old), MOAT_VERDICT_DROP,
		       MOAT_R_TCP_SEQ_OUT_OF_WINDOW);
}

/* rst-check window: any in-window RST closes, nothing is emitted. */
static void rst_check_window(void **state)
{
	struct harness *h = *state;
	struct conn c;

	h_stop(h);
	h_start(h, "zone outside { interface out0; default }\n"
		   "zone inside { interface in0; networks 198.18.1.0/24 }\n"
		   "options { rst-check window }\n"
		   "pass from outside to 198.18.1.10 tcp port 80\n");
	open_conn(h, &c, 80);
	struct seg rst = { CLIENT, SERVER, 40000, 80, c.c_out + 3000, 0,
			   MOAT_TCP_RST, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, OUT, &rst), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	assert_int_equal(h->out.count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		h_test(rst_in_window_gets_a_challenge_ack, conf),
		h_test(challenge_acks_are_throttled, conf),
		h_test(port_reuse_recovers, conf),
		h_test(port_reuse_in_window, conf),
		h_test(port_reuse_through_modulation, conf),
		h_test(server_that_lost_the_connection, conf),
		h_test(stale_retransmission_passes, conf),
		h_test(rst_check_window, conf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
