/*
 * Challenge ACKs (RFC 5961): what moat sends for the endpoint whose
 * segment it dropped.  On the packet's path this runs after conntrack
 * judged a segment of a tracked flow and found
 *
 *   - a RST inside the window but not at rcv.nxt (tcp-rst-challenge, with
 *     `rst-check exact`; RFC 5961 section 3.2), or
 *   - a SYN inside the window of a synchronized flow, or a SYN-ACK with a
 *     new ISN on one (tcp-syn-in-window; section 4.2).
 *
 * The endpoint would answer either with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>;
 * moat drops the segment, so that an endpoint that does not implement RFC
 * 5961 cannot be reset blindly, and sends that ACK itself, so that an
 * honest sender still gets it: a peer that lost its connection answers it
 * with a RST at the ACK's number, which is exactly at rcv.nxt and closes
 * the flow (RFC 5961 section 3.2, RFC 9293 section 3.10.7.3).  The numbers
 * come from conntrack (moat_ct_tcp_challenge): the receiver's highest ACK,
 * never more, so the ACK never acknowledges bytes the receiver may not
 * have.  It carries no options (no timestamps: moat does not know the
 * receiver's clock).
 *
 * Throttling (RFC 5961 section 7): a budget per engine and second.  A
 * global budget is itself a side channel: counting the challenge ACKs his
 * own connection gets, an off-path attacker learns whether his guessed
 * segments hit a window elsewhere (CVE-2016-5696, "Off-Path TCP Exploits:
 * Global Rate Limit Considered Dangerous", USENIX Security 2016).  So, as
 * Linux does since that paper, the budget of each second is drawn at
 * random, between half and one and a half times the mean: here from a
 * keyed hash of the second, so the engine stays a pure function.
 */
#include "engine/engine_impl.h"
#include "moat/siphash.h"

/* The budget of second @sec: MEAN/2 .. MEAN/2 + MEAN, keyed. */
static uint32_t budget_of(const struct moat_engine *e, uint64_t sec)
{
	uint8_t in[4 + 8] = { 'c', 'a', 'c', 'k' };

	memcpy(in + 4, &sec, 8);
	return MOAT_ENGINE_CHALLENGE_RATE / 2 +
	       (uint32_t)(moat_siphash24(e->mod_key, in, sizeof(in)) %
			  (MOAT_ENGINE_CHALLENGE_RATE + 1));
}

static bool budget_take(struct moat_engine *e, uint64_t now_ns)
{
	uint64_t sec = now_ns / 1000000000ull;

	if (e->challenge.second_plus1 != sec + 1) {
		e->challenge.second_plus1 = sec + 1;
		e->challenge.left = budget_of(e, sec);
	}
	if (e->challenge.left == 0)
		return false;
	e->challenge.left--;
	return true;
}

void moat_engine_challenge_ack(struct moat_engine *e, struct moat_flight *fl,
			       const struct moat_ct_entry *ent, int dir)
{
	const struct moat_pkt *p = &fl->p;
	struct moat_ct_challenge c;
	struct moat_emit_frame *fr;
	struct moat_tcp_spec s;
	struct moat_l2 l2;
	uint32_t len;

	if (!moat_ct_tcp_challenge(ent, dir, &c)) {
		e->challenge.unknown++;
		moat_engine_say(e, "challenge ACK: not sent, the receiver's "
				"rcv.nxt is not known");
		return;
	}
	if (!budget_take(e, fl->now)) {
		e->challenge.limited++;
		moat_engine_say(e, "challenge ACK: not sent, over this "
				"second's budget");
		return;
	}
	fr = moat_emit_next(fl->out);
	if (!fr) {
		e->emit_full++;
		return;
	}
	memset(&s, 0, sizeof(s));
	s.src = p->dst;
	s.dst = p->src;
	s.sport = p->dport;
	s.dport = p->sport;
	s.seq = c.seq;
	s.ack = c.ack;
	s.win = c.win;
	s.flags = MOAT_TCP_ACK;
	moat_engine_l2_reply(p, &l2);
	len = moat_pkt_build_tcp(fr->data, sizeof(fr->data), p->linktype, &l2,
				 &s);
	if (len == 0)
		return;
	fr->len = (uint16_t)len;
	fr->linktype = p->linktype;
	fr->out_zone = fl->res->in_zone;
	moat_emit_commit(fl->out);
	e->cnt.emitted++;
	e->challenge.sent++;
	moat_engine_say(e, "challenge ACK: sent, seq %u ack %u win %u", c.seq,
			c.ack, c.win);
}
