/*
 * Link layers: find where the IP header starts and which protocol it is.
 * First step of decode; everything after it is link-independent.
 *
 * Supported (pcap LINKTYPE_ numbers, tcpdump.org/linktypes.html): Ethernet
 * with up to MOAT_VLAN_MAX 802.1Q/802.1ad tags, raw IP (101, and the DLT_RAW
 * values 12 and 14 some libpcaps hand out), IPv4/IPv6-only raw (228, 229),
 * Linux cooked v1 and v2 (113, 276), BSD NULL (0) and OpenBSD LOOP (108).
 */
#include "pkt/internal.h"

enum {
	ETH_HLEN = 14,
	VLAN_HLEN = 4,
	SLL_HLEN = 16,     /* proto at 14 */
	SLL2_HLEN = 20,    /* proto at 0 */
	NULL_HLEN = 4,
	DLT_RAW_A = 12,    /* DLT_RAW on most systems */
	DLT_RAW_B = 14,    /* DLT_RAW on OpenBSD */
};

static bool is_vlan_tpid(uint16_t t)
{
	return t == ETH_P_VLAN || t == ETH_P_QINQ || t == ETH_P_QINQ_OLD;
}

/*
 * Peel VLAN tags starting at @off with outer ethertype @type.  Deeper stacks
 * than MOAT_VLAN_MAX are refused: rules only look at two levels, and an
 * unbounded stack is a cheap way to make every stage work harder.
 */
static enum moat_reason peel_vlans(struct moat_pkt *p, uint32_t off,
				   uint16_t type)
{
	for (unsigned i = 0; is_vlan_tpid(type); i++) {
		if (i == MOAT_VLAN_MAX)
			return MOAT_R_L2_VLAN_TOO_DEEP;
		if (off + VLAN_HLEN > p->caplen)
			return MOAT_R_TRUNCATED;
		p->vlan[i] = rd16(p->frame + off) & 0x0fff;
		p->vlan_count = (uint8_t)(i + 1);
		type = rd16(p->frame + off + 2);
		off += VLAN_HLEN;
	}
	p->ethertype = type;
	p->l3_off = (uint16_t)off;
	return MOAT_R_NONE;
}

/* Raw IP: the version nibble is all there is to go by. */
static enum moat_reason raw_ip(struct moat_pkt *p, int want)
{
	unsigned v;

	if (p->caplen < 1)
		return MOAT_R_TRUNCATED;
	v = p->frame[0] >> 4;
	if ((v != 4 && v != 6) || (want && (int)v != want))
		return MOAT_R_IP_BAD_VERSION;
	p->ethertype = v == 4 ? ETH_P_IPV4 : ETH_P_IPV6;
	p->l3_off = 0;
	return MOAT_R_NONE;
}

/*
 * BSD address families for the NULL/LOOP header.  IPv6's value differs per
 * system: 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS), 10 (Linux).
 */
static uint16_t af_to_ethertype(uint32_t af)
{
	switch (af) {
	case 2:
		return ETH_P_IPV4;
	case 10:
	case 24:
	case 28:
	case 30:
		return ETH_P_IPV6;
	default:
		return 0;
	}
}

/*
 * NULL stores the family in the capturing host's byte order, which the file
 * does not say; every real family is < 256, so whichever order gives a
 * small number is the right one.  LOOP is always network order.
 */
static enum moat_reason bsd_loop(struct moat_pkt *p, bool net_order)
{
	const uint8_t *f = p->frame;
	uint32_t af;

	if (p->caplen < NULL_HLEN)
		return MOAT_R_TRUNCATED;
	af = rd32(f);
	if (!net_order && af > 0xffff)
		af = (uint32_t)f[3] << 24 | (uint32_t)f[2] << 16 |
		     (uint32_t)f[1] << 8 | f[0];
	p->ethertype = af_to_ethertype(af);
	if (p->ethertype == 0)
		return MOAT_R_L2_BAD_HEADER;
	p->l3_off = NULL_HLEN;
	return MOAT_R_NONE;
}

static enum moat_reason cooked(struct moat_pkt *p, uint32_t hlen,
			       uint32_t proto_at)
{
	if (p->caplen < hlen)
		return MOAT_R_TRUNCATED;
	/* The kernel leaves a VLAN tag in the payload when it did not strip it. */
	return peel_vlans(p, hlen, rd16(p->frame + proto_at));
}

enum moat_reason moat_pkt_decode_l2(struct moat_pkt *p)
{
	switch (p->linktype) {
	case MOAT_LINK_ETHERNET:
		if (p->caplen < ETH_HLEN)
			return MOAT_R_TRUNCATED;
		return peel_vlans(p, ETH_HLEN, rd16(p->frame + 12));
	case MOAT_LINK_RAW:
	case DLT_RAW_A:
	case DLT_RAW_B:
		return raw_ip(p, 0);
	case MOAT_LINK_IPV4:
		return raw_ip(p, 4);
	case MOAT_LINK_IPV6:
		return raw_ip(p, 6);
	case MOAT_LINK_LINUX_SLL:
		return cooked(p, SLL_HLEN, 14);
	case MOAT_LINK_LINUX_SLL2:
		return cooked(p, SLL2_HLEN, 0);
	case MOAT_LINK_NULL:
		return bsd_loop(p, false);
	case MOAT_LINK_LOOP:
		return bsd_loop(p, true);
	default:
		return MOAT_R_L2_UNKNOWN_LINKTYPE;
	}
}
