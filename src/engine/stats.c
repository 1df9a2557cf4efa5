/*
 * What `moat ctl stats` and `moat ctl flows` show of the engine: flows by
 * state, table use, syncookie mode, alerts, and the flows themselves, as
 * data; src/io formats them.  Control plane: called between packets.
 */
#include "engine/engine_impl.h"
#include "engine/frag_glue.h"
#include "moat/syn_proxy.h"

void moat_engine_stats(const struct moat_engine *e,
		       struct moat_engine_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->flows = moat_ct_count(e->ct);
	st->capacity = moat_ct_capacity(e->ct);
	moat_ct_get_stats(e->ct, &st->ct);
	moat_ct_count_by_state(e->ct, st->by_state);
	st->events_lost = e->ev_lost;
	st->mode_switches = e->mode_switches;
	st->synack_retransmits = e->synack_retransmits;
	st->server_timeouts = e->syn_server_timeouts;
	st->emit_full = e->emit_full;
	st->syncookies = e->syncookies_forced >= 0 ? e->syncookies_forced
						   : (int)e->opt.syncookies;
	moat_engine_hijack_stats(e, &st->hijack);
	st->challenge.sent = e->challenge.sent;
	st->challenge.limited = e->challenge.limited;
	st->challenge.unknown = e->challenge.unknown;
	moat_engine_src_stats(e, &st->sources);
	st->nsyn = moat_syn_mode_list(moat_syn_modes(e->syn), st->syn,
				      MOAT_ENGINE_STATS_SYN_MAX);
	moat_engine_frag_get_stats(e, &st->frag);
	st->scrub.mss = e->scrub.mss;
	st->scrub.ttl = e->scrub.ttl;
	st->scrub.id = e->scrub.id;
	st->scrub.reserved = e->scrub.reserved;
}

struct flows_walk {
	const struct moat_engine *e;
	void (*fn)(const struct moat_flow *fl, void *arg);
	void *arg;
	int left, done;
};

static int export_flow(struct moat_ct_entry *ent, void *arg)
{
	struct flows_walk *w = arg;
	struct moat_flow f;

	if (w->left-- <= 0)
		return 1;
	memset(&f, 0, sizeof(f));
	f.key.src = ent->addr[0];
	f.key.dst = ent->addr[1];
	f.key.sport = ent->port[0];
	f.key.dport = ent->port[1];
	f.key.proto = ent->proto;
	/* conntrack keeps only echo flows of ICMP (errors belong to the
	 * flow they quote): the type its first packet had. */
	if (ent->proto == MOAT_IPPROTO_ICMP)
		f.key.icmp_type = 8;
	else if (ent->proto == MOAT_IPPROTO_ICMPV6)
		f.key.icmp_type = 128;
	f.state = ent->state;
	f.rule = ent->rule;
	f.zone[0] = ent->zone[0];
	f.zone[1] = ent->zone[1];
	f.synproxy = (ent->flags & MOAT_CT_F_SYNPROXY) != 0;
	f.modulate = (ent->flags & MOAT_CT_F_MODULATE) != 0;
	f.expires_in = moat_ct_ttl(ent, w->e->now);
	w->fn(&f, w->arg);
	w->done++;
	return 0;
}

int moat_engine_flows(const struct moat_engine *e,
		      void (*fn)(const struct moat_flow *fl, void *arg),
		      void *arg, int max)
{
	struct flows_walk w = { e, fn, arg, max, 0 };

	moat_ct_foreach((struct moat_ct *)e->ct, export_flow, &w);
	return w.done;
}

unsigned long moat_engine_flow_count(const struct moat_engine *e)
{
	return moat_ct_count(e->ct);
}

const struct moat_config *moat_engine_config(const struct moat_engine *e)
{
	return e->cfg;
}
