/*
 * Shared by the files of src/pkt only: bounds-checked wire readers and the
 * per-layer decoders that moat_pkt_decode() (decode.c) calls in order.
 *
 * Every layer works on the same small cursor: the frame, how much of it was
 * captured, and where the current IP packet ends according to its own length
 * field.  A reader must check "off + n <= cap" before it looks at a byte.
 */
#ifndef MOAT_PKT_INTERNAL_H
#define MOAT_PKT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "moat/pkt.h"

/* Wire order to host order, without alignment assumptions. */
static inline uint16_t rd16(const uint8_t *b)
{
	return (uint16_t)((uint16_t)b[0] << 8 | b[1]);
}

static inline uint32_t rd32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

static inline void wr16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

/*
 * Where the IP packet under decode ends.  @ip_end is what its length field
 * says; @cap_end is min(ip_end, caplen): the last byte we may read.  The two
 * differ only when the capture was cut by a snaplen (caplen < wirelen).
 */
struct pkt_bounds {
	uint32_t ip_end;
	uint32_t cap_end;
};

/* Ethertypes (IEEE registry) moat looks at. */
enum {
	ETH_P_IPV4 = 0x0800,
	ETH_P_ARP = 0x0806,
	ETH_P_VLAN = 0x8100,  /* 802.1Q C-tag */
	ETH_P_QINQ = 0x88a8,  /* 802.1ad S-tag */
	ETH_P_QINQ_OLD = 0x9100, /* pre-standard QinQ, still seen */
	ETH_P_IPV6 = 0x86dd,
};

/* IPv6 next-header values walked as extension headers (RFC 8200 4). */
enum {
	IP6_NH_HOPOPTS = 0,
	IP6_NH_ROUTING = 43,
	IP6_NH_FRAGMENT = 44,
	IP6_NH_ESP = 50,
	IP6_NH_AH = 51,
	IP6_NH_NONE = 59,
	IP6_NH_DSTOPTS = 60,
};

/* l2.c: fills ethertype, vlan and l3_off. */
enum moat_reason moat_pkt_decode_l2(struct moat_pkt *p);

/* ipv4.c / ipv6.c: fill the L3 fields, l4_off and @b. */
enum moat_reason moat_pkt_decode_ipv4(struct moat_pkt *p,
				      struct pkt_bounds *b);
enum moat_reason moat_pkt_decode_ipv6(struct moat_pkt *p,
				      struct pkt_bounds *b);

/*
 * ipv6.c: walk the extension headers starting with next header @nh at @off
 * until an upper-layer protocol, reading no byte at or past @end.  On
 * success *@nh is the upper-layer protocol, *@off its header's offset, and
 * @frag (may be NULL) receives the fragment header's fields if one was met.
 * Shared by the decoder and the ICMPv6 quote parser.
 */
struct ip6_frag_info {
	bool seen;
	bool more;
	uint16_t off;  /* bytes */
	uint32_t id;
	uint32_t hdr_off; /* where the fragment header starts */
};
enum moat_reason moat_pkt_ip6_walk(const uint8_t *frame, uint32_t end,
				   uint8_t *nh, uint32_t *off,
				   struct ip6_frag_info *frag);

/* tcp.c, udp.c, icmp.c: decode the L4 header at p->l4_off within @b. */
enum moat_reason moat_pkt_decode_tcp(struct moat_pkt *p,
				     const struct pkt_bounds *b);
enum moat_reason moat_pkt_decode_udp(struct moat_pkt *p,
				     const struct pkt_bounds *b);
enum moat_reason moat_pkt_decode_icmp(struct moat_pkt *p,
				      const struct pkt_bounds *b);

/* checksum.c: the pseudo-header sum (RFC 768, 793; RFC 8200 8.1). */
uint32_t moat_csum_pseudo(const struct moat_addr *src,
			  const struct moat_addr *dst, uint8_t proto,
			  uint32_t l4_len);

#endif
