/*
 * UDP header (RFC 768).  Third step of decode for datagrams: ports and the
 * length, which must agree with the IP length (it may be shorter: the rest
 * is then not UDP payload and is ignored, as the kernel does).
 */
#include "pkt/l4.h"

enum { UDP_HLEN = 8 };

enum moat_reason moat_pkt_decode_udp(struct moat_pkt *p,
				     const struct pkt_bounds *b)
{
	const uint8_t *h = p->frame + p->l4_off;
	uint32_t ulen, room = b->ip_end - p->l4_off;
	enum moat_reason r;

	r = l4_header_fits(p, b, UDP_HLEN);
	if (r != MOAT_R_NONE)
		return r;
	p->sport = rd16(h);
	p->dport = rd16(h + 2);
	p->have |= MOAT_PKT_HAVE_L4;
	ulen = rd16(h + 4);
	/* A fragment's UDP length covers the reassembled datagram. */
	if (!(p->frag & MOAT_FRAG_IS) && (ulen < UDP_HLEN || ulen > room))
		return MOAT_R_UDP_BAD_LEN;
	p->payload_off = (uint16_t)(p->l4_off + UDP_HLEN);
	if (p->frag & MOAT_FRAG_IS)
		p->payload_len = (uint16_t)(room - UDP_HLEN);
	else
		p->payload_len = (uint16_t)(ulen - UDP_HLEN);
	/* Port 0 is reserved as a destination; as a source it means "no
	 * reply expected" (RFC 768), which is legal. */
	if (p->dport == 0)
		return MOAT_R_UDP_BAD_PORT;
	return MOAT_R_NONE;
}
