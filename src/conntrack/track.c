/*
 * moat_ct_track(): one packet of a known flow, dispatched by protocol.
 * TCP lives in tcp.c; UDP, ICMP echo and other protocols are small enough
 * to live here, with the state names and the default parameters.
 *
 * On the packet's path this is the "state + window check" box after a
 * lookup hit; its answer is the packet's verdict unless a later stage
 * (the SYN proxy's translation, hijack detection) adds to it.
 */
#include <string.h>

#include "conntrack/ct_internal.h"
#include "moat/defaults.h"

static const char *const state_names[MOAT_CT_STATE_COUNT] = {
	[MOAT_CT_NONE] = "none",
	[MOAT_CT_SYN_SENT] = "syn-sent",
	[MOAT_CT_SYN_RECV] = "syn-recv",
	[MOAT_CT_ESTABLISHED] = "established",
	[MOAT_CT_FIN_WAIT] = "fin-wait",
	[MOAT_CT_CLOSE_WAIT] = "close-wait",
	[MOAT_CT_LAST_ACK] = "last-ack",
	[MOAT_CT_TIME_WAIT] = "time-wait",
	[MOAT_CT_CLOSED] = "closed",
	[MOAT_CT_SYNPROXY] = "synproxy",
	[MOAT_CT_UDP_FIRST] = "udp-first",
	[MOAT_CT_UDP_MULTIPLE] = "udp-multiple",
	[MOAT_CT_ICMP] = "icmp",
	[MOAT_CT_OTHER] = "other",
};

const char *moat_ct_state_name(enum moat_ct_state s)
{
	if ((unsigned)s >= MOAT_CT_STATE_COUNT)
		return "?";
	return state_names[s];
}

/* The same table as the options' (moat/defaults.h): a table made without
 * a configuration behaves as one made from an empty configuration. */
void moat_ct_params_default(struct moat_ct_params *p)
{
	memset(p, 0, sizeof(*p));
	p->max_flows = MOAT_DEFAULT_MAX_FLOWS;
	p->to.tcp_opening = MOAT_DEFAULT_TIMEOUT_TCP_OPENING;
	p->to.tcp_established = MOAT_DEFAULT_TIMEOUT_TCP_ESTABLISHED;
	p->to.tcp_closing = MOAT_DEFAULT_TIMEOUT_TCP_CLOSING;
	p->to.tcp_timewait = MOAT_DEFAULT_TIMEOUT_TCP_TIMEWAIT;
	p->to.udp_first = MOAT_DEFAULT_TIMEOUT_UDP_FIRST;
	p->to.udp_multiple = MOAT_DEFAULT_TIMEOUT_UDP_MULTIPLE;
	p->to.icmp = MOAT_DEFAULT_TIMEOUT_ICMP;
	p->to.other = MOAT_DEFAULT_TIMEOUT_OTHER;
	p->pickup_loose = MOAT_DEFAULT_PICKUP_LOOSE;
	p->rst_exact = MOAT_DEFAULT_RST_EXACT;
}

/* UDP: the first packet back makes the flow "multiple" (replied). */
static enum moat_reason track_udp(struct moat_ct *ct, struct moat_ct_entry *e,
				  int dir)
{
	if (dir == MOAT_CT_REPLY && e->state == MOAT_CT_UDP_FIRST)
		ct_state_change(ct, e, MOAT_CT_UDP_MULTIPLE);
	return MOAT_R_STATE_MATCH;
}

/*
 * ICMP echo (RFC 792; RFC 4443 section 4): requests travel ORIG, replies
 * REPLY.  A reply in the ORIG direction answers no request we saw; any
 * other message keyed like this flow is not part of it.
 */
static enum moat_reason track_icmp(const struct moat_ct_entry *e, int dir,
				   const struct moat_pkt *p)
{
	bool v6 = e->proto == MOAT_IPPROTO_ICMPV6;
	uint8_t req = v6 ? 128 : 8, rep = v6 ? 129 : 0;

	if (p->icmp_type == rep)
		return dir == MOAT_CT_REPLY ? MOAT_R_STATE_MATCH
					    : MOAT_R_ICMP_REPLY_UNMATCHED;
	if (p->icmp_type == req && dir == MOAT_CT_ORIG)
		return MOAT_R_STATE_MATCH;
	return MOAT_R_ICMP_UNRELATED;
}

enum moat_reason moat_ct_track(struct moat_ct *ct, struct moat_ct_entry *e,
			       int dir, const struct moat_pkt *p,
			       uint64_t now_ns)
{
	uint32_t now_s = ct_seconds(now_ns);
	enum moat_reason why;

	dir &= 1;
	switch (e->proto) {
	case MOAT_IPPROTO_TCP:
		return ct_tcp_track(ct, e, dir, p, now_s);
	case MOAT_IPPROTO_UDP:
		why = track_udp(ct, e, dir);
		break;
	case MOAT_IPPROTO_ICMP:
	case MOAT_IPPROTO_ICMPV6:
		why = track_icmp(e, dir, p);
		break;
	default:
		why = MOAT_R_STATE_MATCH;
		break;
	}
	if (why == MOAT_R_STATE_MATCH)
		ct_timer_arm(ct, e, now_s);
	return why;
}
