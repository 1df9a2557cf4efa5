/*
 * Hijack and injection detection.  Placeholder: detects nothing yet.
 */
#include "engine/engine_impl.h"

int moat_engine_hijack_create(struct moat_engine *e)
{
	e->hijack = NULL;
	return 0;
}

void moat_engine_hijack_destroy(struct moat_engine *e)
{
	e->hijack = NULL;
}

enum moat_reason moat_engine_hijack_check(struct moat_engine *e,
					  struct moat_flight *fl,
					  struct moat_ct_entry *ent, int dir,
					  enum moat_reason track)
{
	(void)e;
	(void)fl;
	(void)ent;
	(void)dir;
	(void)track;
	return MOAT_R_NONE;
}
