/*
 * What `moat ctl stats` and `moat ctl flows` show of the engine: flows by
 * state, table use, syncookie mode.  Control plane: called between packets.
 */
#include <stdio.h>

#include "engine/engine_impl.h"
#include "engine/frag_glue.h"
#include "moat/syn_proxy.h"

/* The SYN proxy's mode per protected destination. */
static int syn_modes_json(const struct moat_engine *e, char *buf,
			  unsigned long len)
{
	struct moat_syn_mode_view v[64];
	char a[MOAT_ADDR_STRLEN];
	uint32_t k = moat_syn_mode_list(moat_syn_modes(e->syn), v, 64);
	size_t off = 0;
	int n;

	n = snprintf(buf, len, ",\"synproxy\":[");
	if (n < 0 || (size_t)n >= len)
		return -1;
	off = (size_t)n;
	for (uint32_t i = 0; i < k; i++) {
		n = snprintf(buf + off, len - off,
			     "%s{\"dst\":\"%s\",\"port\":%u,\"mode\":\"%s\","
			     "\"half_open\":%u,\"syn_rate\":%u}",
			     i ? "," : "",
			     moat_addr_format(&v[i].dst, a, sizeof(a)),
			     v[i].port, v[i].cookies ? "cookies" : "state",
			     v[i].half_open, v[i].rate);
		if (n < 0 || (size_t)n >= len - off)
			return -1;
		off += (size_t)n;
	}
	n = snprintf(buf + off, len - off, "]");
	if (n < 0 || (size_t)n >= len - off)
		return -1;
	return (int)(off + (size_t)n);
}

int moat_engine_stats_json(const struct moat_engine *e, char *buf,
			   unsigned long len)
{
	uint32_t by_state[MOAT_CT_STATE_COUNT];
	struct moat_ct_stats st;
	size_t off = 0;
	int n;

	moat_ct_count_by_state(e->ct, by_state);
	moat_ct_get_stats(e->ct, &st);
	n = snprintf(buf, len,
		     "{\"flows\":%u,\"capacity\":%u,\"inserted\":%llu,"
		     "\"expired\":%llu,\"evicted_halfopen\":%llu,"
		     "\"evicted_other\":%llu,\"refused_full\":%llu,"
		     "\"events_lost\":%llu,\"mode_switches\":%llu,"
		     "\"synack_retransmits\":%llu,\"server_timeouts\":%llu,"
		     "\"emit_full\":%llu,"
		     "\"syncookies\":%d,\"by_state\":{",
		     moat_ct_count(e->ct), moat_ct_capacity(e->ct),
		     (unsigned long long)st.inserted,
		     (unsigned long long)st.expired,
		     (unsigned long long)st.evicted_halfopen,
		     (unsigned long long)st.evicted_other,
		     (unsigned long long)st.refused_full,
		     (unsigned long long)e->ev_lost,
		     (unsigned long long)e->mode_switches,
		     (unsigned long long)e->synack_retransmits,
		     (unsigned long long)e->syn_server_timeouts,
		     (unsigned long long)e->emit_full,
		     e->syncookies_forced >= 0 ? e->syncookies_forced :
		     e->opt.syncookies);
	if (n < 0 || (size_t)n >= len)
		return -1;
	off = (size_t)n;
	for (int s = 1; s < MOAT_CT_STATE_COUNT; s++) {
		n = snprintf(buf + off, len - off, "%s\"%s\":%u",
			     s > 1 ? "," : "",
			     moat_ct_state_name((enum moat_ct_state)s),
			     by_state[s]);
		if (n < 0 || (size_t)n >= len - off)
			return -1;
		off += (size_t)n;
	}
	n = snprintf(buf + off, len - off, "},\"hijack\":");
	if (n < 0 || (size_t)n >= len - off)
		return -1;
	off += (size_t)n;
	n = moat_engine_hijack_stats_json(e, buf + off, len - off);
	if (n < 0 || (size_t)n >= len - off)
		return -1;
	off += (size_t)n;
	n = snprintf(buf + off, len - off, ",\"challenge_acks\":");
	if (n < 0 || (size_t)n >= len - off)
		return -1;
	off += (size_t)n;
	n = moat_engine_challenge_stats_json(e, buf + off, len - off);
	if (n < 0 || (size_t)n >= len - off)
		return -1;
	off += (size_t)n;
	n = snprintf(buf + off, len - off, ",\"sources\":");
	if (n < 0 || (size_t)n >= len - off)
		return -1;
	off += (size_t)n;
	n = moat_engine_src_stats_json(e, buf + off, len - off);
	if (n < 0 || (size_t)n >= len - off)
		return -1;
	off += (size_t)n;
	n = snprintf(buf + off, len - off, ",\"frag\":");
	if (n < 0 || (size_t)n >= len - off)
		return -1;
	off += (size_t)n;
	n = moat_engine_frag_stats_json(e, buf + off, len - off);
	if (n < 0 || (size_t)n >= len - off)
		return -1;
	off += (size_t)n;
	n = snprintf(buf + off, len - off,
		     ",\"scrub\":{\"mss\":%llu,\"ttl\":%llu,\"id\":%llu,"
		     "\"reserved\":%llu}",
		     (unsigned long long)e->scrub.mss,
		     (unsigned long long)e->scrub.ttl,
		     (unsigned long long)e->scrub.id,
		     (unsigned long long)e->scrub.reserved);
	if (n < 0 || (size_t)n >= len - off)
		return -1;
	off += (size_t)n;
	n = syn_modes_json(e, buf + off, len - off);
	if (n < 0 || (size_t)n >= len - off)
		return -1;
	off += (size_t)n;
	n = snprintf(buf + off, len - off, "}");
	if (n < 0 || (size_t)n >= len - off)
		return -1;
	return (int)(off + (size_t)n);
}

struct flows_walk {
	void (*fn)(const struct moat_flow_info *fi, void *arg);
	void *arg;
	int left, done;
};

static int format_flow(struct moat_ct_entry *ent, void *arg)
{
	struct flows_walk *w = arg;
	char s[MOAT_ADDR_STRLEN], d[MOAT_ADDR_STRLEN];
	struct moat_flow_info fi;

	if (w->left-- <= 0)
		return 1;
	snprintf(fi.text, sizeof(fi.text),
		 "%s proto %u %s:%u -> %s:%u rule %u%s%s",
		 moat_ct_state_name((enum moat_ct_state)ent->state),
		 ent->proto, moat_addr_format(&ent->addr[0], s, sizeof(s)),
		 ent->port[0], moat_addr_format(&ent->addr[1], d, sizeof(d)),
		 ent->port[1], ent->rule,
		 (ent->flags & MOAT_CT_F_SYNPROXY) ? " synproxy" : "",
		 (ent->flags & MOAT_CT_F_MODULATE) ? " modulate" : "");
	w->fn(&fi, w->arg);
	w->done++;
	return 0;
}

int moat_engine_flows(const struct moat_engine *e,
		      void (*fn)(const struct moat_flow_info *fi, void *arg),
		      void *arg, int max)
{
	struct flows_walk w = { fn, arg, max, 0 };

	moat_ct_foreach((struct moat_ct *)e->ct, format_flow, &w);
	return w.done;
}

unsigned long moat_engine_flow_count(const struct moat_engine *e)
{
	return moat_ct_count(e->ct);
}
