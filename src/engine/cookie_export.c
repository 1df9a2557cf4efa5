/*
 * The engine's cookie decisions, exported for a fast path in front of it
 * (moat/engine.h, struct moat_engine_cookie_dst): the XDP program answers
 * a destination's SYNs only after the engine has answered one with a
 * cookie, and stops when the engine would.
 *
 * Off the packet's path except for one compare and a copy when the engine
 * answers a SYN with a cookie (synproxy_glue.c) while the export is on;
 * the I/O side drains the ring between batches.  Nothing allocates: the
 * ring lives in the engine.
 */
#include <errno.h>

#include "engine/engine_impl.h"
#include "moat/syn_proxy.h"

void moat_engine_cookie_export(struct moat_engine *e, bool on)
{
	e->cx.on = on;
	e->cx.head = e->cx.count = 0;
	e->cx.lost = false;
}

static bool same_answer(const struct moat_engine_cookie_dst *a,
			const struct moat_engine_cookie_dst *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* Append @r; @lossy records may be dropped when the ring is full (they
 * come again), the others turn into `all`. */
static void push(struct moat_engine *e, const struct moat_engine_cookie_dst *r,
		 bool lossy)
{
	int last = (e->cx.head + e->cx.count - 1) % MOAT_ENGINE_COOKIE_RING;

	if (!e->cx.on)
		return;
	/* The SYNs of one destination come in runs: one record a run. */
	if (e->cx.count && same_answer(&e->cx.ring[last], r))
		return;
	if (e->cx.count == MOAT_ENGINE_COOKIE_RING) {
		if (!lossy)
			e->cx.lost = true;
		return;
	}
	e->cx.ring[(e->cx.head + e->cx.count) % MOAT_ENGINE_COOKIE_RING] = *r;
	e->cx.count++;
}

static void key_of(struct moat_syn_dst_key *k, const struct moat_addr *dst,
		   uint16_t port)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, dst->b, sizeof(k->addr));
	k->port = port;
	k->family = dst->family;
}

void moat_engine_cookie_answered(struct moat_engine *e,
				 const struct moat_pkt *p)
{
	struct moat_engine_cookie_dst r;
	struct moat_syn_backend_opts b;

	if (!e->cx.on)
		return;
	moat_syn_backend_get(moat_syn_backends(e->syn), &p->dst, p->dport, &b);
	/* Until the server is learned the engine's probes (one SYN a
	 * second, moat/syn_decide.h PROBE) must keep reaching it. */
	if (!b.known)
		return;
	memset(&r, 0, sizeof(r));
	key_of(&r.key, &p->dst, p->dport);
	r.cookies = 1;
	r.mss = b.mss;
	r.wscale = b.wscale;
	r.sack_ok = b.sack_ok;
	r.ts_ok = b.ts_ok;
	r.ecn_ok = b.ecn_ok;
	push(e, &r, true);
}

void moat_engine_cookie_state(struct moat_engine *e,
			      const struct moat_addr *dst, uint16_t port)
{
	struct moat_engine_cookie_dst r;

	memset(&r, 0, sizeof(r));
	key_of(&r.key, dst, port);
	push(e, &r, false);
}

void moat_engine_cookie_all_off(struct moat_engine *e)
{
	struct moat_engine_cookie_dst r;

	memset(&r, 0, sizeof(r));
	r.all = 1;
	push(e, &r, false);
}

int moat_engine_cookie_dsts_drain(struct moat_engine *e,
				  struct moat_engine_cookie_dst *out, int max)
{
	int n = 0;

	if (max <= 0)
		return 0;
	if (e->cx.lost) {
		/* Whatever was lost, nothing before this is to be trusted. */
		memset(&out[n], 0, sizeof(out[n]));
		out[n++].all = 1;
		e->cx.lost = false;
		e->cx.head = e->cx.count = 0;
	}
	while (n < max && e->cx.count) {
		out[n++] = e->cx.ring[e->cx.head];
		e->cx.head = (e->cx.head + 1) % MOAT_ENGINE_COOKIE_RING;
		e->cx.count--;
	}
	return n;
}

void moat_engine_cookie_key(const struct moat_engine *e, uint64_t epoch,
			    uint8_t key[16], uint32_t *ts_offset,
			    uint32_t *epoch_counters)
{
	const struct moat_syn_keys *k = moat_syn_keys(e->syn);

	moat_syn_keys_derive(k, epoch, key);
	*ts_offset = k->ts_offset;
	*epoch_counters = k->epoch_counters;
}

int moat_engine_cookie_synack_sent(struct moat_engine *e, const uint8_t *frame,
				   uint32_t len, int zone, uint64_t now_ns)
{
	struct moat_syn_rtx_entry r;
	struct moat_pkt p;

	if (moat_pkt_decode(&p, (uint8_t *)frame, len, len,
			    MOAT_LINK_ETHERNET) != MOAT_R_NONE ||
	    p.proto != MOAT_IPPROTO_TCP ||
	    p.tcp_flags != (p.tcp_flags & (MOAT_TCP_SYN | MOAT_TCP_ACK |
					   MOAT_TCP_ECE)) ||
	    !(p.tcp_flags & MOAT_TCP_SYN) || !(p.tcp_flags & MOAT_TCP_ACK) ||
	    p.vlan_count || len < 14)
		return -EINVAL;
	/* The final ACK may have come before this record did (the ring is
	 * read between batches): its flow exists, nothing to resend. */
	int dir;

	if (moat_ct_lookup(e->ct, &p, &dir))
		return 1;
	/* What moat_syn_answer_syn() records for the SYN-ACK it sends:
	 * the tuple as the client's SYN carried it, the client's ISN, and
	 * the SYN-ACK itself, to be sent again as it was. */
	memset(&r, 0, sizeof(r));
	r.t.src = p.dst;
	r.t.dst = p.src;
	r.t.sport = p.dport;
	r.t.dport = p.sport;
	r.c.isn = p.ack - 1;
	r.c.tsval = p.opt.tsecr;
	r.c.ts_ok = (p.opt.present & MOAT_TCPOPT_TS) != 0;
	r.cookie = p.seq;
	r.flags = p.tcp_flags;
	r.win = p.win;
	r.opt = p.opt;
	r.opt.present &= (uint8_t)(MOAT_TCPOPT_MSS | MOAT_TCPOPT_WSCALE |
				   MOAT_TCPOPT_SACK_PERM | MOAT_TCPOPT_TS);
	memcpy(r.l2.dst, frame, 6);
	memcpy(r.l2.src, frame + 6, 6);
	r.linktype = MOAT_LINK_ETHERNET;
	r.zone = (int16_t)zone;
	r.first_ns = now_ns;
	moat_syn_rtx_record(moat_syn_rtx(e->syn), &r);
	return 0;
}
