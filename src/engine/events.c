/*
 * The engine's event ring: rule matches with `log`, syncookie mode switches,
 * a full flow table, hijack alerts, overloads.  The engine cannot print (it
 * is pure), so an event is a struct (moat/event.h) written into a fixed
 * ring that the I/O side drains and formats; when nobody drains fast
 * enough the oldest events are overwritten and the loss is counted, so a
 * flood of events never costs memory, and raising one costs a copy of the
 * flow key.
 */
#include <stdarg.h>

#include "engine/engine_impl.h"
#include "moat/fmt.h"

static const char *const kind_names[MOAT_EV_KIND_COUNT] = {
	[MOAT_EV_RULE] = "rule",
	[MOAT_EV_TABLE_FULL] = "table_full",
	[MOAT_EV_SYNCOOKIES] = "syncookies",
	[MOAT_EV_HIJACK] = "hijack",
	[MOAT_EV_OVERLOAD] = "overload",
	[MOAT_EV_OVERLOAD_EXPIRED] = "overload_expired",
	[MOAT_EV_ADDRESS_TRUST] = "address_trust",
};

const char *moat_event_kind_name(enum moat_event_kind k)
{
	return (unsigned)k < MOAT_EV_KIND_COUNT ? kind_names[k] : "?";
}

const char *moat_event_hijack_name(enum moat_event_hijack_kind k)
{
	switch (k) {
	case MOAT_EV_HIJACK_INJECTION: return "injection";
	case MOAT_EV_HIJACK_ACK_STORM: return "ack-storm";
	case MOAT_EV_HIJACK_TTL_JUMP: return "ttl-jump";
	}
	return "?";
}

const char *moat_event_action_name(enum moat_event_action a)
{
	switch (a) {
	case MOAT_EV_ACTION_PASS: return "pass";
	case MOAT_EV_ACTION_BLOCK: return "block";
	case MOAT_EV_ACTION_REJECT: return "reject";
	}
	return "?";
}

struct moat_event *moat_engine_event(struct moat_engine *e, uint64_t now_ns,
				     enum moat_event_kind kind)
{
	struct moat_event *ev;

	if (e->ev_count == MOAT_ENGINE_EVENT_RING) {
		/* Full: overwrite the oldest. */
		e->ev_head = (e->ev_head + 1) % MOAT_ENGINE_EVENT_RING;
		e->ev_count--;
		e->ev_lost++;
	}
	ev = &e->events[(e->ev_head + e->ev_count) % MOAT_ENGINE_EVENT_RING];
	e->ev_count++;
	memset(ev, 0, sizeof(*ev));
	ev->time_ns = now_ns;
	ev->kind = (uint8_t)kind;
	ev->in_zone = -1;
	return ev;
}

struct moat_event *moat_engine_event_flow(struct moat_engine *e,
					  const struct moat_flight *fl,
					  enum moat_event_kind kind)
{
	struct moat_event *ev = moat_engine_event(e, fl->now, kind);
	const struct moat_pkt *p = &fl->p;

	ev->in_zone = fl->res->in_zone;
	ev->key.src = p->src;
	ev->key.dst = p->dst;
	ev->key.proto = p->proto;
	if (p->proto == MOAT_IPPROTO_ICMP || p->proto == MOAT_IPPROTO_ICMPV6) {
		ev->key.icmp_type = p->icmp_type;
		ev->key.icmp_code = p->icmp_code;
	} else {
		ev->key.sport = p->sport;
		ev->key.dport = p->dport;
	}
	return ev;
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
	size_t n;

	if (!e->explain || e->explain_off + 2 >= e->explain_len)
		return;
	va_start(ap, fmt);
	n = moat_fmt_v(e->explain + e->explain_off,
		       e->explain_len - e->explain_off - 1, fmt, ap);
	va_end(ap);
	e->explain_off += (unsigned long)n;
	if (e->explain_off > e->explain_len - 2)
		e->explain_off = e->explain_len - 2;
	e->explain[e->explain_off++] = '\n';
	e->explain[e->explain_off] = '\0';
}
