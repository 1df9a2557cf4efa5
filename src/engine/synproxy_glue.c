/*
 * The SYN proxy as the engine drives it.  Provisional: until the proxy's
 * state machine lands, synproxy rules track like plain pass rules.
 */
#include "engine/synproxy_glue.h"

int moat_engine_syn_create(struct moat_engine *e)
{
	(void)e;
	return 0;
}

void moat_engine_syn_destroy(struct moat_engine *e)
{
	(void)e;
}

void moat_engine_syn_reload(struct moat_engine *e)
{
	(void)e;
}

void moat_engine_syn_tick(struct moat_engine *e, uint64_t now_ns,
			  struct moat_emit *out)
{
	(void)e;
	(void)now_ns;
	(void)out;
}

bool moat_engine_syn_owns(const struct moat_ct_entry *ent)
{
	return ent->state == MOAT_CT_SYNPROXY;
}

bool moat_engine_syn_flow(struct moat_engine *e, struct moat_flight *fl,
			  struct moat_ct_entry *ent, int dir)
{
	(void)ent;
	(void)dir;
	fl->res->verdict = MOAT_VERDICT_DROP;
	fl->res->reason = MOAT_R_TCP_BAD_STATE;
	e->cnt.dropped++;
	e->cnt.reason[MOAT_R_TCP_BAD_STATE]++;
	return false;
}

bool moat_engine_syn_new(struct moat_engine *e, struct moat_flight *fl,
			 const struct moat_rule *rule)
{
	(void)e;
	(void)fl;
	(void)rule;
	return false;
}

void moat_engine_syn_observe(struct moat_engine *e, struct moat_flight *fl,
			     struct moat_ct_entry *ent, int dir)
{
	(void)e;
	(void)fl;
	(void)ent;
	(void)dir;
}
