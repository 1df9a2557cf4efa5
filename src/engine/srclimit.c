/*
 * Per-rule and per-source connection limits (pf's source tracking:
 * max-src-conn, max-src-conn-rate, overload), and the address-trust watch.
 *
 * On the packet's path: a packet that no flow claims and that a `pass`
 * rule would keep state for reaches admit() just before conntrack inserts
 * its flow (engine.c new_flow, and the SYN proxy's final ACK in
 * synproxy_glue.c).  admit() refuses it when
 *
 *   its source sits in an active overload entry     MOAT_R_OVERLOAD
 *   the rule has max-conn flows alive               MOAT_R_MAX_CONN
 *   the source has max-src-conn flows of the rule   MOAT_R_MAX_SRC_CONN
 *   the source opened too many flows lately         MOAT_R_MAX_SRC_RATE
 *   no source node is left for it                   MOAT_R_SRC_TABLE_FULL
 *
 * and a source refused by a per-source limit of a rule with
 * `overload @set expire S` goes into that set's dynamic part for S
 * seconds.  created() counts a flow (MOAT_CT_F_SRC_COUNTED) and freed(),
 * called from conntrack's free hook for every flow that leaves the table,
 * uncounts it.
 *
 * Memory: one pool of source nodes, allocated at create and sized from
 * max-flows (a quarter, at least 1024), hashed with a keyed hash so that an
 * attacker cannot aim at one chain.  A node is one of
 *
 *   RULE      (address, rule number): flows alive, rate bucket
 *   OVERLOAD  (address): until when, which set
 *
 * A RULE node with no flows alive is "idle" and sits on an LRU list; it
 * may be reused once its rate bucket has refilled (then it says nothing a
 * fresh node would not).  An OVERLOAD node lives until it expires.  When
 * no node is free and none may be reused, admit() refuses: the table never
 * grows and a flood of sources cannot evict the sources that are over
 * their limits.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include <sodium.h>

#include "engine/engine_impl.h"
#include "moat/siphash.h"

enum {
	SRC_MIN_NODES = 1024,
	SRC_SWEEP = 1024,       /* nodes looked at per tick */
	NIL = 0,                /* index + 1 links; 0 ends a list */
};

enum node_kind { NODE_FREE = 0, NODE_RULE = 1, NODE_OVERLOAD = 2 };
enum list_id { LIST_IDLE = 0, LIST_OVERLOAD = 1, LIST_COUNT };

#define NEVER UINT64_MAX

struct src_node {
	struct moat_addr addr;
	uint8_t kind;            /* enum node_kind */
	uint16_t rule;           /* RULE: the rule number */
	int16_t set;             /* OVERLOAD: the set index */
	uint32_t conn;           /* RULE: flows alive */
	uint32_t hnext;          /* hash chain or free list */
	uint32_t link[2];        /* LRU list: prev, next */
	uint64_t until_ns;       /* RULE: rate state meaningful until;
				    OVERLOAD: expiry, NEVER */
	struct moat_bucket bucket;
};
static_assert(sizeof(struct src_node) == 64, "a source node is a cache line");

struct lru {
	uint32_t head, tail;
};

/* Owner: the engine (e->src). */
struct moat_srclimit {
	struct src_node *node;
	uint32_t nnodes;
	uint32_t *bucket;        /* chain heads, index + 1 */
	uint32_t bmask;
	uint32_t free;           /* free list, index + 1 */
	struct lru list[LIST_COUNT];
	uint32_t sweep;          /* tick's cursor */
	uint32_t *ruleconn;      /* flows alive per rule (number - 1) */
	int nrules;
	const struct moat_config *cfg; /* the config the counts refer to */
	uint8_t key[crypto_shorthash_KEYBYTES];
	struct moat_src_stats st;
};

/* ---- the pool --------------------------------------------------------- */

static struct src_node *at(struct moat_srclimit *s, uint32_t ref)
{
	return ref == NIL ? NULL : &s->node[ref - 1];
}

static uint32_t ref_of(const struct moat_srclimit *s, const struct src_node *n)
{
	return (uint32_t)(n - s->node) + 1;
}

static uint32_t hash_key(const struct moat_srclimit *s,
			 const struct moat_addr *a, uint8_t kind, uint16_t rule)
{
	uint8_t in[16 + 1 + 1 + 2];
	uint32_t v;

	memcpy(in, a->b, 16);
	in[16] = a->family;
	in[17] = kind;
	memcpy(in + 18, &rule, 2);
	v = (uint32_t)moat_siphash24(s->key, in, sizeof(in));
	return v & s->bmask;
}

static void list_del(struct moat_srclimit *s, int l, struct src_node *n)
{
	struct src_node *p = at(s, n->link[0]), *q = at(s, n->link[1]);

	if (p)
		p->link[1] = n->link[1];
	else
		s->list[l].head = n->link[1];
	if (q)
		q->link[0] = n->link[0];
	else
		s->list[l].tail = n->link[0];
	n->link[0] = n->link[1] = NIL;
}

static void list_add_tail(struct moat_srclimit *s, int l, struct src_node *n)
{
	uint32_t r = ref_of(s, n);

	n->link[0] = s->list[l].tail;
	n->link[1] = NIL;
	if (s->list[l].tail)
		at(s, s->list[l].tail)->link[1] = r;
	else
		s->list[l].head = r;
	s->list[l].tail = r;
}

/* Which LRU list @n is on, or -1 (a RULE node with flows alive). */
static int list_of(const struct src_node *n)
{
	if (n->kind == NODE_OVERLOAD)
		return LIST_OVERLOAD;
	return n->kind == NODE_RULE && n->conn == 0 ? LIST_IDLE : -1;
}

static struct src_node *node_find(struct moat_srclimit *s,
				  const struct moat_addr *a, uint8_t kind,
				  uint16_t rule)
{
	uint32_t r = s->bucket[hash_key(s, a, kind, rule)];

	/* Chains are short: the pool is no bigger than the bucket array. */
	while (r != NIL) {
		struct src_node *n = at(s, r);
		if (n->kind == kind && n->rule == rule &&
		    moat_addr_eq(&n->addr, a))
			return n;
		r = n->hnext;
	}
	return NULL;
}

static void node_free(struct moat_srclimit *s, struct src_node *n)
{
	uint32_t *pp = &s->bucket[hash_key(s, &n->addr, n->kind, n->rule)];
	uint32_t r = ref_of(s, n);
	int l = list_of(n);

	while (*pp != NIL && *pp != r)
		pp = &at(s, *pp)->hnext;
	if (*pp == r)
		*pp = n->hnext;
	if (l >= 0)
		list_del(s, l, n);
	if (n->kind == NODE_OVERLOAD)
		s->st.overload_active--;
	memset(n, 0, sizeof(*n));
	n->hnext = s->free;
	s->free = r;
	s->st.nodes--;
}

/* The oldest node of list @l, when it holds nothing worth keeping. */
static bool reclaim_head(struct moat_srclimit *s, int l, uint64_t now)
{
	struct src_node *n = at(s, s->list[l].head);

	if (!n || n->until_ns > now)
		return false;
	node_free(s, n);
	return true;
}

static struct src_node *node_new(struct moat_srclimit *s,
				 const struct moat_addr *a, uint8_t kind,
				 uint16_t rule, uint64_t now)
{
	struct src_node *n;
	uint32_t h;

	if (s->free == NIL && !reclaim_head(s, LIST_IDLE, now) &&
	    !reclaim_head(s, LIST_OVERLOAD, now)) {
		s->st.table_full++;
		return NULL;
	}
	n = at(s, s->free);
	s->free = n->hnext;
	memset(n, 0, sizeof(*n));
	n->addr = *a;
	n->kind = kind;
	n->rule = rule;
	n->set = -1;
	h = hash_key(s, a, kind, rule);
	n->hnext = s->bucket[h];
	s->bucket[h] = ref_of(s, n);
	s->st.nodes++;
	list_add_tail(s, list_of(n), n);
	return n;
}

/* ---- lifecycle -------------------------------------------------------- */

static uint32_t *alloc_ruleconn(const struct moat_config *c)
{
	int n = moat_config_rule_count(c);

	return calloc((size_t)(n > 0 ? n : 1), sizeof(uint32_t));
}

int moat_engine_src_create(struct moat_engine *e)
{
	struct moat_srclimit *s = calloc(1, sizeof(*s));
	/* One node per 16 flows: sources with many flows share a node, and
	 * the engine stays within 160 bytes per flow (bench/RESULTS.md). */
	uint32_t n = e->opt.max_flows / 16, nb = 1;

	if (!s)
		return -1;
	e->src = s;
	if (n < SRC_MIN_NODES)
		n = SRC_MIN_NODES;
	while (nb < n)
		nb <<= 1;
	s->node = calloc(n, sizeof(*s->node));
	s->bucket = calloc(nb, sizeof(*s->bucket));
	s->ruleconn = alloc_ruleconn(e->cfg);
	s->nrules = moat_config_rule_count(e->cfg);
	if (!s->node || !s->bucket || !s->ruleconn) {
		moat_engine_src_destroy(e);
		return -1;
	}
	s->nnodes = n;
	s->bmask = nb - 1;
	for (uint32_t i = 0; i < n; i++)
		s->node[i].hnext = i + 2 <= n ? i + 2 : NIL;
	s->free = 1;
	s->cfg = e->cfg;
	s->st.capacity = n;
	s->st.bytes = (uint64_t)n * sizeof(*s->node) +
		      (uint64_t)nb * sizeof(*s->bucket);
	crypto_generichash(s->key, sizeof(s->key),
			   (const uint8_t *)"moat srclimit", 13, e->secret,
			   sizeof(e->secret));
	return 0;
}

void moat_engine_src_destroy(struct moat_engine *e)
{
	struct moat_srclimit *s = e->src;

	if (!s)
		return;
	free(s->node);
	free(s->bucket);
	free(s->ruleconn);
	sodium_memzero(s->key, sizeof(s->key));
	free(s);
	e->src = NULL;
}

void moat_engine_src_stats(const struct moat_engine *e,
			   struct moat_src_stats *out)
{
	*out = e->src->st;
}

/* ---- counting --------------------------------------------------------- */

static bool counts_flows(const struct moat_rule *r)
{
	return r->max_conn || r->max_src_conn;
}

static void count_flow(struct moat_engine *e, struct moat_ct_entry *ent,
		       const struct moat_rule *rule)
{
	struct moat_srclimit *s = e->src;
	struct src_node *n;

	if (rule->number - 1 < s->nrules)
		s->ruleconn[rule->number - 1]++;
	if (rule->max_src_conn) {
		n = node_find(s, &ent->addr[0], NODE_RULE,
			      (uint16_t)rule->number);
		if (!n)
			n = node_new(s, &ent->addr[0], NODE_RULE,
				     (uint16_t)rule->number, e->now);
		if (n && n->conn++ == 0)
			list_del(s, LIST_IDLE, n);
	}
	ent->flags |= MOAT_CT_F_SRC_COUNTED;
}

void moat_engine_src_created(struct moat_engine *e, struct moat_ct_entry *ent,
			     const struct moat_rule *rule)
{
	if (e->src && rule && counts_flows(rule))
		count_flow(e, ent, rule);
}

void moat_engine_src_freed(struct moat_engine *e, struct moat_ct_entry *ent)
{
	struct moat_srclimit *s = e->src;
	struct src_node *n;

	if (!s || !(ent->flags & MOAT_CT_F_SRC_COUNTED))
		return;
	ent->flags &= (uint8_t)~MOAT_CT_F_SRC_COUNTED;
	if (ent->rule >= 1 && ent->rule - 1 < s->nrules &&
	    s->ruleconn[ent->rule - 1] > 0)
		s->ruleconn[ent->rule - 1]--;
	n = node_find(s, &ent->addr[0], NODE_RULE, ent->rule);
	if (n && n->conn > 0 && --n->conn == 0)
		list_add_tail(s, LIST_IDLE, n);
}

/*
 * Reload: rule numbers may now name other rules.  Counts are rebuilt from
 * the flows alive, each under the rule that has its number in the new
 * configuration (the approximation: a flow created by old rule 3 counts
 * under new rule 3).  Rate buckets start anew, as the engine's `limit`
 * buckets do.  Overload entries follow their set by name, and go when the
 * set is gone.  Control plane: walks the whole flow table.
 */
static int recount(struct moat_ct_entry *ent, void *arg)
{
	struct moat_engine *e = arg;
	const struct moat_rule *r = moat_config_rule(e->cfg, ent->rule - 1);

	ent->flags &= (uint8_t)~MOAT_CT_F_SRC_COUNTED;
	if (ent->rule >= 1 && r && counts_flows(r))
		count_flow(e, ent, r);
	return 0;
}

static void remap_overload(struct moat_srclimit *s, struct src_node *n,
			   const struct moat_config *nc)
{
	const struct moat_set *old = n->set >= 0 && s->cfg ?
		moat_config_set(s->cfg, n->set) : NULL;
	int idx = old ? moat_config_set_by_name(nc, moat_set_name(old)) : -1;

	if (idx < 0)
		node_free(s, n);
	else
		n->set = (int16_t)idx;
}

int moat_engine_src_reload_prepare(const struct moat_engine *e,
				   const struct moat_config *cfg,
				   uint32_t **ruleconn)
{
	*ruleconn = NULL;
	if (!e->src)
		return 0;
	*ruleconn = alloc_ruleconn(cfg);
	return *ruleconn ? 0 : -ENOMEM;
}

void moat_engine_src_reload(struct moat_engine *e, uint32_t *ruleconn)
{
	struct moat_srclimit *s = e->src;

	if (!s)
		return;
	free(s->ruleconn);
	s->ruleconn = ruleconn;
	s->nrules = moat_config_rule_count(e->cfg);
	for (uint32_t i = 0; i < s->nnodes; i++) {
		struct src_node *n = &s->node[i];
		if (n->kind == NODE_RULE)
			node_free(s, n);
		else if (n->kind == NODE_OVERLOAD)
			remap_overload(s, n, e->cfg);
	}
	s->cfg = e->cfg;
	moat_ct_foreach(e->ct, recount, e);
}

/* ---- admission -------------------------------------------------------- */

/* Would @p start a flow under @rule (what conntrack accepts as a first
 * packet, or the final ACK of a cookie handshake)? */
static bool starts_flow(const struct moat_engine *e, const struct moat_pkt *p,
			const struct moat_rule *rule)
{
	uint8_t f = p->tcp_flags;

	if (p->proto == MOAT_IPPROTO_TCP) {
		if (f & MOAT_TCP_RST)
			return false;
		if ((f & (MOAT_TCP_SYN | MOAT_TCP_ACK)) == MOAT_TCP_SYN)
			return true;
		return e->opt.pickup == MOAT_PICKUP_LOOSE ||
		       (rule->synproxy && (f & MOAT_TCP_ACK));
	}
	if (p->proto == MOAT_IPPROTO_ICMP)
		return p->icmp_type == 8;
	if (p->proto == MOAT_IPPROTO_ICMPV6)
		return p->icmp_type == 128;
	return true;
}

static void overload_add(struct moat_engine *e, struct moat_flight *fl,
			 const struct moat_rule *rule, enum moat_reason why)
{
	struct moat_srclimit *s = e->src;
	struct moat_event *ev;
	struct src_node *n;

	if (rule->overload_set < 0)
		return;
	n = node_find(s, &fl->p.src, NODE_OVERLOAD, 0);
	if (!n) {
		n = node_new(s, &fl->p.src, NODE_OVERLOAD, 0, fl->now);
		if (!n)
			return; /* refused anyway; the table is full */
		s->st.overload_active++;
	}
	n->set = (int16_t)rule->overload_set;
	n->until_ns = rule->overload_expire ?
		fl->now + rule->overload_expire * 1000000000ull : NEVER;
	s->st.overloads++;
	ev = moat_engine_event_flow(e, fl, MOAT_EV_OVERLOAD);
	ev->u.overload.set = (int16_t)rule->overload_set;
	ev->u.overload.rule = rule->number;
	ev->u.overload.limit = (uint16_t)why;
	ev->u.overload.expire = rule->overload_expire;
}

/* An active overload entry for the source refuses it; an expired one goes. */
static bool overloaded(struct moat_srclimit *s, const struct moat_pkt *p,
		       uint64_t now)
{
	struct src_node *n;

	if (s->st.overload_active == 0)
		return false; /* the usual case: no hash to compute */
	n = node_find(s, &p->src, NODE_OVERLOAD, 0);
	if (!n)
		return false;
	if (n->until_ns > now)
		return true;
	node_free(s, n);
	return false;
}

/*
 * Services that authenticate by the client's address (RFC 1948's
 * motivation; Bellovin, "Security Problems in the TCP/IP Protocol Suite",
 * 1989): r-commands, lpd's hosts.lpd, the portmapper and NFS with
 * AUTH_SYS, X11's xhost list, rwho.
 */
struct trust_service {
	uint8_t proto;
	uint16_t lo, hi;
	const char *name;
};

static const struct trust_service trust_services[] = {
	{ MOAT_IPPROTO_TCP, 512, 512, "rexec" },
	{ MOAT_IPPROTO_TCP, 513, 513, "rlogin" },
	{ MOAT_IPPROTO_TCP, 514, 514, "rsh" },
	{ MOAT_IPPROTO_TCP, 515, 515, "lpd" },
	{ MOAT_IPPROTO_UDP, 513, 513, "rwho" },
	{ MOAT_IPPROTO_TCP, 111, 111, "portmap" },
	{ MOAT_IPPROTO_UDP, 111, 111, "portmap" },
	{ MOAT_IPPROTO_TCP, 2049, 2049, "nfs" },
	{ MOAT_IPPROTO_UDP, 2049, 2049, "nfs" },
	{ MOAT_IPPROTO_TCP, 6000, 6063, "x11" },
};

static const char *trust_service(const struct moat_pkt *p)
{
	for (size_t i = 0; i < sizeof(trust_services) /
				   sizeof(trust_services[0]); i++) {
		const struct trust_service *t = &trust_services[i];
		if (p->proto == t->proto && p->dport >= t->lo &&
		    p->dport <= t->hi)
			return t->name;
	}
	return NULL;
}

/* From outside: entered through the default zone, or through a zone the
 * source address does not belong to (a spoofed inside address). */
static bool from_outside(const struct moat_engine *e,
			 const struct moat_flight *fl)
{
	int in = fl->res->in_zone;

	return in == moat_config_default_zone(e->cfg) ||
	       in != moat_config_zone_by_addr(e->cfg, &fl->p.src);
}

static void watch_trust(struct moat_engine *e, struct moat_flight *fl,
			const struct moat_rule *rule)
{
	const char *svc = trust_service(&fl->p);
	struct moat_event *ev;

	if (!svc || !from_outside(e, fl))
		return;
	e->src->st.address_trust++;
	ev = moat_engine_event_flow(e, fl, MOAT_EV_ADDRESS_TRUST);
	ev->u.trust.service = svc;
	ev->u.trust.rule = rule->number;
}

/* max-src-conn and max-src-rate for the source's node of @rule. */
static enum moat_reason admit_source(struct moat_engine *e,
				     struct moat_flight *fl,
				     const struct moat_rule *rule, bool starts)
{
	struct moat_srclimit *s = e->src;
	uint16_t num = (uint16_t)rule->number;
	struct src_node *n = node_find(s, &fl->p.src, NODE_RULE, num);

	if (!n)
		n = node_new(s, &fl->p.src, NODE_RULE, num, fl->now);
	if (!n)
		return MOAT_R_SRC_TABLE_FULL;
	if (rule->max_src_conn && n->conn >= rule->max_src_conn)
		return MOAT_R_MAX_SRC_CONN;
	if (!rule->max_src_rate.count || !starts)
		return MOAT_R_NONE;
	if (!moat_bucket_take(&n->bucket, rule->max_src_rate.count,
			      rule->max_src_rate.period_ns, fl->now))
		return MOAT_R_MAX_SRC_RATE;
	/* The bucket is full again one period after its last take. */
	n->until_ns = fl->now + rule->max_src_rate.period_ns;
	if (n->conn == 0) {
		list_del(s, LIST_IDLE, n);
		list_add_tail(s, LIST_IDLE, n);
	}
	return MOAT_R_NONE;
}

enum moat_reason moat_engine_src_admit(struct moat_engine *e,
				       struct moat_flight *fl,
				       const struct moat_rule *rule)
{
	struct moat_srclimit *s = e->src;
	enum moat_reason why;
	bool starts;

	if (!s)
		return MOAT_R_NONE;
	if (overloaded(s, &fl->p, fl->now))
		return MOAT_R_OVERLOAD;
	if (!rule)
		return MOAT_R_NONE; /* a policy pass: only overload applies */
	starts = starts_flow(e, &fl->p, rule);
	if (starts)
		watch_trust(e, fl, rule);
	if (rule->max_conn && rule->number - 1 < s->nrules &&
	    s->ruleconn[rule->number - 1] >= rule->max_conn)
		return MOAT_R_MAX_CONN;
	if (!rule->max_src_conn && !rule->max_src_rate.count)
		return MOAT_R_NONE;
	why = admit_source(e, fl, rule, starts);
	if (why == MOAT_R_MAX_SRC_CONN || why == MOAT_R_MAX_SRC_RATE)
		overload_add(e, fl, rule, why);
	return why;
}

/* Expire overload entries and idle nodes whose state has run out; bounded
 * work per call, a cursor going round the pool. */
void moat_engine_src_tick(struct moat_engine *e, uint64_t now_ns)
{
	struct moat_srclimit *s = e->src;

	if (!s)
		return;
	for (int i = 0; i < SRC_SWEEP; i++) {
		struct src_node *n = &s->node[s->sweep];
		s->sweep = s->sweep + 1 < s->nnodes ? s->sweep + 1 : 0;
		if (n->kind == NODE_OVERLOAD && n->until_ns <= now_ns) {
			struct moat_event *ev = moat_engine_event(
				e, now_ns, MOAT_EV_OVERLOAD_EXPIRED);
			ev->key.src = n->addr;
			ev->u.overload.set = n->set;
			node_free(s, n);
		} else if (n->kind == NODE_RULE && n->conn == 0 &&
			   n->until_ns <= now_ns) {
			node_free(s, n);
		}
	}
}
