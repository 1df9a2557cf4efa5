/*
 * Checks across the whole configuration, once everything is parsed: the
 * warnings an administrator would thank us for.
 *
 *   - shadowing: a rule no packet can reach because an earlier rule
 *     matches every packet it would (first match wins).  The test is
 *     conservative and sound: it only warns when containment is proven
 *     on every field; a rule it cannot prove dead is left alone.
 *   - cleartext and address-trust logins (ftp, telnet, rexec, rlogin, rsh)
 *     passed in from the default zone, unless an earlier rule blocks them.
 *   - zones with networks while antispoof is off; no default zone.
 *
 * Control plane only.
 */
#include <stdio.h>
#include <string.h>

#include "rules/internal.h"

enum { SET_COMPARE_MAX = 4096 }; /* bigger sets: assume "not covered" */

static bool set_superset(const struct moat_set *a, const struct moat_set *b)
{
	if (a == b)
		return true;
	if (a->overload || b->overload)
		return false; /* their run-time contents are unknown here */
	if (b->lpm.n4 + b->lpm.n6 > SET_COMPARE_MAX)
		return false;
	return moat_rule_lpm_superset(&a->lpm, &b->lpm);
}

static bool addrs_cover(const struct side *a, const struct side *b)
{
	if (!a->set)
		return true;
	if (!b->set || a->set_neg != b->set_neg)
		return false;
	/* !A covers !B exactly when A is inside B */
	return a->set_neg ? set_superset(b->set, a->set)
			  : set_superset(a->set, b->set);
}

static bool side_covers(const struct side *a, const struct side *b)
{
	if (a->zone >= 0 && (b->zone != a->zone || b->zone_neg != a->zone_neg))
		return false;
	if (!addrs_cover(a, b))
		return false;
	if (a->port && (!b->port || !moat_rule_ports_superset(&a->port->ports,
							      &b->port->ports)))
		return false;
	return true;
}

static bool icmp_covers(const struct moat_rule_match *a,
			const struct moat_rule_match *b)
{
	if (!a->has_icmp_type)
		return true;
	if (!b->has_icmp_type)
		return false;
	for (int i = 0; i < 32; i++)
		if ((b->icmp_types[i] & a->icmp_types[i]) != b->icmp_types[i])
			return false;
	return a->icmp_code < 0 || a->icmp_code == b->icmp_code;
}

/* Does every packet @b matches also match @a? */
static bool covers(const struct moat_rule_match *a,
		   const struct moat_rule_match *b)
{
	if ((a->protos & b->protos) != b->protos || (a->fam & b->fam) != b->fam)
		return false;
	for (int i = 0; (b->protos & (1 << PC_OTHER)) && i < 32; i++)
		if ((a->other[i] & b->other[i]) != b->other[i])
			return false;
	if (a->has_flags &&
	    (!b->has_flags || (b->flags_mask & a->flags_mask) != a->flags_mask ||
	     (b->flags_set & a->flags_mask) != a->flags_set))
		return false;
	if (!icmp_covers(a, b))
		return false;
	return side_covers(&a->from, &b->from) && side_covers(&a->to, &b->to);
}

static void check_shadowing(const struct moat_config *c, struct moat_diags *d)
{
	for (int j = 1; j < c->nrules; j++) {
		for (int i = 0; i < j; i++) {
			if (!covers(&c->matches[i], &c->matches[j]))
				continue;
			moat_rule_diag(d, MOAT_DIAG_WARNING, c->rules[j].file,
				       c->rules[j].line, c->rules[j].col,
				       "rule %d can never match: rule %d (line %d) "
				       "matches every packet it would",
				       j + 1, i + 1, c->rules[i].line);
			break;
		}
	}
}

/* Can packets entering from zone @z reach this side? */
static bool from_zone(const struct side *s, int z)
{
	if (s->zone < 0)
		return true;
	return s->zone_neg ? s->zone != z : s->zone == z;
}

static const struct {
	uint16_t lo, hi;
	const char *what;
} logins[] = {
	{ 21, 21, "ftp 21" },
	{ 23, 23, "telnet 23" },
	{ 512, 514, "rexec/rlogin/rsh 512-514" },
};

/* An earlier block of tcp from zone @z to every address on [lo, hi]? */
static bool blocked_before(const struct moat_config *c, int upto, int z,
			   uint16_t lo, uint16_t hi)
{
	for (int i = 0; i < upto; i++) {
		const struct moat_rule_match *m = &c->matches[i];

		if (c->rules[i].action == MOAT_RULE_PASS ||
		    !(m->protos & (1 << PC_TCP)) || m->fam != FAMALL)
			continue;
		if (m->from.set || m->from.port || m->to.set || m->to.zone >= 0 ||
		    m->has_flags)
			continue;
		if (m->from.zone >= 0 && (m->from.zone != z || m->from.zone_neg))
			continue;
		if (!m->to.port)
			return true;
		for (uint32_t p = lo; p <= hi; p++)
			if (!moat_rule_ports_has(&m->to.port->ports, (uint16_t)p))
				goto next;
		return true;
next:;
	}
	return false;
}

/*
 * ftp and telnet send passwords in cleartext; rexec, rlogin and rsh trust
 * the source address, which a blind attacker forges (the ISN prediction
 * attack).  Warn once per rule, naming every exposed service.
 */
static void login_warning(const struct moat_config *c, struct moat_diags *d,
			  int j, int z)
{
	const struct moat_rule_match *m = &c->matches[j];
	char list[160] = "";

	for (size_t k = 0; k < sizeof(logins) / sizeof(*logins); k++) {
		if (m->to.port && !moat_rule_ports_overlap(&m->to.port->ports,
							   logins[k].lo,
							   logins[k].hi))
			continue;
		if (blocked_before(c, j, z, logins[k].lo, logins[k].hi))
			continue;
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			 list[0] ? ", " : "", logins[k].what);
	}
	if (!list[0])
		return;
	moat_rule_diag(d, MOAT_DIAG_WARNING, c->rules[j].file, c->rules[j].line,
		       c->rules[j].col,
		       "rule %d exposes cleartext or address-trust logins to zone "
		       "'%s' (default): %s; block them before this rule, use ssh",
		       j + 1, c->zones[z].name, list);
}

static void check_logins(const struct moat_config *c, struct moat_diags *d)
{
	int z = c->default_zone;

	if (z < 0)
		return;
	for (int j = 0; j < c->nrules; j++) {
		const struct moat_rule_match *m = &c->matches[j];

		if (c->rules[j].action != MOAT_RULE_PASS ||
		    !(m->protos & (1 << PC_TCP)) || !from_zone(&m->from, z))
			continue;
		login_warning(c, d, j, z);
	}
}

/*
 * Live, a packet enters from the zone of the interface it arrived on.  A
 * zone with networks but no interface (a DMZ carved out of a larger
 * block) is then never an ingress zone: its hosts' packets arrive on a
 * neighbour's interface, and with antispoof on they are dropped as
 * spoof-zone, although a replay, which reads zones off source addresses,
 * passes them.  Only a bridge (two zones or more with an interface) is
 * warned: on a host, an interface-less zone is the host itself.
 */
static void check_ifaceless_zones(const struct moat_config *c,
				  struct moat_diags *d)
{
	int ports = 0;

	for (int i = 0; i < c->nzones; i++)
		ports += c->zones[i].ifname[0] != '\0';
	if (ports < 2 || !c->opt.antispoof)
		return;
	for (int i = 0; i < c->nzones; i++) {
		const struct moat_zone *z = &c->zones[i];

		if (!z->has_networks || z->ifname[0])
			continue;
		moat_rule_diag(d, MOAT_DIAG_WARNING, z->file, z->line, 1,
			       "zone '%s' has networks but no interface: live, "
			       "its hosts' packets arrive on another zone's "
			       "interface and antispoof drops them as "
			       "spoof-zone; give it an interface or fold its "
			       "networks into that zone", z->name);
	}
}

static void check_zones(const struct moat_config *c, struct moat_diags *d)
{
	if (c->nzones > 0 && c->default_zone < 0)
		moat_rule_diag(d, MOAT_DIAG_WARNING, c->zones[0].file,
			       c->zones[0].line, 1,
			       "no zone is marked 'default': packets from unknown "
			       "interfaces and addresses have no zone");
	check_ifaceless_zones(c, d);
	if (c->opt.antispoof)
		return;
	for (int i = 0; i < c->nzones; i++) {
		if (!c->zones[i].has_networks)
			continue;
		moat_rule_diag(d, MOAT_DIAG_WARNING, c->zones[i].file,
			       c->zones[i].line, 1,
			       "zone '%s' has networks but antispoof is off: "
			       "forged sources claiming them are not dropped",
			       c->zones[i].name);
	}
}

void moat_rule_check_all(const struct moat_config *c, struct moat_diags *d)
{
	check_zones(c, d);
	check_shadowing(c, d);
	check_logins(c, d);
}
