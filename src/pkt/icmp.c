/*
 * ICMP (RFC 792) and ICMPv6 (RFC 4443).  Third step of decode for ICMP
 * messages: type and code, the echo identifier and sequence, and for error
 * messages the header of the packet they quote (p->inner), which is how
 * conntrack relates an error to the flow that caused it.
 *
 * A quote that cannot be decoded is not a reason to refuse the error itself:
 * routers quote what they like; inner.present tells the engine.
 */
#include "pkt/l4.h"

enum {
	ICMP_HLEN = 8,
	IP4_HLEN = 20,
	IP6_HLEN = 40,
	ICMP_ECHOREPLY = 0,
	ICMP_ECHO = 8,
	ICMP6_ECHO = 128,
	ICMP6_ECHOREPLY = 129,
};

/* Error types that quote the offending packet. */
static bool is_error(uint8_t ipv, uint8_t type)
{
	if (ipv == 4)
		return type == 3 || type == 4 || type == 5 || type == 11 ||
		       type == 12;
	return type >= 1 && type <= 4;
}

static bool is_echo(uint8_t ipv, uint8_t type)
{
	if (ipv == 4)
		return type == ICMP_ECHO || type == ICMP_ECHOREPLY;
	return type == ICMP6_ECHO || type == ICMP6_ECHOREPLY;
}

/*
 * The first bytes of the quoted L4 header: ports, TCP SEQ and ACK, echo
 * id.  RFC 792 promises only 8 bytes of it; RFC 1812 4.3.2.3 routers and
 * Linux quote as much as fits in 576 bytes, so the ACK (and the TCP
 * checksum, which a rewrite must keep right) is often there too.
 */
static void quote_l4(const struct moat_pkt *p, struct moat_pkt_inner *in,
		     const uint8_t *l4, uint32_t len)
{
	in->l4_off = (uint16_t)(l4 - p->frame);
	in->l4_len = (uint16_t)len;
	switch (in->proto) {
	case MOAT_IPPROTO_TCP:
	case MOAT_IPPROTO_UDP:
		if (len < 4)
			return;
		in->sport = rd16(l4);
		in->dport = rd16(l4 + 2);
		in->has_ports = true;
		if (in->proto == MOAT_IPPROTO_TCP && len >= 8) {
			in->seq = rd32(l4 + 4);
			in->has_seq = true;
		}
		if (in->proto == MOAT_IPPROTO_TCP && len >= 14 &&
		    (l4[13] & MOAT_TCP_ACK)) {
			in->ack = rd32(l4 + 8);
			in->has_ack = true;
		}
		return;
	case MOAT_IPPROTO_ICMP:
	case MOAT_IPPROTO_ICMPV6:
		if (len < 6)
			return;
		in->sport = in->dport = rd16(l4 + 4);
		in->has_ports = true;
		return;
	default:
		return;
	}
}

static void quote_ipv4(const struct moat_pkt *p, struct moat_pkt_inner *in,
		       const uint8_t *q, uint32_t len)
{
	uint32_t ihl;

	if (len < IP4_HLEN || (q[0] >> 4) != 4)
		return;
	ihl = (uint32_t)(q[0] & 0x0f) * 4;
	if (ihl < IP4_HLEN || ihl > len)
		return;
	in->ipv = 4;
	in->proto = q[9];
	moat_addr_from_v4(&in->src, q + 12);
	moat_addr_from_v4(&in->dst, q + 16);
	in->present = true;
	/* A later fragment quotes payload, not a header. */
	if ((rd16(q + 6) & 0x1fff) == 0)
		quote_l4(p, in, q + ihl, len - ihl);
}

static void quote_ipv6(const struct moat_pkt *p, struct moat_pkt_inner *in,
		       const uint8_t *q, uint32_t len)
{
	struct ip6_frag_info frag = { .seen = false };
	uint32_t off = IP6_HLEN;
	uint8_t nh;

	if (len < IP6_HLEN || (q[0] >> 4) != 6)
		return;
	in->ipv = 6;
	nh = q[6];
	moat_addr_from_v6(&in->src, q + 8);
	moat_addr_from_v6(&in->dst, q + 24);
	in->present = true;
	if (moat_pkt_ip6_walk(q, len, &nh, &off, &frag) != MOAT_R_NONE) {
		in->proto = q[6];   /* chain cut by the quote: no ports */
		return;
	}
	in->proto = nh;
	if (!(frag.seen && frag.off != 0))
		quote_l4(p, in, q + off, len - off);
}

static void decode_quote(struct moat_pkt *p, const struct pkt_bounds *b)
{
	uint32_t at = p->l4_off + ICMP_HLEN;
	const uint8_t *q = p->frame + at;
	uint32_t len = b->cap_end > at ? b->cap_end - at : 0;

	p->inner.has_ports = p->inner.has_seq = p->inner.has_ack = false;
	p->inner.sport = p->inner.dport = 0;
	p->inner.seq = p->inner.ack = 0;
	p->inner.l4_off = p->inner.l4_len = 0;
	if (p->ipv == 4)
		quote_ipv4(p, &p->inner, q, len);
	else
		quote_ipv6(p, &p->inner, q, len);
}

enum moat_reason moat_pkt_decode_icmp(struct moat_pkt *p,
				      const struct pkt_bounds *b)
{
	const uint8_t *h = p->frame + p->l4_off;
	enum moat_reason r;

	r = l4_header_fits(p, b, ICMP_HLEN);
	if (r != MOAT_R_NONE)
		return r;
	p->icmp_type = h[0];
	p->icmp_code = h[1];
	p->have |= MOAT_PKT_HAVE_L4;
	p->payload_off = (uint16_t)(p->l4_off + ICMP_HLEN);
	p->payload_len = (uint16_t)(b->ip_end - p->payload_off);
	if (is_echo(p->ipv, p->icmp_type)) {
		p->icmp_id = rd16(h + 4);
		p->icmp_seq = rd16(h + 6);
		p->sport = p->dport = p->icmp_id;
		/* RFC 792 / 4443 4.1: echo has code 0 and nothing else. */
		if (p->icmp_code != 0)
			return MOAT_R_ICMP_BAD_HEADER;
	} else if (is_error(p->ipv, p->icmp_type)) {
		decode_quote(p, b);
	}
	return MOAT_R_NONE;
}
