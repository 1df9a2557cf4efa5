/*
 * The packet's path (doc/design.md), as one list of stages:
 *
 *   decode -> sanity/antispoof -> fragments -> later ones: their first's
 *                                     |          verdict (frag_glue.c)
 *                                 flow lookup -> track + translate
 *                                     | miss
 *                                     v
 *                  ICMP error? -> related flow, else drop
 *                                     v
 *                  rules (first match, policy) -> new state / SYN proxy
 *
 * and what passes, by any stage, is normalised last (scrub.c).
 *
 * Each stage either decides (fills the verdict and its reason, counted in
 * moat_engine_finish()) or hands the packet to the next.  Nothing here reads a clock,
 * touches a socket or allocates: create and reload allocate, process and
 * tick only use what they made.
 */
#include <errno.h>
#include <stdlib.h>

#include <sodium.h>

#include "engine/engine_impl.h"
#include "engine/frag_glue.h"
#include "engine/synproxy_glue.h"

/* Decide: set verdict and reason and count both. */
void moat_engine_finish(struct moat_engine *e, struct moat_flight *fl,
			enum moat_verdict v, enum moat_reason r)
{
	moat_engine_say(e, "verdict: %s (%s)",
			v == MOAT_VERDICT_PASS ? "pass" : "drop",
			moat_reason_name(r));
	fl->res->verdict = v;
	fl->res->reason = r;
	if (v == MOAT_VERDICT_PASS)
		e->cnt.passed++;
	else
		e->cnt.dropped++;
	e->cnt.reason[r]++;
}

static void ct_params_from(const struct moat_options *o,
			   const uint8_t secret[32], struct moat_ct_params *cp)
{
	moat_ct_params_default(cp);
	cp->max_flows = o->max_flows;
	cp->to.tcp_opening = o->timeout[MOAT_TIMEOUT_TCP_OPENING];
	cp->to.tcp_established = o->timeout[MOAT_TIMEOUT_TCP_ESTABLISHED];
	cp->to.tcp_closing = o->timeout[MOAT_TIMEOUT_TCP_CLOSING];
	cp->to.tcp_timewait = o->timeout[MOAT_TIMEOUT_TCP_TIMEWAIT];
	cp->to.udp_first = o->timeout[MOAT_TIMEOUT_UDP_FIRST];
	cp->to.udp_multiple = o->timeout[MOAT_TIMEOUT_UDP_MULTIPLE];
	cp->to.icmp = o->timeout[MOAT_TIMEOUT_ICMP];
	cp->to.other = o->timeout[MOAT_TIMEOUT_OTHER];
	cp->pickup_loose = o->pickup == MOAT_PICKUP_LOOSE;
	cp->rst_exact = o->rst_check == MOAT_RST_CHECK_EXACT;
	/* The hash seed is derived, not the secret itself: the secret may
	 * be shared between gateways, the seed stays private to the table. */
	crypto_generichash(cp->seed, sizeof(cp->seed),
			   (const uint8_t *)"moat conntrack seed", 19,
			   secret, 32);
}

/* Control plane: per-rule token buckets sized for @cfg. */
static struct moat_bucket *alloc_rule_limits(const struct moat_config *cfg)
{
	int n = moat_config_rule_count(cfg);

	return calloc((size_t)(n > 0 ? n : 1), sizeof(struct moat_bucket));
}

static void set_rule_limits(struct moat_engine *e, struct moat_bucket *b,
			    const struct moat_config *cfg)
{
	free(e->rule_limit);
	e->rule_limit = b;
	e->rule_limit_count = moat_config_rule_count(cfg);
}

/* Every flow that leaves the table: release what the engine counted. */
static void flow_leaves(struct moat_ct_entry *ent, void *arg)
{
	struct moat_engine *e = arg;

	moat_engine_syn_flow_gone(e, ent, e->now);
	moat_engine_src_freed(e, ent);
}

struct moat_engine *moat_engine_create(const struct moat_config *cfg,
				       const struct moat_engine_params *par)
{
	static const uint8_t zero[32];
	struct moat_ct_params cp;
	struct moat_engine *e;

	if (!cfg || !par || !memcmp(par->secret, zero, sizeof(zero))) {
		errno = EINVAL;
		return NULL;
	}
	if (sodium_init() < 0) {
		errno = EIO;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->cfg = cfg;
	e->opt = *moat_config_options(cfg);
	e->syncookies_forced = -1;
	memcpy(e->secret, par->secret, sizeof(e->secret));
	moat_engine_modulate_init(e);
	moat_engine_scrub_init(e);
	ct_params_from(&e->opt, e->secret, &cp);
	e->ct = moat_ct_create(&cp);
	if (!e->ct)
		goto fail;
	e->rule_limit = alloc_rule_limits(cfg);
	if (!e->rule_limit)
		goto fail;
	e->rule_limit_count = moat_config_rule_count(cfg);
	if (moat_engine_syn_create(e) < 0 || moat_engine_hijack_create(e) < 0 ||
	    moat_engine_src_create(e) < 0 || moat_engine_known_create(e) < 0 ||
	    moat_engine_frag_create(e) < 0)
		goto fail;
	moat_ct_set_free_hook(e->ct, flow_leaves, e);
	moat_engine_hijack_set_block(e, e->opt.hijack_block);
	return e;
fail:
	moat_engine_destroy(e);
	errno = ENOMEM;
	return NULL;
}

void moat_engine_destroy(struct moat_engine *e)
{
	if (!e)
		return;
	/* The table first: its free hook still sees the other parts. */
	moat_ct_destroy(e->ct);
	e->ct = NULL;
	moat_engine_syn_destroy(e);
	moat_engine_hijack_destroy(e);
	moat_engine_src_destroy(e);
	moat_engine_known_destroy(e);
	moat_engine_frag_destroy(e);
	free(e->rule_limit);
	sodium_memzero(e->secret, sizeof(e->secret));
	sodium_memzero(e->mod_key, sizeof(e->mod_key));
	free(e);
}

/*
 * Two steps, so that a reload cannot half-fail: first everything the new
 * rules need is allocated, touching nothing; only then, where nothing can
 * fail, is it all switched over.
 */
int moat_engine_reload(struct moat_engine *e, const struct moat_config *cfg)
{
	struct moat_ct_params cp;
	struct moat_bucket *limits;
	uint32_t *ruleconn;

	/* Rate-limit state starts anew: rule numbers may mean other rules. */
	limits = alloc_rule_limits(cfg);
	if (!limits)
		return -ENOMEM;
	if (moat_engine_src_reload_prepare(e, cfg, &ruleconn) < 0) {
		free(limits);
		return -ENOMEM;
	}
	set_rule_limits(e, limits, cfg);
	e->cfg = cfg;
	e->opt = *moat_config_options(cfg);
	ct_params_from(&e->opt, e->secret, &cp);
	moat_ct_set_params(e->ct, &cp);
	moat_engine_syn_reload(e);
	moat_engine_src_reload(e, ruleconn);
	moat_engine_hijack_set_block(e, e->opt.hijack_block);
	moat_engine_frag_reload(e);
	/* New rules may pass other destinations with other modes. */
	moat_engine_cookie_all_off(e);
	return 0;
}

void moat_engine_set_syncookies(struct moat_engine *e, int mode)
{
	/* Read with every SYN (mode_in_force in the glue): nothing to
	 * push into the SYN proxy. */
	e->syncookies_forced = mode;
	/* A fast path answering for the engine starts over from the
	 * engine's next answers under the new mode. */
	moat_engine_cookie_all_off(e);
}

const struct moat_counters *moat_engine_counters(const struct moat_engine *e)
{
	return &e->cnt;
}

/*
 * Ingress: given by the backend (the interface's zone), else the zone
 * whose networks hold the source, else the default zone.  Egress: the zone
 * whose networks hold the destination; on a two-zone bridge the other side.
 */
static void resolve_zones(const struct moat_engine *e, struct moat_flight *fl)
{
	const struct moat_config *c = e->cfg;
	int n = moat_config_zone_count(c), in = fl->f->zone, out;

	if (in == MOAT_ZONE_AUTO || in >= n) {
		in = moat_config_zone_by_addr(c, &fl->p.src);
		if (in < 0)
			in = moat_config_default_zone(c);
	}
	out = moat_config_zone_by_addr(c, &fl->p.dst);
	if (out < 0 || out == in) {
		if (n == 2 && in >= 0)
			out = 1 - in;
		else if (moat_config_default_zone(c) != in)
			out = moat_config_default_zone(c);
		else
			out = -1;
	}
	fl->res->in_zone = (int16_t)in;
	fl->res->out_zone = (int16_t)out;
}

static const char *zone_name(const struct moat_engine *e, int z)
{
	const struct moat_zone *zone;

	if (z < 0 || z >= moat_config_zone_count(e->cfg))
		return "(none)";
	zone = moat_config_zone(e->cfg, z);
	return zone ? zone->name : "(none)";
}

/* IPv6 neighbour discovery (RFC 4861): link-local plumbing that a bridge
 * must carry; only genuine on-link messages (hop limit 255) qualify. */
static bool is_ndp(const struct moat_pkt *p)
{
	return p->ipv == 6 && p->proto == MOAT_IPPROTO_ICMPV6 &&
	       p->icmp_type >= 133 && p->icmp_type <= 137 && p->ttl == 255;
}

/* Decode and sanity.  Returns false when the packet was decided. */
static bool stage_sanity(struct moat_engine *e, struct moat_flight *fl)
{
	struct moat_pkt *p = &fl->p;
	enum moat_reason r;

	r = moat_pkt_decode(p, fl->f->data, fl->f->caplen, fl->f->wirelen,
			    fl->f->linktype);
	if (e->explain) {
		char line[256];
		moat_pkt_format(p, line, sizeof(line));
		moat_engine_say(e, "decode: %s: %s", r == MOAT_R_NONE ?
				"ok" : moat_reason_name(r), line);
	}
	if (r != MOAT_R_NONE) {
		moat_engine_finish(e, fl, MOAT_VERDICT_DROP, r);
		return false;
	}
	if (p->ipv == 0) {
		if (e->opt.nonip_pass)
			moat_engine_finish(e, fl, MOAT_VERDICT_PASS,
					   MOAT_R_NON_IP);
		else
			moat_engine_finish(e, fl, MOAT_VERDICT_DROP,
					   MOAT_R_NON_IP_DROP);
		return false;
	}
	resolve_zones(e, fl);
	if (e->explain)
		moat_engine_say(e, "zones: in %s, out %s%s",
				zone_name(e, fl->res->in_zone),
				zone_name(e, fl->res->out_zone),
				fl->f->zone == MOAT_ZONE_AUTO ?
				" (ingress from the source address)" : "");
	if (is_ndp(p)) {
		moat_engine_finish(e, fl, MOAT_VERDICT_PASS, MOAT_R_NDP);
		return false;
	}
	if (e->opt.checksum == MOAT_CHECKSUM_VERIFY) {
		r = moat_pkt_verify_checksums(p);
		moat_engine_say(e, "checksums: %s", r == MOAT_R_NONE ? "good" :
				moat_reason_name(r));
		if (r != MOAT_R_NONE) {
			moat_engine_finish(e, fl, MOAT_VERDICT_DROP, r);
			return false;
		}
	}
	if (e->opt.antispoof) {
		r = moat_engine_antispoof(e, fl);
		if (r != MOAT_R_NONE) {
			moat_engine_finish(e, fl, MOAT_VERDICT_DROP, r);
			return false;
		}
	}
	return true;
}

static bool is_icmp_error(const struct moat_pkt *p)
{
	if (p->proto == MOAT_IPPROTO_ICMP)
		return p->icmp_type == 3 || p->icmp_type == 4 ||
		       p->icmp_type == 5 || p->icmp_type == 11 ||
		       p->icmp_type == 12;
	if (p->proto == MOAT_IPPROTO_ICMPV6)
		return p->icmp_type >= 1 && p->icmp_type <= 4;
	return false;
}

/* A packet of a known flow.  Returns false when the packet was decided. */
static bool stage_flow(struct moat_engine *e, struct moat_flight *fl)
{
	struct moat_ct_entry *ent;
	enum moat_reason r;
	int dir;

	/* An ICMP error is not a flow of its own: the next stage matches it
	 * to the flow it quotes. */
	if (is_icmp_error(&fl->p))
		return true;
	ent = moat_ct_lookup(e->ct, &fl->p, &dir);
	if (!ent) {
		moat_engine_say(e, "flow: none known");
		return true;
	}
	moat_engine_say(e, "flow: %s, %s direction, created by rule %u",
			moat_ct_state_name((enum moat_ct_state)ent->state),
			dir == MOAT_CT_ORIG ? "original" : "reply", ent->rule);
	if (moat_engine_syn_owns(ent))
		return moat_engine_syn_flow(e, fl, ent, dir);
	uint8_t was = ent->state;
	r = moat_ct_track(e->ct, ent, dir, &fl->p, fl->now);
	/* A completed handshake: its opener is a real host (a spoofer never
	 * sees the SYN-ACK it would have to acknowledge). */
	if (was != MOAT_CT_ESTABLISHED && ent->state == MOAT_CT_ESTABLISHED &&
	    ent->proto == MOAT_IPPROTO_TCP)
		moat_engine_known_add(e, &ent->addr[MOAT_CT_ORIG]);
	moat_engine_say(e, "track: %s, flow now %s", moat_reason_name(r),
			moat_ct_state_name((enum moat_ct_state)ent->state));
	if (r == MOAT_R_TCP_NO_STATE && moat_ct_syn_reuses(ent, dir, &fl->p)) {
		/* A new connection on the tuple of a finished one. */
		moat_ct_remove(e->ct, ent);
		return true;
	}
	fl->res->rule = ent->rule;
	if (fl->p.proto == MOAT_IPPROTO_TCP) {
		enum moat_reason h = moat_engine_hijack_check(e, fl, ent, dir,
							      r);
		if (h != MOAT_R_NONE)
			r = h;
	}
	/* RFC 5961: the ACK the endpoint would send (challenge.c). */
	if (r == MOAT_R_TCP_RST_CHALLENGE || r == MOAT_R_TCP_SYN_IN_WINDOW)
		moat_engine_challenge_ack(e, fl, ent, dir);
	if (!moat_ct_passes(r)) {
		moat_engine_finish(e, fl, MOAT_VERDICT_DROP, r);
		return false;
	}
	if (ent->zone[dir] < 0)
		ent->zone[dir] = (int8_t)fl->res->in_zone;
	if (ent->flags & (MOAT_CT_F_MODULATE | MOAT_CT_F_SYNPROXY))
		fl->res->rewritten = moat_engine_translate(e, fl, ent, dir);
	moat_engine_syn_observe(e, fl, ent, dir);
	fl->res->log = (ent->flags & MOAT_CT_F_LOG) != 0;
	moat_engine_finish(e, fl, MOAT_VERDICT_PASS, r);
	return false;
}

/* An ICMP error passes only as part of the flow it quotes (icmperr.c). */
static bool stage_icmp_error(struct moat_engine *e, struct moat_flight *fl)
{
	struct moat_ct_entry *ent;
	enum moat_reason r;
	int dir;

	if (!is_icmp_error(&fl->p))
		return true;
	r = moat_engine_icmp_related(e, fl, &ent, &dir);
	if (!ent) {
		moat_engine_finish(e, fl, MOAT_VERDICT_DROP, r);
		return false;
	}
	fl->res->rule = ent->rule;
	fl->res->rewritten = moat_engine_icmp_translate(e, fl, ent, dir);
	moat_engine_finish(e, fl, MOAT_VERDICT_PASS, MOAT_R_STATE_MATCH);
	return false;
}

static void log_rule(struct moat_engine *e, struct moat_flight *fl,
		     const struct moat_rule *rule, enum moat_event_action action)
{
	struct moat_event *ev = moat_engine_event_flow(e, fl, MOAT_EV_RULE);

	fl->res->log = true;
	ev->u.rule.number = rule->number;
	ev->u.rule.line = rule->line;
	ev->u.rule.action = (uint8_t)action;
}

struct moat_ct_entry *moat_engine_flow_open(struct moat_engine *e,
					    struct moat_flight *fl,
					    const struct moat_rule *rule,
					    enum moat_ct_state state)
{
	struct moat_ct_entry *ent;
	enum moat_reason why = MOAT_R_NONE;

	/* Without a rule (policy pass) only an overloaded source is
	 * refused. */
	why = moat_engine_src_admit(e, fl, rule);
	if (why != MOAT_R_NONE) {
		moat_engine_finish(e, fl, MOAT_VERDICT_DROP, why);
		return NULL;
	}
	ent = state == MOAT_CT_NONE
		      ? moat_ct_insert(e->ct, &fl->p, fl->now, &why)
		      : moat_ct_insert_as(e->ct, &fl->p, state, fl->now, &why);
	if (!ent) {
		if (why == MOAT_R_STATE_TABLE_FULL)
			moat_engine_event_flow(e, fl, MOAT_EV_TABLE_FULL);
		moat_engine_finish(e, fl, MOAT_VERDICT_DROP, why);
		return NULL;
	}
	ent->rule = (uint16_t)(rule ? rule->number : 0);
	ent->zone[MOAT_CT_ORIG] = (int8_t)fl->res->in_zone;
	ent->zone[MOAT_CT_REPLY] = (int8_t)fl->res->out_zone;
	if (rule && rule->log)
		ent->flags |= MOAT_CT_F_LOG;
	if (rule)
		moat_engine_src_created(e, ent, rule);
	return ent;
}

/* Keep state for a passed packet: a new flow from its rule; @half_open:
 * a SYN the SYN proxy sends to the server, counted until it completes. */
static void new_flow(struct moat_engine *e, struct moat_flight *fl,
		     const struct moat_rule *rule, bool half_open)
{
	struct moat_ct_entry *ent;

	ent = moat_engine_flow_open(e, fl, rule, MOAT_CT_NONE);
	if (!ent)
		return;
	if (rule && rule->modulate && fl->p.proto == MOAT_IPPROTO_TCP)
		moat_engine_modulate_start(e, fl, ent);
	if (half_open)
		moat_engine_syn_opened(e, fl, ent);
	moat_engine_finish(e, fl, MOAT_VERDICT_PASS,
	       rule ? MOAT_R_RULE_PASS : MOAT_R_POLICY_PASS);
}

static void stage_rules(struct moat_engine *e, struct moat_flight *fl)
{
	enum moat_engine_syn_step step;
	const struct moat_rule *rule;

	rule = moat_rules_match(e->cfg, &fl->p, fl->res->in_zone,
				fl->res->out_zone);
	if (rule)
		moat_engine_say(e, "rules: rule %d (%s line %d) matches first",
				rule->number, rule->file ? rule->file : "?",
				rule->line);
	else
		moat_engine_say(e, "rules: none matches; policy %s",
				e->opt.policy == MOAT_POLICY_PASS ?
				"pass" : "drop");
	/* DHCP that antispoof let by (sanity.c): a rule must pass it. */
	if (fl->dhcp && (!rule || rule->action != MOAT_RULE_PASS)) {
		moat_engine_finish(e, fl, MOAT_VERDICT_DROP, fl->dhcp);
		return;
	}
	if (!rule) {
		if (e->opt.policy == MOAT_POLICY_PASS)
			new_flow(e, fl, NULL, false);
		else
			moat_engine_finish(e, fl, MOAT_VERDICT_DROP, MOAT_R_POLICY_DROP);
		return;
	}
	fl->res->rule = rule->number;
	if (rule->log)
		log_rule(e, fl, rule, rule->action == MOAT_RULE_PASS ?
			 MOAT_EV_ACTION_PASS : rule->action == MOAT_RULE_BLOCK ?
			 MOAT_EV_ACTION_BLOCK : MOAT_EV_ACTION_REJECT);
	if (rule->action == MOAT_RULE_BLOCK) {
		moat_engine_finish(e, fl, MOAT_VERDICT_DROP, MOAT_R_RULE_BLOCK);
		return;
	}
	if (rule->action == MOAT_RULE_REJECT) {
		moat_engine_reject(e, fl);
		moat_engine_finish(e, fl, MOAT_VERDICT_DROP, MOAT_R_RULE_REJECT);
		return;
	}
	if (rule->limit.count && rule->number - 1 < e->rule_limit_count &&
	    !moat_bucket_take(&e->rule_limit[rule->number - 1],
			      rule->limit.count, rule->limit.period_ns,
			      fl->now)) {
		moat_engine_finish(e, fl, MOAT_VERDICT_DROP, MOAT_R_RATE_LIMIT);
		return;
	}
	if (!rule->keep_state) {
		moat_engine_finish(e, fl, MOAT_VERDICT_PASS, MOAT_R_RULE_PASS_STATELESS);
		return;
	}
	step = rule->synproxy ? moat_engine_syn_new(e, fl, rule)
			      : MOAT_ENGINE_SYN_NOT_MINE;
	if (step == MOAT_ENGINE_SYN_DECIDED)
		return;
	new_flow(e, fl, rule, step == MOAT_ENGINE_SYN_TRACK);
}

static void flight_start(struct moat_engine *e, struct moat_flight *fl,
			 struct moat_frame *f, uint64_t now_ns,
			 struct moat_result *res, struct moat_emit *out)
{
	fl->f = f;
	fl->now = now_ns;
	fl->res = res;
	fl->out = out;
	fl->dhcp = MOAT_R_NONE;
	e->now = now_ns;
	memset(res, 0, sizeof(*res));
	res->in_zone = f->zone;
	res->out_zone = -1;
	e->cnt.packets++;
}

/* The flow, ICMP errors, the rules. */
static void stage_decide(struct moat_engine *e, struct moat_flight *fl)
{
	if (!stage_flow(e, fl))
		return;
	if (!stage_icmp_error(e, fl))
		return;
	stage_rules(e, fl);
}

/*
 * Everything after sanity.  Fragments first (frag_glue.c): a later one
 * carries no ports, so its datagram's first fragment decides it; a first
 * one is decided like a whole packet and its verdict recorded.  Then what
 * passes is normalised (scrub.c).
 */
static void stage_rest(struct moat_engine *e, struct moat_flight *fl)
{
	if (moat_engine_frag_in(e, fl)) {
		stage_decide(e, fl);
		moat_engine_frag_decided(e, fl);
	}
	if (fl->res->verdict == MOAT_VERDICT_PASS)
		moat_engine_scrub(e, fl);
}

void moat_engine_process(struct moat_engine *e, struct moat_frame *f,
			 uint64_t now_ns, struct moat_result *res,
			 struct moat_emit *out)
{
	struct moat_flight fl;

	flight_start(e, &fl, f, now_ns, res, out);
	if (stage_sanity(e, &fl))
		stage_rest(e, &fl);
	e->explain = NULL;
}

void moat_engine_explain_next(struct moat_engine *e, char *buf,
			      unsigned long len)
{
	e->explain = len ? buf : NULL;
	e->explain_len = len;
	e->explain_off = 0;
	if (len)
		buf[0] = '\0';
}

/*
 * A burst: decode and check every packet first, then look all their flows
 * up at once (moat_ct_lookup_burst hashes them all and prefetches buckets
 * and entries, so the DRAM misses of a big table overlap), then run each
 * packet's path in order.  The burst lookup only warms the caches: each
 * packet looks its flow up again when its turn comes, so a flow that an
 * earlier packet of the burst created or removed is seen as it is then.
 */
void moat_engine_process_burst(struct moat_engine *e, struct moat_frame *f,
			       int n, uint64_t now_ns,
			       struct moat_result *res, struct moat_emit *out)
{
	struct moat_flight fl[MOAT_ENGINE_BURST];
	const struct moat_pkt *view[MOAT_ENGINE_BURST] = { 0 };
	struct moat_ct_entry *ent[MOAT_ENGINE_BURST];
	int dirs[MOAT_ENGINE_BURST];
	bool live[MOAT_ENGINE_BURST];
	int m = 0;

	if (n > MOAT_ENGINE_BURST)
		n = MOAT_ENGINE_BURST;
	for (int i = 0; i < n; i++) {
		flight_start(e, &fl[i], &f[i], now_ns, &res[i], &out[i]);
		live[i] = stage_sanity(e, &fl[i]);
		if (live[i])
			view[m++] = &fl[i].p;
	}
	moat_ct_lookup_burst(e->ct, view, m, ent, dirs);
	for (int i = 0; i < n; i++) {
		if (live[i]) {
			e->now = now_ns;
			stage_rest(e, &fl[i]);
		}
	}
}

void moat_engine_tick(struct moat_engine *e, uint64_t now_ns,
		      struct moat_emit *out)
{
	e->now = now_ns;
	moat_ct_expire(e->ct, now_ns, MOAT_ENGINE_EXPIRE_BUDGET);
	moat_engine_syn_tick(e, now_ns, out);
	moat_engine_src_tick(e, now_ns);
	moat_engine_frag_tick(e, now_ns, out);
}
