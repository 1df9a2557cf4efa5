/*
 * The diagnostics list the loader fills: every error and warning with its
 * file, line and column.  Bounded: past MOAT_DIAG_MAX entries only the
 * counters move, so a hostile file cannot make the loader grow without end.
 * Control plane only; nothing here prints.
 */
#include <stdio.h>
#include <string.h>

#include "rules/internal.h"

void moat_diags_init(struct moat_diags *d)
{
	memset(d, 0, sizeof(*d));
}

void moat_rule_vdiag(struct moat_diags *d, int severity, const char *file,
		     int line, int col, const char *fmt, va_list ap)
{
	struct moat_diag *e;

	if (severity == MOAT_DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
	if (d->count >= MOAT_DIAG_MAX) {
		d->dropped++;
		return;
	}
	e = &d->d[d->count++];
	snprintf(e->file, sizeof(e->file), "%s", file ? file : "");
	e->line = line;
	e->col = col;
	e->severity = severity;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

void moat_rule_diag(struct moat_diags *d, int severity, const char *file,
		    int line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	moat_rule_vdiag(d, severity, file, line, col, fmt, ap);
	va_end(ap);
}
