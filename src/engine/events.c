/*
 * The engine's event ring: rule matches with `log`, syncookie mode switches,
 * a full flow table, hijack alerts.  The engine cannot print (it is pure), so
 * it writes one JSON object per event into a fixed ring that the I/O side
 * drains; when nobody drains fast enough the oldest events are overwritten
 * and the loss is counted, so a flood of events never costs memory.
 */
#include <stdarg.h>
#include <stdio.h>

#include "engine/engine_impl.h"

void moat_engine_event(struct moat_engine *e, uint64_t now_ns,
		       const char *fmt, ...)
{
	struct moat_event *ev;
	va_list ap;

	if (e->ev_count == MOAT_ENGINE_EVENT_RING) {
		/* Full: overwrite the oldest. */
		e->ev_head = (e->ev_head + 1) % MOAT_ENGINE_EVENT_RING;
		e->ev_count--;
		e->ev_lost++;
	}
	ev = &e->events[(e->ev_head + e->ev_count) % MOAT_ENGINE_EVENT_RING];
	e->ev_count++;
	ev->time_ns = now_ns;
	va_start(ap, fmt);
	vsnprintf(ev->text, sizeof(ev->text), fmt, ap);
	va_end(ap);
}

int moat_engine_events_drain(struct moat_engine *e, struct moat_event *buf,
			     int max)
{
	int n = 0;

	while (n < max && e->ev_count > 0) {
		buf[n++] = e->events[e->ev_head];
		e->ev_head = (e->ev_head + 1) % MOAT_ENGINE_EVENT_RING;
		e->ev_count--;
	}
	return n;
}

void moat_engine_say_line(struct moat_engine *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!e->explain || e->explain_off + 2 >= e->explain_len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(e->explain + e->explain_off,
		      e->explain_len - e->explain_off - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	e->explain_off += (unsigned long)n;
	if (e->explain_off > e->explain_len - 2)
		e->explain_off = e->explain_len - 2;
	e->explain[e->explain_off++] = '\n';
	e->explain[e->explain_off] = '\0';
}
