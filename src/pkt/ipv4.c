/*
 * IPv4 header (RFC 791): version, header length, total length against what
 * was captured, options, fragment fields.  Second step of decode, after the
 * link layer; it decides where L4 starts and where the packet ends.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-------+-------+---------------+-------------------------------+
 *   |Version|  IHL  |      TOS      |         Total Length          |
 *   +-------+-------+---------------+-----+-------------------------+
 *   |        Identification         |Flags|     Fragment Offset     |
 *   +---------------+---------------+-----+-------------------------+
 *   |      TTL      |   Protocol    |        Header Checksum        |
 *   +---------------+---------------+-------------------------------+
 *   |                  Source, Destination Address                  |
 */
#include "pkt/internal.h"

enum {
	IP4_HLEN_MIN = 20,
	IP4_F_DF = 0x4000,
	IP4_F_MF = 0x2000,
	IP4_OFF_MASK = 0x1fff,
	IPOPT_EOL = 0,
	IPOPT_NOP = 1,
	IPOPT_RR = 7,
	IPOPT_TS = 68,
	IPOPT_LSRR = 131,
	IPOPT_SSRR = 137,
	IPOPT_RA = 148, /* RFC 2113: exactly 4 bytes */
};

/*
 * Options are type-length-value except EOL and NOP (RFC 791 3.1).  A length
 * below 2 or past the header would make every later reader disagree about
 * where an option ends; the route and timestamp options also carry a pointer
 * that must point inside them (RFC 791: pointer >= 4, timestamp >= 5).
 */
static bool ip4_option_ok(uint8_t type, const uint8_t *o, uint32_t len)
{
	switch (type) {
	case IPOPT_RR:
	case IPOPT_LSRR:
	case IPOPT_SSRR:
		return len >= 3 && o[2] >= 4;
	case IPOPT_TS:
		return len >= 4 && o[2] >= 5;
	case IPOPT_RA:
		return len == 4;
	default:
		return true;
	}
}

static enum moat_reason walk_options(const uint8_t *o, uint32_t len)
{
	uint32_t i = 0;

	/* Each step consumes at least one byte: at most 40 iterations. */
	while (i < len) {
		uint8_t type = o[i];
		uint32_t olen;

		if (type == IPOPT_EOL)
			break;
		if (type == IPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return MOAT_R_IP4_BAD_OPTIONS;
		olen = o[i + 1];
		if (olen < 2 || i + olen > len)
			return MOAT_R_IP4_BAD_OPTIONS;
		if (!ip4_option_ok(type, o + i, olen))
			return MOAT_R_IP4_BAD_OPTIONS;
		i += olen;
	}
	return MOAT_R_NONE;
}

/*
 * Total length against the capture.  Shorter than captured: Ethernet
 * padding, trimmed.  Longer: a lie, unless a snaplen cut the capture
 * (caplen < wirelen), in which case it is believed up to the wire length.
 */
static enum moat_reason check_totlen(struct moat_pkt *p, uint32_t ihl,
				     uint32_t totlen, struct pkt_bounds *b)
{
	uint32_t l3 = p->l3_off;

	p->l3_len = (uint16_t)totlen; /* what the header claims, for printing */
	if (totlen < ihl)
		return MOAT_R_IP4_BAD_TOTLEN;
	if (l3 + totlen > p->caplen &&
	    (p->caplen == p->wirelen || l3 + totlen > p->wirelen))
		return MOAT_R_IP4_BAD_TOTLEN;
	/* Offsets in the view are 16 bits; no real frame gets near this. */
	if (l3 + totlen > 0xffff)
		return MOAT_R_IP4_BAD_TOTLEN;
	b->ip_end = l3 + totlen;
	b->cap_end = b->ip_end < p->caplen ? b->ip_end : p->caplen;
	return MOAT_R_NONE;
}

/*
 * Fragment fields.  All but the last piece must carry a multiple of 8 bytes
 * (RFC 791), and the reassembled packet, header included, cannot exceed
 * the 65535 bytes its total length can say (the "ping of death").  An
 * offset of exactly 8 bytes for TCP can only serve to overwrite the flags
 * of the first piece (RFC 1858 section 3.4).
 */
static enum moat_reason check_frag(struct moat_pkt *p, uint16_t ff,
				   uint32_t ihl, uint32_t data_len)
{
	uint32_t off = (uint32_t)(ff & IP4_OFF_MASK) * 8;

	p->frag = 0;
	if (ff & IP4_F_DF)
		p->frag |= MOAT_FRAG_DF;
	if (ff & IP4_F_MF)
		p->frag |= MOAT_FRAG_MF;
	p->frag_off = (uint16_t)off;
	if (!(ff & IP4_F_MF) && off == 0)
		return MOAT_R_NONE;
	p->frag |= MOAT_FRAG_IS;
	p->frag_data_off = p->l4_off;
	if (off != 0)
		p->frag |= MOAT_FRAG_LATER;
	if ((ff & IP4_F_MF) && (data_len % 8) != 0)
		return MOAT_R_IP4_BAD_FRAG;
	if (ihl + off + data_len > 0xffff)
		return MOAT_R_FRAG_TOO_BIG;
	if (off == 8 && p->proto == MOAT_IPPROTO_TCP)
		return MOAT_R_IP4_BAD_FRAG;
	return MOAT_R_NONE;
}

enum moat_reason moat_pkt_decode_ipv4(struct moat_pkt *p,
				      struct pkt_bounds *b)
{
	const uint8_t *h = p->frame + p->l3_off;
	uint32_t ihl, totlen;
	enum moat_reason r;

	if ((uint32_t)p->l3_off + IP4_HLEN_MIN > p->caplen)
		return MOAT_R_TRUNCATED;
	if ((h[0] >> 4) != 4)
		return MOAT_R_IP_BAD_VERSION;
	p->ipv = 4;
	ihl = (uint32_t)(h[0] & 0x0f) * 4;
	if (ihl < IP4_HLEN_MIN)
		return MOAT_R_IP4_BAD_IHL;
	if (p->l3_off + ihl > p->caplen)
		return MOAT_R_TRUNCATED;
	p->tos = h[1];
	p->frag_id = rd16(h + 4);
	p->ttl = h[8];
	p->proto = h[9];
	moat_addr_from_v4(&p->src, h + 12);
	moat_addr_from_v4(&p->dst, h + 16);
	p->have = MOAT_PKT_HAVE_L3;
	totlen = rd16(h + 2);
	r = check_totlen(p, ihl, totlen, b);
	if (r != MOAT_R_NONE)
		return r;
	p->l4_off = (uint16_t)(p->l3_off + ihl);
	p->payload_off = p->l4_off;
	p->payload_len = (uint16_t)(totlen - ihl);
	if (ihl > IP4_HLEN_MIN) {
		r = walk_options(h + IP4_HLEN_MIN, ihl - IP4_HLEN_MIN);
		if (r != MOAT_R_NONE)
			return r;
	}
	return check_frag(p, rd16(h + 6), ihl, totlen - ihl);
}
