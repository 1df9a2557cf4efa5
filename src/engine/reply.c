/*
 * Answers the engine builds from the packet in flight: the RST or ICMP
 * unreachable of a `reject` rule, and the link header any emitted packet
 * takes from the frame of its flow (the bridge has no addresses of its own:
 * it answers with the MAC addresses of the frame it answers, swapped, and
 * keeps the frame's VLAN tags).
 */
#include "engine/engine_impl.h"

void moat_engine_l2_reply(const struct moat_pkt *p, struct moat_l2 *l2)
{
	memset(l2, 0, sizeof(*l2));
	if (p->linktype == MOAT_LINK_ETHERNET && p->caplen >= 12) {
		memcpy(l2->dst, p->frame + 6, 6);
		memcpy(l2->src, p->frame, 6);
	}
	l2->vlan_count = p->vlan_count;
	for (int i = 0; i < p->vlan_count && i < MOAT_VLAN_MAX; i++)
		l2->vlan[i] = p->vlan[i];
}

/* RFC 9293 section 3.10.7.1: the RST a closed port sends. */
static uint32_t build_rst(const struct moat_pkt *p, const struct moat_l2 *l2,
			  struct moat_emit_frame *fr)
{
	struct moat_tcp_spec s;

	memset(&s, 0, sizeof(s));
	s.src = p->dst;
	s.dst = p->src;
	s.sport = p->dport;
	s.dport = p->sport;
	if (p->tcp_flags & MOAT_TCP_ACK) {
		s.seq = p->ack;
		s.flags = MOAT_TCP_RST;
	} else {
		s.ack = p->seq + p->payload_len +
			!!(p->tcp_flags & MOAT_TCP_SYN) +
			!!(p->tcp_flags & MOAT_TCP_FIN);
		s.flags = MOAT_TCP_RST | MOAT_TCP_ACK;
	}
	return moat_pkt_build_tcp(fr->data, sizeof(fr->data), p->linktype, l2,
				  &s);
}

/*
 * Answer a rejected packet: RST for TCP (never for a RST), ICMP or ICMPv6
 * port unreachable for the rest (never for an ICMP error, RFC 1122
 * 3.2.2).  Rate-limited as a whole.  Returns true when a frame was emitted.
 */
bool moat_engine_reject(struct moat_engine *e, struct moat_flight *fl)
{
	const struct moat_pkt *p = &fl->p;
	struct moat_emit_frame *fr;
	struct moat_l2 l2;
	uint32_t len;

	if (p->proto == MOAT_IPPROTO_TCP && (p->tcp_flags & MOAT_TCP_RST))
		return false;
	if (p->inner.present)
		return false;
	if (!moat_bucket_take(&e->reject_limit, MOAT_ENGINE_REJECT_RATE,
			      1000000000ull, fl->now))
		return false;
	fr = moat_emit_next(fl->out);
	if (!fr) {
		e->emit_full++;
		return false;
	}
	moat_engine_l2_reply(p, &l2);
	if (p->proto == MOAT_IPPROTO_TCP) {
		len = build_rst(p, &l2, fr);
	} else {
		/* Port unreachable: code 3 for IPv4 (RFC 792), 4 for IPv6
		 * (RFC 4443 section 3.1). */
		uint8_t code = p->ipv == 4 ? 3 : 4;
		len = moat_pkt_build_unreach(fr->data, sizeof(fr->data),
					     p->linktype, &l2, &p->dst, code, p);
	}
	if (len == 0)
		return false;
	fr->len = (uint16_t)len;
	fr->linktype = p->linktype;
	fr->out_zone = fl->res->in_zone;
	moat_emit_commit(fl->out);
	e->cnt.emitted++;
	return true;
}
