/*
 * Checks across the whole configuration, once everything is parsed: the
 * warnings an administrator would thank us for.
 *
 *   - shadowing: a rule no packet can reach because an earlier rule
 *     matches every packet it would (first match wins).  The test is
 *     conservative and sound: it only warns when containment is proven
 *     on every field; a rule it cannot prove dead is left alone.  Which
 *     rule shadows which is found by shadow.c without comparing all pairs.
 *   - cleartext and address-trust logins (ftp, telnet, rexec, rlogin, rsh)
 *     passed in from the default zone, unless an earlier rule blocks them.
 *   - zones with networks while antispoof is off; no default zone.
 *
 * Control plane only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"

/*
 * At 70 ns a comparison this is about a second and a half: far more than
 * any rule set that differs in hosts or ports needs (shadow.c), and a
 * bound on the pathological ones, which are told where the check stopped.
 */
#define SHADOW_BUDGET 20000000ull

static void check_shadowing(const struct moat_config *c, struct moat_diags *d)
{
	int *by = malloc((size_t)(c->nrules ? c->nrules : 1) * sizeof(*by));
	int done = by ? moat_rule_shadow_find(c, by, SHADOW_BUDGET) : -ENOMEM;

	if (done < 0) {
		moat_rule_diag(d, MOAT_DIAG_WARNING, c->nrules ? c->rules[0].file :
			       "(config)", 0, 0,
			       "rules not checked for shadowing: out of memory");
		free(by);
		return;
	}
	for (int j = 0; j < done; j++) {
		int i = by[j];

		if (i < 0)
			continue;
		moat_rule_diag(d, MOAT_DIAG_WARNING, c->rules[j].file,
			       c->rules[j].line, c->rules[j].col,
			       "rule %d can never match: rule %d (line %d) "
			       "matches every packet it would",
			       j + 1, i + 1, c->rules[i].line);
	}
	if (done < c->nrules)
		moat_rule_diag(d, MOAT_DIAG_WARNING, c->rules[done].file,
			       c->rules[done].line, c->rules[done].col,
			       "rules %d to %d not checked for shadowing: too "
			       "many rules alike (%llu comparisons made)",
			       done + 1, c->nrules, SHADOW_BUDGET);
	free(by);
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

/* Does rule @i block tcp from zone @z to every address on [lo, hi]? */
static bool blocks_login(const struct moat_config *c, int i, int z,
			 uint16_t lo, uint16_t hi)
{
	const struct moat_rule_match *m = &c->matches[i];

	if (c->rules[i].action == MOAT_RULE_PASS ||
	    !(m->protos & (1 << PC_TCP)) || m->fam != FAMALL)
		return false;
	if (m->from.set || m->from.port || m->to.set || m->to.zone >= 0 ||
	    m->has_flags)
		return false;
	if (m->from.zone >= 0 && (m->from.zone != z || m->from.zone_neg))
		return false;
	if (!m->to.port)
		return true;
	for (uint32_t p = lo; p <= hi; p++)
		if (!moat_rule_ports_has(&m->to.port->ports, (uint16_t)p))
			return false;
	return true;
}

/* The first rule that blocks login @k from zone @z, or nrules: one pass,
 * so that each pass rule asks "blocked before me?" in constant time. */
static int first_block(const struct moat_config *c, int z, size_t k)
{
	for (int i = 0; i < c->nrules; i++)
		if (blocks_login(c, i, z, logins[k].lo, logins[k].hi))
			return i;
	return c->nrules;
}

/*
 * ftp and telnet send passwords in cleartext; rexec, rlogin and rsh trust
 * the source address, which a blind attacker forges (the ISN prediction
 * attack).  Warn once per rule, naming every exposed service.
 */
static void login_warning(const struct moat_config *c, struct moat_diags *d,
			  int j, int z, const int *blocked_at)
{
	const struct moat_rule_match *m = &c->matches[j];
	char list[160] = "";

	for (size_t k = 0; k < sizeof(logins) / sizeof(*logins); k++) {
		if (m->to.port && !moat_rule_ports_overlap(&m->to.port->ports,
							   logins[k].lo,
							   logins[k].hi))
			continue;
		if (blocked_at[k] < j)
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
	int blocked_at[sizeof(logins) / sizeof(*logins)];

	if (z < 0)
		return;
	for (size_t k = 0; k < sizeof(logins) / sizeof(*logins); k++)
		blocked_at[k] = first_block(c, z, k);
	for (int j = 0; j < c->nrules; j++) {
		const struct moat_rule_match *m = &c->matches[j];

		if (c->rules[j].action != MOAT_RULE_PASS ||
		    !(m->protos & (1 << PC_TCP)) || !from_zone(&m->from, z))
			continue;
		login_warning(c, d, j, z, blocked_at);
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
