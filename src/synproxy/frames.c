/*
 * The packets the SYN proxy sends: the cookie SYN-ACK to the client, the
 * SYN and the ACK to the server, the RST to the client when the server
 * refuses or stays silent.
 *
 * On the packet's path these are appended to the caller's struct
 * moat_emit.  Link addresses come from the frames of the flow (bridge
 * mode: a frame towards the client swaps the addresses of a frame from
 * it), VLAN tags are kept; a full emit buffer is MOAT_R_EMIT_FULL.
 */
#include <string.h>

#include "proxy_internal.h"

enum { ETH_ADDR = 6 };

void syn_l2_of(const struct moat_pkt *p, bool swap, struct moat_l2 *l2)
{
	memset(l2, 0, sizeof(*l2));
	if (p->linktype == MOAT_LINK_ETHERNET && p->caplen >= 2 * ETH_ADDR) {
		memcpy(swap ? l2->src : l2->dst, p->frame, ETH_ADDR);
		memcpy(swap ? l2->dst : l2->src, p->frame + ETH_ADDR, ETH_ADDR);
	}
	l2->vlan_count = p->vlan_count;
	memcpy(l2->vlan, p->vlan, sizeof(l2->vlan));
}

void syn_l2_swap(const struct moat_l2 *in, struct moat_l2 *out)
{
	*out = *in;
	memcpy(out->dst, in->src, ETH_ADDR);
	memcpy(out->src, in->dst, ETH_ADDR);
}

enum moat_reason syn_emit_tcp(struct moat_emit *out, int linktype,
			      const struct moat_l2 *l2, int zone,
			      const struct moat_tcp_spec *spec)
{
	struct moat_emit_frame *f = moat_emit_next(out);
	uint32_t len;

	if (!f)
		return MOAT_R_EMIT_FULL;
	len = moat_pkt_build_tcp(f->data, sizeof(f->data), linktype, l2, spec);
	if (len == 0)
		return MOAT_R_EMIT_FULL;
	f->len = (uint16_t)len;
	f->out_zone = (int16_t)zone;
	f->linktype = (uint16_t)linktype;
	moat_emit_commit(out);
	return MOAT_R_NONE;
}

enum moat_reason syn_emit_synack(struct moat_emit *out,
				 const struct moat_syn_rtx_entry *r)
{
	struct moat_tcp_spec spec = { 0 };

	spec.src = r->t.dst;
	spec.dst = r->t.src;
	spec.sport = r->t.dport;
	spec.dport = r->t.sport;
	spec.seq = r->cookie;
	spec.ack = r->c.isn + 1;
	spec.flags = r->flags;
	spec.win = r->win;
	spec.opt = r->opt;
	return syn_emit_tcp(out, r->linktype, &r->l2, r->zone, &spec);
}

/* The client's window as a SYN carries it: unscaled, at most 65535. */
static uint16_t syn_window(const struct syn_flow *f)
{
	uint32_t shift = f->c.our_wscale != MOAT_SYN_WSCALE_NONE &&
				 f->c.wscale != MOAT_SYN_WSCALE_NONE
			 ? f->c.wscale : 0;
	uint64_t w = (uint64_t)f->client_win << shift;

	if (w == 0)
		return 1;
	return w > 65535 ? 65535 : (uint16_t)w;
}

void syn_server_syn_spec(const struct syn_flow *f, struct moat_tcp_spec *out)
{
	struct moat_tcp_spec spec = { 0 };

	spec.src = f->t.src;
	spec.dst = f->t.dst;
	spec.sport = f->t.sport;
	spec.dport = f->t.dport;
	spec.seq = f->c.isn;
	spec.flags = MOAT_TCP_SYN;
	/* RFC 3168 section 6.1.1: an ECN-setup SYN carries ECE and CWR. */
	if (f->c.ecn_ok)
		spec.flags |= MOAT_TCP_ECE | MOAT_TCP_CWR;
	spec.win = syn_window(f);
	spec.opt.present = MOAT_TCPOPT_MSS;
	spec.opt.mss = f->c.mss;
	/* The client scales its windows only if our SYN-ACK announced a
	 * scale; the server must then know the client's shift. */
	if (f->c.our_wscale != MOAT_SYN_WSCALE_NONE &&
	    f->c.wscale != MOAT_SYN_WSCALE_NONE) {
		spec.opt.present |= MOAT_TCPOPT_WSCALE;
		spec.opt.wscale = f->c.wscale;
	}
	if (f->c.sack_ok)
		spec.opt.present |= MOAT_TCPOPT_SACK_PERM;
	if (f->c.ts_ok) {
		/* The client's own clock: its later TSvals pass unchanged. */
		spec.opt.present |= MOAT_TCPOPT_TS;
		spec.opt.tsval = f->c.tsval;
	}
	*out = spec;
}

enum moat_reason syn_emit_server_syn(struct moat_emit *out,
				     const struct syn_flow *f)
{
	struct moat_tcp_spec spec;

	syn_server_syn_spec(f, &spec);
	return syn_emit_tcp(out, f->linktype, &f->l2, f->zone_server, &spec);
}

enum moat_reason syn_emit_client_rst(struct moat_emit *out,
				     const struct syn_flow *f)
{
	struct moat_tcp_spec spec = { 0 };
	struct moat_l2 l2;

	spec.src = f->t.dst;
	spec.dst = f->t.src;
	spec.sport = f->t.dport;
	spec.dport = f->t.sport;
	/* In the client's view our next SEQ is cookie + 1 (RFC 9293
	 * section 3.10.7.4: a RST is accepted at exactly RCV.NXT). */
	spec.seq = f->cookie + 1;
	spec.ack = f->client_next;
	spec.flags = MOAT_TCP_RST | MOAT_TCP_ACK;
	syn_l2_swap(&f->l2, &l2);
	return syn_emit_tcp(out, f->linktype, &l2, f->zone_client, &spec);
}
