/*
 * The flow table: a fixed pool of entries, power-of-two hash buckets
 * chained through 32-bit indices, one lookup from either direction.
 *
 * On the packet's path this is the "flow lookup" box: every packet that
 * survived decode and antispoof is looked up here; a hit goes on to
 * moat_ct_track() (track.c), a miss to the rules, whose pass calls
 * moat_ct_insert().
 *
 *   bucket[] (uint32, 4 bytes/flow)      pool[] (128 bytes/flow, 64-aligned)
 *   +---+---+---+---+                    +--------------------------------+
 *   | 0 | 7 | 0 | 3 | ...                | line 0: key, hnext, timer links|
 *   +---+---+---+---+                    | line 1: peers, deltas, engine  |
 *         |                              +--------------------------------+
 *         +--> pool[7] --hnext--> pool[2] --hnext--> 0
 *
 * Everything is allocated at create and touched once, so no page fault and
 * no allocation ever happens on the packet path.  When the pool is empty,
 * insert evicts the oldest flow of the most expendable class (half-open
 * TCP first), and refuses rather than evict an established flow.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "conntrack/ct_internal.h"

/* Which classes may be evicted, most expendable first.  Other protocols
 * have no replied state to tell a tunnel from a spoofed stream: they go
 * with the unreplied UDP flows, as they did when they shared a class. */
static const enum ct_class evict_order[] = {
	CT_C_OPENING, CT_C_UDP_FIRST, CT_C_OTHER, CT_C_ICMP, CT_C_TIMEWAIT,
	CT_C_CLOSING,
};

static void apply_params(struct moat_ct *ct, const struct moat_ct_params *p)
{
	ct->par.to = p->to;
	ct->par.pickup_loose = p->pickup_loose;
	ct->par.rst_exact = p->rst_exact;
	ct->to_class[CT_C_OPENING] = p->to.tcp_opening;
	ct->to_class[CT_C_ESTABLISHED] = p->to.tcp_established;
	ct->to_class[CT_C_CLOSING] = p->to.tcp_closing;
	ct->to_class[CT_C_TIMEWAIT] = p->to.tcp_timewait;
	ct->to_class[CT_C_UDP_FIRST] = p->to.udp_first;
	ct->to_class[CT_C_UDP_MULTIPLE] = p->to.udp_multiple;
	ct->to_class[CT_C_ICMP] = p->to.icmp;
	ct->to_class[CT_C_OTHER] = p->to.other;
}

/*
 * Big tables are looked up at random: with 4 KiB pages every lookup also
 * misses the TLB and walks page tables that are not in cache either.  So
 * big arrays are mapped 2 MiB-aligned, exactly their (rounded) size, and
 * offered to transparent huge pages ("madvise" is the Debian default).
 * Small ones come from aligned_alloc.  Create time only.
 */
enum { CT_HUGE = 2u << 20 };

static size_t table_bytes(size_t size)
{
	size_t align = size >= CT_HUGE ? CT_HUGE : 64;

	return (size + align - 1) / align * align;
}

static void *map_huge(size_t size)
{
	size_t len = size + CT_HUGE, head;
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + CT_HUGE - 1) & ~(uintptr_t)(CT_HUGE - 1);
	head = a - (uintptr_t)p;
	if (head)
		munmap(p, head);
	if (len - head - size)
		munmap((void *)(a + size), len - head - size);
	(void)madvise((void *)a, size, MADV_HUGEPAGE);
	return (void *)a;
}

static void *alloc_table(size_t size)
{
	void *p;

	size = table_bytes(size);
	p = size >= CT_HUGE ? map_huge(size) : aligned_alloc(64, size);
	if (p)
		memset(p, 0, size); /* resident now, not at the first packets */
	return p;
}

static void free_table(void *p, size_t size)
{
	if (!p)
		return;
	size = table_bytes(size);
	if (size >= CT_HUGE)
		munmap(p, size);
	else
		free(p);
}

static uint32_t pow2_at_least(uint32_t n, unsigned *bits)
{
	uint32_t v = 2;

	*bits = 1;
	while (v < n) {
		v <<= 1;
		(*bits)++;
	}
	return v;
}

struct moat_ct *moat_ct_create(const struct moat_ct_params *p)
{
	struct moat_ct *ct;
	uint32_t nb, nw;
	unsigned bits, wbits;

	if (!p || p->max_flows == 0 || p->max_flows > CT_MAX_FLOWS) {
		errno = EINVAL;
		return NULL;
	}
	if ((size_t)p->max_flows + 1 > SIZE_MAX / sizeof(struct moat_ct_entry)) {
		errno = ENOMEM;
		return NULL;
	}
	ct = calloc(1, sizeof(*ct));
	if (!ct)
		return NULL;
	ct->par = *p;
	ct->cap = p->max_flows;
	nb = pow2_at_least(ct->cap, &bits);
	ct->mask = nb - 1;
	ct->shift = 64 - bits;
	/* One wheel slot per second: a revolution of at least 17 minutes,
	 * at most 18 hours, more slots for bigger tables. */
	nw = pow2_at_least(ct->cap < 1024 ? 1024 : ct->cap, &wbits);
	if (nw > 65536)
		nw = 65536;
	ct->wheel_mask = nw - 1;

	ct->bucket = alloc_table((size_t)nb * sizeof(*ct->bucket));
	ct->wheel = alloc_table(((size_t)nw + 1) * sizeof(*ct->wheel));
	ct->pool = alloc_table(((size_t)ct->cap + 1) *
			       sizeof(struct moat_ct_entry));
	if (!ct->bucket || !ct->wheel || !ct->pool) {
		moat_ct_destroy(ct);
		errno = ENOMEM;
		return NULL;
	}
	for (uint32_t i = ct->cap; i >= 1; i--) {
		ct->pool[i].hnext = ct->free_head;
		ct->free_head = i;
	}
	apply_params(ct, p);
	ct_hash_init(ct);
	return ct;
}

void moat_ct_destroy(struct moat_ct *ct)
{
	if (!ct)
		return;
	free_table(ct->pool, ((size_t)ct->cap + 1) * sizeof(*ct->pool));
	free_table(ct->wheel, ((size_t)ct->wheel_mask + 2) * sizeof(*ct->wheel));
	free_table(ct->bucket, ((size_t)ct->mask + 1) * sizeof(*ct->bucket));
	free(ct);
}

void moat_ct_set_params(struct moat_ct *ct, const struct moat_ct_params *p)
{
	apply_params(ct, p);
}

/* Two 8-byte compares and the family: no call to memcmp for 17 bytes. */
static inline bool addr_eq(const struct moat_addr *a,
			   const struct moat_addr *b)
{
	uint64_t a0, a1, b0, b1;

	memcpy(&a0, a->b, 8);
	memcpy(&a1, a->b + 8, 8);
	memcpy(&b0, b->b, 8);
	memcpy(&b1, b->b + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0 && a->family == b->family;
}

/* Does @e hold tuple @t, and in which direction does @t travel? */
static inline bool entry_matches(const struct moat_ct_entry *e,
				 const struct ct_tuple *t, int *dir)
{
	if (e->proto != t->proto)
		return false;
	if (e->port[0] == t->sport && e->port[1] == t->dport &&
	    addr_eq(&e->addr[0], t->src) && addr_eq(&e->addr[1], t->dst)) {
		*dir = MOAT_CT_ORIG;
		return true;
	}
	if (e->port[0] == t->dport && e->port[1] == t->sport &&
	    addr_eq(&e->addr[0], t->dst) && addr_eq(&e->addr[1], t->src)) {
		*dir = MOAT_CT_REPLY;
		return true;
	}
	return false;
}

static struct moat_ct_entry *chain_find(struct moat_ct *ct, uint32_t idx,
					const struct ct_tuple *t, int *dir)
{
	/* Chains are short (load <= 1), but bound the walk anyway. */
	for (uint32_t n = 0; idx != CT_NIL && n <= ct->cap; n++) {
		struct moat_ct_entry *e = &ct->pool[idx];

		if (entry_matches(e, t, dir))
			return e;
		idx = e->hnext;
	}
	return NULL;
}

static inline void tuple_of_pkt(const struct moat_pkt *p, struct ct_tuple *t)
{
	t->src = &p->src;
	t->dst = &p->dst;
	t->sport = p->sport;
	t->dport = p->dport;
	t->proto = p->proto;
}

struct moat_ct_entry *moat_ct_lookup(struct moat_ct *ct,
				     const struct moat_pkt *p, int *dir)
{
	struct ct_tuple t;
	uint32_t head;

	tuple_of_pkt(p, &t);
	head = ct->bucket[ct_bucket_of(ct, ct_hash(ct, &t))];
	/* The peers (second line) are read by the track that follows a hit:
	 * fetch them while the key is compared. */
	__builtin_prefetch(&ct->pool[head].peer, 1);
	return chain_find(ct, head, &t, dir);
}

/*
 * Three passes over a chunk so that the misses overlap: hash everything and
 * prefetch the bucket heads; read the heads and prefetch the first entry of
 * each chain; compare.  At 1M flows both the buckets and the entries live
 * in DRAM, and a serial lookup waits for two misses in a row.
 */
static void lookup_chunk(struct moat_ct *ct, const struct moat_pkt *const *p,
			 int n, struct moat_ct_entry **out, int *dirs)
{
	struct ct_tuple t[MOAT_CT_BURST];
	uint32_t b[MOAT_CT_BURST];

	for (int i = 0; i < n; i++) {
		tuple_of_pkt(p[i], &t[i]);
		b[i] = ct_bucket_of(ct, ct_hash(ct, &t[i]));
		__builtin_prefetch(&ct->bucket[b[i]]);
	}
	for (int i = 0; i < n; i++) {
		b[i] = ct->bucket[b[i]];
		__builtin_prefetch(&ct->pool[b[i]]);
		/* A hit is tracked next, which reads and writes the peers. */
		__builtin_prefetch(&ct->pool[b[i]].peer, 1);
	}
	for (int i = 0; i < n; i++) {
		dirs[i] = MOAT_CT_ORIG;
		out[i] = chain_find(ct, b[i], &t[i], &dirs[i]);
	}
}

void moat_ct_lookup_burst(struct moat_ct *ct, const struct moat_pkt *const *p,
			  int n, struct moat_ct_entry **out, int *dirs)
{
	for (int i = 0; i < n; i += MOAT_CT_BURST) {
		int k = n - i < MOAT_CT_BURST ? n - i : MOAT_CT_BURST;

		lookup_chunk(ct, p + i, k, out + i, dirs + i);
	}
}

struct moat_ct_entry *moat_ct_lookup_inner(struct moat_ct *ct,
					   const struct moat_pkt *p, int *dir)
{
	struct ct_tuple t;

	if (!p->inner.present)
		return NULL;
	t.src = &p->inner.src;
	t.dst = &p->inner.dst;
	t.sport = p->inner.sport;
	t.dport = p->inner.dport;
	t.proto = p->inner.proto;
	return chain_find(ct, ct->bucket[ct_bucket_of(ct, ct_hash(ct, &t))],
			  &t, dir);
}

static void hash_unlink(struct moat_ct *ct, struct moat_ct_entry *e)
{
	struct ct_tuple t;
	uint32_t idx = ct_index(ct, e), *link;

	ct_tuple_of_entry(e, &t);
	link = &ct->bucket[ct_bucket_of(ct, ct_hash(ct, &t))];
	for (uint32_t n = 0; *link != CT_NIL && n <= ct->cap; n++) {
		if (*link == idx) {
			*link = e->hnext;
			return;
		}
		link = &ct->pool[*link].hnext;
	}
}

/* Unlink from everything and return to the free list; no counting. */
void ct_entry_free(struct moat_ct *ct, struct moat_ct_entry *e)
{
	if (ct->free_hook)
		ct->free_hook(e, ct->free_hook_arg);
	hash_unlink(ct, e);
	ct_timer_stop(ct, e);
	ct->by_state[e->state]--;
	ct->count--;
	memset(e, 0, sizeof(*e));
	e->hnext = ct->free_head;
	ct->free_head = ct_index(ct, e);
}

void moat_ct_set_free_hook(struct moat_ct *ct,
			   void (*fn)(struct moat_ct_entry *e, void *arg),
			   void *arg)
{
	ct->free_hook = fn;
	ct->free_hook_arg = arg;
}

void moat_ct_remove(struct moat_ct *ct, struct moat_ct_entry *e)
{
	if (!e || e->state == MOAT_CT_NONE)
		return;
	ct_entry_free(ct, e);
	ct->st.removed++;
}

/* Free the oldest flow of the first non-empty expendable class. */
static bool evict_one(struct moat_ct *ct)
{
	for (size_t i = 0; i < sizeof(evict_order) / sizeof(evict_order[0]);
	     i++) {
		uint32_t idx = ct->klass[evict_order[i]].head;

		if (idx == CT_NIL)
			continue;
		ct_entry_free(ct, &ct->pool[idx]);
		if (evict_order[i] == CT_C_OPENING)
			ct->st.evicted_halfopen++;
		else
			ct->st.evicted_other++;
		return true;
	}
	return false;
}

/* A zeroed entry keyed by @p's tuple and linked into its bucket. */
static struct moat_ct_entry *entry_alloc(struct moat_ct *ct,
					 const struct moat_pkt *p,
					 enum moat_reason *why)
{
	struct moat_ct_entry *e;
	struct ct_tuple t;
	uint32_t idx, b;

	if (ct->free_head == CT_NIL && !evict_one(ct)) {
		ct->st.refused_full++;
		*why = MOAT_R_STATE_TABLE_FULL;
		return NULL;
	}
	idx = ct->free_head;
	e = &ct->pool[idx];
	ct->free_head = e->hnext;
	memset(e, 0, sizeof(*e));
	e->addr[0] = p->src;
	e->addr[1] = p->dst;
	e->port[0] = p->sport;
	e->port[1] = p->dport;
	e->proto = p->proto;
	e->zone[0] = e->zone[1] = -1;

	tuple_of_pkt(p, &t);
	b = ct_bucket_of(ct, ct_hash(ct, &t));
	e->hnext = ct->bucket[b];
	ct->bucket[b] = idx;
	return e;
}

static void entry_start(struct moat_ct *ct, struct moat_ct_entry *e,
			enum moat_ct_state st, uint64_t now_ns)
{
	ct_timer_start(ct, e, st, ct_seconds(now_ns));
	ct->by_state[st]++;
	ct->count++;
	ct->st.inserted++;
}

static bool is_echo_request(const struct moat_pkt *p)
{
	return (p->proto == MOAT_IPPROTO_ICMP && p->icmp_type == 8) ||
	       (p->proto == MOAT_IPPROTO_ICMPV6 && p->icmp_type == 128);
}

static bool is_echo_reply(const struct moat_pkt *p)
{
	return (p->proto == MOAT_IPPROTO_ICMP && p->icmp_type == 0) ||
	       (p->proto == MOAT_IPPROTO_ICMPV6 && p->icmp_type == 129);
}

/* The state a flow starts in, or NONE with *why set. */
static enum moat_ct_state first_state(const struct moat_ct *ct,
				      const struct moat_pkt *p,
				      enum moat_reason *why)
{
	uint8_t f = p->tcp_flags;

	switch (p->proto) {
	case MOAT_IPPROTO_TCP:
		if ((f & (MOAT_TCP_SYN | MOAT_TCP_ACK | MOAT_TCP_RST)) ==
		    MOAT_TCP_SYN)
			return MOAT_CT_SYN_SENT;
		if (ct->par.pickup_loose && !(f & MOAT_TCP_RST))
			return MOAT_CT_ESTABLISHED;
		*why = MOAT_R_TCP_NO_STATE;
		return MOAT_CT_NONE;
	case MOAT_IPPROTO_UDP:
		return MOAT_CT_UDP_FIRST;
	case MOAT_IPPROTO_ICMP:
	case MOAT_IPPROTO_ICMPV6:
		if (is_echo_request(p))
			return MOAT_CT_ICMP;
		*why = is_echo_reply(p) ? MOAT_R_ICMP_REPLY_UNMATCHED
					: MOAT_R_ICMP_UNRELATED;
		return MOAT_CT_NONE;
	default:
		return MOAT_CT_OTHER;
	}
}

struct moat_ct_entry *moat_ct_insert(struct moat_ct *ct,
				     const struct moat_pkt *p,
				     uint64_t now_ns, enum moat_reason *why)
{
	enum moat_reason dummy;
	enum moat_ct_state st;
	struct moat_ct_entry *e;

	if (!why)
		why = &dummy;
	st = first_state(ct, p, why);
	if (st == MOAT_CT_NONE)
		return NULL;
	e = entry_alloc(ct, p, why);
	if (!e)
		return NULL;
	if (p->proto == MOAT_IPPROTO_TCP)
		ct_tcp_new(e, p, st == MOAT_CT_ESTABLISHED);
	entry_start(ct, e, st, now_ns);
	*why = MOAT_R_STATE_MATCH;
	return e;
}

struct moat_ct_entry *moat_ct_insert_as(struct moat_ct *ct,
					const struct moat_pkt *p,
					enum moat_ct_state state,
					uint64_t now_ns, enum moat_reason *why)
{
	enum moat_reason dummy;
	struct moat_ct_entry *e;

	if (!why)
		why = &dummy;
	if (state <= MOAT_CT_NONE || state >= MOAT_CT_STATE_COUNT) {
		*why = MOAT_R_TCP_BAD_STATE;
		return NULL;
	}
	e = entry_alloc(ct, p, why);
	if (!e)
		return NULL;
	entry_start(ct, e, state, now_ns);
	*why = MOAT_R_STATE_MATCH;
	return e;
}

uint32_t moat_ct_count(const struct moat_ct *ct)
{
	return ct->count;
}

uint32_t moat_ct_capacity(const struct moat_ct *ct)
{
	return ct->cap;
}

void moat_ct_count_by_state(const struct moat_ct *ct,
			    uint32_t out[MOAT_CT_STATE_COUNT])
{
	memcpy(out, ct->by_state, sizeof(ct->by_state));
}

void moat_ct_get_stats(const struct moat_ct *ct, struct moat_ct_stats *out)
{
	*out = ct->st;
}

void moat_ct_foreach(struct moat_ct *ct,
		     int (*fn)(struct moat_ct_entry *e, void *arg), void *arg)
{
	for (int c = 0; c < CT_C_COUNT; c++) {
		uint32_t idx = ct->klass[c].head;

		while (idx != CT_NIL && !(idx & CT_LIST_TAG)) {
			uint32_t next = ct->pool[idx].link[CT_L_CLASS][1];

			if (fn(&ct->pool[idx], arg))
				return;
			idx = next;
		}
	}
}

void moat_ct_entry_addrs(const struct moat_ct_entry *e, int dir,
			 struct moat_addr *src, struct moat_addr *dst,
			 uint16_t *sport, uint16_t *dport)
{
	int s = dir == MOAT_CT_REPLY;

	if (src)
		*src = e->addr[s];
	if (dst)
		*dst = e->addr[!s];
	if (sport)
		*sport = e->port[s];
	if (dport)
		*dport = e->port[!s];
}
