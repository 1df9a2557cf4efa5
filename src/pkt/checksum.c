/*
 * The Internet checksum (RFC 1071), the pseudo headers of TCP/UDP/ICMPv6
 * (RFC 793, 768, RFC 8200 8.1), verification of a decoded packet, filling
 * a built one, and the incremental update (RFC 1624) that sequence
 * translation uses when it rewrites SEQ, ACK, SACK and timestamps in place.
 *
 * Sums are kept "big-endian": a 16-bit word is (b[0] << 8 | b[1]), so
 * host-order values such as a protocol number or a length add in directly
 * and moat_csum_fold()'s result is stored with a big-endian write.  The
 * bulk loop adds native 32-bit words and swaps once at the end, which gives
 * the same ones'-complement sum (RFC 1071 2(B): byte order independence).
 */
#include <string.h>

#include "pkt/internal.h"

static uint32_t fold32(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

static uint16_t native_to_be16(uint16_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (uint16_t)(v << 8 | v >> 8);
#else
	return v;
#endif
}

/* @len bytes from @data; all chunks but the last must have even length. */
uint32_t moat_csum_partial(const void *data, uint32_t len, uint32_t sum)
{
	const uint8_t *d = data;
	uint64_t acc = 0;
	uint32_t w;
	uint16_t h;

	/* 64-bit words with the end-around carry (RFC 1071 2(C)): the same
	 * ones'-complement sum, half the additions of 32-bit words. */
	for (; len >= 8; len -= 8, d += 8) {
		uint64_t q;
		memcpy(&q, d, 8);
		acc += q;
		acc += acc < q;
	}
	if (len >= 4) {
		memcpy(&w, d, 4);
		acc += w;
		acc += acc < w;
		d += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&h, d, 2);
		acc += h;
		acc += acc < h;
		d += 2;
		len -= 2;
	}
	acc = native_to_be16((uint16_t)fold32(acc));
	if (len)
		acc += (uint32_t)d[0] << 8;   /* RFC 1071: pad with a zero */
	acc += sum;
	return fold32(acc);
}

uint16_t moat_csum_fold(uint32_t sum)
{
	return (uint16_t)~fold32(sum);
}

uint32_t moat_csum_pseudo(const struct moat_addr *src,
			  const struct moat_addr *dst, uint8_t proto,
			  uint32_t l4_len)
{
	uint32_t sum = proto + (l4_len >> 16) + (l4_len & 0xffff);

	if (src->family == MOAT_AF_INET) {
		/* Four 16-bit words, added in place: this runs twice per
		 * TCP segment moat checks or builds. */
		const uint8_t *a = moat_addr_v4(src), *b = moat_addr_v4(dst);
		uint64_t acc = sum;
		acc += (uint32_t)(a[0] << 8 | a[1]) + (uint32_t)(a[2] << 8 | a[3]);
		acc += (uint32_t)(b[0] << 8 | b[1]) + (uint32_t)(b[2] << 8 | b[3]);
		return fold32(acc);
	}
	sum = moat_csum_partial(src->b, 16, sum);
	return moat_csum_partial(dst->b, 16, sum);
}

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m').  All three values are read and
 * written as native loads of wire bytes; ones'-complement addition does not
 * care which byte order they are in as long as it is the same one.
 */
void moat_csum_replace2(uint8_t csum[2], uint16_t old_be, uint16_t new_be)
{
	uint16_t hc;
	uint32_t s;

	memcpy(&hc, csum, 2);
	s = (uint32_t)(uint16_t)~hc + (uint16_t)~old_be + new_be;
	hc = (uint16_t)~fold32(s);
	memcpy(csum, &hc, 2);
}

void moat_csum_replace4(uint8_t csum[2], uint32_t old_be, uint32_t new_be)
{
	uint16_t hc;
	uint32_t s;

	memcpy(&hc, csum, 2);
	s = (uint32_t)(uint16_t)~hc;
	s += (uint16_t)~(old_be >> 16) + (uint16_t)~(old_be & 0xffff);
	s += (new_be >> 16) + (new_be & 0xffff);
	hc = (uint16_t)~fold32(s);
	memcpy(csum, &hc, 2);
}

/* Where the checksum field of @p's L4 header sits, or 0 for none. */
static uint32_t l4_csum_at(const struct moat_pkt *p)
{
	switch (p->proto) {
	case MOAT_IPPROTO_TCP:
		return p->l4_off + 16u;
	case MOAT_IPPROTO_UDP:
		return p->l4_off + 6u;
	case MOAT_IPPROTO_ICMP:
		return p->ipv == 4 ? p->l4_off + 2u : 0;
	case MOAT_IPPROTO_ICMPV6:
		return p->ipv == 6 ? p->l4_off + 2u : 0;
	default:
		return 0;
	}
}

/* The L4 message is whole in the capture and not a fragment. */
static bool l4_checkable(const struct moat_pkt *p, uint32_t *l4_len)
{
	uint32_t end = (uint32_t)p->l3_off + p->l3_len;

	if (!(p->have & MOAT_PKT_HAVE_L4) || (p->frag & MOAT_FRAG_IS))
		return false;
	if (p->caplen < p->wirelen || end > p->caplen || p->l4_off > end)
		return false;
	*l4_len = end - p->l4_off;
	return l4_csum_at(p) != 0 && l4_csum_at(p) + 2 <= end;
}

static uint32_t l4_sum(const struct moat_pkt *p, uint32_t l4_len)
{
	uint32_t sum = 0;

	if (p->proto != MOAT_IPPROTO_ICMP)
		sum = moat_csum_pseudo(&p->src, &p->dst, p->proto, l4_len);
	return moat_csum_partial(p->frame + p->l4_off, l4_len, sum);
}

static bool ip4_header_checkable(const struct moat_pkt *p, uint32_t *ihl)
{
	if (p->ipv != 4 || !(p->have & MOAT_PKT_HAVE_L3))
		return false;
	*ihl = (uint32_t)(p->frame[p->l3_off] & 0x0f) * 4;
	return *ihl >= 20 && p->l3_off + *ihl <= p->caplen;
}

enum moat_reason moat_pkt_verify_checksums(const struct moat_pkt *p)
{
	uint32_t ihl, l4_len;

	if (ip4_header_checkable(p, &ihl) &&
	    moat_csum_fold(moat_csum_partial(p->frame + p->l3_off, ihl, 0)))
		return MOAT_R_IP4_BAD_CHECKSUM;
	if (!l4_checkable(p, &l4_len))
		return MOAT_R_NONE;
	if (p->proto == MOAT_IPPROTO_UDP && rd16(p->frame + p->l4_off + 6) == 0)
		/* RFC 768: none sent; RFC 8200 8.1: mandatory over IPv6. */
		return p->ipv == 4 ? MOAT_R_NONE : MOAT_R_L4_BAD_CHECKSUM;
	if (moat_csum_fold(l4_sum(p, l4_len)) != 0)
		return MOAT_R_L4_BAD_CHECKSUM;
	return MOAT_R_NONE;
}

void moat_pkt_fill_checksums(struct moat_pkt *p)
{
	uint32_t ihl, l4_len, at;
	uint16_t c;

	if (ip4_header_checkable(p, &ihl)) {
		wr16(p->frame + p->l3_off + 10, 0);
		c = moat_csum_fold(moat_csum_partial(p->frame + p->l3_off,
						     ihl, 0));
		wr16(p->frame + p->l3_off + 10, c);
	}
	if (!l4_checkable(p, &l4_len))
		return;
	at = l4_csum_at(p);
	wr16(p->frame + at, 0);
	c = moat_csum_fold(l4_sum(p, l4_len));
	/* RFC 768: a computed zero is sent as all ones. */
	if (c == 0 && p->proto == MOAT_IPPROTO_UDP)
		c = 0xffff;
	wr16(p->frame + at, c);
}
