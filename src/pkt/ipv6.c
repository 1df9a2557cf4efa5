/*
 * IPv6 header and extension header chain (RFC 8200).  Second step of decode
 * for IPv6 frames: finds the upper-layer protocol behind at most
 * MOAT_IP6_EXTHDR_MAX extension headers, notes a fragment header, and sets
 * where L4 starts.  The walk is shared with the ICMPv6 quote parser.
 *
 *   +-------+---------------+---------------------------------------+
 *   |Version| Traffic Class |              Flow Label               |
 *   +-------+---------------+-------+---------------+---------------+
 *   |        Payload Length         |  Next Header  |   Hop Limit   |
 *   +-------------------------------+---------------+---------------+
 *   |            Source Address, Destination Address (16 + 16)      |
 */
#include "pkt/internal.h"

enum {
	IP6_HLEN = 40,
	IP6_FRAG_HLEN = 8,
	IP6OPT_PAD1 = 0,
};

/*
 * Hop-by-hop and destination options are TLVs (RFC 8200 4.2) that must fill
 * the header exactly; a length running past the header is malformed.
 */
static bool tlv_options_ok(const uint8_t *o, uint32_t len)
{
	uint32_t i = 0;

	while (i < len) {   /* each step consumes >= 1 byte: bounded by len */
		if (o[i] == IP6OPT_PAD1) {
			i++;
			continue;
		}
		if (i + 2 > len || i + 2 + o[i + 1] > len)
			return false;
		i += 2u + o[i + 1];
	}
	return true;
}

static uint32_t exthdr_len(uint8_t nh, const uint8_t *h)
{
	if (nh == IP6_NH_FRAGMENT)
		return IP6_FRAG_HLEN;
	if (nh == IP6_NH_AH)
		return ((uint32_t)h[1] + 2) * 4;   /* RFC 4302 2.2 */
	return ((uint32_t)h[1] + 1) * 8;
}

static bool is_exthdr(uint8_t nh)
{
	return nh == IP6_NH_HOPOPTS || nh == IP6_NH_ROUTING ||
	       nh == IP6_NH_FRAGMENT || nh == IP6_NH_DSTOPTS ||
	       nh == IP6_NH_AH;
}

static void read_frag(const uint8_t *h, uint32_t off,
		      struct ip6_frag_info *frag)
{
	uint16_t fo = rd16(h + 2);

	frag->seen = true;
	frag->off = fo & 0xfff8;
	frag->more = (fo & 1) != 0;
	frag->id = rd32(h + 4);
	frag->hdr_off = off;
}

enum moat_reason moat_pkt_ip6_walk(const uint8_t *frame, uint32_t end,
				   uint8_t *nh, uint32_t *off,
				   struct ip6_frag_info *frag)
{
	uint8_t cur = *nh;
	uint32_t o = *off;

	for (unsigned n = 0; is_exthdr(cur); n++) {
		const uint8_t *h = frame + o;
		uint32_t len;

		if (n == MOAT_IP6_EXTHDR_MAX)
			return MOAT_R_IP6_EXTHDR_CHAIN;
		/* RFC 8200 4.3: hop-by-hop only right after the IPv6 header. */
		if (cur == IP6_NH_HOPOPTS && n != 0)
			return MOAT_R_IP6_BAD_EXTHDR;
		if (o + 2 > end)
			return MOAT_R_TRUNCATED;
		len = exthdr_len(cur, h);
		if (o + len > end)
			return MOAT_R_TRUNCATED;
		if ((cur == IP6_NH_HOPOPTS || cur == IP6_NH_DSTOPTS) &&
		    !tlv_options_ok(h + 2, len - 2))
			return MOAT_R_IP6_BAD_EXTHDR;
		if (cur == IP6_NH_FRAGMENT && frag) {
			if (frag->seen)
				return MOAT_R_IP6_BAD_FRAG;
			read_frag(h, o, frag);
		}
		cur = h[0];
		o += len;
		/* Behind a later fragment the rest of the chain is not here. */
		if (frag && frag->seen && frag->off != 0)
			break;
	}
	*nh = cur;
	*off = o;
	return MOAT_R_NONE;
}

/* Payload length against the capture: same logic as IPv4's total length. */
static enum moat_reason check_plen(struct moat_pkt *p, uint32_t plen,
				   struct pkt_bounds *b)
{
	uint32_t l3 = p->l3_off, total = IP6_HLEN + plen;

	/* plen 0 with a jumbo option (RFC 2675) or BIG TCP: not supported. */
	if (plen == 0 && p->frame[l3 + 6] == IP6_NH_HOPOPTS)
		return MOAT_R_IP6_BAD_PLEN;
	if (l3 + total > p->caplen &&
	    (p->caplen == p->wirelen || l3 + total > p->wirelen))
		return MOAT_R_IP6_BAD_PLEN;
	if (l3 + total > 0xffff)
		return MOAT_R_IP6_BAD_PLEN;
	b->ip_end = l3 + total;
	b->cap_end = b->ip_end < p->caplen ? b->ip_end : p->caplen;
	p->l3_len = (uint16_t)total;
	return MOAT_R_NONE;
}

/*
 * Fragment header found: RFC 8200 4.5 asks non-last pieces to carry a
 * multiple of 8 bytes and discards a fragment whose offset and length would
 * make the reassembled payload (the unfragmentable headers after the IPv6
 * header, then the fragmentable part) longer than 65535 bytes.  RFC 7112
 * asks the first piece to hold the whole header chain, up to and including
 * the upper-layer header (checked by the L4 decoders' truncation tests
 * through ip_end, and by the walk for the extension headers).  A fragment
 * header with offset 0 and M clear is an atomic fragment (RFC 6946): a whole
 * packet, processed as one, independent of any other fragment.
 */
static enum moat_reason check_frag(struct moat_pkt *p,
				   const struct ip6_frag_info *f,
				   uint32_t data_len)
{
	uint32_t unfrag = f->hdr_off - p->l3_off - IP6_HLEN;

	p->frag_id = f->id;
	p->frag_off = f->off;
	if (!f->more && f->off == 0)
		return MOAT_R_NONE;
	p->frag = MOAT_FRAG_IS | (f->more ? MOAT_FRAG_MF : 0) |
		  (f->off ? MOAT_FRAG_LATER : 0);
	p->frag_data_off = (uint16_t)(f->hdr_off + IP6_FRAG_HLEN);
	if (f->more && (data_len % 8) != 0)
		return MOAT_R_IP6_BAD_FRAG;
	if (unfrag + f->off + data_len > 0xffff)
		return MOAT_R_FRAG_TOO_BIG;
	return MOAT_R_NONE;
}

/* A header of the chain cut by the IP length: malformed, unless it is the
 * first fragment's, which had to hold the whole chain (RFC 7112). */
static enum moat_reason cut_chain(const struct ip6_frag_info *f)
{
	if (f->seen && f->off == 0 && f->more)
		return MOAT_R_FRAG_TINY;
	return MOAT_R_IP6_BAD_EXTHDR;
}

enum moat_reason moat_pkt_decode_ipv6(struct moat_pkt *p,
				      struct pkt_bounds *b)
{
	const uint8_t *h = p->frame + p->l3_off;
	struct ip6_frag_info frag = { .seen = false };
	uint32_t off;
	uint8_t nh;
	enum moat_reason r;

	if ((uint32_t)p->l3_off + IP6_HLEN > p->caplen)
		return MOAT_R_TRUNCATED;
	if ((h[0] >> 4) != 6)
		return MOAT_R_IP_BAD_VERSION;
	p->ipv = 6;
	p->tos = (uint8_t)(rd16(h) >> 4);
	p->ttl = h[7];
	moat_addr_from_v6(&p->src, h + 8);
	moat_addr_from_v6(&p->dst, h + 24);
	p->have = MOAT_PKT_HAVE_L3;
	nh = h[6];
	p->proto = nh;
	r = check_plen(p, rd16(h + 4), b);
	if (r != MOAT_R_NONE)
		return r;
	off = p->l3_off + IP6_HLEN;
	p->l4_off = p->payload_off = (uint16_t)off;
	p->payload_len = (uint16_t)(b->ip_end - off);
	/* An extension header cut by the IP length is malformed, one cut by
	 * the snaplen merely truncated: walk to the nearer end, then tell. */
	r = moat_pkt_ip6_walk(p->frame, b->cap_end, &nh, &off, &frag);
	if (r == MOAT_R_TRUNCATED && b->cap_end == b->ip_end)
		r = cut_chain(&frag);
	if (r != MOAT_R_NONE)
		return r;
	p->proto = nh;
	p->l4_off = p->payload_off = (uint16_t)off;
	p->payload_len = (uint16_t)(b->ip_end - off);
	if (!frag.seen)
		return MOAT_R_NONE;
	return check_frag(p, &frag, b->ip_end - frag.hdr_off - IP6_FRAG_HLEN);
}
