/*
 * Per-source and per-rule connection limits.  Placeholder: admits all.
 */
#include "engine/engine_impl.h"

int moat_engine_src_create(struct moat_engine *e)
{
	e->src = NULL;
	return 0;
}

void moat_engine_src_destroy(struct moat_engine *e)
{
	e->src = NULL;
}

void moat_engine_src_reload(struct moat_engine *e)
{
	(void)e;
}

enum moat_reason moat_engine_src_admit(struct moat_engine *e,
				       struct moat_flight *fl,
				       const struct moat_rule *rule)
{
	(void)e;
	(void)fl;
	(void)rule;
	return MOAT_R_NONE;
}

void moat_engine_src_created(struct moat_engine *e, struct moat_ct_entry *ent,
			     const struct moat_rule *rule)
{
	(void)e;
	(void)ent;
	(void)rule;
}

void moat_engine_src_freed(struct moat_engine *e, struct moat_ct_entry *ent)
{
	(void)e;
	(void)ent;
}

void moat_engine_src_tick(struct moat_engine *e, uint64_t now_ns)
{
	(void)e;
	(void)now_ns;
}
