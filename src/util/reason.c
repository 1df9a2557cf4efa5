/*
 * Names and classes for the reasons of include/moat/reason.h: what --trace,
 * the JSON summaries and `moat ctl stats` print, and whether each is a pass,
 * a drop or an answer.
 */
#include <string.h>

#include "moat/reason.h"

static const char *const reason_names[MOAT_R_COUNT] = {
#define REASON_NAME(id, name, class) [MOAT_R_##id] = name,
	MOAT_REASONS(REASON_NAME)
#undef REASON_NAME
};

static const unsigned char reason_classes[MOAT_R_COUNT] = {
#define REASON_CLASS(id, name, class) [MOAT_R_##id] = MOAT_CLASS_##class,
	MOAT_REASONS(REASON_CLASS)
#undef REASON_CLASS
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

enum moat_reason_class moat_reason_class(enum moat_reason r)
{
	if ((unsigned)r >= MOAT_R_COUNT)
		return MOAT_CLASS_DROP;
	return (enum moat_reason_class)reason_classes[r];
}

const char *moat_reason_class_name(enum moat_reason_class c)
{
	static const char *const names[MOAT_CLASS_COUNT] = {
		[MOAT_CLASS_PASS] = "pass",
		[MOAT_CLASS_DROP] = "drop",
		[MOAT_CLASS_ANSWER] = "answer",
	};

	return (unsigned)c < MOAT_CLASS_COUNT ? names[c] : "?";
}
