/*
 * The SYN proxy as the engine drives it (the order is in moat/syn_proxy.h
 * and doc/synproxy.md):
 *
 *   SYN, synproxy rule -- moat_syn_decide() --COOKIE--> cookie SYN-ACK,
 *                            |   |                      SYN dropped
 *                            |   +--SHED--> dropped unanswered (syn-shed)
 *                            | TRACK, PROBE
 *                            v
 *                       tracked like any pass; counted half-open
 *   ACK, no flow, synproxy rule --> cookie valid? --> SYNPROXY flow,
 *                                                    SYN to the server
 *   packets of a SYNPROXY flow -----> the proxy's handshake (all dropped,
 *                                     the proxy emits what must go out)
 *   packets of an established proxied or modulated flow
 *                             -----> tracked, then translated in place
 *
 * The decision and the state it reads (flood detector, half-open counts,
 * backend learning) are src/synproxy's.  What stays here is what only the
 * engine knows or does: which mode is in force for a SYN (`moat ctl
 * syncookies` when given, else the rule's own `syncookies`, else the
 * options'), whether the I/O side sheds load and whether the source is
 * known (known.c), opening flows, counting and logging.
 */
#include "engine/synproxy_glue.h"
#include "moat/syn_proxy.h"

static void mode_params(const struct moat_engine *e,
			struct moat_syn_mode_params *m)
{
	memset(m, 0, sizeof(*m));
	m->half_open = e->opt.syncookies_threshold;
	m->rate = e->opt.syncookies_rate;
	m->quiet_s = e->opt.syncookies_quiet;
}

int moat_engine_syn_create(struct moat_engine *e)
{
	struct moat_syn_params par;

	memset(&par, 0, sizeof(par));
	memcpy(par.secret, e->secret, sizeof(par.secret));
	par.max_flows = e->opt.max_flows; /* the proxy's tables follow it */
	mode_params(e, &par.mode);
	e->syn = moat_syn_create(&par);
	return e->syn ? 0 : -1;
}

void moat_engine_syn_destroy(struct moat_engine *e)
{
	moat_syn_destroy(e->syn);
	e->syn = NULL;
}

void moat_engine_syn_reload(struct moat_engine *e)
{
	struct moat_syn_mode_params m;

	mode_params(e, &m);
	moat_syn_set_mode(e->syn, &m);
}

static void log_mode_event(struct moat_engine *e,
			   const struct moat_syn_mode_event *ev)
{
	struct moat_event *out = moat_engine_event(e, ev->time_ns,
						   MOAT_EV_SYNCOOKIES);

	e->mode_switches++;
	if (!ev->cookies)
		moat_engine_cookie_state(e, &ev->dst, ev->port);
	/* The protected service, as a SYN to it carries it. */
	out->key.dst = ev->dst;
	out->key.dport = ev->port;
	out->key.proto = MOAT_IPPROTO_TCP;
	out->u.syn.cookies = ev->cookies ? 1 : 0;
	out->u.syn.half_open = ev->half_open;
	out->u.syn.syn_rate = ev->rate;
}

void moat_engine_syn_tick(struct moat_engine *e, uint64_t now_ns,
			  struct moat_emit *out)
{
	struct moat_syn_tick_report rep;
	uint32_t before = out->count;

	memset(&rep, 0, sizeof(rep));
	moat_syn_tick(e->syn, e->ct, now_ns, out, &rep);
	e->cnt.emitted += out->count - before;
	e->syn_server_timeouts += rep.server_timeouts;
	e->synack_retransmits += rep.synack_rtx;
	for (uint32_t i = 0; i < rep.mode_events && i < MOAT_SYN_TICK_EVENTS;
	     i++)
		log_mode_event(e, &rep.ev[i]);
}

void moat_engine_cookie_syns(struct moat_engine *e,
			     const struct moat_syn_dst_key *key, uint32_t n,
			     uint64_t now_ns)
{
	struct moat_syn_mode_event ev;
	struct moat_addr dst;
	bool switched;

	memcpy(dst.b, key->addr, sizeof(dst.b));
	dst.family = key->family;
	moat_syn_mode_syns(moat_syn_modes(e->syn), &dst, key->port, n, now_ns,
			   &ev, &switched);
	if (switched)
		log_mode_event(e, &ev);
}

bool moat_engine_syn_owns(const struct moat_ct_entry *ent)
{
	return ent->state == MOAT_CT_SYNPROXY;
}

bool moat_engine_syn_flow(struct moat_engine *e, struct moat_flight *fl,
			  struct moat_ct_entry *ent, int dir)
{
	uint32_t before = fl->out->count;
	enum moat_reason r;

	fl->res->rule = ent->rule;
	r = moat_syn_segment(e->syn, e->ct, ent, dir, &fl->p, fl->now,
			     fl->out);
	moat_engine_say(e, "synproxy: handshake with the server: %s",
			moat_reason_name(r));
	e->cnt.emitted += fl->out->count - before;
	moat_engine_finish(e, fl, MOAT_VERDICT_DROP, r);
	return false;
}

/* `moat ctl syncookies` when given, else the rule's, else the options'. */
static uint8_t mode_in_force(const struct moat_engine *e,
			     const struct moat_rule *rule)
{
	if (e->syncookies_forced >= 0)
		return (uint8_t)e->syncookies_forced;
	if (rule->syncookies >= 0)
		return (uint8_t)rule->syncookies;
	return e->opt.syncookies;
}

static void answer_cookie(struct moat_engine *e, struct moat_flight *fl)
{
	uint32_t before = fl->out->count;
	enum moat_reason r;

	moat_engine_say(e, "synproxy: answering with a cookie");
	r = moat_syn_answer_syn(e->syn, &fl->p, fl->res->in_zone, fl->now,
				fl->out);
	if (r == MOAT_R_SYN_COOKIE_SENT)
		moat_engine_cookie_answered(e, &fl->p);
	e->cnt.emitted += fl->out->count - before;
	moat_engine_finish(e, fl, MOAT_VERDICT_DROP, r);
}

/* A SYN: ask the SYN proxy, then do what it answered. */
static enum moat_engine_syn_step syn_new_syn(struct moat_engine *e,
					     struct moat_flight *fl,
					     const struct moat_rule *rule)
{
	struct moat_syn_question q = { 0 };
	struct moat_syn_mode_event ev;
	enum moat_syn_decision d;
	bool switched;

	q.mode = mode_in_force(e, rule);
	q.shed = e->shed;
	/* Read only while shedding: no lookup otherwise. */
	q.src_known = e->shed && moat_engine_known_has(e, &fl->p.src);
	d = moat_syn_decide(e->syn, &fl->p, &q, fl->now, &ev, &switched);
	if (switched)
		log_mode_event(e, &ev);
	switch (d) {
	case MOAT_SYN_TRACK:
		moat_engine_say(e, "synproxy: state mode, the SYN goes to the "
				"server");
		return MOAT_ENGINE_SYN_TRACK;
	case MOAT_SYN_PROBE:
		moat_engine_say(e, "synproxy: server not known yet, this SYN "
				"goes through to learn its options");
		return MOAT_ENGINE_SYN_TRACK;
	case MOAT_SYN_SHED:
		moat_engine_say(e, "synproxy: shedding load, the source has "
				"no handshake before: dropped");
		moat_engine_finish(e, fl, MOAT_VERDICT_DROP, MOAT_R_SYN_SHED);
		return MOAT_ENGINE_SYN_DECIDED;
	case MOAT_SYN_COOKIE:
		break;
	}
	answer_cookie(e, fl);
	return MOAT_ENGINE_SYN_DECIDED;
}

/* An ACK with no flow: the final ACK of a cookie handshake, or nothing. */
static void syn_new_ack(struct moat_engine *e, struct moat_flight *fl,
			const struct moat_rule *rule)
{
	struct moat_syn_client c;
	struct moat_ct_entry *ent;
	uint32_t before = fl->out->count;
	enum moat_reason r;

	r = moat_syn_check_ack(e->syn, &fl->p, fl->now, &c);
	moat_engine_say(e, "synproxy: final ACK's cookie %s",
			r == MOAT_R_NONE ? "valid, opening the server side" :
			moat_reason_name(r));
	if (r != MOAT_R_NONE) {
		moat_engine_finish(e, fl, MOAT_VERDICT_DROP, r);
		return;
	}
	/* A valid cookie: this client saw our SYN-ACK, it is real. */
	moat_engine_known_add(e, &fl->p.src);
	ent = moat_engine_flow_open(e, fl, rule, MOAT_CT_SYNPROXY);
	if (!ent)
		return;
	r = moat_syn_open_server(e->syn, e->ct, ent, &fl->p, &c,
				 fl->res->in_zone, fl->res->out_zone, fl->now,
				 fl->out);
	e->cnt.emitted += fl->out->count - before;
	moat_engine_finish(e, fl, MOAT_VERDICT_DROP, r);
}

enum moat_engine_syn_step moat_engine_syn_new(struct moat_engine *e,
					      struct moat_flight *fl,
					      const struct moat_rule *rule)
{
	uint8_t fl_tcp = fl->p.tcp_flags;

	if (fl->p.proto != MOAT_IPPROTO_TCP)
		return MOAT_ENGINE_SYN_NOT_MINE;
	if ((fl_tcp & (MOAT_TCP_SYN | MOAT_TCP_ACK | MOAT_TCP_RST)) ==
	    MOAT_TCP_SYN)
		return syn_new_syn(e, fl, rule);
	if ((fl_tcp & (MOAT_TCP_SYN | MOAT_TCP_ACK | MOAT_TCP_RST)) ==
	    MOAT_TCP_ACK) {
		syn_new_ack(e, fl, rule);
		return MOAT_ENGINE_SYN_DECIDED;
	}
	return MOAT_ENGINE_SYN_NOT_MINE;
}

void moat_engine_syn_opened(struct moat_engine *e, struct moat_flight *fl,
			    struct moat_ct_entry *ent)
{
	struct moat_syn_mode_event ev;
	bool switched;

	moat_syn_half_open_start(e->syn, ent, fl->now, &ev, &switched);
	if (switched)
		log_mode_event(e, &ev);
}

void moat_engine_syn_flow_gone(struct moat_engine *e,
			       struct moat_ct_entry *ent, uint64_t now)
{
	struct moat_syn_mode_event ev;
	bool switched;

	moat_syn_flow_gone(e->syn, ent, now, &ev, &switched);
	if (switched)
		log_mode_event(e, &ev);
}

void moat_engine_syn_observe(struct moat_engine *e, struct moat_flight *fl,
			     struct moat_ct_entry *ent, int dir)
{
	struct moat_syn_mode_event ev;
	bool switched;

	moat_syn_tracked(e->syn, ent, dir, &fl->p, fl->now, &ev, &switched);
	if (switched)
		log_mode_event(e, &ev);
}

bool moat_engine_translate(struct moat_engine *e, struct moat_flight *fl,
			   struct moat_ct_entry *ent, int dir)
{
	(void)e;
	return moat_syn_translate_flow(ent, dir, &fl->p);
}
