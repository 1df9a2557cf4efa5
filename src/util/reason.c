/*
 * Names for the reasons of include/moat/reason.h: what --trace, the JSON
 * summaries and `moat ctl stats` print.
 */
#include <string.h>

#include "moat/reason.h"

static const char *const reason_names[MOAT_R_COUNT] = {
#define REASON_NAME(id, name) [MOAT_R_##id] = name,
	MOAT_REASONS(REASON_NAME)
#undef REASON_NAME
};

const char *moat_reason_name(enum moat_reason r)
{
	if ((unsigned)r >= MOAT_R_COUNT)
		return "?";
	return reason_names[r];
}

int moat_reason_from_name(const char *name)
{
	for (int i = 0; i < MOAT_R_COUNT; i++)
		if (strcmp(reason_names[i], name) == 0)
			return i;
	return -1;
}
