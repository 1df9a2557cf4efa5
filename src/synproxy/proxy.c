/*
 * The SYN proxy's state machine: it completes the handshake with the
 * client on the server's behalf, keeping nothing per SYN (the cookie is the
 * state), and only then opens the connection to the server; afterwards the
 * two sides' sequence numbers and timestamps differ by constants that
 * moat_syn_translate_flow() applies to every segment.
 *
 * On the packet's path: after the rules for the SYN and an unmatched ACK,
 * after the flow lookup for the flow's packets while it is in
 * MOAT_CT_SYNPROXY, and in the engine's tick.  The calls, in order, are in
 * moat/syn_proxy.h.
 *
 *   client                        moat                          server
 *     |  SYN seq=x [mss,ws,sack,ts=a]                              |
 *     |----------------------------->|  no state: cookie c,        |
 *     |                              |  TSval P (ws/sack/ecn in    |
 *     |  SYN-ACK seq=c ack=x+1       |  its low 6 bits)            |
 *     |  [learned mss/ws/sack, P,a]  |  retransmit table (lossy)   |
 *     |<-----------------------------|                             |
 *     |  ACK seq=x+1 ack=c+1 [a',P]  |                             |
 *     |  (+ data)                    |  check: MAC(c) over tuple,  |
 *     |----------------------------->|  x, counter; ct entry       |
 *     |                              |  SYNPROXY, data held        |
 *     |                              |  SYN seq=x [mss,ws,sack,a'] |
 *     |                              |---------------------------->|
 *     |                              |  SYN-ACK seq=y ack=x+1      |
 *     |                              |  [ws B, Ts]                 |
 *     |                              |<----------------------------|
 *     |                              |  seq_delta = c - y          |
 *     |                              |  ts_delta  = P - Ts         |
 *     |                              |  ACK seq=x+1 ack=y+1 [a',Ts]|
 *     |                              |---------------------------->|
 *     |                              |  held data, ack -= c - y,   |
 *     |                              |  TSecr -= P - Ts            |
 *     |                              |---------------------------->|
 *     |      ESTABLISHED: server->client SEQ += c - y,             |
 *     |      TSval += P - Ts, window << B >> A;                    |
 *     |      client->server ACK/SACK -= c - y, TSecr -= P - Ts     |
 *
 * The ACK to the server echoes the server's own TSval (Ts), not ours: the
 * nftables SYNPROXY defect in LAB-NOTES.md (a TSecr the server rejects) is
 * exactly that mistake.  Our SYN-ACK carries a real window (no zero-window
 * stall), and a lost final ACK is recovered by the retransmit table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "moat/defaults.h"
#include "proxy_internal.h"

/*
 * The tables' sizes as shares of the flow table (moat_syn_params_size).
 * The retransmit table holds cookie SYN-ACKs of the last few seconds,
 * lossy: a quarter of the flows is more than a flood leaves room for in
 * the flow table anyway.  Servers (backend learning) and handshakes with
 * servers are counted per protected service and per connection being
 * opened, far fewer than flows; detector slots are per destination.
 */
enum {
	SIZE_MIN = 16,
	RTX_SHARE = 4,        /* one slot per 4 flows */
	RTX_MAX = 65536,
	BACKEND_SHARE = 64,
	BACKEND_MAX = 4096,
	FLOW_SHARE = 64,      /* and as many held segments */
	FLOW_MAX = 4096,
	MODE_SHARE = 256,
	MODE_MAX = 1024,
};

#define MS 1000000ull

static void pools_init(struct moat_syn *s)
{
	uint32_t i;

	for (i = 0; i < s->nflows; i++) {
		s->flows[i].next_free = i + 1 < s->nflows ? i + 1 : SYN_NIL;
		s->flows[i].hold_head = s->flows[i].hold_tail = SYN_NIL;
	}
	s->flow_free = s->nflows ? 0 : SYN_NIL;
	for (i = 0; i < s->nholds; i++)
		s->holds[i].next = i + 1 < s->nholds ? i + 1 : SYN_NIL;
	s->hold_free = s->nholds ? 0 : SYN_NIL;
	s->holds_free = s->nholds;
}

/* @flows / @share, within [SIZE_MIN, @max]. */
static uint32_t share(uint32_t flows, uint32_t n, uint32_t max)
{
	uint32_t v = flows / n;

	return v < SIZE_MIN ? SIZE_MIN : v > max ? max : v;
}

void moat_syn_params_size(struct moat_syn_params *par)
{
	uint32_t f = par->max_flows ? par->max_flows : MOAT_DEFAULT_MAX_FLOWS;

	if (!par->rtx_slots)
		par->rtx_slots = share(f, RTX_SHARE, RTX_MAX);
	if (!par->backend_slots)
		par->backend_slots = share(f, BACKEND_SHARE, BACKEND_MAX);
	if (!par->mode_slots)
		par->mode_slots = share(f, MODE_SHARE, MODE_MAX);
	if (!par->flows)
		par->flows = share(f, FLOW_SHARE, FLOW_MAX);
	if (!par->holds)
		par->holds = par->flows;
}

struct moat_syn *moat_syn_create(const struct moat_syn_params *given)
{
	struct moat_syn_params par;
	struct moat_syn *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		goto nomem;
	rc = moat_syn_keys_init(&s->keys, given->secret,
				given->key_epoch_counters);
	if (rc < 0) {
		free(s);
		errno = -rc;
		return NULL;
	}
	/* The sizes and thresholds only; the secret stays with the caller. */
	par = *given;
	memset(par.secret, 0, sizeof(par.secret));
	moat_syn_params_size(&par);
	s->nflows = par.flows;
	s->nholds = par.holds;
	s->rtx = moat_syn_rtx_create(par.rtx_slots, s->keys.hash_seed);
	s->backend = moat_syn_backend_create(par.backend_slots,
					     s->keys.hash_seed);
	s->modes = moat_syn_mode_create(par.mode_slots, &par.mode,
					s->keys.hash_seed);
	s->flows = calloc(s->nflows, sizeof(s->flows[0]));
	s->holds = calloc(s->nholds, sizeof(s->holds[0]));
	if (!s->rtx || !s->backend || !s->modes || !s->flows || !s->holds) {
		moat_syn_destroy(s);
		goto nomem;
	}
	pools_init(s);
	return s;
nomem:
	errno = ENOMEM;
	return NULL;
}

void moat_syn_destroy(struct moat_syn *s)
{
	if (!s)
		return;
	free(s->holds);
	free(s->flows);
	moat_syn_mode_destroy(s->modes);
	moat_syn_backend_destroy(s->backend);
	moat_syn_rtx_destroy(s->rtx);
	moat_syn_keys_fini(&s->keys);
	free(s);
}

void moat_syn_set_mode(struct moat_syn *s,
		       const struct moat_syn_mode_params *mode)
{
	moat_syn_mode_set(s->modes, mode);
}

struct moat_syn_keys *moat_syn_keys(struct moat_syn *s) { return &s->keys; }
struct moat_syn_rtx *moat_syn_rtx(struct moat_syn *s) { return s->rtx; }
struct moat_syn_backend *moat_syn_backends(struct moat_syn *s)
{
	return s->backend;
}
struct moat_syn_modes *moat_syn_modes(struct moat_syn *s) { return s->modes; }
uint32_t moat_syn_flows_active(const struct moat_syn *s)
{
	return s->flows_active;
}
uint32_t moat_syn_holds_free(const struct moat_syn *s)
{
	return s->holds_free;
}

void moat_syn_learn(struct moat_syn *s, const struct moat_pkt *p,
		    uint64_t now_ns)
{
	moat_syn_backend_learn(s->backend, p, now_ns);
}

static void tuple_of(const struct moat_pkt *p, struct moat_syn_tuple *t)
{
	t->src = p->src;
	t->dst = p->dst;
	t->sport = p->sport;
	t->dport = p->dport;
}

/* What the client's SYN offers (RFC 9293 3.7.1: no MSS option = 536). */
static void client_of_syn(const struct moat_pkt *p, struct moat_syn_client *c)
{
	const struct moat_tcp_opts *o = &p->opt;

	memset(c, 0, sizeof(*c));
	c->isn = p->seq;
	c->mss = (o->present & MOAT_TCPOPT_MSS) ? o->mss
		 : p->ipv == 6 ? MOAT_SYN_DEFAULT_MSS6 : MOAT_SYN_DEFAULT_MSS4;
	c->wscale = (o->present & MOAT_TCPOPT_WSCALE) ? o->wscale
						       : MOAT_SYN_WSCALE_NONE;
	c->sack_ok = (o->present & MOAT_TCPOPT_SACK_PERM) != 0;
	c->ts_ok = (o->present & MOAT_TCPOPT_TS) != 0;
	c->ecn_ok = (p->tcp_flags & (MOAT_TCP_ECE | MOAT_TCP_CWR)) ==
		    (MOAT_TCP_ECE | MOAT_TCP_CWR);
	c->tsval = o->tsval;
	c->our_wscale = MOAT_SYN_WSCALE_NONE;
}

/*
 * The cookie SYN-ACK's options: what both the client offered and the
 * server (as learned) honours.  Window scale, SACK and ECN survive the
 * cookie only inside our TSval, so without timestamps on both sides they
 * are not offered at all (see doc/synproxy.md).
 */
static void synack_options(struct moat_syn *s, struct moat_syn_rtx_entry *r,
			   uint64_t now_ns)
{
	struct moat_syn_backend_opts b;
	struct moat_syn_client *c = &r->c;
	struct moat_tcp_opts *o = &r->opt;

	moat_syn_backend_get(s->backend, &r->t.dst, r->t.dport, &b);
	memset(o, 0, sizeof(*o));
	o->present = MOAT_TCPOPT_MSS;
	o->mss = b.mss;
	r->flags = MOAT_TCP_SYN | MOAT_TCP_ACK;
	if (!(c->ts_ok && b.ts_ok)) {
		c->ts_ok = c->sack_ok = c->ecn_ok = false;
		c->wscale = MOAT_SYN_WSCALE_NONE;
	}
	if (!b.sack_ok)
		c->sack_ok = false;
	if (!b.ecn_ok)
		c->ecn_ok = false;
	if (b.wscale == MOAT_SYN_WSCALE_NONE)
		c->wscale = MOAT_SYN_WSCALE_NONE;
	if (c->wscale != MOAT_SYN_WSCALE_NONE) {
		o->present |= MOAT_TCPOPT_WSCALE;
		o->wscale = b.wscale;
	}
	if (c->sack_ok)
		o->present |= MOAT_TCPOPT_SACK_PERM;
	if (c->ecn_ok)
		r->flags |= MOAT_TCP_ECE;
	if (c->ts_ok) {
		o->present |= MOAT_TCPOPT_TS;
		o->tsval = moat_syn_ts_encode(&s->keys, now_ns, c);
		o->tsecr = c->tsval;
	}
}

enum moat_reason moat_syn_answer_syn(struct moat_syn *s,
				     const struct moat_pkt *p, int in_zone,
				     uint64_t now_ns, struct moat_emit *out)
{
	struct moat_syn_rtx_entry r;
	uint32_t win;

	memset(&r, 0, sizeof(r));
	tuple_of(p, &r.t);
	client_of_syn(p, &r.c);
	synack_options(s, &r, now_ns);
	r.cookie = moat_syn_cookie_make(&s->keys, &r.t, r.c.isn, r.c.mss,
					now_ns);
	/* A real window: room for the segments we will hold, never zero. */
	win = (uint32_t)MOAT_SYN_HOLD_PER_FLOW * r.opt.mss;
	r.win = (uint16_t)(win > 65535 ? 65535 : win);
	syn_l2_of(p, true, &r.l2);
	r.linktype = p->linktype;
	r.zone = (int16_t)in_zone;
	r.first_ns = now_ns;
	if (syn_emit_synack(out, &r) != MOAT_R_NONE)
		return MOAT_R_EMIT_FULL;
	moat_syn_rtx_record(s->rtx, &r);
	return MOAT_R_SYN_COOKIE_SENT;
}

/* The window scale our SYN-ACK announced: remembered if still in the
 * retransmit table, else what the same options give now. */
static uint8_t announced_wscale(struct moat_syn *s,
				const struct moat_syn_tuple *t,
				const struct moat_syn_client *c,
				uint32_t cookie)
{
	const struct moat_syn_rtx_entry *r = moat_syn_rtx_find(s->rtx, t);
	struct moat_syn_backend_opts b;

	if (r && r->cookie == cookie)
		return (r->opt.present & MOAT_TCPOPT_WSCALE)
			       ? r->opt.wscale : MOAT_SYN_WSCALE_NONE;
	if (c->wscale == MOAT_SYN_WSCALE_NONE)
		return MOAT_SYN_WSCALE_NONE;
	moat_syn_backend_get(s->backend, &t->dst, t->dport, &b);
	return b.ts_ok ? b.wscale : MOAT_SYN_WSCALE_NONE;
}

enum moat_reason moat_syn_check_ack(struct moat_syn *s,
				    const struct moat_pkt *p, uint64_t now_ns,
				    struct moat_syn_client *c)
{
	const uint8_t bad = MOAT_TCP_SYN | MOAT_TCP_RST;
	struct moat_syn_tuple t;
	enum moat_reason r;
	uint32_t cookie = p->ack - 1;

	if ((p->tcp_flags & bad) || !(p->tcp_flags & MOAT_TCP_ACK))
		return MOAT_R_SYN_COOKIE_BAD;
	tuple_of(p, &t);
	memset(c, 0, sizeof(*c));
	c->isn = p->seq - 1;
	r = moat_syn_cookie_check(&s->keys, &t, c->isn, cookie, now_ns,
				  &c->mss);
	if (r != MOAT_R_NONE)
		return r;
	if (p->opt.present & MOAT_TCPOPT_TS) {
		c->ts_ok = true;
		c->tsval = p->opt.tsval;
		c->tsecr = p->opt.tsecr;
		moat_syn_ts_decode(p->opt.tsecr, c);
	} else {
		c->wscale = MOAT_SYN_WSCALE_NONE;
	}
	c->our_wscale = announced_wscale(s, &t, c, cookie);
	if (c->our_wscale == MOAT_SYN_WSCALE_NONE)
		c->wscale = MOAT_SYN_WSCALE_NONE;
	moat_syn_rtx_clear(s->rtx, &t);
	return MOAT_R_NONE;
}

static struct syn_flow *flow_alloc(struct moat_syn *s, uint32_t *idx)
{
	struct syn_flow *f;

	if (s->flow_free == SYN_NIL)
		return NULL;
	*idx = s->flow_free;
	f = &s->flows[*idx];
	s->flow_free = f->next_free;
	memset(f, 0, sizeof(*f));
	f->hold_head = f->hold_tail = SYN_NIL;
	f->used = true;
	s->flows_active++;
	return f;
}

static void flow_free(struct moat_syn *s, struct syn_flow *f)
{
	uint32_t idx = (uint32_t)(f - s->flows);

	syn_hold_free_all(s, f);
	if (f->e && f->e->aux == idx + 1)
		f->e->aux = 0;
	f->used = false;
	f->e = NULL;
	f->next_free = s->flow_free;
	s->flow_free = idx;
	s->flows_active--;
}

/* @f belongs to @e, and @e still is that flow (conntrack may evict). */
static bool flow_matches(const struct moat_syn *s, const struct syn_flow *f,
			 const struct moat_ct_entry *e)
{
	return f->used && f->e == e && e->state == MOAT_CT_SYNPROXY &&
	       e->aux == (uint32_t)(f - s->flows) + 1 &&
	       e->port[0] == f->t.sport && e->port[1] == f->t.dport &&
	       moat_addr_eq(&e->addr[0], &f->t.src) &&
	       moat_addr_eq(&e->addr[1], &f->t.dst);
}

static struct syn_flow *flow_of(struct moat_syn *s,
				const struct moat_ct_entry *e)
{
	struct syn_flow *f;

	if (e->aux == 0 || e->aux > s->nflows)
		return NULL;
	f = &s->flows[e->aux - 1];
	return flow_matches(s, f, e) ? f : NULL;
}

/* Data or FIN take sequence space; what the client will send next. */
static uint32_t seg_end(const struct moat_pkt *p)
{
	return p->seq + p->payload_len + ((p->tcp_flags & MOAT_TCP_FIN) ? 1 : 0);
}

static bool has_data(const struct moat_pkt *p)
{
	return p->payload_len > 0 || (p->tcp_flags & MOAT_TCP_FIN);
}

static enum moat_reason open_fail(struct moat_syn *s, struct moat_ct *ct,
				  struct moat_ct_entry *e, struct syn_flow *f,
				  enum moat_reason why)
{
	if (f)
		flow_free(s, f);
	moat_ct_remove(ct, e);
	return why;
}

enum moat_reason moat_syn_open_server(struct moat_syn *s, struct moat_ct *ct,
				      struct moat_ct_entry *e,
				      const struct moat_pkt *p,
				      const struct moat_syn_client *c,
				      int in_zone, int out_zone,
				      uint64_t now_ns, struct moat_emit *out)
{
	struct syn_flow *f;
	uint32_t idx;

	f = flow_alloc(s, &idx);
	if (!f)
		return open_fail(s, ct, e, NULL, MOAT_R_SYN_PROXY_HOLD_FULL);
	f->e = e;
	e->aux = idx + 1;
	tuple_of(p, &f->t);
	f->c = *c;
	f->cookie = p->ack - 1;
	f->client_next = seg_end(p);
	f->client_win = p->win;
	syn_l2_of(p, false, &f->l2);
	f->linktype = p->linktype;
	f->zone_client = (int16_t)in_zone;
	f->zone_server = (int16_t)out_zone;
	f->start_ns = now_ns;
	if (has_data(p) && !syn_hold_add(s, f, p))
		return open_fail(s, ct, e, f, MOAT_R_SYN_PROXY_HOLD_FULL);
	if (syn_emit_server_syn(out, f) != MOAT_R_NONE)
		return open_fail(s, ct, e, f, MOAT_R_EMIT_FULL);
	f->syns = 1;
	return has_data(p) ? MOAT_R_SYN_PROXY_HELD : MOAT_R_SYN_PROXY_CONSUMED;
}

static enum moat_reason client_segment(struct moat_syn *s, struct moat_ct *ct,
				       struct syn_flow *f,
				       const struct moat_pkt *p)
{
	if (p->tcp_flags & MOAT_TCP_RST) {
		/* The client gave up; the server's half-open connection, if
		 * our SYN reached it, times out on its own. */
		struct moat_ct_entry *e = f->e;

		flow_free(s, f);
		moat_ct_remove(ct, e);
		return MOAT_R_SYN_PROXY_CONSUMED;
	}
	if (p->tcp_flags & MOAT_TCP_SYN)
		return MOAT_R_TCP_BAD_STATE;
	if (p->tcp_flags & MOAT_TCP_ACK)
		f->client_win = p->win;
	if (p->opt.present & MOAT_TCPOPT_TS)
		f->c.tsval = p->opt.tsval;
	if (!has_data(p))
		return MOAT_R_SYN_PROXY_CONSUMED;
	if (!syn_hold_add(s, f, p))
		return MOAT_R_SYN_PROXY_HOLD_FULL;
	if ((int32_t)(seg_end(p) - f->client_next) > 0)
		f->client_next = seg_end(p);
	return MOAT_R_SYN_PROXY_HELD;
}

/* Window scale actually in force for each side once the server answered. */
static void shifts(const struct syn_flow *f, const struct moat_pkt *synack,
		   uint8_t *client, uint8_t *told, uint8_t *server)
{
	bool client_scales = f->c.our_wscale != MOAT_SYN_WSCALE_NONE &&
			     f->c.wscale != MOAT_SYN_WSCALE_NONE;
	bool server_scales = client_scales &&
			     (synack->opt.present & MOAT_TCPOPT_WSCALE);

	*client = client_scales ? f->c.wscale : 0;
	*told = client_scales ? f->c.our_wscale : 0;
	*server = server_scales ? synack->opt.wscale : 0;
}

/*
 * Conntrack learns the server's handshake the way it learns any: from the
 * packets.  The SYN and the ACK we sent are rebuilt here (link type RAW,
 * on the stack) and tracked with the server's SYN-ACK between them, before
 * any delta is set (they are all in the server's sequence space), so the
 * flow reaches ESTABLISHED with both sides' windows and scales known.
 */
static enum moat_reason track_spec(struct moat_ct *ct,
				   struct moat_ct_entry *e, int dir,
				   const struct moat_tcp_spec *spec,
				   uint64_t now_ns)
{
	uint8_t buf[160];
	struct moat_pkt v;
	uint32_t len;

	len = moat_pkt_build_tcp(buf, sizeof(buf), MOAT_LINK_RAW, NULL, spec);
	if (len == 0 ||
	    moat_pkt_decode(&v, buf, len, len, MOAT_LINK_RAW) != MOAT_R_NONE)
		return MOAT_R_TCP_BAD_STATE;
	return moat_ct_track(ct, e, dir, &v, now_ns);
}

static bool track_handshake(struct moat_ct *ct, struct moat_ct_entry *e,
			    const struct syn_flow *f,
			    const struct moat_pkt *synack,
			    const struct moat_tcp_spec *ack, uint64_t now_ns)
{
	struct moat_tcp_spec syn;

	syn_server_syn_spec(f, &syn);
	moat_ct_set_state(ct, e, MOAT_CT_SYN_SENT, now_ns);
	return track_spec(ct, e, MOAT_CT_ORIG, &syn, now_ns) ==
		       MOAT_R_STATE_MATCH &&
	       moat_ct_track(ct, e, MOAT_CT_REPLY, synack, now_ns) ==
		       MOAT_R_STATE_MATCH &&
	       track_spec(ct, e, MOAT_CT_ORIG, ack, now_ns) ==
		       MOAT_R_STATE_MATCH &&
	       e->state == MOAT_CT_ESTABLISHED;
}

/* The ACK that completes the server's handshake: our TSecr is the server's
 * own TSval, so its PAWS/TSecr check passes (RFC 7323 section 3.2). */
static void ack_server_spec(const struct syn_flow *f,
			    const struct moat_pkt *synack,
			    struct moat_tcp_spec *out)
{
	struct moat_tcp_spec spec = { 0 };

	spec.src = f->t.src;
	spec.dst = f->t.dst;
	spec.sport = f->t.sport;
	spec.dport = f->t.dport;
	spec.seq = f->c.isn + 1;
	spec.ack = synack->seq + 1;
	spec.flags = MOAT_TCP_ACK;
	spec.win = f->client_win;
	if (f->c.ts_ok && (synack->opt.present & MOAT_TCPOPT_TS)) {
		spec.opt.present = MOAT_TCPOPT_TS;
		spec.opt.tsval = f->c.tsval;
		spec.opt.tsecr = synack->opt.tsval;
	}
	*out = spec;
}

static enum moat_reason server_synack(struct moat_syn *s, struct moat_ct *ct,
				      struct syn_flow *f, struct moat_pkt *p,
				      uint64_t now_ns, struct moat_emit *out)
{
	struct moat_ct_entry *e = f->e;
	uint8_t cshift, told, sshift;
	struct moat_tcp_spec ack;

	ack_server_spec(f, p, &ack);
	/* No room to answer: the server retransmits its SYN-ACK. */
	if (out->count >= MOAT_EMIT_MAX)
		return MOAT_R_EMIT_FULL;
	moat_syn_backend_learn(s->backend, p, now_ns);
	if (!track_handshake(ct, e, f, p, &ack, now_ns)) {
		syn_emit_client_rst(out, f);
		flow_free(s, f);
		moat_ct_remove(ct, e);
		return MOAT_R_TCP_BAD_STATE;
	}
	syn_emit_tcp(out, f->linktype, &f->l2, f->zone_server, &ack);
	e->seq_delta[MOAT_CT_ORIG] = 0;
	e->seq_delta[MOAT_CT_REPLY] = f->cookie - p->seq;
	e->ts_delta[MOAT_CT_ORIG] = 0;
	e->ts_delta[MOAT_CT_REPLY] =
		f->c.ts_ok && (p->opt.present & MOAT_TCPOPT_TS)
			? f->c.tsecr - p->opt.tsval : 0;
	shifts(f, p, &cshift, &told, &sshift);
	/* Low nibble: the server's shift; high: the one the client was told
	 * (window_out = window << low >> high, REPLY packets only). */
	e->wscale_fix = sshift == told ? 0 : (uint8_t)(told << 4 | sshift);
	e->flags |= MOAT_CT_F_SYNPROXY;
	syn_hold_release(s, ct, f, e, now_ns, out);
	flow_free(s, f);
	return MOAT_R_SYN_PROXY_CONSUMED;
}

static enum moat_reason server_segment(struct moat_syn *s, struct moat_ct *ct,
				       struct syn_flow *f, struct moat_pkt *p,
				       uint64_t now_ns, struct moat_emit *out)
{
	const uint8_t synack = MOAT_TCP_SYN | MOAT_TCP_ACK;
	struct moat_ct_entry *e = f->e;

	/* Only what answers our SYN (RFC 9293 3.10.7.3: ACK = ISN + 1). */
	if (!(p->tcp_flags & MOAT_TCP_ACK) || p->ack != f->c.isn + 1)
		return MOAT_R_TCP_BAD_STATE;
	if (p->tcp_flags & MOAT_TCP_RST) {
		syn_emit_client_rst(out, f);
		flow_free(s, f);
		moat_ct_remove(ct, e);
		return MOAT_R_SYN_PROXY_SERVER_RST;
	}
	if ((p->tcp_flags & (synack | MOAT_TCP_FIN)) != synack)
		return MOAT_R_TCP_BAD_STATE;
	return server_synack(s, ct, f, p, now_ns, out);
}

enum moat_reason moat_syn_segment(struct moat_syn *s, struct moat_ct *ct,
				  struct moat_ct_entry *e, int dir,
				  struct moat_pkt *p, uint64_t now_ns,
				  struct moat_emit *out)
{
	struct syn_flow *f = flow_of(s, e);

	if (!f || p->proto != MOAT_IPPROTO_TCP)
		return MOAT_R_TCP_BAD_STATE;
	if (dir == MOAT_CT_ORIG)
		return client_segment(s, ct, f, p);
	return server_segment(s, ct, f, p, now_ns, out);
}

void moat_syn_flow_xlate(const struct moat_ct_entry *e, int dir,
			 struct moat_syn_xlate *x)
{
	int other = dir == MOAT_CT_ORIG ? MOAT_CT_REPLY : MOAT_CT_ORIG;

	x->seq = e->seq_delta[dir];
	x->ack = 0u - e->seq_delta[other];
	x->tsval = e->ts_delta[dir];
	x->tsecr = 0u - e->ts_delta[other];
	x->win_shl = x->win_shr = 0;
	if (dir == MOAT_CT_REPLY && e->wscale_fix) {
		x->win_shl = e->wscale_fix & 0xf;
		x->win_shr = e->wscale_fix >> 4;
	}
}

bool moat_syn_translate_flow(const struct moat_ct_entry *e, int dir,
			     struct moat_pkt *p)
{
	struct moat_syn_xlate x;

	moat_syn_flow_xlate(e, dir, &x);
	return moat_syn_translate(p, &x);
}

static void tick_synacks(struct moat_syn *s, uint64_t now_ns,
			 struct moat_emit *out,
			 struct moat_syn_tick_report *rep)
{
	struct moat_syn_rtx_entry due[MOAT_EMIT_MAX];
	uint32_t room = MOAT_EMIT_MAX - out->count, n, i;

	if (out->count >= MOAT_EMIT_MAX)
		return;
	n = moat_syn_rtx_due(s->rtx, now_ns, due, room);
	for (i = 0; i < n; i++)
		if (syn_emit_synack(out, &due[i]) == MOAT_R_NONE)
			rep->synack_rtx++;
}

/* One handshake slot's timers; false when the emit buffer is full. */
static bool tick_flow(struct moat_syn *s, struct moat_ct *ct,
		      struct syn_flow *f, uint64_t now_ns,
		      struct moat_emit *out, struct moat_syn_tick_report *rep)
{
	struct moat_ct_entry *e = f->e;
	uint64_t age = now_ns - f->start_ns;

	if (!e || !flow_matches(s, f, e)) {
		/* Conntrack removed or reused the entry: not ours to touch. */
		f->e = NULL;
		flow_free(s, f);
		return true;
	}
	if (age >= MOAT_SYN_SERVER_TIMEOUT_MS * MS) {
		if (syn_emit_client_rst(out, f) != MOAT_R_NONE)
			return false;
		flow_free(s, f);
		moat_ct_remove(ct, e);
		rep->server_timeouts++;
	} else if (f->syns == 1 && age >= MOAT_SYN_SERVER_RTX_MS * MS) {
		if (syn_emit_server_syn(out, f) != MOAT_R_NONE)
			return false;
		f->syns = 2;
		rep->syn_rtx++;
	}
	return true;
}

void moat_syn_tick(struct moat_syn *s, struct moat_ct *ct, uint64_t now_ns,
		   struct moat_emit *out, struct moat_syn_tick_report *rep)
{
	uint32_t i;

	memset(rep, 0, sizeof(*rep));
	moat_syn_keys_advance(&s->keys, now_ns);
	tick_synacks(s, now_ns, out, rep);
	for (i = 0; i < s->nflows && s->flows_active; i++) {
		if (s->flows[i].used &&
		    !tick_flow(s, ct, &s->flows[i], now_ns, out, rep))
			rep->deferred++;
	}
	rep->mode_events = moat_syn_mode_tick(s->modes, now_ns, rep->ev,
					      MOAT_SYN_TICK_EVENTS);
}
