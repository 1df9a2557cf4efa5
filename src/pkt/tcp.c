/*
 * TCP header and options (RFC 9293 3.1, RFC 7323, RFC 2018).  Third step of
 * decode for TCP segments: every field conntrack and the SYN proxy read,
 * the options parsed and their positions kept so that sequence translation
 * can rewrite timestamps and SACK blocks in place.
 *
 *    0                   1                   2                   3
 *   +-------------------------------+-------------------------------+
 *   |          Source Port          |       Destination Port        |
 *   +-------------------------------+-------------------------------+
 *   |                        Sequence Number                        |
 *   |                     Acknowledgment Number                     |
 *   +-------+-------+---------------+-------------------------------+
 *   | DOff  | Rsrvd |C E U A P R S F|            Window             |
 *   +-------+-------+---------------+-------------------------------+
 *   |           Checksum            |        Urgent Pointer         |
 *   +-------------------------------+-------------------------------+
 */
#include "pkt/l4.h"

enum {
	TCP_HLEN_MIN = 20,
	TCPOPT_EOL = 0,
	TCPOPT_NOP = 1,
	TCPOPT_MSS = 2,        /* len 4 */
	TCPOPT_WSCALE = 3,     /* len 3, RFC 7323 2.2 */
	TCPOPT_SACK_PERM = 4,  /* len 2, RFC 2018 2 */
	TCPOPT_SACK = 5,       /* len 2 + 8n, RFC 2018 3 */
	TCPOPT_TS = 8,         /* len 10, RFC 7323 3.2 */
};

/* Fixed-length options with the wrong length are refused, not guessed at. */
static bool parse_one(struct moat_tcp_opts *o, const uint8_t *opt,
		      uint32_t at, uint32_t len)
{
	const uint8_t *v = opt + at + 2;

	switch (opt[at]) {
	case TCPOPT_MSS:
		if (len != 4)
			return false;
		o->mss = rd16(v);
		o->present |= MOAT_TCPOPT_MSS;
		return true;
	case TCPOPT_WSCALE:
		if (len != 3)
			return false;
		/* RFC 7323 2.3: log a larger shift and use 14. */
		o->wscale = v[0] > MOAT_TCP_WSCALE_MAX ? MOAT_TCP_WSCALE_MAX
						       : v[0];
		o->present |= MOAT_TCPOPT_WSCALE;
		return true;
	case TCPOPT_SACK_PERM:
		if (len != 2)
			return false;
		o->present |= MOAT_TCPOPT_SACK_PERM;
		return true;
	case TCPOPT_TS:
		if (len != 10)
			return false;
		o->tsval = rd32(v);
		o->tsecr = rd32(v + 4);
		o->ts_off = (uint8_t)(TCP_HLEN_MIN + at + 2);
		o->present |= MOAT_TCPOPT_TS;
		return true;
	case TCPOPT_SACK: {
		uint32_t n = (len - 2) / 8;

		if (len < 10 || (len - 2) % 8 != 0 || n > MOAT_SACK_MAX)
			return false;
		for (uint32_t i = 0; i < n; i++) {
			o->sack[i][0] = rd32(v + 8 * i);
			o->sack[i][1] = rd32(v + 8 * i + 4);
		}
		o->sack_count = (uint8_t)n;
		o->sack_off = (uint8_t)(TCP_HLEN_MIN + at + 2);
		o->present |= MOAT_TCPOPT_SACK;
		return true;
	}
	default:
		return true; /* unknown: skipped by its length */
	}
}

enum moat_reason moat_pkt_tcp_options(struct moat_tcp_opts *o,
				      const uint8_t *opt, uint32_t len)
{
	uint32_t i = 0;

	/* Every step consumes >= 1 byte of at most 40: bounded. */
	while (i < len) {
		uint32_t olen;

		if (opt[i] == TCPOPT_EOL)
			break;
		if (opt[i] == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return MOAT_R_TCP_BAD_OPTION;
		olen = opt[i + 1];
		if (olen < 2 || i + olen > len)
			return MOAT_R_TCP_BAD_OPTION;
		if (!parse_one(o, opt, i, olen))
			return MOAT_R_TCP_BAD_OPTION;
		i += olen;
	}
	return MOAT_R_NONE;
}

/*
 * Combinations no TCP sends (RFC 9293 3.10.7 rules them out; scanners use
 * them to fingerprint stacks): SYN with FIN or RST, no control bit at all,
 * and FIN, PSH or URG without ACK (every segment after the SYN carries ACK).
 */
static bool flags_ok(uint8_t f)
{
	/* Bitwise, not short-circuit: no branch to mispredict per segment. */
	unsigned syn = (f & MOAT_TCP_SYN) != 0, ack = (f & MOAT_TCP_ACK) != 0;
	unsigned bad = (syn & ((f & (MOAT_TCP_FIN | MOAT_TCP_RST)) != 0)) |
		       ((f & (MOAT_TCP_SYN | MOAT_TCP_ACK | MOAT_TCP_RST |
			      MOAT_TCP_FIN)) == 0) |
		       (((f & (MOAT_TCP_FIN | MOAT_TCP_PSH | MOAT_TCP_URG)) != 0) &
			!ack);

	return !bad;
}

/*
 * The layout nearly every established segment carries (RFC 7323 appendix
 * A's recommendation, what Linux and the BSDs send): NOP, NOP, timestamps.
 * Recognised with one compare before the general walk.
 */
static bool aligned_timestamps(struct moat_tcp_opts *o, const uint8_t *opt,
			       uint32_t len)
{
	if (len != 12 || rd32(opt) != 0x0101080a)
		return false;
	o->tsval = rd32(opt + 4);
	o->tsecr = rd32(opt + 8);
	o->ts_off = TCP_HLEN_MIN + 4;
	o->present = MOAT_TCPOPT_TS;
	return true;
}

enum moat_reason moat_pkt_decode_tcp(struct moat_pkt *p,
				     const struct pkt_bounds *b)
{
	const uint8_t *h = p->frame + p->l4_off;
	uint32_t hlen, seg_len = b->ip_end - p->l4_off;
	enum moat_reason r;

	r = l4_header_fits(p, b, TCP_HLEN_MIN);
	if (r != MOAT_R_NONE)
		return r;
	p->sport = rd16(h);
	p->dport = rd16(h + 2);
	p->seq = rd32(h + 4);
	p->ack = rd32(h + 8);
	p->tcp_flags = h[13];
	p->win = rd16(h + 14);
	p->urp = rd16(h + 18);
	hlen = (uint32_t)(h[12] >> 4) * 4;
	p->tcp_hlen = (uint8_t)hlen;
	p->have |= MOAT_PKT_HAVE_L4;
	if (hlen < TCP_HLEN_MIN)
		return MOAT_R_TCP_BAD_DOFF;
	/* Options cut by the end of a first fragment: as for the header. */
	if (hlen > seg_len && !(p->frag & MOAT_FRAG_IS))
		return MOAT_R_TCP_BAD_DOFF;
	r = l4_header_fits(p, b, hlen);
	if (r != MOAT_R_NONE)
		return r;
	p->payload_off = (uint16_t)(p->l4_off + hlen);
	p->payload_len = (uint16_t)(seg_len - hlen);
	if (hlen > TCP_HLEN_MIN &&
	    !aligned_timestamps(&p->opt, h + TCP_HLEN_MIN, hlen - TCP_HLEN_MIN)) {
		r = moat_pkt_tcp_options(&p->opt, h + TCP_HLEN_MIN,
					 hlen - TCP_HLEN_MIN);
		if (r != MOAT_R_NONE)
			return r;
	}
	if (p->sport == 0 || p->dport == 0)
		return MOAT_R_TCP_BAD_PORT;
	if (!flags_ok(p->tcp_flags))
		return MOAT_R_TCP_BAD_FLAGS;
	return MOAT_R_NONE;
}
