/*
 * moat_pkt_decode(): the first stage of the packet's path.  It resets the
 * view, then hands the frame to one decoder per layer (l2.c, ipv4.c or
 * ipv6.c, then tcp.c, udp.c or icmp.c), stopping at the first layer that
 * refuses the frame.  The per-layer files hold the protocol knowledge; this
 * file only holds the order.
 */
#include "pkt/internal.h"

/*
 * Clear what every decode must clear, field by field rather than a memset of
 * the ~250-byte struct: the address bytes, SACK blocks and the ICMP quote
 * stay stale and are guarded by flags (see "Validity" in pkt.h).  The
 * compiler merges these stores into a handful of wide ones.
 */
static void reset_view(struct moat_pkt *p)
{
	p->ethertype = 0;
	p->vlan_count = 0;
	p->l3_off = p->l4_off = p->payload_off = 0;
	p->payload_len = p->l3_len = 0;
	p->have = 0;
	p->ipv = p->proto = p->ttl = p->tos = p->frag = 0;
	p->frag_off = p->frag_data_off = 0;
	p->frag_id = 0;
	p->src.family = p->dst.family = MOAT_AF_NONE;
	p->sport = p->dport = 0;
	p->seq = p->ack = 0;
	p->win = p->urp = 0;
	p->tcp_flags = p->tcp_hlen = 0;
	p->opt.present = p->opt.wscale = 0;
	p->opt.mss = 0;
	p->opt.ts_off = p->opt.sack_off = p->opt.sack_count = 0;
	p->icmp_type = p->icmp_code = 0;
	p->icmp_id = p->icmp_seq = 0;
	p->inner.present = false;
}

static enum moat_reason decode_l4(struct moat_pkt *p,
				  const struct pkt_bounds *b)
{
	/* A later fragment starts mid-payload: there is no header to read. */
	if (p->frag & MOAT_FRAG_LATER)
		return MOAT_R_NONE;
	switch (p->proto) {
	case MOAT_IPPROTO_TCP:
		return moat_pkt_decode_tcp(p, b);
	case MOAT_IPPROTO_UDP:
		return moat_pkt_decode_udp(p, b);
	case MOAT_IPPROTO_ICMP:
		if (p->ipv != 4)
			return MOAT_R_NONE;
		return moat_pkt_decode_icmp(p, b);
	case MOAT_IPPROTO_ICMPV6:
		if (p->ipv != 6)
			return MOAT_R_NONE;
		return moat_pkt_decode_icmp(p, b);
	default:
		/* Other upper layers (ESP, GRE, SCTP...) pass as opaque. */
		return MOAT_R_NONE;
	}
}

enum moat_reason moat_pkt_decode(struct moat_pkt *p, uint8_t *frame,
				 uint32_t caplen, uint32_t wirelen,
				 int linktype)
{
	struct pkt_bounds b;
	enum moat_reason r;

	reset_view(p);
	p->frame = frame;
	p->caplen = caplen;
	p->wirelen = wirelen < caplen ? caplen : wirelen;
	p->linktype = (uint16_t)linktype;
	if (linktype < 0 || linktype > 0xffff)
		return MOAT_R_L2_UNKNOWN_LINKTYPE;

	r = moat_pkt_decode_l2(p);
	if (r != MOAT_R_NONE)
		return r;
	if (p->ethertype == ETH_P_IPV4)
		r = moat_pkt_decode_ipv4(p, &b);
	else if (p->ethertype == ETH_P_IPV6)
		r = moat_pkt_decode_ipv6(p, &b);
	else
		return MOAT_R_NONE; /* non-IP: ARP, LLDP...; ipv stays 0 */
	if (r != MOAT_R_NONE)
		return r;
	return decode_l4(p, &b);
}
