/*
 * The SYN proxy's state machine at its own level, with the real conntrack
 * and packet builders: client SYN -> cookie SYN-ACK -> client ACK + data ->
 * SYN to the server -> server SYN-ACK -> ACK to the server + held data
 * released translated -> the rest of the flow translated both ways.  Then
 * the failure paths: server RST, silent server, hold bounds, retransmitted
 * SYN-ACKs, clients without timestamps, unknown servers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "moat/ct.h"
#include "moat/syn_proxy.h"

#define MS 1000000ull
#define SEC 1000000000ull

static const uint64_t T0 = 1764150000ull * SEC + 5 * SEC;
static const uint8_t router_mac[6] = { 2, 0, 0, 0, 0, 0xaa };
static const uint8_t server_mac[6] = { 2, 0, 0, 0, 0, 0xbb };

enum { ZONE_OUT = 0, ZONE_IN = 1 };

struct world {
	struct moat_syn *syn;
	struct moat_ct *ct;
	struct moat_emit out;
	uint8_t frame[1600];
	struct moat_pkt p;
	uint8_t mode;          /* the mode in force the SYNs are asked with */
};

/* ---- building and reading frames -------------------------------------- */

/* A frame from the client (router -> server MACs, VLAN 7), decoded. */
static void from_client(struct world *w, const struct moat_tcp_spec *s)
{
	struct moat_l2 l2 = { .vlan_count = 1, .vlan = { 7 } };
	uint32_t len;

	memcpy(l2.dst, server_mac, 6);
	memcpy(l2.src, router_mac, 6);
	len = moat_pkt_build_tcp(w->frame, sizeof(w->frame),
				 MOAT_LINK_ETHERNET, &l2, s);
	assert_true(len > 0);
	assert_int_equal(moat_pkt_decode(&w->p, w->frame, len, len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
}

static void from_server(struct world *w, const struct moat_tcp_spec *s)
{
	struct moat_l2 l2 = { .vlan_count = 1, .vlan = { 7 } };
	uint32_t len;

	memcpy(l2.dst, router_mac, 6);
	memcpy(l2.src, server_mac, 6);
	len = moat_pkt_build_tcp(w->frame, sizeof(w->frame),
				 MOAT_LINK_ETHERNET, &l2, s);
	assert_true(len > 0);
	assert_int_equal(moat_pkt_decode(&w->p, w->frame, len, len,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
}

/* Emitted frame @i, decoded and checked: checksums, link type. */
static void emitted(struct world *w, uint32_t i, struct moat_pkt *v)
{
	struct moat_emit_frame *f = &w->out.frames[i];

	assert_true(i < w->out.count);
	assert_int_equal(f->linktype, MOAT_LINK_ETHERNET);
	assert_int_equal(moat_pkt_decode(v, f->data, f->len, f->len,
					 f->linktype), MOAT_R_NONE);
	assert_int_equal(moat_pkt_verify_checksums(v), MOAT_R_NONE);
	assert_int_equal(v->vlan_count, 1);
	assert_int_equal(v->vlan[0], 7);
}

static void spec_c2s(struct moat_tcp_spec *s, const char *cli,
		     const char *srv)
{
	memset(s, 0, sizeof(*s));
	moat_addr_parse(&s->src, cli);
	moat_addr_parse(&s->dst, srv);
	s->sport = 40000;
	s->dport = 80;
}

static void spec_s2c(struct moat_tcp_spec *s, const char *cli,
		     const char *srv)
{
	memset(s, 0, sizeof(*s));
	moat_addr_parse(&s->src, srv);
	moat_addr_parse(&s->dst, cli);
	s->sport = 80;
	s->dport = 40000;
}

static void world_init(struct world *w, uint8_t mode, uint32_t holds)
{
	struct moat_syn_params sp = { 0 };
	struct moat_ct_params cp;

	memset(w, 0, sizeof(*w));
	memset(sp.secret, 0x5a, sizeof(sp.secret));
	w->mode = mode;
	sp.holds = holds;
	sp.rtx_slots = 1024;
	w->syn = moat_syn_create(&sp);
	assert_non_null(w->syn);
	moat_ct_params_default(&cp);
	cp.max_flows = 64;
	memset(cp.seed, 3, sizeof(cp.seed));
	w->ct = moat_ct_create(&cp);
	assert_non_null(w->ct);
}

static void world_fini(struct world *w)
{
	moat_syn_destroy(w->syn);
	moat_ct_destroy(w->ct);
}

/* Teach the backend table a server: as if a SYN-ACK passed earlier. */
static void learn_server(struct world *w, const char *cli, const char *srv,
			 uint8_t wscale, bool ecn)
{
	struct moat_tcp_spec s;

	spec_s2c(&s, cli, srv);
	s.flags = MOAT_TCP_SYN | MOAT_TCP_ACK | (ecn ? MOAT_TCP_ECE : 0);
	s.win = 65160;
	s.opt.present = MOAT_TCPOPT_MSS | MOAT_TCPOPT_WSCALE |
			MOAT_TCPOPT_SACK_PERM | MOAT_TCPOPT_TS;
	s.opt.mss = srv[0] == '2' ? 1440 : 1460;
	s.opt.wscale = wscale;
	s.opt.tsval = 1;
	from_server(w, &s);
	moat_syn_learn(w->syn, &w->p, T0 - SEC);
}

/* ---- the handshake, step by step ------------------------------------- */

struct hs {
	const char *cli, *srv;
	uint32_t isn, cookie, ts_ours, server_isn;
	bool ts;               /* the client offers timestamps */
};

/* Client SYN -> cookie SYN-ACK; fills @h->cookie and @h->ts_ours. */
static void step_syn(struct world *w, struct hs *h, uint64_t now)
{
	struct moat_syn_question q = { .mode = w->mode };
	struct moat_syn_mode_event ev;
	enum moat_syn_decision d;
	struct moat_tcp_spec s;
	struct moat_pkt v;
	bool sw;

	spec_c2s(&s, h->cli, h->srv);
	s.seq = h->isn;
	s.flags = MOAT_TCP_SYN | MOAT_TCP_ECE | MOAT_TCP_CWR;
	s.win = 64240;
	s.opt.present = MOAT_TCPOPT_MSS | MOAT_TCPOPT_WSCALE |
			MOAT_TCPOPT_SACK_PERM |
			(h->ts ? MOAT_TCPOPT_TS : 0);
	s.opt.mss = 1460;
	s.opt.wscale = 7;
	s.opt.tsval = 1000;
	from_client(w, &s);
	d = moat_syn_decide(w->syn, &w->p, &q, now, &ev, &sw);
	/* A server not learned yet: the first SYN goes to it, the next ones
	 * within MOAT_SYN_PROBE_NS get cookies (with the safe defaults). */
	if (d == MOAT_SYN_PROBE)
		d = moat_syn_decide(w->syn, &w->p, &q, now, &ev, &sw);
	assert_int_equal(d, MOAT_SYN_COOKIE);
	moat_emit_reset(&w->out);
	assert_int_equal(moat_syn_answer_syn(w->syn, &w->p, ZONE_OUT, now,
					     &w->out), MOAT_R_SYN_COOKIE_SENT);
	assert_int_equal(w->out.count, 1);
	assert_int_equal(w->out.frames[0].out_zone, ZONE_OUT);
	emitted(w, 0, &v);
	/* MAC addresses swapped from the SYN. */
	assert_memory_equal(w->out.frames[0].data, router_mac, 6);
	assert_memory_equal(w->out.frames[0].data + 6, server_mac, 6);
	assert_true(moat_addr_eq(&v.src, &w->p.dst));
	assert_int_equal(v.sport, 80);
	assert_int_equal(v.ack, h->isn + 1);
	assert_int_equal(v.tcp_flags & (MOAT_TCP_SYN | MOAT_TCP_ACK),
			 MOAT_TCP_SYN | MOAT_TCP_ACK);
	assert_true(v.win > 0);
	h->cookie = v.seq;
	h->ts_ours = v.opt.tsval;
}

static void test_full_handshake(void **state)
{
	static const uint8_t data1[100] = "GET / HTTP/1.1\r\n";
	static const uint8_t data2[50] = "Host: x\r\n";
	struct hs h = { .cli = "198.18.100.10", .srv = "198.18.1.10",
			.isn = 0xfffffff0u, .server_isn = 0x80000000u,
			.ts = true };
	struct moat_syn_client c;
	struct moat_tcp_spec s;
	struct moat_ct_entry *e, *e2;
	enum moat_reason why;
	struct moat_pkt v;
	struct world w;
	uint64_t now = T0;
	int dir;

	(void)state;
	world_init(&w, MOAT_SYNCOOKIES_ON, 0);
	learn_server(&w, h.cli, h.srv, 8, true);
	step_syn(&w, &h, now);
	emitted(&w, 0, &v);
	/* Options per the learned server; ECN since both offered it. */
	assert_int_equal(v.opt.mss, 1460);
	assert_true(v.opt.present & MOAT_TCPOPT_WSCALE);
	assert_int_equal(v.opt.wscale, 8);
	assert_true(v.opt.present & MOAT_TCPOPT_SACK_PERM);
	assert_true(v.opt.present & MOAT_TCPOPT_TS);
	assert_int_equal(v.opt.tsecr, 1000);
	assert_true(v.tcp_flags & MOAT_TCP_ECE);
	assert_int_equal(moat_syn_rtx_count(moat_syn_rtx(w.syn)), 1);

	/* Client: final ACK with data. */
	now += 20 * MS;
	spec_c2s(&s, h.cli, h.srv);
	s.seq = h.isn + 1;
	s.ack = h.cookie + 1;
	s.flags = MOAT_TCP_ACK | MOAT_TCP_PSH;
	s.win = 502;
	s.opt.present = MOAT_TCPOPT_TS;
	s.opt.tsval = 1020;
	s.opt.tsecr = h.ts_ours;
	s.payload = data1;
	s.payload_len = sizeof(data1);
	from_client(&w, &s);
	assert_null(moat_ct_lookup(w.ct, &w.p, &dir));
	assert_int_equal(moat_syn_check_ack(w.syn, &w.p, now, &c), MOAT_R_NONE);
	assert_int_equal(c.isn, h.isn);
	assert_int_equal(c.mss, 1460);
	assert_int_equal(c.wscale, 7);
	assert_true(c.sack_ok && c.ts_ok && c.ecn_ok);
	assert_int_equal(c.our_wscale, 8);
	assert_int_equal(moat_syn_rtx_count(moat_syn_rtx(w.syn)), 0);
	e = moat_ct_insert_as(w.ct, &w.p, MOAT_CT_SYNPROXY, now, &why);
	assert_non_null(e);
	moat_emit_reset(&w.out);
	assert_int_equal(moat_syn_open_server(w.syn, w.ct, e, &w.p, &c,
					      ZONE_OUT, ZONE_IN, now, &w.out),
			 MOAT_R_SYN_PROXY_HELD);
	/* The SYN to the server: the client's ISN, options, TSval. */
	assert_int_equal(w.out.count, 1);
	assert_int_equal(w.out.frames[0].out_zone, ZONE_IN);
	emitted(&w, 0, &v);
	assert_memory_equal(w.out.frames[0].data, server_mac, 6);
	assert_int_equal(v.tcp_flags, MOAT_TCP_SYN | MOAT_TCP_ECE |
					      MOAT_TCP_CWR);
	assert_int_equal(v.seq, h.isn);
	assert_int_equal(v.opt.mss, 1460);
	assert_int_equal(v.opt.wscale, 7);
	assert_true(v.opt.present & MOAT_TCPOPT_SACK_PERM);
	assert_int_equal(v.opt.tsval, 1020);
	assert_int_equal(v.opt.tsecr, 0);
	assert_int_equal(v.win, 502 << 7); /* unscaled in a SYN */
	assert_int_equal(moat_syn_flows_active(w.syn), 1);

	/* More client data while the server has not answered: held. */
	now += 5 * MS;
	s.seq = (uint32_t)(h.isn + 1 + sizeof(data1));
	s.opt.tsval = 1025;
	s.payload = data2;
	s.payload_len = sizeof(data2);
	from_client(&w, &s);
	e2 = moat_ct_lookup(w.ct, &w.p, &dir);
	assert_ptr_equal(e2, e);
	assert_int_equal(dir, MOAT_CT_ORIG);
	moat_emit_reset(&w.out);
	assert_int_equal(moat_syn_segment(w.syn, w.ct, e, dir, &w.p, now,
					  &w.out), MOAT_R_SYN_PROXY_HELD);
	assert_int_equal(w.out.count, 0);

	/* The server's SYN-ACK: window scale 8, its own clock. */
	now += 1 * MS;
	spec_s2c(&s, h.cli, h.srv);
	s.seq = h.server_isn;
	s.ack = h.isn + 1;
	s.flags = MOAT_TCP_SYN | MOAT_TCP_ACK | MOAT_TCP_ECE;
	s.win = 65160;
	s.opt.present = MOAT_TCPOPT_MSS | MOAT_TCPOPT_WSCALE |
			MOAT_TCPOPT_SACK_PERM | MOAT_TCPOPT_TS;
	s.opt.mss = 1460;
	s.opt.wscale = 8;
	s.opt.tsval = 5555555;
	s.opt.tsecr = 1020;
	from_server(&w, &s);
	assert_ptr_equal(moat_ct_lookup(w.ct, &w.p, &dir), e);
	assert_int_equal(dir, MOAT_CT_REPLY);
	moat_emit_reset(&w.out);
	assert_int_equal(moat_syn_segment(w.syn, w.ct, e, dir, &w.p, now,
					  &w.out), MOAT_R_SYN_PROXY_CONSUMED);
	assert_int_equal(e->state, MOAT_CT_ESTABLISHED);
	assert_true(e->flags & MOAT_CT_F_SYNPROXY);
	assert_int_equal(e->seq_delta[MOAT_CT_REPLY], h.cookie - h.server_isn);
	assert_int_equal(e->ts_delta[MOAT_CT_REPLY], h.ts_ours - 5555555u);
	assert_int_equal(e->wscale_fix, 0); /* told 8, server uses 8 */
	assert_int_equal(e->aux, 0);
	assert_int_equal(moat_syn_flows_active(w.syn), 0);
	/* ACK to the server, then the two held segments, in order. */
	assert_int_equal(w.out.count, 3);
	emitted(&w, 0, &v);
	assert_int_equal(v.tcp_flags, MOAT_TCP_ACK);
	assert_int_equal(v.seq, h.isn + 1);
	assert_int_equal(v.ack, h.server_isn + 1);
	assert_int_equal(v.opt.tsval, 1025);
	assert_int_equal(v.opt.tsecr, 5555555); /* the server's own TSval */
	emitted(&w, 1, &v);
	assert_int_equal(v.seq, h.isn + 1);
	assert_int_equal(v.ack, h.server_isn + 1);
	assert_int_equal(v.payload_len, sizeof(data1));
	assert_int_equal(v.opt.tsval, 1020);
	assert_int_equal(v.opt.tsecr, 5555555);
	assert_memory_equal(w.out.frames[1].data + v.payload_off, data1,
			    sizeof(data1));
	emitted(&w, 2, &v);
	assert_int_equal(v.seq, (uint32_t)(h.isn + 1 + sizeof(data1)));
	assert_int_equal(v.ack, h.server_isn + 1);
	assert_int_equal(v.payload_len, sizeof(data2));
	assert_int_equal(moat_syn_holds_free(w.syn), 4096);

	/* The server answers: tracked as received, translated to the
	 * client's view. */
	now += 1 * MS;
	spec_s2c(&s, h.cli, h.srv);
	s.seq = h.server_isn + 1;
	s.ack = (uint32_t)(h.isn + 1 + sizeof(data1) + sizeof(data2));
	s.flags = MOAT_TCP_ACK | MOAT_TCP_PSH;
	s.win = 1000;
	s.opt.present = MOAT_TCPOPT_TS;
	s.opt.tsval = 5555600;
	s.opt.tsecr = 1025;
	s.payload = data1;
	s.payload_len = 100;
	from_server(&w, &s);
	assert_ptr_equal(moat_ct_lookup(w.ct, &w.p, &dir), e);
	assert_int_equal(moat_ct_track(w.ct, e, dir, &w.p, now),
			 MOAT_R_STATE_MATCH);
	assert_true(moat_syn_translate_flow(e, dir, &w.p));
	assert_int_equal(moat_pkt_verify_checksums(&w.p), MOAT_R_NONE);
	assert_int_equal(w.p.seq, h.cookie + 1);
	assert_int_equal(w.p.opt.tsval, h.ts_ours + 45);
	assert_int_equal(w.p.opt.tsecr, 1025);
	assert_int_equal(w.p.win, 1000);

	/* The client acknowledges it, with a SACK block for good measure. */
	now += 1 * MS;
	spec_c2s(&s, h.cli, h.srv);
	s.seq = (uint32_t)(h.isn + 1 + sizeof(data1) + sizeof(data2));
	s.ack = h.cookie + 1 + 100;
	s.flags = MOAT_TCP_ACK;
	s.win = 502;
	s.opt.present = MOAT_TCPOPT_TS;
	s.opt.tsval = 1030;
	s.opt.tsecr = h.ts_ours + 45;
	from_client(&w, &s);
	assert_int_equal(moat_ct_track(w.ct, e, MOAT_CT_ORIG, &w.p, now),
			 MOAT_R_STATE_MATCH);
	assert_true(moat_syn_translate_flow(e, MOAT_CT_ORIG, &w.p));
	assert_int_equal(moat_pkt_verify_checksums(&w.p), MOAT_R_NONE);
	assert_int_equal(w.p.ack, h.server_isn + 1 + 100);
	assert_int_equal(w.p.opt.tsecr, 5555600);
	assert_int_equal(w.p.opt.tsval, 1030);
	world_fini(&w);
}

/* The server scales differently than learned: its windows are rescaled. */
static void test_wscale_mismatch(void **state)
{
	struct hs h = { .cli = "2001:db8:100::10", .srv = "2001:db8:1::10",
			.isn = 1000, .server_isn = 7, .ts = true };
	struct moat_syn_client c;
	struct moat_tcp_spec s;
	struct moat_ct_entry *e;
	enum moat_reason why;
	struct world w;
	int dir;

	(void)state;
	world_init(&w, MOAT_SYNCOOKIES_ON, 0);
	learn_server(&w, h.cli, h.srv, 7, false);
	step_syn(&w, &h, T0);
	spec_c2s(&s, h.cli, h.srv);
	s.seq = h.isn + 1;
	s.ack = h.cookie + 1;
	s.flags = MOAT_TCP_ACK;
	s.win = 1000;
	s.opt.present = MOAT_TCPOPT_TS;
	s.opt.tsval = 1001;
	s.opt.tsecr = h.ts_ours;
	from_client(&w, &s);
	assert_int_equal(moat_syn_check_ack(w.syn, &w.p, T0, &c), MOAT_R_NONE);
	assert_false(c.ecn_ok); /* the server did not do ECN */
	e = moat_ct_insert_as(w.ct, &w.p, MOAT_CT_SYNPROXY, T0, &why);
	moat_emit_reset(&w.out);
	assert_int_equal(moat_syn_open_server(w.syn, w.ct, e, &w.p, &c,
					      ZONE_OUT, ZONE_IN, T0, &w.out),
			 MOAT_R_SYN_PROXY_CONSUMED);
	spec_s2c(&s, h.cli, h.srv);
	s.seq = h.server_isn;
	s.ack = h.isn + 1;
	s.flags = MOAT_TCP_SYN | MOAT_TCP_ACK;
	s.win = 65535;
	s.opt.present = MOAT_TCPOPT_MSS | MOAT_TCPOPT_WSCALE |
			MOAT_TCPOPT_TS;
	s.opt.mss = 1440;
	s.opt.wscale = 9;
	s.opt.tsval = 42;
	from_server(&w, &s);
	assert_ptr_equal(moat_ct_lookup(w.ct, &w.p, &dir), e);
	moat_emit_reset(&w.out);
	assert_int_equal(moat_syn_segment(w.syn, w.ct, e, dir, &w.p, T0,
					  &w.out), MOAT_R_SYN_PROXY_CONSUMED);
	assert_int_equal(e->wscale_fix, 7 << 4 | 9);
	/* A server window of 100 << 9 reads as 400 << 7 at the client. */
	spec_s2c(&s, h.cli, h.srv);
	s.seq = h.server_isn + 1;
	s.ack = h.isn + 1;
	s.flags = MOAT_TCP_ACK;
	s.win = 100;
	s.opt.present = MOAT_TCPOPT_TS;
	s.opt.tsval = 43;
	s.opt.tsecr = 1001;
	from_server(&w, &s);
	assert_int_equal(moat_ct_track(w.ct, e, MOAT_CT_REPLY, &w.p, T0),
			 MOAT_R_STATE_MATCH);
	assert_true(moat_syn_translate_flow(e, MOAT_CT_REPLY, &w.p));
	assert_int_equal(moat_pkt_verify_checksums(&w.p), MOAT_R_NONE);
	assert_int_equal(w.p.win, 400);
	assert_int_equal(w.p.seq, h.cookie + 1);
	/* Backend learning saw the new scale. */
	{
		struct moat_syn_backend_opts o;

		moat_syn_backend_get(moat_syn_backends(w.syn), &w.p.src, 80,
				     &o);
		assert_int_equal(o.wscale, 9);
		assert_int_equal(o.mss, 1440);
	}
	world_fini(&w);
}

/* Brings a flow to MOAT_CT_SYNPROXY with the SYN sent; returns it. */
static struct moat_ct_entry *open_flow(struct world *w, struct hs *h,
				       uint64_t now, int data_segments)
{
	static const uint8_t data[10] = "0123456789";
	struct moat_syn_client c;
	struct moat_tcp_spec s;
	struct moat_ct_entry *e;
	enum moat_reason why;
	int i, dir;

	step_syn(w, h, now);
	spec_c2s(&s, h->cli, h->srv);
	s.seq = h->isn + 1;
	s.ack = h->cookie + 1;
	s.flags = MOAT_TCP_ACK;
	s.win = 1000;
	from_client(w, &s);
	assert_int_equal(moat_syn_check_ack(w->syn, &w->p, now, &c),
			 MOAT_R_NONE);
	e = moat_ct_insert_as(w->ct, &w->p, MOAT_CT_SYNPROXY, now, &why);
	assert_non_null(e);
	moat_emit_reset(&w->out);
	assert_int_equal(moat_syn_open_server(w->syn, w->ct, e, &w->p, &c,
					      ZONE_OUT, ZONE_IN, now, &w->out),
			 MOAT_R_SYN_PROXY_CONSUMED);
	for (i = 0; i < data_segments; i++) {
		s.seq = h->isn + 1 + 10u * (uint32_t)i;
		s.payload = data;
		s.payload_len = 10;
		from_client(w, &s);
		assert_ptr_equal(moat_ct_lookup(w->ct, &w->p, &dir), e);
		moat_syn_segment(w->syn, w->ct, e, dir, &w->p, now, &w->out);
	}
	return e;
}

static void test_server_rst(void **state)
{
	struct hs h = { .cli = "198.18.100.11", .srv = "198.18.1.10",
			.isn = 5000, .ts = false };
	struct moat_tcp_spec s;
	struct moat_ct_entry *e;
	struct moat_pkt v;
	struct world w;
	int dir;

	(void)state;
	world_init(&w, MOAT_SYNCOOKIES_ON, 0);
	e = open_flow(&w, &h, T0, 2);
	assert_int_equal(moat_syn_holds_free(w.syn), 4096 - 2);
	spec_s2c(&s, h.cli, h.srv);
	s.ack = h.isn + 1;
	s.flags = MOAT_TCP_RST | MOAT_TCP_ACK;
	from_server(&w, &s);
	assert_ptr_equal(moat_ct_lookup(w.ct, &w.p, &dir), e);
	moat_emit_reset(&w.out);
	assert_int_equal(moat_syn_segment(w.syn, w.ct, e, dir, &w.p, T0,
					  &w.out),
			 MOAT_R_SYN_PROXY_SERVER_RST);
	assert_int_equal(w.out.count, 1);
	assert_int_equal(w.out.frames[0].out_zone, ZONE_OUT);
	emitted(&w, 0, &v);
	assert_true(v.tcp_flags & MOAT_TCP_RST);
	assert_int_equal(v.seq, h.cookie + 1);
	assert_int_equal(v.ack, h.isn + 1 + 20);
	assert_true(moat_addr_eq(&v.dst, &w.p.dst));
	assert_memory_equal(w.out.frames[0].data, router_mac, 6);
	assert_int_equal(moat_ct_count(w.ct), 0);
	assert_int_equal(moat_syn_flows_active(w.syn), 0);
	assert_int_equal(moat_syn_holds_free(w.syn), 4096);
	world_fini(&w);
}

/* A silent server: SYN again at +1 s, RST to the client at +3 s. */
static void test_server_timeout(void **state)
{
	static const struct {
		uint64_t at_ms;
		uint32_t frames, syn_rtx, timeouts;
	} rows[] = {
		{ 500, 0, 0, 0 },
		{ 1000, 1, 1, 0 },
		{ 2000, 0, 0, 0 },
		{ 3000, 1, 0, 1 },
		{ 4000, 0, 0, 0 },
	};
	struct hs h = { .cli = "198.18.100.12", .srv = "198.18.1.10",
			.isn = 77, .ts = true };
	struct moat_syn_tick_report rep;
	struct moat_pkt v;
	struct world w;
	unsigned i;

	(void)state;
	world_init(&w, MOAT_SYNCOOKIES_ON, 0);
	learn_server(&w, h.cli, h.srv, 7, false);
	open_flow(&w, &h, T0, 1);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		moat_emit_reset(&w.out);
		moat_syn_tick(w.syn, w.ct, T0 + rows[i].at_ms * MS, &w.out,
			      &rep);
		assert_int_equal(w.out.count, rows[i].frames);
		assert_int_equal(rep.syn_rtx, rows[i].syn_rtx);
		assert_int_equal(rep.server_timeouts, rows[i].timeouts);
		assert_int_equal(rep.synack_rtx, 0); /* cleared by the ACK */
		if (rows[i].syn_rtx) {
			emitted(&w, 0, &v);
			assert_int_equal(v.tcp_flags & MOAT_TCP_SYN,
					 MOAT_TCP_SYN);
			assert_int_equal(v.seq, h.isn);
		}
		if (rows[i].timeouts) {
			emitted(&w, 0, &v);
			assert_true(v.tcp_flags & MOAT_TCP_RST);
			assert_int_equal(v.seq, h.cookie + 1);
		}
	}
	assert_int_equal(moat_ct_count(w.ct), 0);
	assert_int_equal(moat_syn_holds_free(w.syn), 4096);
	world_fini(&w);
}

/* At most 4 per flow, and a fixed pool for all flows. */
static void test_hold_bounds(void **state)
{
	static const uint8_t data[10] = "abcdefghij";
	struct hs a = { .cli = "198.18.100.13", .srv = "198.18.1.10",
			.isn = 1 };
	struct hs b = { .cli = "198.18.100.14", .srv = "198.18.1.10",
			.isn = 2 };
	struct moat_tcp_spec s;
	struct moat_ct_entry *eb;
	struct world w;
	int dir;

	(void)state;
	world_init(&w, MOAT_SYNCOOKIES_ON, 6);
	open_flow(&w, &a, T0, 4);
	assert_int_equal(moat_syn_holds_free(w.syn), 2);
	/* Fifth segment of flow a: over the per-flow bound. */
	spec_c2s(&s, a.cli, a.srv);
	s.seq = a.isn + 41;
	s.ack = a.cookie + 1;
	s.flags = MOAT_TCP_ACK;
	s.payload = data;
	s.payload_len = 10;
	from_client(&w, &s);
	{
		struct moat_ct_entry *ea = moat_ct_lookup(w.ct, &w.p, &dir);

		assert_int_equal(moat_syn_segment(w.syn, w.ct, ea, dir, &w.p,
						  T0, &w.out),
				 MOAT_R_SYN_PROXY_HOLD_FULL);
	}
	/* Flow b gets the last two of the pool, then the pool is empty. */
	eb = open_flow(&w, &b, T0, 2);
	assert_int_equal(moat_syn_holds_free(w.syn), 0);
	spec_c2s(&s, b.cli, b.srv);
	s.seq = b.isn + 21;
	s.ack = b.cookie + 1;
	s.flags = MOAT_TCP_ACK;
	s.payload = data;
	s.payload_len = 10;
	from_client(&w, &s);
	assert_int_equal(moat_syn_segment(w.syn, w.ct, eb, MOAT_CT_ORIG, &w.p,
					  T0, &w.out),
			 MOAT_R_SYN_PROXY_HOLD_FULL);
	/* A retransmitted pure ACK is consumed, not held. */
	s.payload_len = 0;
	s.seq = b.isn + 1;
	from_client(&w, &s);
	assert_int_equal(moat_syn_segment(w.syn, w.ct, eb, MOAT_CT_ORIG, &w.p,
					  T0, &w.out),
			 MOAT_R_SYN_PROXY_CONSUMED);
	world_fini(&w);
}

/*
 * The lost final ACK: the tick sends the very same SYN-ACK at +1 s and
 * +3 s; a retransmitted SYN gets the same cookie.
 */
static void test_synack_retransmit(void **state)
{
	struct hs h = { .cli = "198.18.100.15", .srv = "198.18.1.10",
			.isn = 99, .ts = true };
	struct moat_syn_tick_report rep;
	uint8_t first[1600];
	uint16_t first_len;
	uint32_t cookie;
	struct world w;

	(void)state;
	world_init(&w, MOAT_SYNCOOKIES_ON, 0);
	learn_server(&w, h.cli, h.srv, 7, false);
	step_syn(&w, &h, T0);
	first_len = w.out.frames[0].len;
	memcpy(first, w.out.frames[0].data, first_len);
	cookie = h.cookie;
	/* The client's SYN again, 200 ms later: same cookie. */
	step_syn(&w, &h, T0 + 200 * MS);
	assert_int_equal(h.cookie, cookie);
	moat_emit_reset(&w.out);
	moat_syn_tick(w.syn, w.ct, T0 + 999 * MS, &w.out, &rep);
	assert_int_equal(w.out.count, 0);
	moat_syn_tick(w.syn, w.ct, T0 + 1000 * MS, &w.out, &rep);
	assert_int_equal(rep.synack_rtx, 1);
	assert_int_equal(w.out.frames[0].len, first_len);
	assert_memory_equal(w.out.frames[0].data, first, first_len);
	moat_emit_reset(&w.out);
	moat_syn_tick(w.syn, w.ct, T0 + 3000 * MS, &w.out, &rep);
	assert_int_equal(rep.synack_rtx, 1);
	moat_emit_reset(&w.out);
	moat_syn_tick(w.syn, w.ct, T0 + 9000 * MS, &w.out, &rep);
	assert_int_equal(rep.synack_rtx, 0);
	world_fini(&w);
}

/* No timestamps from the client: window scale and SACK are lost. */
static void test_no_timestamps(void **state)
{
	struct hs h = { .cli = "198.18.100.16", .srv = "198.18.1.10",
			.isn = 12345, .ts = false };
	struct moat_syn_client c;
	struct moat_tcp_spec s;
	struct moat_pkt v;
	struct world w;

	(void)state;
	world_init(&w, MOAT_SYNCOOKIES_ON, 0);
	learn_server(&w, h.cli, h.srv, 7, true);
	step_syn(&w, &h, T0);
	emitted(&w, 0, &v);
	assert_int_equal(v.opt.present, MOAT_TCPOPT_MSS);
	assert_false(v.tcp_flags & MOAT_TCP_ECE);
	spec_c2s(&s, h.cli, h.srv);
	s.seq = h.isn + 1;
	s.ack = h.cookie + 1;
	s.flags = MOAT_TCP_ACK;
	s.win = 64240;
	from_client(&w, &s);
	assert_int_equal(moat_syn_check_ack(w.syn, &w.p, T0, &c), MOAT_R_NONE);
	assert_int_equal(c.mss, 1460);
	assert_int_equal(c.wscale, MOAT_SYN_WSCALE_NONE);
	assert_false(c.sack_ok || c.ts_ok || c.ecn_ok);
	world_fini(&w);
}

/* An unknown server: safe defaults in the SYN-ACK. */
static void test_unknown_backend(void **state)
{
	struct hs h = { .cli = "2001:db8:100::20", .srv = "2001:db8:1::20",
			.isn = 3, .ts = true };
	struct moat_pkt v;
	struct world w;

	(void)state;
	world_init(&w, MOAT_SYNCOOKIES_ON, 0);
	step_syn(&w, &h, T0);
	emitted(&w, 0, &v);
	assert_int_equal(v.opt.present, MOAT_TCPOPT_MSS);
	assert_int_equal(v.opt.mss, 1220);
	assert_int_equal(v.win, 4 * 1220);
	world_fini(&w);
}

/* Forged and stale final ACKs never create state. */
static void test_bad_acks(void **state)
{
	struct hs h = { .cli = "198.18.100.17", .srv = "198.18.1.10",
			.isn = 8, .ts = false };
	struct moat_syn_client c;
	struct moat_tcp_spec s;
	struct world w;

	(void)state;
	world_init(&w, MOAT_SYNCOOKIES_ON, 0);
	step_syn(&w, &h, T0);
	spec_c2s(&s, h.cli, h.srv);
	s.seq = h.isn + 1;
	s.ack = h.cookie + 2;
	s.flags = MOAT_TCP_ACK;
	from_client(&w, &s);
	assert_int_equal(moat_syn_check_ack(w.syn, &w.p, T0, &c),
			 MOAT_R_SYN_COOKIE_BAD);
	s.ack = h.cookie + 1;
	from_client(&w, &s);
	assert_int_equal(moat_syn_check_ack(w.syn, &w.p,
					    T0 + 3 * MOAT_SYN_COUNTER_NS, &c),
			 MOAT_R_SYN_COOKIE_STALE);
	s.flags = MOAT_TCP_ACK | MOAT_TCP_RST;
	from_client(&w, &s);
	assert_int_equal(moat_syn_check_ack(w.syn, &w.p, T0, &c),
			 MOAT_R_SYN_COOKIE_BAD);
	world_fini(&w);
}

/*
 * Every family x MSS index x window scale x SACK x ECN x timestamps goes
 * SYN -> cookie SYN-ACK -> final ACK and comes back out of
 * moat_syn_check_ack() as the client offered it (or as documented lost).
 */
static void test_option_matrix(void **state)
{
	static const char *fam[2][2] = {
		{ "198.18.100.30", "198.18.1.10" },
		{ "2001:db8:100::30", "2001:db8:1::10" },
	};
	static const uint8_t ws[] = { MOAT_SYN_WSCALE_NONE, 0, 7, 14 };
	struct moat_syn_client c;
	struct moat_tcp_spec s;
	struct moat_pkt v;
	struct world w;
	unsigned f, m, wi, bits, rows = 0;
	uint16_t mss;
	bool sack, ecn, ts;

	(void)state;
	world_init(&w, MOAT_SYNCOOKIES_ON, 0);
	for (f = 0; f < 2; f++) {
		learn_server(&w, fam[f][0], fam[f][1], 7, true);
		for (m = 0; m < MOAT_SYN_MSS_TABLE; m++)
		for (wi = 0; wi < sizeof(ws); wi++)
		for (bits = 0; bits < 8; bits++) {
			sack = bits & 1;
			ecn = bits & 2;
			ts = bits & 4;
			mss = moat_syn_mss_table(f ? MOAT_AF_INET6
						   : MOAT_AF_INET)[m];
			spec_c2s(&s, fam[f][0], fam[f][1]);
			s.sport = (uint16_t)(1000 + rows);
			s.seq = 0x9e3779b9u * (rows + 1);
			s.flags = MOAT_TCP_SYN |
				  (ecn ? MOAT_TCP_ECE | MOAT_TCP_CWR : 0);
			s.win = 65535;
			s.opt.present = MOAT_TCPOPT_MSS |
				(ws[wi] != MOAT_SYN_WSCALE_NONE
					 ? MOAT_TCPOPT_WSCALE : 0) |
				(sack ? MOAT_TCPOPT_SACK_PERM : 0) |
				(ts ? MOAT_TCPOPT_TS : 0);
			s.opt.mss = (uint16_t)(mss + m); /* rounds down */
			s.opt.wscale = ws[wi];
			s.opt.tsval = 77 + rows;
			from_client(&w, &s);
			moat_emit_reset(&w.out);
			assert_int_equal(moat_syn_answer_syn(w.syn, &w.p, 0,
					T0 + rows * MS, &w.out),
					 MOAT_R_SYN_COOKIE_SENT);
			emitted(&w, 0, &v);
			spec_c2s(&s, fam[f][0], fam[f][1]);
			s.sport = (uint16_t)(1000 + rows);
			s.seq = 0x9e3779b9u * (rows + 1) + 1;
			s.ack = v.seq + 1;
			s.flags = MOAT_TCP_ACK;
			if (v.opt.present & MOAT_TCPOPT_TS) {
				s.opt.present = MOAT_TCPOPT_TS;
				s.opt.tsval = 78 + rows;
				s.opt.tsecr = v.opt.tsval;
			}
			from_client(&w, &s);
			assert_int_equal(moat_syn_check_ack(w.syn, &w.p,
					T0 + rows * MS + 60 * SEC, &c),
					 MOAT_R_NONE);
			assert_int_equal(c.isn, 0x9e3779b9u * (rows + 1));
			assert_int_equal(c.mss, mss);
			assert_int_equal(c.ts_ok, ts);
			/* Without timestamps wscale, SACK and ECN are lost. */
			assert_int_equal(c.wscale,
					 ts ? ws[wi] : MOAT_SYN_WSCALE_NONE);
			assert_int_equal(c.sack_ok, ts && sack);
			assert_int_equal(c.ecn_ok, ts && ecn);
			assert_int_equal(c.our_wscale,
					 ts && ws[wi] != MOAT_SYN_WSCALE_NONE
						 ? 7 : MOAT_SYN_WSCALE_NONE);
			rows++;
		}
	}
	assert_int_equal(rows, 2 * 4 * 4 * 8);
	world_fini(&w);
}

/* Conntrack dropped a SYNPROXY flow behind our back: the tick notices,
 * frees the slot and its held segments, and sends nothing. */
static void test_entry_evicted(void **state)
{
	struct hs h = { .cli = "198.18.100.40", .srv = "198.18.1.10",
			.isn = 4 };
	struct moat_syn_tick_report rep;
	struct moat_ct_entry *e;
	struct world w;

	(void)state;
	world_init(&w, MOAT_SYNCOOKIES_ON, 0);
	e = open_flow(&w, &h, T0, 3);
	assert_int_equal(moat_syn_flows_active(w.syn), 1);
	moat_ct_remove(w.ct, e);
	moat_emit_reset(&w.out);
	moat_syn_tick(w.syn, w.ct, T0 + 100 * MS, &w.out, &rep);
	assert_int_equal(w.out.count, 0);
	assert_int_equal(moat_syn_flows_active(w.syn), 0);
	assert_int_equal(moat_syn_holds_free(w.syn), 4096);
	world_fini(&w);
}

/*
 * Random segments at a proxy with small pools: whatever arrives, the
 * pools stay within their bounds, every handshake slot is accounted for,
 * and every emitted frame has valid checksums.
 */
static void test_random_segments(void **state)
{
	static const uint8_t data[64];
	static const char *cli[] = { "198.18.100.50", "198.18.100.51",
				     "198.18.100.52" };
	struct moat_syn_params sp = { 0 };
	struct moat_syn_tick_report rep;
	struct moat_syn_client c;
	struct moat_ct_params cp;
	struct moat_tcp_spec s;
	struct moat_ct_entry *e;
	enum moat_reason why;
	struct moat_pkt v;
	struct world w;
	uint32_t x = 1, i, k, port, cookies[3][4] = { { 0 } };
	uint32_t opened = 0, completed = 0;
	uint64_t now = T0;
	bool server;
	int dir, n;

	(void)state;
	memset(&w, 0, sizeof(w));
	memset(sp.secret, 0x11, sizeof(sp.secret));
	sp.flows = 2;
	sp.holds = 5;
	sp.rtx_slots = 4;
	w.syn = moat_syn_create(&sp);
	moat_ct_params_default(&cp);
	cp.max_flows = 4;
	cp.to.tcp_established = 2;
	w.ct = moat_ct_create(&cp);
	learn_server(&w, cli[0], "198.18.1.10", 7, false);
	for (i = 0; i < 50000; i++) {
		x = x * 1103515245u + 12345u;
		k = (x >> 16) % 3;
		port = (x >> 5) % 4;
		now += (x >> 8) % 100 * MS;
		moat_emit_reset(&w.out);
		server = (x >> 24) & 1;
		if (server)
			spec_s2c(&s, cli[k], "198.18.1.10");
		else
			spec_c2s(&s, cli[k], "198.18.1.10");
		if (server)
			s.dport = (uint16_t)(40000 + port);
		else
			s.sport = (uint16_t)(40000 + port);
		if ((x >> 20) % 8 == 0) {
			moat_ct_expire(w.ct, now, 16);
			moat_syn_tick(w.syn, w.ct, now, &w.out, &rep);
		} else if ((x >> 20) % 8 < 3) {
			s.seq = 1000 * k;
			s.flags = MOAT_TCP_SYN;
			s.opt.present = MOAT_TCPOPT_TS | MOAT_TCPOPT_MSS;
			s.opt.mss = 1460;
			from_client(&w, &s);
			moat_syn_answer_syn(w.syn, &w.p, 0, now, &w.out);
			emitted(&w, 0, &v);
			cookies[k][port] = v.seq;
		} else {
			s.seq = server ? 777 + ((x >> 28) & 1) * 64
				       : 1000 * k + 1 + ((x >> 27) & 1) * 64;
			s.ack = server ? 1000 * k + 1 : cookies[k][port] + 1;
			/* Flags the decoder accepts: SYN alone or with
			 * ACK, RST or FIN without SYN. */
			s.flags = (x >> 10) % 4 == 0
				? MOAT_TCP_SYN | MOAT_TCP_ACK
				: (uint8_t)(MOAT_TCP_ACK |
				  ((x >> 11) % 16 == 0 ? MOAT_TCP_RST : 0) |
				  ((x >> 12) % 16 == 0 ? MOAT_TCP_FIN : 0));
			s.payload = data;
			s.payload_len = (uint16_t)((x >> 13) % 2 ? 0 : 64);
			s.opt.present = MOAT_TCPOPT_TS;
			s.opt.tsval = i;
			if (server)
				from_server(&w, &s);
			else
				from_client(&w, &s);
			e = moat_ct_lookup(w.ct, &w.p, &dir);
			if (e && e->state == MOAT_CT_SYNPROXY) {
				completed += dir == MOAT_CT_REPLY &&
					moat_syn_segment(w.syn, w.ct, e, dir,
						&w.p, now, &w.out) ==
					MOAT_R_SYN_PROXY_CONSUMED;
				if (dir == MOAT_CT_ORIG)
					moat_syn_segment(w.syn, w.ct, e, dir,
						&w.p, now, &w.out);
			} else if (e) {
				moat_syn_translate_flow(e, dir, &w.p);
				assert_int_equal(moat_pkt_verify_checksums(&w.p),
						 MOAT_R_NONE);
			} else if (!server && !(s.flags & MOAT_TCP_SYN) &&
				   moat_syn_check_ack(w.syn, &w.p, now, &c) ==
					   MOAT_R_NONE) {
				e = moat_ct_insert_as(w.ct, &w.p,
						      MOAT_CT_SYNPROXY, now,
						      &why);
				if (e)
					opened += moat_syn_open_server(w.syn,
						w.ct, e, &w.p, &c, 0, 1, now,
						&w.out) != MOAT_R_SYN_PROXY_HOLD_FULL;
			}
		}
		assert_true(moat_syn_flows_active(w.syn) <= 2);
		assert_true(moat_syn_holds_free(w.syn) <= 5);
		assert_true(moat_ct_count(w.ct) <= 4);
		for (n = 0; n < (int)w.out.count; n++)
			emitted(&w, (uint32_t)n, &v);
	}
	/* The walk went through the interesting states. */
	assert_true(opened > 100);
	assert_true(completed > 10);
	world_fini(&w);
}

/* The tables follow max-flows, within bounds; sizes given are kept. */
static void test_sizes_follow_max_flows(void **state)
{
	static const struct {
		uint32_t max_flows, rtx, backend, mode, flows;
	} rows[] = {
		{ 16, 16, 16, 16, 16 },                 /* the smallest table */
		{ 64, 16, 16, 16, 16 },
		{ 4096, 1024, 64, 16, 64 },
		{ 0, 65536, 4096, 1024, 4096 },         /* the default max-flows */
		{ 262144, 65536, 4096, 1024, 4096 },
		{ 1u << 26, 65536, 4096, 1024, 4096 },  /* capped */
	};
	struct moat_syn_params p;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.max_flows = rows[i].max_flows;
		moat_syn_params_size(&p);
		assert_int_equal(p.rtx_slots, rows[i].rtx);
		assert_int_equal(p.backend_slots, rows[i].backend);
		assert_int_equal(p.mode_slots, rows[i].mode);
		assert_int_equal(p.flows, rows[i].flows);
		assert_int_equal(p.holds, rows[i].flows);
	}
	memset(&p, 0, sizeof(p));
	p.max_flows = 64;
	p.rtx_slots = 7;
	p.holds = 3;
	moat_syn_params_size(&p);
	assert_int_equal(p.rtx_slots, 7);
	assert_int_equal(p.holds, 3);
	assert_int_equal(p.flows, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_follow_max_flows),
		cmocka_unit_test(test_full_handshake),
		cmocka_unit_test(test_wscale_mismatch),
		cmocka_unit_test(test_server_rst),
		cmocka_unit_test(test_server_timeout),
		cmocka_unit_test(test_hold_bounds),
		cmocka_unit_test(test_synack_retransmit),
		cmocka_unit_test(test_no_timestamps),
		cmocka_unit_test(test_unknown_backend),
		cmocka_unit_test(test_bad_acks),
		cmocka_unit_test(test_option_matrix),
		cmocka_unit_test(test_entry_evicted),
		cmocka_unit_test(test_random_segments),
	};

	return cmocka_run_group_tests_name("synproxy_proxy", tests, NULL,
					   NULL);
}
