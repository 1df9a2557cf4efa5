/*
 * ICMP errors through the engine (src/engine/icmperr.c): an error passes
 * only as part of the flow it quotes, sent to the quoted packet's source
 * (RFC 792, RFC 4443 section 2.4) from the zone of its destination, with a
 * quoted TCP SEQ in the window (RFC 5927 section 4.1); the quote of a
 * modulated flow is translated back into its sender's numbers, as pf
 * demodulates it, with the quoted TCP checksum and the ICMP checksum kept
 * right (RFC 1624).
 */
#include "harness.h"

static const char *const conf =
	"zone outside { interface out0; default }\n"
	"zone inside { interface in0; networks { 198.18.1.0/24, "
	"2001:db8:1::/64 } }\n"
	"options { policy drop\n syncookies off }\n"
	"pass from outside to 198.18.1.10 tcp port 80\n"
	"pass from outside to 198.18.1.10 tcp port 22 modulate\n"
	"pass from outside to 2001:db8:1::10 tcp port 80\n"
	"pass from inside\n";

#define CLIENT "198.18.100.10"
#define SERVER "198.18.1.10"
#define ROUTER "198.18.100.1"
#define CLIENT6 "2001:db8:100::10"
#define SERVER6 "2001:db8:1::10"

/* What a segment looked like: a copy of the frame and its view. */
struct copy {
	uint8_t b[2048];
	uint32_t len;
	struct moat_pkt p;
};

static void keep(struct harness *h, struct copy *c)
{
	memcpy(c->b, h->frame, h->len);
	c->len = h->len;
	assert_int_equal(moat_pkt_decode(&c->p, c->b, c->len, c->len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
}

/*
 * Put into h->frame an unreachable (code 3 for IPv4, 4 for IPv6) from
 * @from about @orig, sent to @to (NULL: to @orig's source, as it must).
 */
static void error_about(struct harness *h, const struct copy *orig,
			const char *from, const char *to)
{
	static const struct moat_l2 l2 = { { 2 }, { 4 }, 0, { 0 } };
	struct moat_addr src, dst;
	struct moat_pkt q;

	assert_int_equal(moat_addr_parse(&src, from), 0);
	h->len = moat_pkt_build_unreach(h->frame, sizeof(h->frame),
					MOAT_LINK_ETHERNET, &l2, &src,
					orig->p.ipv == 4 ? 3 : 4, &orig->p);
	assert_true(h->len > 0);
	if (!to)
		return;
	assert_int_equal(moat_addr_parse(&dst, to), 0);
	h_decode(h, &q);
	if (q.ipv == 4)
		memcpy(h->frame + q.l3_off + 16, moat_addr_v4(&dst), 4);
	else
		memcpy(h->frame + q.l3_off + 24, dst.b, 16);
	h_decode(h, &q);
	moat_pkt_fill_checksums(&q);
}

/*
 * Client :40000 -> server @dport, a data segment each way.  @k[0] is the
 * client's data segment as the client sent it, @k[1] as the server got it;
 * @k[2] the server's as it sent it, @k[3] as the client got it.
 */
static void session(struct harness *h, const char *c, const char *s,
		    uint16_t dport, struct copy k[4])
{
	struct seg syn = { c, s, 40000, dport, 1000, 0, MOAT_TCP_SYN, 0, 0, 0,
			   NULL };
	struct moat_pkt p;
	uint32_t cisn, sisn;

	assert_verdict(h_tcp(h, OUT, &syn), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	h_decode(h, &p);
	cisn = p.seq; /* as the server sees it (modulated or not) */
	struct seg synack = { s, c, dport, 40000, 5000, cisn + 1,
			      MOAT_TCP_SYN | MOAT_TCP_ACK, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, IN, &synack), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	h_decode(h, &p);
	sisn = p.seq; /* as the client sees it */
	struct seg data = { c, s, 40000, dport, 1001, sisn + 1,
			    MOAT_TCP_ACK | MOAT_TCP_PSH, 0, 100, 'q', NULL };
	h_build(h, &data);
	keep(h, &k[0]);
	assert_verdict(h_run(h, OUT), MOAT_VERDICT_PASS, MOAT_R_STATE_MATCH);
	keep(h, &k[1]);
	struct seg resp = { s, c, dport, 40000, 5001, cisn + 101,
			    MOAT_TCP_ACK | MOAT_TCP_PSH, 0, 200, 'r', NULL };
	h_build(h, &resp);
	keep(h, &k[2]);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_PASS, MOAT_R_STATE_MATCH);
	keep(h, &k[3]);
}

/* The quoted TCP header of the error in h->frame. */
static const uint8_t *quoted_tcp(struct harness *h, struct moat_pkt *e)
{
	h_decode(h, e);
	assert_true(e->inner.present && e->inner.l4_off > 0);
	return h->frame + e->inner.l4_off;
}

static void error_to_the_quoted_source_passes(void **state)
{
	struct harness *h = *state;
	struct copy k[4];

	session(h, CLIENT, SERVER, 80, k);
	/* The server (or a router on its LAN) about the client's segment. */
	error_about(h, &k[1], SERVER, NULL);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_PASS, MOAT_R_STATE_MATCH);
	assert_false(h->res.rewritten);
	assert_int_equal(h->res.rule, 1);
	error_about(h, &k[1], "198.18.1.1", NULL);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_PASS, MOAT_R_STATE_MATCH);
	/* A router outside about the server's segment, to the server. */
	error_about(h, &k[3], ROUTER, NULL);
	assert_verdict(h_run(h, OUT), MOAT_VERDICT_PASS, MOAT_R_STATE_MATCH);
}

/* The case: an error quoting 198.18.1.10's flow, sent to another
 * inside host, must not reach it. */
static void error_to_another_host_is_dropped(void **state)
{
	struct harness *h = *state;
	struct copy k[4];

	session(h, CLIENT, SERVER, 80, k);
	error_about(h, &k[3], ROUTER, "198.18.1.20");
	assert_verdict(h_run(h, OUT), MOAT_VERDICT_DROP,
		       MOAT_R_ICMP_WRONG_DST);
	/* And about the client's segment, to another outside host. */
	error_about(h, &k[1], SERVER, "198.18.100.11");
	assert_verdict(h_run(h, IN), MOAT_VERDICT_DROP,
		       MOAT_R_ICMP_WRONG_DST);
}

/* The error about the client's segment to the server must come from the
 * server's side; from outside, a forger says "router" to reset it. */
static void error_from_the_wrong_zone_is_dropped(void **state)
{
	struct harness *h = *state;
	struct copy k[4];

	session(h, CLIENT, SERVER, 80, k);
	error_about(h, &k[1], "198.18.100.66", NULL);
	assert_verdict(h_run(h, OUT), MOAT_VERDICT_DROP,
		       MOAT_R_ICMP_WRONG_ZONE);
	/* The server's segment, "unreachable" from inside: the client lives
	 * outside. */
	error_about(h, &k[3], "198.18.1.1", NULL);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_DROP,
		       MOAT_R_ICMP_WRONG_ZONE);
}

static void error_outside_the_window_is_dropped(void **state)
{
	struct harness *h = *state;
	struct copy k[4];

	session(h, CLIENT, SERVER, 80, k);
	/* The blind attacker's guess: the right tuple, a SEQ 2^30 away. */
	k[1].b[k[1].p.l4_off + 4] ^= 0x40;
	assert_int_equal(moat_pkt_decode(&k[1].p, k[1].b, k[1].len, k[1].len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
	error_about(h, &k[1], SERVER, NULL);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_DROP, MOAT_R_ICMP_UNRELATED);
}

/*
 * Modulation: the server saw the client's SEQ shifted, so its error
 * quotes the shifted SEQ, and the client must see its own again (and the
 * ACK of the server's SEQ as the client knows it).  After the rewrite the
 * quoted header is byte for byte what the client sent, checksum included,
 * and the ICMP checksum is right.  Then the other way: a router outside
 * about the server's segment as the client saw it.
 */
static void quote_of_a_modulated_flow_is_translated(void **state)
{
	struct harness *h = *state;
	struct copy k[4];
	struct moat_pkt e;

	session(h, CLIENT, SERVER, 22, k);
	assert_int_not_equal(k[1].p.seq, k[0].p.seq); /* modulated */
	error_about(h, &k[1], SERVER, NULL);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_PASS, MOAT_R_STATE_MATCH);
	assert_true(h->res.rewritten);
	assert_memory_equal(quoted_tcp(h, &e), k[0].b + k[0].p.l4_off, 20);
	assert_int_equal(e.inner.seq, 1001);
	assert_int_equal(e.inner.ack, k[0].p.ack);
	assert_int_equal(moat_pkt_verify_checksums(&e), MOAT_R_NONE);

	/* The server's response as it left moat, quoted by a router. */
	assert_int_not_equal(k[3].p.seq, k[2].p.seq);
	error_about(h, &k[3], ROUTER, NULL);
	assert_verdict(h_run(h, OUT), MOAT_VERDICT_PASS, MOAT_R_STATE_MATCH);
	assert_true(h->res.rewritten);
	assert_memory_equal(quoted_tcp(h, &e), k[2].b + k[2].p.l4_off, 20);
	assert_int_equal(e.inner.seq, 5001);
	assert_int_equal(moat_pkt_verify_checksums(&e), MOAT_R_NONE);
}

/* A quote cut after 8 bytes (RFC 792's minimum): only SEQ, no checksum to
 * fix inside; the ICMP checksum must still come out right. */
static void short_quote_of_a_modulated_flow(void **state)
{
	struct harness *h = *state;
	struct copy k[4];
	struct moat_pkt e;

	session(h, CLIENT, SERVER, 22, k);
	/* The builder quotes what the view says was captured. */
	k[1].p.caplen = k[1].p.l4_off + 8u;
	error_about(h, &k[1], SERVER, NULL);
	h_decode(h, &e);
	assert_int_equal(e.inner.l4_len, 8);
	assert_true(e.inner.has_seq);
	assert_false(e.inner.has_ack);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_PASS, MOAT_R_STATE_MATCH);
	assert_true(h->res.rewritten);
	h_decode(h, &e);
	assert_int_equal(e.inner.seq, 1001);
	assert_int_equal(moat_pkt_verify_checksums(&e), MOAT_R_NONE);
}

/* IPv6: packet too big and unreachable obey the same rules (RFC 4443). */
static void ipv6_errors(void **state)
{
	struct harness *h = *state;
	struct copy k[4];

	session(h, CLIENT6, SERVER6, 80, k);
	error_about(h, &k[1], SERVER6, NULL);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_PASS, MOAT_R_STATE_MATCH);
	error_about(h, &k[1], SERVER6, "2001:db8:100::11");
	assert_verdict(h_run(h, IN), MOAT_VERDICT_DROP,
		       MOAT_R_ICMP_WRONG_DST);
	error_about(h, &k[1], "2001:db8:100::1", NULL);
	assert_verdict(h_run(h, OUT), MOAT_VERDICT_DROP,
		       MOAT_R_ICMP_WRONG_ZONE);
}

static const char *const conf_proxy =
	"zone outside { interface out0; default }\n"
	"zone inside { interface in0; networks 198.18.1.0/24 }\n"
	"options { syncookies on }\n"
	"pass from outside to 198.18.1.10 tcp port 80 synproxy\n"
	"pass from inside\n";

/*
 * The SYN proxy: the client knows the cookie as the server's ISN, the
 * server its own.  A router outside quotes the server's segment as it left
 * moat (cookie numbers); the server must see its own SEQ in the quote.
 */
static void quote_of_a_proxied_flow_is_translated(void **state)
{
	struct harness *h = *state;
	struct moat_pkt p, e;
	struct copy sent, seen;
	uint32_t cookie;

	h_stop(h);
	h_start(h, conf_proxy);
	/* A server moat does not know yet gets the first SYN as it is. */
	struct seg teach = { CLIENT, SERVER, 39999, 80, 1, 0, MOAT_TCP_SYN,
			     0, 0, 0, NULL };
	assert_verdict(h_tcp(h, OUT, &teach), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	struct seg taught = { SERVER, CLIENT, 80, 39999, 99, 2,
			      MOAT_TCP_SYN | MOAT_TCP_ACK, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, IN, &taught), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
	struct seg syn = { CLIENT, SERVER, 40000, 80, 1000, 0, MOAT_TCP_SYN,
			   0, 0, 0, NULL };
	assert_verdict(h_tcp(h, OUT, &syn), MOAT_VERDICT_DROP,
		       MOAT_R_SYN_COOKIE_SENT);
	assert_int_equal(moat_pkt_decode(&p, h->out.frames[0].data,
					 h->out.frames[0].len,
					 h->out.frames[0].len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
	cookie = p.seq;
	struct seg ack = { CLIENT, SERVER, 40000, 80, 1001, cookie + 1,
			   MOAT_TCP_ACK, 0, 0, 0, NULL };
	h_tcp(h, OUT, &ack);
	assert_int_equal(h->out.count, 1); /* the SYN to the server */
	struct seg synack = { SERVER, CLIENT, 80, 40000, 7000, 1001,
			      MOAT_TCP_SYN | MOAT_TCP_ACK, 0, 0, 0, NULL };
	assert_verdict(h_tcp(h, IN, &synack), MOAT_VERDICT_DROP,
		       MOAT_R_SYN_PROXY_CONSUMED);
	struct seg resp = { SERVER, CLIENT, 80, 40000, 7001, 1001,
			    MOAT_TCP_ACK | MOAT_TCP_PSH, 0, 50, 'p', NULL };
	h_build(h, &resp);
	keep(h, &sent);
	assert_verdict(h_run(h, IN), MOAT_VERDICT_PASS, MOAT_R_STATE_MATCH);
	keep(h, &seen);
	assert_int_equal(seen.p.seq, cookie + 1);
	error_about(h, &seen, ROUTER, NULL);
	assert_verdict(h_run(h, OUT), MOAT_VERDICT_PASS, MOAT_R_STATE_MATCH);
	assert_true(h->res.rewritten);
	assert_memory_equal(quoted_tcp(h, &e), sent.b + sent.p.l4_off, 20);
	assert_int_equal(e.inner.seq, 7001);
	assert_int_equal(moat_pkt_verify_checksums(&e), MOAT_R_NONE);
	/* Untranslated (the numbers the server uses, not those that left
	 * moat), the quote lies outside the window the client knows. */
	error_about(h, &sent, ROUTER, NULL);
	assert_verdict(h_run(h, OUT), MOAT_VERDICT_DROP,
		       MOAT_R_ICMP_UNRELATED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		h_test(error_to_the_quoted_source_passes, conf),
		h_test(error_to_another_host_is_dropped, conf),
		h_test(error_from_the_wrong_zone_is_dropped, conf),
		h_test(error_outside_the_window_is_dropped, conf),
		h_test(quote_of_a_modulated_flow_is_translated, conf),
		h_test(short_quote_of_a_modulated_flow, conf),
		h_test(ipv6_errors, conf),
		h_test(quote_of_a_proxied_flow_is_translated, conf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
