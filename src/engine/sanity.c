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

static enum moat_reason check_martians(const struct moat_pkt *p)
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
static enum moat_reason check_zone(const struct moat_config *cfg,
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

/*
 * DHCP before the client has an address (RFC 2131 section 4.1): the client
 * sends from 0.0.0.0, UDP port 68, to 255.255.255.255 or to a server it
 * knows, port 67; a server answers a client without an address (always
 * its DHCPNAK, and its OFFER and ACK when the client asks for broadcast)
 * from port 67 to 255.255.255.255, port 68.  The client's source is a
 * martian in no zone; the limited broadcast is a martian destination,
 * which no router forwards but a bridge carries on its link.  Exactly
 * these two shapes get by antispoof (the server's source is still
 * checked), and only a rule that passes them lets them through
 * (engine.c); anything else from 0.0.0.0 or to 255.255.255.255 is a
 * martian as ever.
 */
static enum moat_reason dhcp_shape(const struct moat_pkt *p)
{
	static const uint8_t any[4], bcast[4] = { 255, 255, 255, 255 };
	const uint8_t *src, *dst;

	if (p->ipv != 4 || p->proto != MOAT_IPPROTO_UDP ||
	    (p->frag & MOAT_FRAG_LATER))
		return MOAT_R_NONE;
	src = moat_addr_v4(&p->src);
	dst = moat_addr_v4(&p->dst);
	if (p->sport == 67 && p->dport == 68 && !memcmp(dst, bcast, 4))
		return MOAT_R_MARTIAN_DST;
	if (p->sport != 68 || p->dport != 67 || memcmp(src, any, 4) != 0)
		return MOAT_R_NONE;
	if (!memcmp(dst, bcast, 4))
		return MOAT_R_MARTIAN_SRC;
	/* Unicast: no martian destination, no multicast (224/4). */
	if (IN_ANY(&p->dst, v4_martian_dst) || (dst[0] & 0xf0) == 0xe0)
		return MOAT_R_NONE;
	return MOAT_R_MARTIAN_SRC;
}

/* The administrator's bogons, then BCP 38. */
static enum moat_reason check_source(const struct moat_engine *e,
				     const struct moat_pkt *p, int in_zone)
{
	if (e->opt.bogon_set >= 0 &&
	    moat_set_contains(moat_config_set(e->cfg, e->opt.bogon_set),
			      &p->src))
		return MOAT_R_BOGON_SRC;
	return check_zone(e->cfg, p, in_zone);
}

enum moat_reason moat_engine_antispoof(struct moat_engine *e,
				       struct moat_flight *fl)
{
	const struct moat_pkt *p = &fl->p;
	enum moat_reason r;

	fl->dhcp = dhcp_shape(p);
	if (fl->dhcp == MOAT_R_MARTIAN_SRC) {
		moat_engine_say(e, "antispoof: a DHCP client without an "
				"address; only a passing rule lets it through");
		return MOAT_R_NONE;
	}
	r = check_martians(p);
	/* A DHCP server's broadcast: its source is checked, all the same. */
	if (fl->dhcp == MOAT_R_MARTIAN_DST && r == MOAT_R_MARTIAN_DST)
		r = MOAT_R_NONE;
	if (r == MOAT_R_NONE)
		r = check_source(e, p, fl->res->in_zone);
	moat_engine_say(e, "antispoof: %s", r == MOAT_R_NONE ?
			(fl->dhcp ? "a DHCP server's broadcast; only a passing "
			 "rule lets it through" :
			 "source and destination plausible") :
			moat_reason_name(r));
	return r;
}
