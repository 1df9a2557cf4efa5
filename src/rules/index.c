/*
 * The rule index: which rules could match a packet, found without looking
 * at the rest.  Built once per configuration; read by match.c per packet.
 *
 * Rules are grouped by protocol class (tcp, udp, icmp, icmp6, other) and
 * ingress zone (plus "unknown"), then, for tcp and udp, by destination
 * port: the ports are cut into elementary intervals at every boundary of
 * every rule's destination port set, and each interval lists, in file
 * order, the rules whose port set covers it (rules without a port cover
 * all).  A packet costs one bisection over the intervals and then a walk
 * over only the candidates, still in file order, so first match holds.
 *
 *   slot(tcp, outside)   start: 0     22    23    80    81
 *                        rules: [9]  [2,9] [9]  [4,9] [9]
 *
 * A slot whose lists would grow past ENTRIES_MAX falls back to one
 * interval holding every rule of the slot (the matcher re-checks ports).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"

enum {
	ENTRIES_MAX = 1 << 22,
	DSPLIT_MIN = 8,           /* shorter lists are walked as they are */
	DSPLIT_SMALL = 64,        /* destination sets up to this many intervals */
	DSPLIT_WORK_MAX = 1 << 22,
	BY_PORT_MIN = 16,         /* more intervals: a direct port table */
};

struct builder {
	uint32_t *list;
	uint32_t n, cap;
};

static int push(struct builder *b, uint32_t v)
{
	if (b->n == b->cap) {
		uint32_t cap = b->cap ? b->cap * 2 : 1024;
		uint32_t *l = realloc(b->list, cap * sizeof(*l));

		if (!l)
			return -ENOMEM;
		b->list = l;
		b->cap = cap;
	}
	b->list[b->n++] = v;
	return 0;
}

static bool eligible(const struct moat_rule_match *m, int pc, int zs)
{
	if (!(m->protos & (1 << pc)))
		return false;
	if (zs == 0 || m->from.zone < 0)
		return true; /* unknown ingress: the matcher checks networks */
	return m->from.zone_neg ? m->from.zone != zs - 1
				: m->from.zone == zs - 1;
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

/* Interval starts: 0 and every lo and hi + 1 of every port set. */
static uint32_t *boundaries(const struct moat_config *c, const uint32_t *rules,
			    uint32_t n, uint32_t *count)
{
	uint32_t total = 1, k = 0, *b;

	for (uint32_t i = 0; i < n; i++) {
		const struct moat_set *p = c->matches[rules[i]].to.port;

		total += p ? 2 * p->ports.n : 0;
	}
	b = malloc(total * sizeof(*b));
	if (!b)
		return NULL;
	b[k++] = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct moat_set *p = c->matches[rules[i]].to.port;

		for (uint32_t j = 0; p && j < p->ports.n; j++) {
			b[k++] = p->ports.lo[j];
			if (p->ports.hi[j] < 65535)
				b[k++] = (uint32_t)p->ports.hi[j] + 1;
		}
	}
	qsort(b, k, sizeof(*b), cmp_u32);
	*count = 0;
	for (uint32_t i = 0; i < k; i++)
		if (i == 0 || b[i] != b[i - 1])
			b[(*count)++] = b[i];
	return b;
}

static bool same_list(const struct builder *b, uint32_t s1, uint32_t s2,
		      uint32_t end)
{
	return s2 - s1 == end - s2 &&
	       !memcmp(b->list + s1, b->list + s2, (s2 - s1) * sizeof(uint32_t));
}

/* With many intervals, one table load beats a bisection (128 KiB). */
static int fill_by_port(struct slot *s)
{
	uint32_t k = 0;

	if (s->nint < BY_PORT_MIN)
		return 0;
	s->by_port = malloc(65536 * sizeof(*s->by_port));
	if (!s->by_port)
		return -ENOMEM;
	for (uint32_t port = 0; port < 65536; port++) {
		while (k + 1 < s->nint && s->start[k + 1] <= port)
			k++;
		s->by_port[port] = (uint16_t)k;
	}
	return 0;
}

/*
 * Which rules each elementary interval lists, by a sweep over the
 * boundaries: a rule enters at every lo of its set and leaves at every
 * hi + 1 (both are boundaries), rules that hold every key are always in,
 * and the rules present are a bitmap over the candidates, walked in file
 * order.  So building costs the lists written plus n / 64 words per
 * interval, not one set lookup per rule and interval.
 */
struct span {
	uint32_t i;               /* the rule's position among the candidates */
	uint32_t k0, k1;          /* it is in intervals [k0, k1) */
};

struct spans {
	struct span *v;
	uint32_t n, cap;
};

static int span_add(struct spans *s, uint32_t i, uint32_t k0, uint32_t k1)
{
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 256;
		struct span *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct span){ i, k0, k1 };
	return 0;
}

struct sweep {
	uint64_t *in;             /* bit i: candidate i is in the interval */
	uint32_t words;
	uint32_t *ev_first;       /* events at boundary k: ev[ev_first[k]..] */
	uint32_t *ev;             /* position * 2 + 1 entering, + 0 leaving */
};

static void sweep_free(struct sweep *w)
{
	free(w->in);
	free(w->ev_first);
	free(w->ev);
	memset(w, 0, sizeof(*w));
}

/* Events of @sp, bucketed by boundary (count, then place). */
static int sweep_init(struct sweep *w, uint32_t n, uint32_t nb,
		      const struct spans *sp)
{
	uint32_t *at;

	memset(w, 0, sizeof(*w));
	w->words = (n + 63) / 64;
	w->in = calloc(w->words ? w->words : 1, sizeof(*w->in));
	w->ev_first = calloc((size_t)nb + 2, sizeof(*w->ev_first));
	w->ev = malloc(((size_t)sp->n * 2 + 1) * sizeof(*w->ev));
	if (!w->in || !w->ev_first || !w->ev)
		return -ENOMEM;
	/* Boundary nb, past the last, collects the leaves at the top. */
	for (uint32_t e = 0; e < sp->n; e++) {
		w->ev_first[sp->v[e].k0 + 1]++;
		w->ev_first[sp->v[e].k1 + 1]++;
	}
	for (uint32_t k = 0; k <= nb; k++)
		w->ev_first[k + 1] += w->ev_first[k];
	at = malloc(((size_t)nb + 1) * sizeof(*at));
	if (!at)
		return -ENOMEM;
	memcpy(at, w->ev_first, ((size_t)nb + 1) * sizeof(*at));
	for (uint32_t e = 0; e < sp->n; e++) {
		w->ev[at[sp->v[e].k0]++] = sp->v[e].i * 2 + 1;
		w->ev[at[sp->v[e].k1]++] = sp->v[e].i * 2;
	}
	free(at);
	return 0;
}

static void sweep_set(struct sweep *w, uint32_t i)
{
	w->in[i / 64] |= 1ull << (i % 64);
}

static void sweep_step(struct sweep *w, uint32_t k)
{
	for (uint32_t e = w->ev_first[k]; e < w->ev_first[k + 1]; e++) {
		uint32_t i = w->ev[e] / 2;

		if (w->ev[e] & 1)
			sweep_set(w, i);
		else
			w->in[i / 64] &= ~(1ull << (i % 64));
	}
}

/* Push the rules present, in file order. */
static int sweep_emit(const struct sweep *w, const uint32_t *rules,
		      struct builder *b)
{
	for (uint32_t x = 0; x < w->words; x++)
		for (uint64_t bits = w->in[x]; bits; bits &= bits - 1)
			if (push(b, rules[x * 64 +
					  (uint32_t)__builtin_ctzll(bits)]) < 0)
				return -ENOMEM;
	return 0;
}

/* The sweep over destination ports: spans of every port set, rules without
 * ports always in (or every rule, when the slot is not split). */
static int port_sweep(const struct moat_config *c, const uint32_t *rules,
		      uint32_t n, const uint32_t *bnd, uint32_t nb,
		      bool by_port, struct sweep *w)
{
	struct spans sp = { 0 };
	int err = 0;

	for (uint32_t i = 0; i < n && by_port && !err; i++) {
		const struct moat_set *p = c->matches[rules[i]].to.port;

		for (uint32_t j = 0; p && j < p->ports.n && !err; j++) {
			uint32_t k0 = count_le_u32(bnd, nb, p->ports.lo[j]) - 1;
			uint32_t k1 = p->ports.hi[j] == 65535 ? nb :
				count_le_u32(bnd, nb, p->ports.hi[j] + 1u) - 1;

			err = span_add(&sp, i, k0, k1);
		}
	}
	if (!err)
		err = sweep_init(w, n, nb, &sp);
	for (uint32_t i = 0; i < n && !err; i++)
		if (!by_port || !c->matches[rules[i]].to.port)
			sweep_set(w, i);
	free(sp.v);
	return err;
}

/* Fill @s from the slot's eligible @rules (file order). */
static int build_ports(const struct moat_config *c, struct slot *s,
		       struct builder *b, const uint32_t *rules, uint32_t n,
		       bool by_port)
{
	uint32_t nb = 1, *bnd = by_port ? boundaries(c, rules, n, &nb) : NULL;
	uint32_t zero = 0, base = b->n;
	struct sweep w = { 0 };

	if (by_port && !bnd)
		return -ENOMEM;
	if (!bnd)
		bnd = &zero;
	s->start = calloc(nb, sizeof(*s->start));
	s->first = calloc(nb + 1, sizeof(*s->first));
	if (!s->start || !s->first ||
	    port_sweep(c, rules, n, bnd, nb, by_port, &w) < 0)
		goto nomem;
	s->nint = 0;
	for (uint32_t k = 0; k < nb; k++) {
		uint32_t at = b->n;

		sweep_step(&w, k);
		if (sweep_emit(&w, rules, b) < 0)
			goto nomem;
		if (b->n - base > ENTRIES_MAX && by_port) {
			/* too many: rebuild this slot as one interval */
			b->n = base;
			free(s->start);
			free(s->first);
			free(bnd);
			sweep_free(&w);
			return build_ports(c, s, b, rules, n, false);
		}
		if (s->nint && same_list(b, s->first[s->nint - 1], at, b->n)) {
			b->n = at; /* same candidates as the interval before */
			continue;
		}
		s->start[s->nint] = (uint16_t)bnd[k];
		s->first[s->nint++] = at;
	}
	s->first[s->nint] = b->n;
	if (bnd != &zero)
		free(bnd);
	sweep_free(&w);
	return fill_by_port(s);
nomem:
	if (bnd != &zero)
		free(bnd);
	sweep_free(&w);
	return -ENOMEM;
}

static uint32_t fam_count(const struct lpm *l, int fam)
{
	return fam == FAM4 ? l->n4 : l->n6;
}

static u128 fam_lo(const struct lpm *l, int fam, uint32_t j)
{
	return fam == FAM4 ? l->lo4[j] : l->lo6[j];
}

static u128 fam_hi(const struct lpm *l, int fam, uint32_t j)
{
	return fam == FAM4 ? l->hi4[j] : l->hi6[j];
}

/* A destination the second level can list a rule under: a small set. */
static const struct moat_set *small_dst(const struct moat_rule_match *m,
					int fam)
{
	const struct moat_set *s = m->to.set;

	return s && !m->to.set_neg && fam_count(&s->lpm, fam) <= DSPLIT_SMALL
		       ? s : NULL;
}

static int cmp_u128(const void *x, const void *y)
{
	u128 a = *(const u128 *)x, b = *(const u128 *)y;

	return a < b ? -1 : a > b;
}

static u128 *dst_boundaries(const struct moat_config *c, int fam,
			    const uint32_t *l, uint32_t n, uint32_t *count)
{
	u128 top = fam == FAM4 ? UINT32_MAX : ~(u128)0, *b;
	uint32_t total = 1, k = 0;

	for (uint32_t i = 0; i < n; i++) {
		const struct moat_set *s = small_dst(&c->matches[l[i]], fam);

		total += s ? 2 * fam_count(&s->lpm, fam) : 0;
	}
	b = malloc(total * sizeof(*b));
	if (!b)
		return NULL;
	b[k++] = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct moat_set *s = small_dst(&c->matches[l[i]], fam);

		for (uint32_t j = 0; s && j < fam_count(&s->lpm, fam); j++) {
			b[k++] = fam_lo(&s->lpm, fam, j);
			if (fam_hi(&s->lpm, fam, j) != top)
				b[k++] = fam_hi(&s->lpm, fam, j) + 1;
		}
	}
	qsort(b, k, sizeof(*b), cmp_u128);
	*count = 0;
	for (uint32_t i = 0; i < k; i++)
		if (i == 0 || b[i] != b[i - 1])
			b[(*count)++] = b[i];
	return b;
}

/* The sweep over destinations of family @fam: spans of the small sets,
 * rules of the family with any other destination always in, rules of the
 * other family never. */
static int dst_sweep(const struct moat_config *c, int fam, const uint32_t *l,
		     uint32_t n, const u128 *bnd, uint32_t nb,
		     struct sweep *w)
{
	u128 top = fam == FAM4 ? UINT32_MAX : ~(u128)0;
	struct spans sp = { 0 };
	int err = 0;

	for (uint32_t i = 0; i < n && !err; i++) {
		const struct moat_rule_match *m = &c->matches[l[i]];
		const struct moat_set *s = small_dst(m, fam);

		if (!(m->fam & fam) || !s)
			continue;
		for (uint32_t j = 0; j < fam_count(&s->lpm, fam) && !err; j++) {
			u128 hi = fam_hi(&s->lpm, fam, j);
			uint32_t k0 = count_le_u128(bnd, nb,
						    fam_lo(&s->lpm, fam, j)) - 1;
			uint32_t k1 = hi == top ? nb :
				count_le_u128(bnd, nb, hi + 1) - 1;

			err = span_add(&sp, i, k0, k1);
		}
	}
	if (!err)
		err = sweep_init(w, n, nb, &sp);
	for (uint32_t i = 0; i < n && !err; i++) {
		const struct moat_rule_match *m = &c->matches[l[i]];

		if ((m->fam & fam) && !small_dst(m, fam))
			sweep_set(w, i);
	}
	free(sp.v);
	return err;
}

static int dsplit_alloc(struct dsplit *ds, int fam, uint32_t nb)
{
	if (fam == FAM4)
		ds->start4 = calloc(nb, sizeof(*ds->start4));
	else
		ds->start6 = calloc(nb, sizeof(*ds->start6));
	ds->first = calloc(nb + 1, sizeof(*ds->first));
	return ds->first && (ds->start4 || ds->start6) ? 0 : -ENOMEM;
}

/* Split the candidates @l (@n rules) by destination of family @fam. */
static int build_dsplit(const struct moat_config *c, struct dsplit *ds,
			int fam, struct builder *b, const uint32_t *l,
			uint32_t n)
{
	uint32_t nb;
	u128 *bnd = dst_boundaries(c, fam, l, n, &nb);
	struct sweep w = { 0 };
	int err = -ENOMEM;

	if (!bnd)
		return -ENOMEM;
	if ((uint64_t)nb * n > DSPLIT_WORK_MAX || nb < 2) {
		free(bnd);
		return 0; /* not worth it, or too costly: stay unsplit */
	}
	if (dsplit_alloc(ds, fam, nb) < 0 ||
	    dst_sweep(c, fam, l, n, bnd, nb, &w) < 0)
		goto out;
	for (uint32_t k = 0; k < nb; k++) {
		uint32_t at = b->n;

		sweep_step(&w, k);
		if (sweep_emit(&w, l, b) < 0)
			goto out;
		if (ds->n && same_list(b, ds->first[ds->n - 1], at, b->n)) {
			b->n = at;
			continue;
		}
		if (fam == FAM4)
			ds->start4[ds->n] = (uint32_t)bnd[k];
		else
			ds->start6[ds->n] = bnd[k];
		ds->first[ds->n++] = at;
	}
	ds->first[ds->n] = b->n;
	err = 0;
out:
	sweep_free(&w);
	free(bnd);
	return err;
}

/* The second level for every long enough port interval of @s. */
static int build_dsplits(const struct moat_config *c, struct slot *s,
			 struct builder *b)
{
	s->d4 = calloc(s->nint, sizeof(*s->d4));
	s->d6 = calloc(s->nint, sizeof(*s->d6));
	if (!s->d4 || !s->d6)
		return -ENOMEM;
	for (uint32_t k = 0; k < s->nint; k++) {
		uint32_t n = s->first[k + 1] - s->first[k], *l;
		int err;

		if (n < DSPLIT_MIN || b->n > ENTRIES_MAX)
			continue;
		l = malloc(n * sizeof(*l)); /* b->list may move while we push */
		if (!l)
			return -ENOMEM;
		memcpy(l, b->list + s->first[k], n * sizeof(*l));
		err = build_dsplit(c, &s->d4[k], FAM4, b, l, n);
		if (!err)
			err = build_dsplit(c, &s->d6[k], FAM6, b, l, n);
		free(l);
		if (err)
			return err;
	}
	return 0;
}

int moat_rule_index_build(struct moat_config *c)
{
	struct rule_index *ix = &c->index;
	struct builder b = { 0 };
	uint32_t *rules = calloc((size_t)c->nrules + 1, sizeof(*rules));
	int err = -ENOMEM;

	ix->nzones1 = c->nzones + 1;
	ix->slots = calloc((size_t)PC_COUNT * (size_t)ix->nzones1,
			   sizeof(*ix->slots));
	if (!rules || !ix->slots)
		goto out;
	for (int pc = 0; pc < PC_COUNT; pc++) {
		for (int zs = 0; zs < ix->nzones1; zs++) {
			uint32_t n = 0;

			for (int r = 0; r < c->nrules; r++)
				if (eligible(&c->matches[r], pc, zs))
					rules[n++] = (uint32_t)r;
			struct slot *sl = &ix->slots[pc * ix->nzones1 + zs];

			if (build_ports(c, sl, &b, rules, n,
					pc == PC_TCP || pc == PC_UDP) < 0 ||
			    build_dsplits(c, sl, &b) < 0)
				goto out;
		}
	}
	ix->list = b.list;
	ix->nlist = b.n;
	b.list = NULL;
	err = 0;
out:
	free(b.list);
	free(rules);
	return err;
}

void moat_rule_index_free(struct rule_index *ix)
{
	for (int i = 0; ix->slots && i < PC_COUNT * ix->nzones1; i++) {
		struct slot *s = &ix->slots[i];

		for (uint32_t k = 0; k < s->nint; k++) {
			if (s->d4) {
				free(s->d4[k].start4);
				free(s->d4[k].first);
			}
			if (s->d6) {
				free(s->d6[k].start6);
				free(s->d6[k].first);
			}
		}
		free(s->d4);
		free(s->d6);
		free(s->by_port);
		free(s->start);
		free(s->first);
	}
	free(ix->slots);
	free(ix->list);
	memset(ix, 0, sizeof(*ix));
}
