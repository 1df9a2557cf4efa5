/*
 * The per-packet part of the rule language: the rules stage on the
 * packet's path (after decode, antispoof and a flow-table miss), and the
 * zone lookups the engine and the I/O backends use to place a packet.
 *
 * No allocation, no locks, no loops over set members: the rule index
 * (index.c) narrows the rules to those that could match, each address test
 * is one bisection over an interval table, each port test one bisection
 * over ranges.  Every loop is bounded by the size of the configuration.
 */
#include <errno.h>
#include "rules/internal.h"

int moat_rule_proto_class(uint8_t proto, uint8_t ipv)
{
	switch (proto) {
	case MOAT_IPPROTO_TCP:
		return PC_TCP;
	case MOAT_IPPROTO_UDP:
		return PC_UDP;
	case MOAT_IPPROTO_ICMP:
		return ipv == 4 ? PC_ICMP : PC_OTHER;
	case MOAT_IPPROTO_ICMPV6:
		return ipv == 6 ? PC_ICMP6 : PC_OTHER;
	default:
		return PC_OTHER;
	}
}

bool moat_set_contains(const struct moat_set *s, const struct moat_addr *a)
{
	return s && s->kind == MOAT_SET_ADDR &&
	       moat_rule_lpm_lookup(&s->lpm, a) >= 0;
}

bool moat_set_contains_port(const struct moat_set *s, uint16_t port)
{
	return s && s->kind == MOAT_SET_PORT &&
	       moat_rule_ports_has(&s->ports, port);
}

bool moat_zone_contains(const struct moat_zone *z, const struct moat_addr *a)
{
	return z && moat_set_contains(z->networks, a);
}

int moat_set_walk_prefixes(const struct moat_set *s,
			   int (*fn)(void *arg, const struct moat_addr *a,
				     int len, int val),
			   void *arg)
{
	if (!s || s->kind != MOAT_SET_ADDR)
		return -EINVAL;
	if (s->overload)
		return -EAGAIN;
	return moat_rule_lpm_walk(&s->lpm, fn, arg);
}

int moat_config_zone_walk_prefixes(const struct moat_config *c,
				   int (*fn)(void *arg,
					     const struct moat_addr *a,
					     int len, int zone),
				   void *arg)
{
	return moat_rule_lpm_walk(&c->zone_map, fn, arg);
}

int moat_config_zone_by_addr(const struct moat_config *c,
			     const struct moat_addr *a)
{
	return c ? moat_rule_lpm_lookup(&c->zone_map, a) : -1;
}

/* A zone-qualified side: the zone the engine named, else the networks. */
static bool zone_ok(const struct moat_config *c, const struct side *s,
		    const struct moat_addr *a, int zone)
{
	bool in;

	if (s->zone < 0)
		return true;
	if (zone >= 0 && zone < c->nzones)
		in = zone == s->zone;
	else
		in = moat_zone_contains(&c->zones[s->zone], a);
	return in != s->zone_neg;
}

static bool side_ok(const struct moat_config *c, const struct side *s,
		    const struct moat_addr *a, int zone, uint16_t port,
		    bool later_frag)
{
	if (!zone_ok(c, s, a, zone))
		return false;
	if (s->set && (moat_rule_lpm_lookup(&s->set->lpm, a) >= 0) == s->set_neg)
		return false;
	if (s->port && (later_frag || !moat_rule_ports_has(&s->port->ports, port)))
		return false;
	return true;
}

static bool l4_ok(const struct moat_rule_match *m, const struct moat_pkt *p,
		  bool later_frag)
{
	if (m->has_flags &&
	    (later_frag || (p->tcp_flags & m->flags_mask) != m->flags_set))
		return false;
	if (m->has_icmp_type) {
		if (later_frag ||
		    !(m->icmp_types[p->icmp_type / 8] & (1u << (p->icmp_type % 8))))
			return false;
		if (m->icmp_code >= 0 && m->icmp_code != p->icmp_code)
			return false;
	}
	return true;
}

bool moat_rule_match_one(const struct moat_config *c,
			 const struct moat_rule_match *m,
			 const struct moat_pkt *p, int in_zone, int out_zone)
{
	bool later = (p->frag & MOAT_FRAG_LATER) != 0;

	if (!(m->fam & (p->ipv == 4 ? FAM4 : FAM6)))
		return false;
	int pc = moat_rule_proto_class(p->proto, p->ipv);

	if (!(m->protos & (1 << pc)))
		return false;
	if (pc == PC_OTHER && !(m->other[p->proto / 8] & (1u << (p->proto % 8))))
		return false;
	return l4_ok(m, p, later) &&
	       side_ok(c, &m->from, &p->src, in_zone, p->sport, later) &&
	       side_ok(c, &m->to, &p->dst, out_zone, p->dport, later);
}

/* The interval of @s holding @port: the last start at or below it. */
static uint32_t find_interval(const struct slot *s, uint16_t port)
{
	if (s->by_port)
		return s->by_port[port];
	return count_le_u16(s->start, s->nint, port) - 1; /* start[0] is 0 */
}

static u128 key6(const uint8_t b[16])
{
	u128 k = 0;

	for (int i = 0; i < 16; i++)
		k = (k << 8) | b[i];
	return k;
}

/* The candidates of port interval @k, split by destination. */
static void dsplit_range(const struct slot *s, uint32_t k,
			 const struct moat_pkt *p, uint32_t *from,
			 uint32_t *to)
{
	const struct dsplit *ds = p->ipv == 4 ? &s->d4[k] : &s->d6[k];
	uint32_t j;

	if (!ds->n)
		return;
	if (p->ipv == 4) {
		const uint8_t *b = moat_addr_v4(&p->dst);
		uint32_t key = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
			       (uint32_t)b[2] << 8 | b[3];

		j = count_le_u32(ds->start4, ds->n, key);
	} else {
		j = count_le_u128(ds->start6, ds->n, key6(p->dst.b));
	}
	*from = ds->first[j - 1]; /* start[0] is 0: j >= 1 */
	*to = ds->first[j];
}

const struct moat_rule *moat_rules_match(const struct moat_config *c,
					 const struct moat_pkt *p,
					 int in_zone, int out_zone)
{
	const struct slot *s;
	int pc, zs;
	uint32_t k, from, to;
	uint16_t port = 0;

	if (!c || (p->ipv != 4 && p->ipv != 6))
		return NULL;
	pc = moat_rule_proto_class(p->proto, p->ipv);
	zs = in_zone >= 0 && in_zone < c->nzones ? in_zone + 1 : 0;
	s = &c->index.slots[pc * c->index.nzones1 + zs];
	if ((pc == PC_TCP || pc == PC_UDP) && !(p->frag & MOAT_FRAG_LATER))
		port = p->dport;
	k = find_interval(s, port);
	from = s->first[k];
	to = s->first[k + 1];
	dsplit_range(s, k, p, &from, &to);
	for (uint32_t i = from; i < to; i++) {
		uint32_t r = c->index.list[i];

		if (moat_rule_match_one(c, &c->matches[r], p, in_zone, out_zone))
			return &c->rules[r];
	}
	return NULL;
}
