/*
 * Shared by the L4 decoders (tcp.c, udp.c, icmp.c): is the L4 header of
 * @need bytes at p->l4_off all there?
 */
#ifndef MOAT_PKT_L4_H
#define MOAT_PKT_L4_H

#include "pkt/internal.h"

/*
 * Past the IP length: a first fragment too small to hold its L4 header is an
 * attack on filters (the tiny fragment of RFC 1858 3.1; RFC 7112 for IPv6:
 * the first fragment holds the whole header chain); any other packet that
 * claims to end before its own L4 header is truncated.  Past the capture
 * only (snaplen cut): truncated.
 */
static inline enum moat_reason l4_header_fits(const struct moat_pkt *p,
					      const struct pkt_bounds *b,
					      uint32_t need)
{
	uint32_t off = p->l4_off;

	if (off + need > b->ip_end) {
		if (p->frag & MOAT_FRAG_IS)
			return MOAT_R_FRAG_TINY;
		return MOAT_R_TRUNCATED;
	}
	if (off + need > b->cap_end)
		return MOAT_R_TRUNCATED;
	return MOAT_R_NONE;
}

#endif
