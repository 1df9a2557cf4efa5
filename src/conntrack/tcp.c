/*
 * TCP as seen from the middle: the state machine of the pair of endpoints
 * and the sequence-window checks of van Rooij's "Real Stateful TCP Packet
 * Filtering" (as pf_tcp_track_full and Linux's tcp_in_window do them).
 *
 * On the packet's path: a packet that found its flow in the table comes
 * here through moat_ct_track() before any rewrite; the verdict is pass
 * (MOAT_R_STATE_MATCH) or a drop reason, and a dropped packet changes
 * nothing in the flow.
 *
 * Per side s (sender) and r (receiver), in s's own sequence space:
 *
 *        s->end - back          s->end              s->maxend
 *   ---------|---------------------|--------------------|--------->  SEQ
 *            |<-- retransmissions  |  new data allowed  |
 *            |    pass             |  (r's ACK + win)   |
 *
 *   back = the largest window r ever advertised (bounded to 2^30, RFC 7323's
 *   largest window), so that nothing older than one window passes.
 *
 *   (I)   end <= s->maxend                    else TCP_SEQ_OUT_OF_WINDOW
 *   (II)  end >= s->end - back                else (V), or TCP_OUT_OF_WINDOW
 *   (III) ack, SACK edges <= r->end           else TCP_ACK_UNSENT
 *   (IV)  ack >= r->end - max(s->maxwin, MAXACKWINDOW)
 *                                             else TCP_ACK_TOO_OLD
 *
 * Segments without data or SYN/FIN skip (I) and (II): their SEQ is not
 * checked (keepalives and window probes carry odd numbers), only their ACK.
 *
 * (V) Stale retransmissions.  Data that r has already acknowledged, older
 * than one window, is what a sender retransmits when r's ACK was lost on
 * its way (or a segment held up in a queue arrives late).  r answers it
 * with an ACK (RFC 9293 section 3.10.7.4: a segment that is not acceptable
 * is acknowledged and dropped), which is how a lost ACK is recovered, so
 * dropping it here can stall the connection.  Linux conntrack lets it pass
 * without touching the flow ("SEQ is under lower bound ... already ACKed
 * data retransmitted"); so does moat, within one more window, and only
 * when every byte of it was acknowledged (at or below r's last rcv.nxt):
 *
 *      s->end - 2*back     s->end - back      acked         s->end
 *   ---------|-------------------|---------------|--------------|--->  SEQ
 *            |<-- (V): passes,   |<-- (II): tracked             |
 *            |    flow unchanged |
 *
 *   acked = s->end - ack_gap (r's highest ACK), TCP_STALE_RETRANSMIT;
 *   (III) and (IV) still apply to its ACK, and nothing beyond (I) passes.
 *
 * Each side also has a progress state; the flow's state is derived from the
 * pair:
 *
 *   side:  NONE -> SYN_SENT -(its SYN acked)-> EST -(FIN)-> FIN_SENT
 *          -(its FIN acked)-> FIN_ACKED
 *
 *   orig SYN_SENT, reply NONE ............................ SYN_SENT
 *   reply sent SYN (SYN-ACK or simultaneous SYN) ......... SYN_RECV
 *   both EST ............................................. ESTABLISHED
 *   one FIN_SENT, other before FIN ....................... FIN_WAIT
 *   one FIN_ACKED, other before FIN ...................... CLOSE_WAIT
 *   both sent FIN, not both acked ........................ LAST_ACK
 *   both FIN_ACKED ....................................... TIME_WAIT
 *   an accepted RST ...................................... CLOSED
 */
#include "conntrack/ct_internal.h"

/* Progress of one side (struct moat_ct_peer.state); order matters. */
enum side_state {
	S_NONE = 0,
	S_SYN_SENT,
	S_EST,
	S_FIN_SENT,
	S_FIN_ACKED,
};

enum {
	/* How far back an ACK may point: Linux's MAXACKWINCONST, a 64 KB
	 * window plus a segment, or the sender's largest window if larger. */
	CT_MAXACKWINDOW = 66000,
	/* RFC 7323 section 2.3: no window exceeds 2^30. */
	CT_BACK_MAX = 1u << 30,
	/* struct moat_ct_entry.ack_gap: not known (or too far to store). */
	CT_GAP_UNKNOWN = 0xffff,
};

static inline bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static inline bool seq_leq(uint32_t a, uint32_t b)
{
	return !seq_gt(a, b);
}

static inline bool seq_geq(uint32_t a, uint32_t b)
{
	return !seq_lt(a, b);
}

/* One segment, reduced to the numbers the checks need. */
struct seg {
	uint32_t seq, end;  /* end counts SYN and FIN */
	uint32_t ack, sack; /* in the receiver's space; sack = highest edge */
	uint32_t win;       /* scaled */
	uint8_t flags;
	bool has_ack;       /* ACK set and the receiver known */
};

static bool both_wscale(const struct moat_ct_entry *e)
{
	return (e->peer[0].flags & e->peer[1].flags & MOAT_CT_PEER_WSCALE) != 0;
}

static uint32_t back_of(const struct moat_ct_peer *r)
{
	if (r->maxwin == 0)
		return 1;
	return r->maxwin > CT_BACK_MAX ? CT_BACK_MAX : r->maxwin;
}

static void seg_of(const struct moat_ct_entry *e, int dir,
		   const struct moat_pkt *p, struct seg *g)
{
	uint32_t delta = e->seq_delta[!dir];
	uint8_t f = p->tcp_flags;
	int n;

	g->flags = f;
	g->seq = p->seq;
	g->end = p->seq + p->payload_len + !!(f & MOAT_TCP_SYN) +
		 !!(f & MOAT_TCP_FIN);
	g->win = p->win;
	/* RFC 7323 section 2.2: the window of a SYN is never scaled. */
	if (!(f & MOAT_TCP_SYN) && both_wscale(e))
		g->win <<= e->peer[dir].wscale;
	g->has_ack = (f & MOAT_TCP_ACK) &&
		     (e->peer[!dir].flags & MOAT_CT_PEER_SEEN);
	g->ack = g->has_ack ? p->ack - delta : e->peer[!dir].end;
	g->sack = g->ack;
	if (!g->has_ack || !(p->opt.present & MOAT_TCPOPT_SACK))
		return;
	n = p->opt.sack_count < MOAT_SACK_MAX ? p->opt.sack_count
					      : MOAT_SACK_MAX;
	for (int i = 0; i < n; i++) {
		uint32_t right = p->opt.sack[i][1] - delta;

		if (seq_gt(right, g->sack))
			g->sack = right;
	}
}

/* What a SYN says about its sender: RFC 7323 and RFC 2018 options. */
static void learn_syn(struct moat_ct_peer *s, const struct moat_pkt *p)
{
	uint8_t present = p->opt.present;

	s->flags &= (uint8_t)~(MOAT_CT_PEER_WSCALE | MOAT_CT_PEER_TS |
			       MOAT_CT_PEER_SACK);
	s->wscale = 0;
	if (present & MOAT_TCPOPT_WSCALE) {
		s->flags |= MOAT_CT_PEER_WSCALE;
		s->wscale = p->opt.wscale > MOAT_TCP_WSCALE_MAX
				    ? MOAT_TCP_WSCALE_MAX
				    : p->opt.wscale;
	}
	if (present & MOAT_TCPOPT_TS)
		s->flags |= MOAT_CT_PEER_TS;
	if (present & MOAT_TCPOPT_SACK_PERM)
		s->flags |= MOAT_CT_PEER_SACK;
}

/* The first packet from side @s (or a SYN with a new ISN). */
static void init_side(struct moat_ct_peer *s, const struct moat_ct_peer *r,
		      const struct seg *g, const struct moat_pkt *p)
{
	s->end = g->end;
	s->maxwin = g->win ? g->win : 1;
	/* Until r acknowledges, s may send what r's SYN window allows. */
	s->maxend = (r->flags & MOAT_CT_PEER_SEEN)
			    ? g->end + (r->maxwin ? r->maxwin : 1)
			    : g->end;
	s->flags |= MOAT_CT_PEER_SEEN;
	s->ttl = p->ttl;
	if (g->flags & MOAT_TCP_SYN)
		learn_syn(s, p);
}

void ct_tcp_new(struct moat_ct_entry *e, const struct moat_pkt *p, bool loose)
{
	struct seg g;

	seg_of(e, MOAT_CT_ORIG, p, &g);
	init_side(&e->peer[MOAT_CT_ORIG], &e->peer[MOAT_CT_REPLY], &g, p);
	e->ack_gap[0] = e->ack_gap[1] = CT_GAP_UNKNOWN;
	if (loose) {
		/* Picked up mid-stream: no handshake, so no window scale and
		 * no idea of the receiver; learn, do not enforce. */
		e->flags |= MOAT_CT_F_LOOSE;
		e->peer[MOAT_CT_ORIG].state = S_EST;
		e->peer[MOAT_CT_REPLY].state = S_EST;
	} else {
		e->peer[MOAT_CT_ORIG].state = S_SYN_SENT;
	}
}

static bool synchronized(const struct moat_ct_entry *e)
{
	return e->state >= MOAT_CT_ESTABLISHED &&
	       e->state <= MOAT_CT_TIME_WAIT;
}

bool moat_ct_syn_reuses(const struct moat_ct_entry *e, int dir,
			const struct moat_pkt *p)
{
	if (p->proto != MOAT_IPPROTO_TCP ||
	    (p->tcp_flags & (MOAT_TCP_SYN | MOAT_TCP_ACK | MOAT_TCP_RST)) !=
		    MOAT_TCP_SYN)
		return false;
	if (e->state == MOAT_CT_CLOSED)
		return true;
	return e->state == MOAT_CT_TIME_WAIT &&
	       seq_gt(p->seq, e->peer[dir & 1].end);
}

/*
 * The receiver's rcv.nxt is somewhere between its highest ACK and the
 * sender's end (segments may be in flight or lost); ack_gap keeps the
 * first as a distance below the second, in 16 bits, unknown when farther.
 */
static uint16_t gap_grow(uint16_t gap, uint32_t by)
{
	if (gap == CT_GAP_UNKNOWN || by >= (uint32_t)(CT_GAP_UNKNOWN - gap))
		return CT_GAP_UNKNOWN;
	return (uint16_t)(gap + by);
}

static uint16_t gap_acked(uint16_t gap, uint32_t end, uint32_t ack)
{
	uint32_t d = end - ack;

	if (d < CT_GAP_UNKNOWN && (gap == CT_GAP_UNKNOWN || d < gap))
		return (uint16_t)d;
	return gap;
}

static bool at_rcv_nxt(const struct moat_ct_entry *e, int dir, uint32_t seq)
{
	const struct moat_ct_peer *s = &e->peer[dir];
	uint16_t gap = e->ack_gap[dir];

	if (seq == s->end || (s->state >= S_FIN_SENT && seq == s->end - 1))
		return true;
	return gap != CT_GAP_UNKNOWN && seq == s->end - gap;
}

/*
 * RFC 9293 section 3.10.7.3: in SYN-SENT a RST is acceptable when it
 * acknowledges the SYN.  Later, RFC 5961 section 3.2: exactly at rcv.nxt
 * (estimated as the sender's end; a RST after a FIN may carry the FIN's
 * number, or its peer may not have received everything: its highest ACK)
 * passes; elsewhere in the window the endpoint would answer with a
 * challenge ACK, so with rst_exact we drop it; outside the window, always.
 */
static enum moat_reason check_rst(const struct moat_ct *ct,
				  const struct moat_ct_entry *e, int dir,
				  const struct moat_pkt *p)
{
	const struct moat_ct_peer *s = &e->peer[dir], *r = &e->peer[!dir];
	uint32_t seq = p->seq;

	if (e->flags & MOAT_CT_F_LOOSE)
		return MOAT_R_STATE_MATCH;
	if (!(s->flags & MOAT_CT_PEER_SEEN)) {
		if ((p->tcp_flags & MOAT_TCP_ACK) &&
		    p->ack - e->seq_delta[!dir] == r->end)
			return MOAT_R_STATE_MATCH;
		return MOAT_R_TCP_RST_OUT_OF_WINDOW;
	}
	if (at_rcv_nxt(e, dir, seq))
		return MOAT_R_STATE_MATCH;
	if (seq_gt(seq, s->maxend) || seq_lt(seq, s->end - back_of(r)))
		return MOAT_R_TCP_RST_OUT_OF_WINDOW;
	return ct->par.rst_exact ? MOAT_R_TCP_RST_CHALLENGE
				 : MOAT_R_STATE_MATCH;
}

/*
 * RFC 5961 section 4: a SYN on a synchronized connection.  An RFC 5961
 * endpoint answers any such SYN with a challenge ACK (section 4.2); an RFC
 * 793 one answers a SYN outside its window with an ACK too, but resets the
 * connection for one inside it, the blind reset section 4 closes.  So:
 *
 *   outside [s->end - back, s->maxend]   TCP_SYN_REUSE: passes, the flow
 *       unchanged; the endpoint answers with an ACK of the connection it
 *       holds.  This is how a client that reuses its port recovers (RFC
 *       9293 section 3.10.7.3, RFC 5961 section 4): its SYN-SENT stack
 *       answers that ACK with <SEQ=SEG.ACK><CTL=RST>, which is exactly at
 *       rcv.nxt (check_rst passes it, the flow closes, both ends forget
 *       the old connection), and the client's next SYN finds a CLOSED flow
 *       to replace.
 *   inside                               TCP_SYN_IN_WINDOW: dropped; the
 *       engine sends the challenge ACK itself, so an old stack never sees
 *       the in-window SYN and the client recovers the same way.
 *
 * A new incarnation's ISN is random, so it lands outside the window but
 * for a chance of window / 2^32.
 */
static enum moat_reason check_syn(const struct moat_ct_entry *e, int dir,
				  const struct moat_pkt *p)
{
	const struct moat_ct_peer *s = &e->peer[dir], *r = &e->peer[!dir];

	if (!synchronized(e))
		return MOAT_R_NONE;
	if (moat_ct_syn_reuses(e, dir, p))
		return MOAT_R_TCP_NO_STATE;
	if (!(s->flags & MOAT_CT_PEER_SEEN) ||
	    (seq_leq(p->seq, s->maxend) && seq_geq(p->seq, s->end - back_of(r))))
		return MOAT_R_TCP_SYN_IN_WINDOW;
	return MOAT_R_TCP_SYN_REUSE;
}

/* Flag combinations this state cannot see, before any number is looked at. */
static enum moat_reason check_flags(const struct moat_ct_entry *e, int dir,
				    const struct moat_pkt *p)
{
	const struct moat_ct_peer *s = &e->peer[dir], *r = &e->peer[!dir];
	uint8_t f = p->tcp_flags;

	if ((f & (MOAT_TCP_SYN | MOAT_TCP_ACK)) == MOAT_TCP_SYN)
		return check_syn(e, dir, p);
	if (f & MOAT_TCP_SYN) {
		/* A SYN-ACK answers a SYN from the other side ... */
		if (r->state < S_SYN_SENT && !(e->flags & MOAT_CT_F_LOOSE))
			return MOAT_R_TCP_BAD_STATE;
		/* ... and, once synchronized, may only be a retransmission. */
		if (synchronized(e) && (s->flags & MOAT_CT_PEER_SEEN) &&
		    seq_geq(p->seq, s->end))
			return MOAT_R_TCP_SYN_IN_WINDOW;
		return MOAT_R_NONE;
	}
	/* Nothing but a SYN (or a RST) before this side's SYN, and nothing
	 * from the opener before the other side answered. */
	if (!(e->flags & MOAT_CT_F_LOOSE) &&
	    (!(s->flags & MOAT_CT_PEER_SEEN) ||
	     !(r->flags & MOAT_CT_PEER_SEEN)))
		return MOAT_R_TCP_BAD_STATE;
	/* RFC 9293 section 3.10.7.4: "if the ACK bit is off drop the
	 * segment" (FIN, Xmas and NULL scans end here). */
	if (!(f & MOAT_TCP_ACK))
		return MOAT_R_TCP_BAD_STATE;
	return MOAT_R_NONE;
}

/* (V): older than (II) allows, but acknowledged and within a window more. */
static bool stale_ok(const struct moat_ct_peer *s, const struct moat_ct_peer *r,
		     uint16_t sgap, const struct seg *g)
{
	uint32_t back = back_of(r);
	uint32_t span = back > CT_BACK_MAX / 2 ? CT_BACK_MAX : 2 * back;

	if (sgap == CT_GAP_UNKNOWN || g->seq == g->end)
		return false;
	return seq_geq(g->end, s->end - span) && seq_leq(g->end, s->end - sgap);
}

static enum moat_reason check_window(const struct moat_ct_peer *s,
				     const struct moat_ct_peer *r,
				     uint16_t sgap, const struct seg *g)
{
	bool stale = false;

	if (!(r->flags & MOAT_CT_PEER_SEEN))
		return MOAT_R_NONE;
	if (seq_gt(g->end, s->maxend))
		return MOAT_R_TCP_SEQ_OUT_OF_WINDOW;
	if (seq_lt(g->end, s->end - back_of(r))) {
		if (!stale_ok(s, r, sgap, g))
			return MOAT_R_TCP_OUT_OF_WINDOW;
		stale = true;
	}
	if (g->has_ack && (seq_gt(g->ack, r->end) || seq_gt(g->sack, r->end)))
		return MOAT_R_TCP_ACK_UNSENT;
	if (g->has_ack &&
	    seq_lt(g->ack, r->end - (s->maxwin > CT_MAXACKWINDOW
					     ? s->maxwin
					     : CT_MAXACKWINDOW)))
		return MOAT_R_TCP_ACK_TOO_OLD;
	return stale ? MOAT_R_TCP_STALE_RETRANSMIT : MOAT_R_NONE;
}

/* The segment passed: move the edges and the sides' progress. */
static void update_sides(struct moat_ct_peer *s, struct moat_ct_peer *r,
			 const struct seg *g)
{
	if (g->win > s->maxwin)
		s->maxwin = g->win;
	if (seq_gt(g->end, s->end))
		s->end = g->end;
	if (g->has_ack) {
		uint32_t edge = g->ack + (g->win ? g->win : 1);

		if (seq_gt(edge, r->maxend))
			r->maxend = edge;
	}
	if ((g->flags & MOAT_TCP_SYN) && s->state < S_SYN_SENT)
		s->state = S_SYN_SENT;
	if ((g->flags & MOAT_TCP_FIN) && s->state < S_FIN_SENT)
		s->state = S_FIN_SENT;
	if (g->has_ack && seq_geq(g->ack, r->end)) {
		if (r->state == S_SYN_SENT)
			r->state = S_EST;
		else if (r->state == S_FIN_SENT)
			r->state = S_FIN_ACKED;
	}
}

static enum moat_ct_state derive_state(const struct moat_ct_entry *e)
{
	uint8_t a = e->peer[0].state, b = e->peer[1].state;

	if (a >= S_FIN_SENT || b >= S_FIN_SENT) {
		if (a == S_FIN_ACKED && b == S_FIN_ACKED)
			return MOAT_CT_TIME_WAIT;
		if (a >= S_FIN_SENT && b >= S_FIN_SENT)
			return MOAT_CT_LAST_ACK;
		if (a == S_FIN_SENT || b == S_FIN_SENT)
			return MOAT_CT_FIN_WAIT;
		return MOAT_CT_CLOSE_WAIT;
	}
	if (a >= S_EST && b >= S_EST)
		return MOAT_CT_ESTABLISHED;
	if (b >= S_SYN_SENT)
		return MOAT_CT_SYN_RECV;
	return MOAT_CT_SYN_SENT;
}

/* Window checks and updates on copies, so a drop changes nothing. */
static enum moat_reason track_segment(struct moat_ct_entry *e, int dir,
				      const struct moat_pkt *p)
{
	struct moat_ct_peer s = e->peer[dir], r = e->peer[!dir];
	uint16_t sgap = e->ack_gap[dir], rgap = e->ack_gap[!dir];
	enum moat_reason why;
	struct seg g;

	seg_of(e, dir, p, &g);
	if (!(s.flags & MOAT_CT_PEER_SEEN)) {
		init_side(&s, &r, &g, p);
		sgap = CT_GAP_UNKNOWN;
	} else if ((g.flags & (MOAT_TCP_SYN | MOAT_TCP_ACK)) == MOAT_TCP_SYN &&
		   e->state == MOAT_CT_SYN_SENT && seq_gt(g.end, s.end)) {
		/* RFC 9293 section 3.4.1: a restarted client uses a new ISN
		 * beyond the old ones; follow it. */
		init_side(&s, &r, &g, p);
		sgap = CT_GAP_UNKNOWN;
	} else if ((g.flags & MOAT_TCP_SYN) && seq_geq(g.seq, s.end)) {
		/* A SYN from a side that already sent one can only be a
		 * retransmission of it. */
		return MOAT_R_TCP_BAD_STATE;
	}
	if (g.seq == g.end)
		g.seq = g.end = s.end;
	if (!(e->flags & MOAT_CT_F_LOOSE)) {
		why = check_window(&s, &r, sgap, &g);
		if (why != MOAT_R_NONE)
			return why; /* a drop, or (V): nothing changes */
	}
	/* Nothing new after a FIN (RFC 9293 section 3.10.7.4, "seventh":
	 * text after a FIN "should not occur"). */
	if (s.state >= S_FIN_SENT && seq_gt(g.end, s.end))
		return MOAT_R_TCP_CLOSED;
	if (seq_gt(g.end, s.end))
		sgap = gap_grow(sgap, g.end - s.end);
	if (g.has_ack)
		rgap = gap_acked(rgap, r.end, g.ack);
	update_sides(&s, &r, &g);
	if (s.ttl == 0)
		s.ttl = p->ttl; /* a side handed over by the SYN proxy */
	else if (p->ttl != s.ttl)
		e->flags |= MOAT_CT_F_TTL_CHANGED;
	e->peer[dir] = s;
	e->peer[!dir] = r;
	e->ack_gap[dir] = sgap;
	e->ack_gap[!dir] = rgap;
	/* RFC 7323 section 2.2: scaling only when both SYNs offered it. */
	if ((g.flags & MOAT_TCP_SYN) && !both_wscale(e) &&
	    (r.flags & MOAT_CT_PEER_SEEN))
		e->peer[0].wscale = e->peer[1].wscale = 0;
	return MOAT_R_STATE_MATCH;
}

enum moat_reason ct_tcp_track(struct moat_ct *ct, struct moat_ct_entry *e,
			      int dir, const struct moat_pkt *p,
			      uint32_t now_s)
{
	enum moat_reason why;

	if (e->state == MOAT_CT_SYNPROXY)
		return MOAT_R_TCP_BAD_STATE;
	if (e->state == MOAT_CT_CLOSED)
		return moat_ct_syn_reuses(e, dir, p) ? MOAT_R_TCP_NO_STATE
						     : MOAT_R_TCP_CLOSED;
	if (p->tcp_flags & MOAT_TCP_RST) {
		why = check_rst(ct, e, dir, p);
		if (why != MOAT_R_STATE_MATCH)
			return why;
		ct_state_change(ct, e, MOAT_CT_CLOSED);
		ct_timer_arm(ct, e, now_s);
		return MOAT_R_STATE_MATCH;
	}
	why = check_flags(e, dir, p);
	if (why != MOAT_R_NONE)
		return why;
	why = track_segment(e, dir, p);
	if (why != MOAT_R_STATE_MATCH)
		return why;
	ct_state_change(ct, e, derive_state(e));
	ct_timer_arm(ct, e, now_s);
	return MOAT_R_STATE_MATCH;
}

void moat_ct_tcp_handover(struct moat_ct_entry *e, int dir, uint32_t end,
			  uint32_t maxend, uint32_t maxwin, int wscale)
{
	struct moat_ct_peer *s = &e->peer[dir & 1];

	e->ack_gap[dir & 1] = CT_GAP_UNKNOWN;
	s->end = end;
	s->maxend = maxend;
	s->maxwin = maxwin ? maxwin : 1;
	s->state = S_EST;
	s->flags |= MOAT_CT_PEER_SEEN;
	s->flags &= (uint8_t)~MOAT_CT_PEER_WSCALE;
	s->wscale = 0;
	if (wscale >= 0) {
		s->flags |= MOAT_CT_PEER_WSCALE;
		s->wscale = (uint8_t)(wscale > MOAT_TCP_WSCALE_MAX
					      ? MOAT_TCP_WSCALE_MAX
					      : wscale);
	}
}

void moat_ct_tcp_sent_to(struct moat_ct_entry *e, int dir, uint32_t end)
{
	struct moat_ct_peer *s = &e->peer[dir & 1];

	if (!(s->flags & MOAT_CT_PEER_SEEN))
		return;
	/* The first fragment passed check (I); the rest of its segment is
	 * held to the same window. */
	if (!(e->flags & MOAT_CT_F_LOOSE) && seq_gt(end, s->maxend))
		end = s->maxend;
	if (!seq_gt(end, s->end))
		return;
	e->ack_gap[dir & 1] = gap_grow(e->ack_gap[dir & 1], end - s->end);
	s->end = end;
}

bool moat_ct_tcp_challenge(const struct moat_ct_entry *e, int dir,
			   struct moat_ct_challenge *c)
{
	const struct moat_ct_peer *s, *r;
	uint32_t room;
	int shift;

	dir &= 1;
	s = &e->peer[dir];
	r = &e->peer[!dir];
	if (e->proto != MOAT_IPPROTO_TCP || !(s->flags & MOAT_CT_PEER_SEEN) ||
	    !(r->flags & MOAT_CT_PEER_SEEN) ||
	    e->ack_gap[dir] == CT_GAP_UNKNOWN)
		return false;
	/* rcv.nxt: what r acknowledged last, never more (an ACK of bytes r
	 * has not received would make s forget them). */
	c->ack = s->end - e->ack_gap[dir];
	/* snd.nxt, as s sees r's numbers (after translation). */
	c->seq = r->end + e->seq_delta[!dir];
	/* The window r offered at that ACK: its right edge, in r's scale
	 * (or the scale s was told, behind the SYN proxy). */
	room = seq_gt(s->maxend, c->ack) ? s->maxend - c->ack : 0;
	shift = both_wscale(e) ? r->wscale : 0;
	if (dir == MOAT_CT_ORIG && e->wscale_fix)
		shift = e->wscale_fix >> 4;
	room >>= shift;
	c->win = room > 65535 ? 65535 : (uint16_t)room;
	return true;
}

bool moat_ct_icmp_seq_ok(const struct moat_ct_entry *e, int dir,
			 uint32_t seq)
{
	const struct moat_ct_peer *s, *r;

	if (e->proto != MOAT_IPPROTO_TCP || (e->flags & MOAT_CT_F_LOOSE))
		return true;
	dir &= 1;
	s = &e->peer[dir];
	r = &e->peer[!dir];
	if (!(s->flags & MOAT_CT_PEER_SEEN))
		return false;
	/* The quoted packet left us rewritten: undo the translation. */
	seq -= e->seq_delta[dir];
	return seq_leq(seq, s->maxend) && seq_geq(seq, s->end - back_of(r));
}
