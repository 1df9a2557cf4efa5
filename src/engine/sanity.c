/*
 * Sanity and antispoofing: the stage after decode and before the flow
 * lookup.  A packet whose addresses no honest host sends (martians) or whose
 * source does not belong to the zone it entered from is dropped here, before
 * it can create state or reach a rule that trusts an address.
 *
 * Martians follow RFC 6890's special-purpose registries, as far as they make
 * sense at a gateway in front of servers.  198.18.0.0/15 (RFC 2544
 * benchmarking) is deliberately *not* a martian: it is the lab's range, and a
 * network that uses it knows why.  Link-local sources are not martians
 * either: on a bridge they cross the wire (IPv6 neighbour discovery).
 */
#include "engine/engine_impl.h"

struct prefix {
	uint8_t b[16];
	uint8_t len; /* in bits, over the 16-byte moat_addr form */
};

#define V4(a, b, c, d, len) { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d }, 96 + (len) }

static const struct prefix v4_martian_src[] = {
	V4(0, 0, 0, 0, 8),       /* "this network", RFC 791 */
	V4(127, 0, 0, 0, 8),     /* loopback, RFC 1122 */
	V4(224, 0, 0, 0, 4),     /* multicast never sends */
	V4(240, 0, 0, 0, 4),     /* reserved, and 255.255.255.255 */
};

static const struct prefix v4_martian_dst[] = {
	V4(0, 0, 0, 0, 8),
	V4(127, 0, 0, 0, 8),
	V4(240, 0, 0, 0, 4),     /* reserved and limited broadcast: a router never forwards it */
};

static const struct prefix v6_martian_src[] = {
	{ { 0 }, 128 },                                         /* :: */
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128 }, /* ::1 */
	{ { 0xff }, 8 },                                        /* multicast */
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 96 },   /* IPv4-mapped on the wire */
};

static const struct prefix v6_martian_dst[] = {
	{ { 0 }, 128 },
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128 },
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 96 },
};

static bool in_prefix(const struct moat_addr *a, const struct prefix *p)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (memcmp(a->b, p->b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a->b[full] & mask) == (p->b[full] & mask);
}

static bool in_any(const struct moat_addr *a, const struct prefix *list,
		   size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (in_prefix(a, &list[i]))
			return true;
	return false;
}

#define IN_ANY(a, list) in_any((a), (list), sizeof(list) / sizeof((list)[0]))

enum moat_reason moat_engine_check_martians(const struct moat_pkt *p)
{
	if (p->ipv == 4) {
		if (IN_ANY(&p->src, v4_martian_src))
			return MOAT_R_MARTIAN_SRC;
		if (IN_ANY(&p->dst, v4_martian_dst))
			return MOAT_R_MARTIAN_DST;
	} else {
		if (IN_ANY(&p->src, v6_martian_src))
			return MOAT_R_MARTIAN_SRC;
		if (IN_ANY(&p->dst, v6_martian_dst))
			return MOAT_R_MARTIAN_DST;
	}
	/* A packet from an address to itself: the old "land" attack. */
	if (moat_addr_eq(&p->src, &p->dst))
		return MOAT_R_LAND;
	return MOAT_R_NONE;
}

/*
 * BCP 38 at the zone edge: a source that belongs to another zone's
 * networks entered from the wrong side (spoof-zone); a source outside the
 * networks of a zone that declares them is not one of that zone's hosts
 * (spoof-egress).  Zones without networks (the outside) accept any source
 * that no other zone claims.
 */
enum moat_reason moat_engine_check_zone(const struct moat_config *cfg,
					const struct moat_pkt *p, int in_zone)
{
	int owner = moat_config_zone_by_addr(cfg, &p->src);

	if (owner >= 0 && owner != in_zone)
		return MOAT_R_SPOOF_ZONE;
	if (owner < 0 && in_zone >= 0 &&
	    moat_config_zone(cfg, in_zone)->has_networks)
		return MOAT_R_SPOOF_EGRESS;
	return MOAT_R_NONE;
}
