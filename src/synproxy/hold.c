/*
 * The hold pool: client segments that arrive while the proxy is still
 * opening the connection to the server (ct state MOAT_CT_SYNPROXY).
 *
 * The client may send data with its final ACK and right after it, before
 * the server has answered our SYN.  Dropping it would cost the client a
 * retransmission timeout; forwarding it is impossible (the server has no
 * connection yet).  So it is held: at most MOAT_SYN_HOLD_PER_FLOW segments
 * per flow and a fixed pool in all, sized at create.  Over either bound the
 * segment is dropped (MOAT_R_SYN_PROXY_HOLD_FULL) and the client
 * retransmits it.  When the server's SYN-ACK arrives the held frames are
 * released in arrival order, translated like any later client segment.
 */
#include <string.h>

#include "proxy_internal.h"

bool syn_hold_add(struct moat_syn *s, struct syn_flow *f,
		  const struct moat_pkt *p)
{
	struct syn_hold *h;
	uint32_t i;

	if (f->held >= MOAT_SYN_HOLD_PER_FLOW || s->hold_free == SYN_NIL ||
	    p->caplen > MOAT_EMIT_FRAME_MAX || p->caplen < p->wirelen)
		return false;
	i = s->hold_free;
	h = &s->holds[i];
	s->hold_free = h->next;
	s->holds_free--;
	h->next = SYN_NIL;
	h->len = (uint16_t)p->caplen;
	h->linktype = p->linktype;
	memcpy(h->data, p->frame, p->caplen);
	if (f->hold_tail == SYN_NIL)
		f->hold_head = i;
	else
		s->holds[f->hold_tail].next = i;
	f->hold_tail = i;
	f->held++;
	return true;
}

void syn_hold_free_all(struct moat_syn *s, struct syn_flow *f)
{
	uint32_t i = f->hold_head, next, n;

	/* Bounded: a flow holds at most MOAT_SYN_HOLD_PER_FLOW. */
	for (n = 0; i != SYN_NIL && n < MOAT_SYN_HOLD_PER_FLOW; n++, i = next) {
		next = s->holds[i].next;
		s->holds[i].next = s->hold_free;
		s->hold_free = i;
		s->holds_free++;
	}
	f->hold_head = f->hold_tail = SYN_NIL;
	f->held = 0;
}

/*
 * Copy one held frame into @out: tracked as the client sent it (ct.h:
 * before any rewrite), then translated for ORIG by @e's deltas.
 */
static bool release_one(const struct syn_hold *h, struct moat_ct *ct,
			struct moat_ct_entry *e, uint64_t now_ns,
			struct moat_emit *out, int zone)
{
	struct moat_emit_frame *fr = moat_emit_next(out);
	struct moat_pkt p;

	if (!fr)
		return false;
	memcpy(fr->data, h->data, h->len);
	if (moat_pkt_decode(&p, fr->data, h->len, h->len, h->linktype) !=
	    MOAT_R_NONE)
		return false;
	if (moat_ct_track(ct, e, MOAT_CT_ORIG, &p, now_ns) !=
	    MOAT_R_STATE_MATCH)
		return false;
	moat_syn_translate_flow(e, MOAT_CT_ORIG, &p);
	fr->len = h->len;
	fr->linktype = h->linktype;
	fr->out_zone = (int16_t)zone;
	moat_emit_commit(out);
	return true;
}

uint32_t syn_hold_release(struct moat_syn *s, struct moat_ct *ct,
			  struct syn_flow *f, struct moat_ct_entry *e,
			  uint64_t now_ns, struct moat_emit *out)
{
	uint32_t i = f->hold_head, n, sent = 0;

	for (n = 0; i != SYN_NIL && n < MOAT_SYN_HOLD_PER_FLOW;
	     n++, i = s->holds[i].next)
		sent += release_one(&s->holds[i], ct, e, now_ns, out,
				    f->zone_server);
	syn_hold_free_all(s, f);
	return sent;
}
