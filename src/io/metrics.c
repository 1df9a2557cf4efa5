/*
 * Counters as text: `moat ctl stats` (lines a script can grep), `stats
 * --json`, and `metrics` in the Prometheus text exposition format
 * (prometheus.io/docs/instrumenting/exposition_formats, version 0.0.4).
 *
 * Off the packet's path: the run loop gathers a struct moat_io_stats_view
 * when a control client asks, and these functions only format it.
 */
#include <inttypes.h>

#include "moat/io_ctl.h"

bool moat_io_reason_is_pass(enum moat_reason r)
{
	switch (r) {
	case MOAT_R_NONE:
	case MOAT_R_RULE_PASS:
	case MOAT_R_POLICY_PASS:
	case MOAT_R_STATE_MATCH:
	case MOAT_R_TCP_SYN_REUSE:
	case MOAT_R_TCP_STALE_RETRANSMIT:
	case MOAT_R_NON_IP:
	case MOAT_R_FRAG_FIRST_PASSED:
		return true;
	default:
		return false;
	}
}

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

void moat_io_stats_text(struct moat_io_buf *b, const struct moat_io_stats_view *v)
{
	const struct moat_counters *c = v->c;

	moat_io_buf_printf(b, "packets %" PRIu64 "\npassed %" PRIu64
			   "\ndropped %" PRIu64 "\nemitted %" PRIu64
			   "\nflows %" PRIu64 "\n",
			   c->packets, c->passed, c->dropped, c->emitted,
			   v->flows);
	for (int r = 0; r < MOAT_R_COUNT; r++)
		if (c->reason[r])
			moat_io_buf_printf(b, "reason %s %" PRIu64 "\n",
					   moat_reason_name(r), c->reason[r]);
	for (int i = 0; i < v->nports; i++)
		port_text(b, v->ports[i]);
	moat_io_buf_printf(b, "reloads %" PRIu64 " reload-errors %" PRIu64 "\n",
			   v->reloads, v->reload_errors);
	if (v->engine_json)
		moat_io_buf_printf(b, "engine %s\n", v->engine_json);
}

static void port_json(struct moat_io_buf *b, const struct moat_io_port *p,
		      bool last)
{
	moat_io_buf_printf(b,
		"\"%s\":{\"rx\":%" PRIu64 ",\"tx\":%" PRIu64 ",\"tx_errors\":%" PRIu64
		",\"oversize\":%" PRIu64 ",\"truncated\":%" PRIu64
		",\"csum_partial\":%" PRIu64 ",\"ring_drops\":%" PRIu64
		",\"ring_delay_avg_us\":%" PRIu64 ",\"ring_delay_max_us\":%" PRIu64
		",\"offloads\":%u,\"io\":\"%s\"}%s",
		p->ifname, p->st.rx_packets, p->tx.packets, p->tx.errors,
		p->tx.oversize, p->st.rx_truncated, p->st.rx_csum_partial,
		p->st.kernel_drops,
		p->st.delay_batches ? p->st.delay_sum_ns / p->st.delay_batches / 1000 : 0,
		p->st.delay_max_ns / 1000, p->offloads, p->mode, last ? "" : ",");
}

void moat_io_stats_json(struct moat_io_buf *b, const struct moat_io_stats_view *v)
{
	const struct moat_counters *c = v->c;
	const char *sep = "";

	moat_io_buf_printf(b, "{\"packets\":%" PRIu64 ",\"passed\":%" PRIu64
			   ",\"dropped\":%" PRIu64 ",\"emitted\":%" PRIu64
			   ",\"flows\":%" PRIu64 ",\"reasons\":{",
			   c->packets, c->passed, c->dropped, c->emitted,
			   v->flows);
	for (int r = 0; r < MOAT_R_COUNT; r++) {
		if (!c->reason[r])
			continue;
		moat_io_buf_printf(b, "%s\"%s\":%" PRIu64, sep,
				   moat_reason_name(r), c->reason[r]);
		sep = ",";
	}
	moat_io_buf_printf(b, "},\"ports\":{");
	for (int i = 0; i < v->nports; i++)
		port_json(b, v->ports[i], i + 1 == v->nports);
	moat_io_buf_printf(b, "},\"reloads\":%" PRIu64 ",\"reload_errors\":%"
			   PRIu64 ",\"engine\":%s}\n", v->reloads,
			   v->reload_errors,
			   v->engine_json && v->engine_json[0] ? v->engine_json
							       : "null");
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
	prom_head(b, "moat_drops_total", "counter",
		  "Packets by the reason that stopped them.");
	for (int r = 0; r < MOAT_R_COUNT; r++)
		if (!moat_io_reason_is_pass(r))
			moat_io_buf_printf(b, "moat_drops_total{reason=\"%s\"} %"
					   PRIu64 "\n", moat_reason_name(r),
					   c->reason[r]);
	prom_head(b, "moat_passes_total", "counter",
		  "Packets by the reason that let them through.");
	for (int r = 0; r < MOAT_R_COUNT; r++)
		if (moat_io_reason_is_pass(r))
			moat_io_buf_printf(b, "moat_passes_total{reason=\"%s\"} %"
					   PRIu64 "\n", moat_reason_name(r),
					   c->reason[r]);
	prom_head(b, "moat_flows", "gauge", "Flows in the state table.");
	moat_io_buf_printf(b, "moat_flows %" PRIu64 "\n", v->flows);
	prom_head(b, "moat_reloads_total", "counter", "Configuration reloads.");
	moat_io_buf_printf(b, "moat_reloads_total{result=\"ok\"} %" PRIu64
			   "\nmoat_reloads_total{result=\"error\"} %" PRIu64 "\n",
			   v->reloads, v->reload_errors);
	prom_ports(b, v);
}
