/*
 * What the bridge placement needs of a configuration: `moat run` stands
 * between exactly two zones, each named by one interface of its own, and
 * forwards every frame from one to the other.  A configuration may hold
 * more (zones made only of networks, for the rules and antispoof) and is
 * still valid for `moat check` and `moat replay`, which need no interface;
 * this is the one test of whether it can be *run*, shared by `moat run`
 * (an error), its reloads, and `moat check` (a warning, or an error with
 * --bridge), so that the two can never disagree.
 *
 * Control plane only.
 */
#include <errno.h>
#include <string.h>

#include "rules/internal.h"

static const char *main_file(const struct moat_config *c)
{
	return c->nfiles > 0 ? c->files[0] : "(config)";
}

int moat_config_bridge_ports(const struct moat_config *c,
			     struct moat_bridge_ports *ports,
			     struct moat_diags *d, int severity)
{
	int found[2], n = 0;

	for (int z = 0; z < c->nzones; z++) {
		const struct moat_zone *zone = &c->zones[z];

		if (!zone->ifname[0])
			continue;
		if (n == 2) {
			if (d)
				moat_rule_diag(d, severity, zone->file,
					       zone->line, 1,
					       "not runnable as a bridge: zone "
					       "'%s' is a third zone with an "
					       "interface ('%s' and '%s' come "
					       "first); `moat run` bridges "
					       "exactly two",
					       zone->name,
					       c->zones[found[0]].name,
					       c->zones[found[1]].name);
			return -EINVAL;
		}
		found[n++] = z;
	}
	if (n < 2) {
		if (!d)
			return -EINVAL;
		if (n == 1)
			moat_rule_diag(d, severity, c->zones[found[0]].file,
				       c->zones[found[0]].line, 1,
				       "not runnable as a bridge: zone '%s' is "
				       "the only zone with an interface; `moat "
				       "run` needs exactly two (a host fed by "
				       "NFQUEUE is not supported yet)",
				       c->zones[found[0]].name);
		else
			moat_rule_diag(d, severity, main_file(c), 0, 0,
				       "not runnable as a bridge: no zone has an "
				       "interface; `moat run` needs exactly two "
				       "zones with an `interface`");
		return -EINVAL;
	}
	/* The parser refuses an interface named twice; a bridge from an
	 * interface to itself would loop every frame, so say it here too. */
	if (!strcmp(c->zones[found[0]].ifname, c->zones[found[1]].ifname)) {
		if (d)
			moat_rule_diag(d, severity, c->zones[found[1]].file,
				       c->zones[found[1]].line, 1,
				       "not runnable as a bridge: zones '%s' and "
				       "'%s' both name interface '%s'",
				       c->zones[found[0]].name,
				       c->zones[found[1]].name,
				       c->zones[found[1]].ifname);
		return -EINVAL;
	}
	if (ports) {
		ports->zone[0] = found[0];
		ports->zone[1] = found[1];
	}
	return 0;
}
