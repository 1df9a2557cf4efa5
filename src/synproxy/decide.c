/*
 * The SYN proxy's one decision for a SYN, and the half-open accounting
 * that feeds it.
 *
 * On the packet's path: after the rules, for a SYN (no ACK, no RST) that a
 * `synproxy` rule passed, the engine asks moat_syn_decide() and acts on
 * the answer (moat/syn_decide.h).  The state the answer depends on lives
 * here, in src/synproxy: the flood detector's per-destination records
 * (mode.c), fed with every SYN asked about and with the half-open count
 * of the handshakes sent to the server, and the backend table's learning
 * state (backend.c).  The engine only brings what it alone knows: the mode
 * in force for the SYN's rule, whether it sheds load, whether the source
 * is known.
 *
 *   SYN --> count it, hysteresis ----> moat_syn_decision(record, probe, q)
 *              (mode.c)                   |
 *       TRACK / PROBE: the engine opens the flow, then
 *           moat_syn_half_open_start()    half_open + 1
 *       every later packet of the flow:
 *           moat_syn_tracked()            learn the server's SYN-ACK;
 *                                         half_open - 1 once the flow has
 *                                         left SYN_SENT / SYN_RECV
 *       the flow leaves the table:
 *           moat_syn_flow_gone()          half_open - 1 if still counted
 *
 * A flow is counted at most once: MOAT_CT_F_HALFOPEN on its entry says it
 * is, and only this file sets or clears it.
 */
#include "proxy_internal.h"

static bool half_open_state(uint8_t state)
{
	return state == MOAT_CT_SYN_SENT || state == MOAT_CT_SYN_RECV;
}

enum moat_syn_decision moat_syn_decide(struct moat_syn *s,
				       const struct moat_pkt *p,
				       const struct moat_syn_question *q,
				       uint64_t now_ns,
				       struct moat_syn_mode_event *ev,
				       bool *switched)
{
	uint32_t h = syn_hash_dst(s->keys.hash_seed, &p->dst, p->dport);
	const struct moat_syn_dst_state *dst;
	enum moat_syn_decision d;
	bool probe;

	dst = syn_mode_syn_hashed(s->modes, h, &p->dst, p->dport, now_ns, ev,
				  switched);
	probe = syn_backend_probe_due_hashed(s->backend, h, &p->dst, p->dport,
					     now_ns);
	d = moat_syn_decision(dst, probe, q);
	if (d == MOAT_SYN_PROBE)
		moat_syn_backend_probe_sent(s->backend, &p->dst, p->dport,
					    now_ns);
	return d;
}

void moat_syn_half_open_start(struct moat_syn *s, struct moat_ct_entry *e,
			      uint64_t now_ns, struct moat_syn_mode_event *ev,
			      bool *switched)
{
	*switched = false;
	if ((e->flags & MOAT_CT_F_HALFOPEN) || !half_open_state(e->state))
		return;
	e->flags |= MOAT_CT_F_HALFOPEN;
	moat_syn_mode_half_open(s->modes, &e->addr[MOAT_CT_REPLY],
				e->port[MOAT_CT_REPLY], +1, now_ns, ev,
				switched);
}

static void half_open_end(struct moat_syn *s, struct moat_ct_entry *e,
			  uint64_t now_ns, struct moat_syn_mode_event *ev,
			  bool *switched)
{
	e->flags &= (uint8_t)~MOAT_CT_F_HALFOPEN;
	moat_syn_mode_half_open(s->modes, &e->addr[MOAT_CT_REPLY],
				e->port[MOAT_CT_REPLY], -1, now_ns, ev,
				switched);
}

void moat_syn_tracked(struct moat_syn *s, struct moat_ct_entry *e, int dir,
		      const struct moat_pkt *p, uint64_t now_ns,
		      struct moat_syn_mode_event *ev, bool *switched)
{
	const uint8_t synack = MOAT_TCP_SYN | MOAT_TCP_ACK;

	*switched = false;
	if (!(e->flags & MOAT_CT_F_HALFOPEN))
		return;
	if (dir == MOAT_CT_REPLY && (p->tcp_flags & synack) == synack)
		moat_syn_backend_learn(s->backend, p, now_ns);
	if (!half_open_state(e->state))
		half_open_end(s, e, now_ns, ev, switched);
}

void moat_syn_flow_gone(struct moat_syn *s, struct moat_ct_entry *e,
			uint64_t now_ns, struct moat_syn_mode_event *ev,
			bool *switched)
{
	*switched = false;
	if (e->flags & MOAT_CT_F_HALFOPEN)
		half_open_end(s, e, now_ns, ev, switched);
}
