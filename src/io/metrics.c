/*
 * Counters as text: `moat ctl stats` (lines a script can grep), `stats
 * --json`, and `metrics` in the Prometheus text exposition format
 * (prometheus.io/docs/instrumenting/exposition_formats, version 0.0.4).
 *
 * Off the packet's path: the run loop gathers a struct moat_io_stats_view
 * (the engine's counters and struct moat_engine_stats, data only) when a
 * control client asks, and these functions only format it; the JSON is
 * built by jansson.  Reasons are grouped by their class from
 * include/moat/reason.h, the one table of which are passes.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "moat/ct.h"
#include "moat/io_ctl.h"
#include "moat/syncookies.h"

static void port_text(struct moat_io_buf *b, const struct moat_io_port *p)
{
	moat_io_buf_printf(b,
		"port %s rx %" PRIu64 " tx %" PRIu64 " tx-errors %" PRIu64
		" oversize %" PRIu64 " truncated %" PRIu64 " csum-partial %" PRIu64
		" ring-drops %" PRIu64 " bad %" PRIu64 " ring-delay-avg-us %" PRIu64
		" ring-delay-max-us %" PRIu64 " zerocopy %" PRIu64 " io %s\n",
		p->ifname, p->st.rx_packets, p->tx.packets, p->tx.errors,
		p->tx.oversize, p->st.rx_truncated, p->st.rx_csum_partial,
		p->st.kernel_drops, p->st.rx_bad,
		p->st.delay_batches ? p->st.delay_sum_ns / p->st.delay_batches / 1000 : 0,
		p->st.delay_max_ns / 1000, p->tx.zerocopy, p->mode);
}

static const char *syncookies_name(int mode)
{
	return mode == MOAT_SYNCOOKIES_ON ? "on" :
	       mode == MOAT_SYNCOOKIES_OFF ? "off" : "auto";
}

static void class_totals(const struct moat_counters *c,
			 uint64_t out[MOAT_CLASS_COUNT])
{
	memset(out, 0, sizeof(uint64_t) * MOAT_CLASS_COUNT);
	for (int r = 0; r < MOAT_R_COUNT; r++)
		out[moat_reason_class((enum moat_reason)r)] += c->reason[r];
}

static void engine_text(struct moat_io_buf *b, const struct moat_engine_stats *s)
{
	char a[MOAT_ADDR_STRLEN];

	moat_io_buf_printf(b, "table flows %u capacity %u inserted %" PRIu64
		" expired %" PRIu64 " evicted-halfopen %" PRIu64
		" evicted-other %" PRIu64 " refused-full %" PRIu64 "\n",
		s->flows, s->capacity, s->ct.inserted, s->ct.expired,
		s->ct.evicted_halfopen, s->ct.evicted_other, s->ct.refused_full);
	for (int st = 1; st < MOAT_CT_STATE_COUNT; st++)
		if (s->by_state[st])
			moat_io_buf_printf(b, "state %s %u\n",
				moat_ct_state_name((enum moat_ct_state)st),
				s->by_state[st]);
	moat_io_buf_printf(b, "events-lost %" PRIu64 " mode-switches %" PRIu64
		" synack-retransmits %" PRIu64 " server-timeouts %" PRIu64
		" emit-full %" PRIu64 " syncookies %s\n", s->events_lost,
		s->mode_switches, s->synack_retransmits, s->server_timeouts,
		s->emit_full, syncookies_name(s->syncookies));
	moat_io_buf_printf(b, "hijack injection %" PRIu64 " ack-storm %" PRIu64
		" ttl-jump %" PRIu64 " blocked %" PRIu64 " rst-sent %" PRIu64
		" bytes %" PRIu64 "\n", s->hijack.injection, s->hijack.ack_storm,
		s->hijack.ttl_jump, s->hijack.blocked, s->hijack.rst_sent,
		s->hijack.bytes);
	moat_io_buf_printf(b, "challenge-acks sent %" PRIu64 " limited %" PRIu64
		" unknown %" PRIu64 "\n", s->challenge.sent,
		s->challenge.limited, s->challenge.unknown);
	moat_io_buf_printf(b, "sources nodes %u capacity %u overloads %" PRIu64
		" overload-active %u address-trust %" PRIu64 " table-full %"
		PRIu64 " bytes %" PRIu64 "\n", s->sources.nodes,
		s->sources.capacity, s->sources.overloads,
		s->sources.overload_active, s->sources.address_trust,
		s->sources.table_full, s->sources.bytes);
	moat_io_buf_printf(b, "frag datagrams %u capacity %u slots %u held %u"
		" released %" PRIu64 " held-lost %" PRIu64 " timed-out %" PRIu64
		" evicted %" PRIu64 " completed %" PRIu64 " bytes %" PRIu64 "\n",
		s->frag.datagrams, s->frag.datagram_capacity, s->frag.slots,
		s->frag.held, s->frag.released, s->frag.held_lost,
		s->frag.timed_out, s->frag.evicted, s->frag.completed,
		s->frag.bytes);
	moat_io_buf_printf(b, "scrub mss %" PRIu64 " ttl %" PRIu64 " id %" PRIu64
		" reserved %" PRIu64 "\n", s->scrub.mss, s->scrub.ttl,
		s->scrub.id, s->scrub.reserved);
	for (uint32_t i = 0; i < s->nsyn; i++)
		moat_io_buf_printf(b, "synproxy %s port %u mode %s half-open %u "
			"syn-rate %u\n", moat_addr_format(&s->syn[i].dst, a,
							 sizeof(a)),
			s->syn[i].port, s->syn[i].cookies ? "cookies" : "state",
			s->syn[i].half_open, s->syn[i].rate);
}

void moat_io_stats_text(struct moat_io_buf *b, const struct moat_io_stats_view *v)
{
	const struct moat_counters *c = v->c;
	uint64_t cls[MOAT_CLASS_COUNT];

	class_totals(c, cls);
	moat_io_buf_printf(b, "packets %" PRIu64 "\npassed %" PRIu64
			   "\ndropped %" PRIu64 "\nemitted %" PRIu64
			   "\nflows %" PRIu64 "\n",
			   c->packets, c->passed, c->dropped, c->emitted,
			   v->flows);
	for (int k = 0; k < MOAT_CLASS_COUNT; k++)
		moat_io_buf_printf(b, "class %s %" PRIu64 "\n",
				   moat_reason_class_name(k), cls[k]);
	for (int r = 0; r < MOAT_R_COUNT; r++)
		if (c->reason[r])
			moat_io_buf_printf(b, "reason %s %" PRIu64 "\n",
					   moat_reason_name(r), c->reason[r]);
	for (int i = 0; i < v->nports; i++)
		port_text(b, v->ports[i]);
	moat_io_buf_printf(b, "reloads %" PRIu64 " reload-errors %" PRIu64 "\n",
			   v->reloads, v->reload_errors);
	if (v->engine)
		engine_text(b, v->engine);
}

static json_t *port_json(const struct moat_io_port *p)
{
	return json_pack("{sI sI sI sI sI sI sI sI sI si ss}",
		"rx", (json_int_t)p->st.rx_packets,
		"tx", (json_int_t)p->tx.packets,
		"tx_errors", (json_int_t)p->tx.errors,
		"oversize", (json_int_t)p->tx.oversize,
		"truncated", (json_int_t)p->st.rx_truncated,
		"csum_partial", (json_int_t)p->st.rx_csum_partial,
		"ring_drops", (json_int_t)p->st.kernel_drops,
		"ring_delay_avg_us", (json_int_t)(p->st.delay_batches ?
			p->st.delay_sum_ns / p->st.delay_batches / 1000 : 0),
		"ring_delay_max_us", (json_int_t)(p->st.delay_max_ns / 1000),
		"offloads", (int)p->offloads, "io", p->mode);
}

static json_t *engine_json(const struct moat_engine_stats *s)
{
	char a[MOAT_ADDR_STRLEN];
	json_t *o, *by_state = json_object(), *syn = json_array();

	for (int st = 1; st < MOAT_CT_STATE_COUNT; st++)
		json_object_set_new(by_state,
			moat_ct_state_name((enum moat_ct_state)st),
			json_integer(s->by_state[st]));
	for (uint32_t i = 0; i < s->nsyn; i++)
		json_array_append_new(syn, json_pack("{ss si ss si si}",
			"dst", moat_addr_format(&s->syn[i].dst, a, sizeof(a)),
			"port", (int)s->syn[i].port,
			"mode", s->syn[i].cookies ? "cookies" : "state",
			"half_open", (int)s->syn[i].half_open,
			"syn_rate", (int)s->syn[i].rate));
	o = json_pack("{sI sI sI sI sI sI sI sI sI sI sI sI ss so}",
		"flows", (json_int_t)s->flows,
		"capacity", (json_int_t)s->capacity,
		"inserted", (json_int_t)s->ct.inserted,
		"expired", (json_int_t)s->ct.expired,
		"evicted_halfopen", (json_int_t)s->ct.evicted_halfopen,
		"evicted_other", (json_int_t)s->ct.evicted_other,
		"refused_full", (json_int_t)s->ct.refused_full,
		"events_lost", (json_int_t)s->events_lost,
		"mode_switches", (json_int_t)s->mode_switches,
		"synack_retransmits", (json_int_t)s->synack_retransmits,
		"server_timeouts", (json_int_t)s->server_timeouts,
		"emit_full", (json_int_t)s->emit_full,
		"syncookies", syncookies_name(s->syncookies),
		"by_state", by_state);
	if (!o)
		return NULL;
	json_object_set_new(o, "hijack", json_pack(
		"{sI sI sI sI sI sI}",
		"injection", (json_int_t)s->hijack.injection,
		"ack_storm", (json_int_t)s->hijack.ack_storm,
		"ttl_jump", (json_int_t)s->hijack.ttl_jump,
		"blocked", (json_int_t)s->hijack.blocked,
		"rst_sent", (json_int_t)s->hijack.rst_sent,
		"bytes", (json_int_t)s->hijack.bytes));
	json_object_set_new(o, "challenge_acks", json_pack(
		"{sI sI sI}", "sent", (json_int_t)s->challenge.sent,
		"limited", (json_int_t)s->challenge.limited,
		"unknown", (json_int_t)s->challenge.unknown));
	json_object_set_new(o, "sources", json_pack(
		"{sI sI sI sI sI sI sI}",
		"nodes", (json_int_t)s->sources.nodes,
		"capacity", (json_int_t)s->sources.capacity,
		"overloads", (json_int_t)s->sources.overloads,
		"overload_active", (json_int_t)s->sources.overload_active,
		"address_trust", (json_int_t)s->sources.address_trust,
		"table_full", (json_int_t)s->sources.table_full,
		"bytes", (json_int_t)s->sources.bytes));
	json_object_set_new(o, "frag", json_pack(
		"{sI sI sI sI sI sI sI sI sI sI}",
		"datagrams", (json_int_t)s->frag.datagrams,
		"capacity", (json_int_t)s->frag.datagram_capacity,
		"slots", (json_int_t)s->frag.slots,
		"held", (json_int_t)s->frag.held,
		"released", (json_int_t)s->frag.released,
		"held_lost", (json_int_t)s->frag.held_lost,
		"timed_out", (json_int_t)s->frag.timed_out,
		"evicted", (json_int_t)s->frag.evicted,
		"completed", (json_int_t)s->frag.completed,
		"bytes", (json_int_t)s->frag.bytes));
	json_object_set_new(o, "scrub", json_pack(
		"{sI sI sI sI}", "mss", (json_int_t)s->scrub.mss,
		"ttl", (json_int_t)s->scrub.ttl, "id", (json_int_t)s->scrub.id,
		"reserved", (json_int_t)s->scrub.reserved));
	json_object_set_new(o, "synproxy", syn);
	return o;
}

void moat_io_stats_json(struct moat_io_buf *b, const struct moat_io_stats_view *v)
{
	const struct moat_counters *c = v->c;
	json_t *o = json_object(), *reasons = json_object();
	json_t *classes = json_object(), *ports = json_object();
	uint64_t cls[MOAT_CLASS_COUNT];
	char *text;

	class_totals(c, cls);
	for (int r = 0; r < MOAT_R_COUNT; r++)
		if (c->reason[r])
			json_object_set_new(reasons, moat_reason_name(r),
					    json_integer((json_int_t)c->reason[r]));
	for (int k = 0; k < MOAT_CLASS_COUNT; k++)
		json_object_set_new(classes, moat_reason_class_name(k),
				    json_integer((json_int_t)cls[k]));
	for (int i = 0; i < v->nports; i++)
		json_object_set_new(ports, v->ports[i]->ifname,
				    port_json(v->ports[i]));
	json_object_set_new(o, "packets", json_integer((json_int_t)c->packets));
	json_object_set_new(o, "passed", json_integer((json_int_t)c->passed));
	json_object_set_new(o, "dropped", json_integer((json_int_t)c->dropped));
	json_object_set_new(o, "emitted", json_integer((json_int_t)c->emitted));
	json_object_set_new(o, "flows", json_integer((json_int_t)v->flows));
	json_object_set_new(o, "classes", classes);
	json_object_set_new(o, "reasons", reasons);
	json_object_set_new(o, "ports", ports);
	json_object_set_new(o, "reloads", json_integer((json_int_t)v->reloads));
	json_object_set_new(o, "reload_errors",
			    json_integer((json_int_t)v->reload_errors));
	json_object_set_new(o, "engine", v->engine ? engine_json(v->engine)
						   : json_null());
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text) {
		b->failed = true;
		return;
	}
	moat_io_buf_printf(b, "%s\n", text);
	free(text);
}

static void prom_head(struct moat_io_buf *b, const char *name,
		      const char *type, const char *help)
{
	moat_io_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
			   type);
}

static void prom_ports(struct moat_io_buf *b, const struct moat_io_stats_view *v)
{
	static const struct {
		const char *name, *help;
		size_t off;
		bool tx;
	} m[] = {
		{ "moat_port_rx_packets_total", "Frames received from the ring.",
		  offsetof(struct moat_io_port_stats, rx_packets), false },
		{ "moat_port_ring_drops_total", "Frames the kernel dropped: ring full.",
		  offsetof(struct moat_io_port_stats, kernel_drops), false },
		{ "moat_port_truncated_total", "Frames cut by the ring: not forwarded.",
		  offsetof(struct moat_io_port_stats, rx_truncated), false },
		{ "moat_port_csum_partial_total",
		  "Frames with a partial checksum (sender offload), completed.",
		  offsetof(struct moat_io_port_stats, rx_csum_partial), false },
		{ "moat_port_vlan_restored_total",
		  "VLAN tags put back from the kernel's metadata.",
		  offsetof(struct moat_io_port_stats, rx_vlan), false },
		{ "moat_port_tx_packets_total", "Frames sent.",
		  offsetof(struct moat_io_tx_stats, packets), true },
		{ "moat_port_tx_errors_total", "Frames the kernel refused to send.",
		  offsetof(struct moat_io_tx_stats, errors), true },
		{ "moat_port_oversize_total", "Frames longer than the MTU: not sent.",
		  offsetof(struct moat_io_tx_stats, oversize), true },
	};

	for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		prom_head(b, m[k].name, "counter", m[k].help);
		for (int i = 0; i < v->nports; i++) {
			const struct moat_io_port *p = v->ports[i];
			const char *base = m[k].tx ? (const char *)&p->tx
						   : (const char *)&p->st;
			uint64_t val = *(const uint64_t *)(base + m[k].off);

			moat_io_buf_printf(b, "%s{port=\"%s\"} %" PRIu64 "\n",
					   m[k].name, p->ifname, val);
		}
	}
	prom_head(b, "moat_port_ring_delay_max_seconds", "gauge",
		  "Longest wait of a frame in the receive ring since start.");
	for (int i = 0; i < v->nports; i++)
		moat_io_buf_printf(b, "moat_port_ring_delay_max_seconds{port=\"%s\"} "
				   "%.6f\n", v->ports[i]->ifname,
				   (double)v->ports[i]->st.delay_max_ns / 1e9);
}

/* One family per class of include/moat/reason.h: each reason in exactly
 * one of them, zeros included, so a rate() sees every series from start. */
static void prom_reasons(struct moat_io_buf *b, const struct moat_counters *c,
			 enum moat_reason_class cls, const char *name,
			 const char *help)
{
	prom_head(b, name, "counter", help);
	for (int r = 0; r < MOAT_R_COUNT; r++)
		if (moat_reason_class((enum moat_reason)r) == cls)
			moat_io_buf_printf(b, "%s{reason=\"%s\"} %" PRIu64 "\n",
					   name, moat_reason_name(r),
					   c->reason[r]);
}

void moat_io_metrics_prom(struct moat_io_buf *b,
			  const struct moat_io_stats_view *v)
{
	const struct moat_counters *c = v->c;

	prom_head(b, "moat_packets_total", "counter",
		  "Packets the engine decided, by verdict.");
	moat_io_buf_printf(b, "moat_packets_total{verdict=\"pass\"} %" PRIu64
			   "\nmoat_packets_total{verdict=\"drop\"} %" PRIu64 "\n",
			   c->passed, c->dropped);
	prom_head(b, "moat_emitted_total", "counter",
		  "Packets the engine emitted (SYN-ACKs, RSTs, ACKs).");
	moat_io_buf_printf(b, "moat_emitted_total %" PRIu64 "\n", c->emitted);
	prom_reasons(b, c, MOAT_CLASS_DROP, "moat_drops_total",
		     "Packets refused, by the reason that stopped them.");
	prom_reasons(b, c, MOAT_CLASS_PASS, "moat_passes_total",
		     "Packets let through, by the reason that passed them.");
	prom_reasons(b, c, MOAT_CLASS_ANSWER, "moat_answers_total",
		     "Packets moat answered or kept in the endpoint's place "
		     "(cookies, challenge ACKs, the proxy's handshake), by "
		     "reason.");
	prom_head(b, "moat_flows", "gauge", "Flows in the state table.");
	moat_io_buf_printf(b, "moat_flows %" PRIu64 "\n", v->flows);
	prom_head(b, "moat_reloads_total", "counter", "Configuration reloads.");
	moat_io_buf_printf(b, "moat_reloads_total{result=\"ok\"} %" PRIu64
			   "\nmoat_reloads_total{result=\"error\"} %" PRIu64 "\n",
			   v->reloads, v->reload_errors);
	prom_ports(b, v);
}
