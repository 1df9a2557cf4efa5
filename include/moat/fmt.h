/*
 * A bounded formatter for the core's only text: the lines of
 * `moat replay --explain` (moat_engine_say).  The core links no stdio
 * (tests/unit/engine/core_clean.sh refuses every printf and snprintf in
 * it), so this small one stands in: it knows %s, %c, %d, %u, %x with the
 * l, ll and z sizes, and %%; anything else prints as '?'.  Output stops
 * at the end of @buf, always NUL-terminated.  Control plane only: the
 * packet path never formats unless an explanation was asked for.
 */
#ifndef MOAT_FMT_H
#define MOAT_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Returns the length written (at most @len - 1). */
size_t moat_fmt_v(char *buf, size_t len, const char *fmt, va_list ap);
size_t moat_fmt(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
