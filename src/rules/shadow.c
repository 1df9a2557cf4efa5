/*
 * Shadowed rules: for every rule, the first earlier rule that matches
 * every packet it would (first match wins, so the later one can never
 * match), without comparing every pair.  `moat check` and every load and
 * reload run it (check.c words the warnings); control plane only.
 *
 * An earlier rule i covers rule j only if, field by field, i's value is
 * "any" or contains j's.  So i must in particular contain one witness
 * point of j in each field: the lowest destination port of j, the lowest
 * destination address, the lowest source port and address, the zone on
 * either side.  For each of those six fields the rules are filed once:
 *
 *   any    the field is not given: a candidate for every j
 *   neg    a negated address set (!@set): a candidate only for a negated j
 *   wide   a set too big to file by value: a candidate for every j with
 *          a value in that field
 *   stab   the others, by value: the field's keys are cut into elementary
 *          intervals at every interval end of every filed set, and each
 *          elementary interval lists, in rule order, the rules whose set
 *          holds it (a "stabbing" index)
 *
 * For rule j each field then names its candidates: any + neg, any + wide
 * + the list of the elementary interval holding j's witness, or any alone
 * when j gives no value.  The counts before j come from bisections; the
 * field with the fewest is walked in rule order, and the first candidate
 * that really covers j (moat_rule_covers, the full test) is the answer.
 * Every rule that covers j is a candidate in every field, so the answer is
 * exactly what the pairwise scan finds (tests/unit/rules/test_shadow.c
 * compares the two on random rule sets).
 *
 * Cost: building is sorting the interval ends; a rule costs six
 * bisections plus the candidates walked, which for rule sets that differ
 * in hosts or ports is a handful.  Rule sets where thousands of rules
 * agree on every field and still do not cover each other (the same
 * destination and port with thousands of different flag or ICMP type
 * tests) would walk far more: the walk is bounded by @budget pairs, and
 * the caller says where the check stopped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"

enum {
	DIM_DPORT = 0, DIM_DADDR, DIM_SPORT, DIM_SADDR, DIM_TZONE, DIM_FZONE,
	DIM_COUNT,
	/* A set of more intervals is filed as wide, not by value, and so is
	 * one whose intervals span more elementary intervals: this bounds
	 * the index at a few entries per rule and field. */
	FILE_INTERVALS_MAX = 16,
	FILE_SPAN_MAX = 64,
};

/* ---- the covering test (the pairwise definition) ----------------------- */

enum { SET_COMPARE_MAX = 4096 }; /* bigger sets: assume "not covered" */

static bool set_superset(const struct moat_set *a, const struct moat_set *b)
{
	if (a == b)
		return true;
	if (a->overload || b->overload)
		return false; /* their run-time contents are unknown here */
	if (b->lpm.n4 + b->lpm.n6 > SET_COMPARE_MAX)
		return false;
	return moat_rule_lpm_superset(&a->lpm, &b->lpm);
}

static bool addrs_cover(const struct side *a, const struct side *b)
{
	if (!a->set)
		return true;
	if (!b->set || a->set_neg != b->set_neg)
		return false;
	/* !A covers !B exactly when A is inside B */
	return a->set_neg ? set_superset(b->set, a->set)
			  : set_superset(a->set, b->set);
}

static bool side_covers(const struct side *a, const struct side *b)
{
	if (a->zone >= 0 && (b->zone != a->zone || b->zone_neg != a->zone_neg))
		return false;
	if (!addrs_cover(a, b))
		return false;
	if (a->port && (!b->port || !moat_rule_ports_superset(&a->port->ports,
							      &b->port->ports)))
		return false;
	return true;
}

static bool icmp_covers(const struct moat_rule_match *a,
			const struct moat_rule_match *b)
{
	if (!a->has_icmp_type)
		return true;
	if (!b->has_icmp_type)
		return false;
	for (int i = 0; i < 32; i++)
		if ((b->icmp_types[i] & a->icmp_types[i]) != b->icmp_types[i])
			return false;
	return a->icmp_code < 0 || a->icmp_code == b->icmp_code;
}

bool moat_rule_covers(const struct moat_rule_match *a,
		      const struct moat_rule_match *b)
{
	if ((a->protos & b->protos) != b->protos || (a->fam & b->fam) != b->fam)
		return false;
	for (int i = 0; (b->protos & (1 << PC_OTHER)) && i < 32; i++)
		if ((a->other[i] & b->other[i]) != b->other[i])
			return false;
	if (a->has_flags &&
	    (!b->has_flags || (b->flags_mask & a->flags_mask) != a->flags_mask ||
	     (b->flags_set & a->flags_mask) != a->flags_set))
		return false;
	if (!icmp_covers(a, b))
		return false;
	return side_covers(&a->from, &b->from) && side_covers(&a->to, &b->to);
}

/* ---- one rule's value in one field ------------------------------------- */

enum field_kind { F_ANY, F_NEG, F_SET };

/*
 * Key space 0 holds ports, zones and IPv4 addresses, space 1 IPv6
 * addresses.  A zone side is one key, zone * 2 + negated: i covers j on
 * it only with the same zone and the same negation.
 */
struct field {
	enum field_kind kind;
	const struct ports *ports;  /* port fields */
	const struct lpm *lpm;      /* address fields */
	uint32_t zone_key;          /* zone fields */
};

static const struct side *side_of(const struct moat_rule_match *m, int dim)
{
	return dim == DIM_DPORT || dim == DIM_DADDR || dim == DIM_TZONE ?
		&m->to : &m->from;
}

static struct field field_of(const struct moat_rule_match *m, int dim)
{
	const struct side *s = side_of(m, dim);
	struct field f = { .kind = F_ANY };

	switch (dim) {
	case DIM_DPORT:
	case DIM_SPORT:
		if (s->port) {
			f.kind = F_SET;
			f.ports = &s->port->ports;
		}
		break;
	case DIM_DADDR:
	case DIM_SADDR:
		if (s->set) {
			f.kind = s->set_neg ? F_NEG : F_SET;
			f.lpm = &s->set->lpm;
		}
		break;
	default:
		if (s->zone >= 0) {
			f.kind = F_SET;
			f.zone_key = (uint32_t)s->zone * 2 + s->zone_neg;
		}
		break;
	}
	return f;
}

static uint32_t field_count(const struct field *f, int space)
{
	if (f->ports)
		return space == 0 ? f->ports->n : 0;
	if (f->lpm)
		return space == 0 ? f->lpm->n4 : f->lpm->n6;
	return space == 0;
}

/* The @k-th interval of @f in @space, as closed [lo, hi]. */
static void field_interval(const struct field *f, int space, uint32_t k,
			   u128 *lo, u128 *hi)
{
	if (f->ports) {
		*lo = f->ports->lo[k];
		*hi = f->ports->hi[k];
	} else if (f->lpm && space == 0) {
		*lo = f->lpm->lo4[k];
		*hi = f->lpm->hi4[k];
	} else if (f->lpm) {
		*lo = f->lpm->lo6[k];
		*hi = f->lpm->hi6[k];
	} else {
		*lo = *hi = f->zone_key;
	}
}

/* A point every packet of the field holds (its lowest key); false when the
 * set is empty. */
static bool field_witness(const struct field *f, int *space, u128 *key)
{
	u128 hi;

	for (*space = 0; *space < 2; (*space)++) {
		if (field_count(f, *space)) {
			field_interval(f, *space, 0, key, &hi);
			return true;
		}
	}
	return false;
}

/* ---- the index of one field ---------------------------------------------- */

struct rlist {
	uint32_t *v;  /* rule indexes, ascending */
	uint32_t n;
};

/* One key space: elementary intervals [b[k], b[k + 1]) (the last one
 * open-ended), each with its rules at list[first[k] .. first[k + 1]). */
struct stab {
	u128 *b;
	uint32_t m;
	uint32_t *first;
	uint32_t *list;
};

struct dim {
	struct rlist any, neg, wide;
	struct stab sp[2];
	uint8_t *filed;  /* per rule: 1 when in the stab lists */
};

static const u128 KEY_MAX = ~(u128)0;

static int cmp_u128(const void *x, const void *y)
{
	u128 a = *(const u128 *)x, b = *(const u128 *)y;

	return a < b ? -1 : a > b;
}

/* The elementary interval holding @key, or -1 below the first. */
static long stab_find(const struct stab *s, u128 key)
{
	return (long)count_le_u128(s->b, s->m, key) - 1;
}

/* Elementary intervals [*k0, *k1) that [lo, hi] spans. */
static void stab_span(const struct stab *s, u128 lo, u128 hi, long *k0,
		      long *k1)
{
	*k0 = stab_find(s, lo);
	*k1 = hi == KEY_MAX ? (long)s->m : stab_find(s, hi + 1);
}

static uint32_t rule_span(const struct stab *sp, const struct field *f)
{
	uint32_t span = 0;
	long k0, k1;
	u128 lo, hi;

	for (int s = 0; s < 2; s++)
		for (uint32_t k = 0; k < field_count(f, s); k++) {
			field_interval(f, s, k, &lo, &hi);
			stab_span(&sp[s], lo, hi, &k0, &k1);
			span += (uint32_t)(k1 - k0);
		}
	return span;
}

/* Interval ends of the sets small enough to file by value. */
static int collect_ends(struct dim *d, const struct field *fs, int n,
			int space)
{
	struct stab *s = &d->sp[space];
	size_t cap = 0, m = 0;
	u128 lo, hi;

	for (int j = 0; j < n; j++)
		if (fs[j].kind == F_SET && d->filed[j])
			cap += 2 * (size_t)field_count(&fs[j], space);
	s->b = malloc((cap ? cap : 1) * sizeof(*s->b));
	if (!s->b)
		return -ENOMEM;
	for (int j = 0; j < n; j++) {
		if (fs[j].kind != F_SET || !d->filed[j])
			continue;
		for (uint32_t k = 0; k < field_count(&fs[j], space); k++) {
			field_interval(&fs[j], space, k, &lo, &hi);
			s->b[m++] = lo;
			if (hi != KEY_MAX)
				s->b[m++] = hi + 1;
		}
	}
	qsort(s->b, m, sizeof(*s->b), cmp_u128);
	s->m = 0;
	for (size_t k = 0; k < m; k++)
		if (s->m == 0 || s->b[k] != s->b[s->m - 1])
			s->b[s->m++] = s->b[k];
	return 0;
}

/* Fill the per-interval lists, in rule order (two passes: count, place). */
static int fill_lists(struct dim *d, const struct field *fs, int n, int space)
{
	struct stab *s = &d->sp[space];
	size_t total = 0;
	long k0, k1;
	u128 lo, hi;

	s->first = calloc((size_t)s->m + 2, sizeof(*s->first));
	if (!s->first)
		return -ENOMEM;
	for (int pass = 0; pass < 2; pass++) {
		for (int j = 0; j < n; j++) {
			if (fs[j].kind != F_SET || !d->filed[j])
				continue;
			for (uint32_t k = 0; k < field_count(&fs[j], space); k++) {
				field_interval(&fs[j], space, k, &lo, &hi);
				stab_span(s, lo, hi, &k0, &k1);
				for (long e = k0; e < k1; e++) {
					if (pass == 0)
						s->first[e + 1]++;
					else
						s->list[s->first[e]++] =
							(uint32_t)j;
				}
			}
		}
		if (pass == 1)
			break;
		for (uint32_t e = 0; e < s->m; e++)
			s->first[e + 1] += s->first[e];
		total = s->first[s->m];
		s->list = malloc((total ? total : 1) * sizeof(*s->list));
		if (!s->list)
			return -ENOMEM;
	}
	/* The second pass moved every first[e] to where e + 1 starts. */
	memmove(s->first + 1, s->first, (size_t)s->m * sizeof(*s->first));
	s->first[0] = 0;
	return 0;
}

static void push(struct rlist *l, uint32_t j)
{
	l->v[l->n++] = j;
}

static int dim_build(struct dim *d, const struct moat_config *c, int dim,
		     struct field *fs)
{
	int n = c->nrules, err = 0;
	size_t sz = (size_t)(n ? n : 1) * sizeof(uint32_t);

	d->any.v = malloc(sz);
	d->neg.v = malloc(sz);
	d->wide.v = malloc(sz);
	d->filed = calloc((size_t)(n ? n : 1), 1);
	if (!d->any.v || !d->neg.v || !d->wide.v || !d->filed)
		return -ENOMEM;
	for (int j = 0; j < n; j++) {
		fs[j] = field_of(&c->matches[j], dim);
		d->filed[j] = fs[j].kind == F_SET &&
			      field_count(&fs[j], 0) + field_count(&fs[j], 1) <=
				      FILE_INTERVALS_MAX;
	}
	for (int s = 0; s < 2 && !err; s++)
		err = collect_ends(d, fs, n, s);
	/* A set that spans too much of the cut is wide after all. */
	for (int j = 0; j < n && !err; j++)
		if (d->filed[j] && rule_span(d->sp, &fs[j]) > FILE_SPAN_MAX)
			d->filed[j] = 0;
	for (int s = 0; s < 2 && !err; s++)
		err = fill_lists(d, fs, n, s);
	for (int j = 0; j < n && !err; j++) {
		if (fs[j].kind == F_ANY)
			push(&d->any, (uint32_t)j);
		else if (fs[j].kind == F_NEG)
			push(&d->neg, (uint32_t)j);
		else if (!d->filed[j])
			push(&d->wide, (uint32_t)j);
	}
	return err;
}

static void dim_free(struct dim *d)
{
	free(d->any.v);
	free(d->neg.v);
	free(d->wide.v);
	free(d->filed);
	for (int s = 0; s < 2; s++) {
		free(d->sp[s].b);
		free(d->sp[s].first);
		free(d->sp[s].list);
	}
}

/* ---- candidates of one rule ---------------------------------------------- */

enum { CAND_LISTS = 3 };

/* Up to three ascending lists, each cut at the rule being checked. */
struct cands {
	const uint32_t *v[CAND_LISTS];
	uint32_t n[CAND_LISTS];
	uint64_t total;
};

static void cands_add(struct cands *k, int slot, const uint32_t *v,
		      uint32_t n, uint32_t j)
{
	uint32_t before = j ? count_le_u32(v, n, j - 1) : 0;

	k->v[slot] = v;
	k->n[slot] = before;
	k->total += before;
}

/* Rule @j's candidates in field @dim; false when the field names none
 * that can be bounded (an empty set). */
static bool dim_cands(const struct dim *d, const struct field *f, uint32_t j,
		      struct cands *k)
{
	const struct stab *s;
	long e;
	int space;
	u128 key;

	memset(k, 0, sizeof(*k));
	cands_add(k, 0, d->any.v, d->any.n, j);
	if (f->kind == F_ANY)
		return true;
	if (f->kind == F_NEG) {
		cands_add(k, 1, d->neg.v, d->neg.n, j);
		return true;
	}
	if (!field_witness(f, &space, &key))
		return false;
	cands_add(k, 1, d->wide.v, d->wide.n, j);
	s = &d->sp[space];
	e = stab_find(s, key);
	if (e >= 0)
		cands_add(k, 2, s->list + s->first[e],
			  s->first[e + 1] - s->first[e], j);
	return true;
}

/* The first candidate that covers @j, walking the lists merged in rule
 * order; -1 when none.  Each comparison spends one unit of @budget. */
static int first_cover(const struct moat_config *c, const struct cands *k,
		       uint32_t j, uint64_t *budget)
{
	uint32_t pos[CAND_LISTS] = { 0 };

	for (;;) {
		uint32_t best = UINT32_MAX;
		int from = -1;

		for (int l = 0; l < CAND_LISTS; l++)
			if (pos[l] < k->n[l] && k->v[l][pos[l]] < best) {
				best = k->v[l][pos[l]];
				from = l;
			}
		if (from < 0)
			return -1;
		pos[from]++;
		if (*budget == 0)
			return -2;
		(*budget)--;
		if (moat_rule_covers(&c->matches[best], &c->matches[j]))
			return (int)best;
	}
}

struct shadow_index {
	struct dim d[DIM_COUNT];
	struct field *fs[DIM_COUNT];
};

static void index_free(struct shadow_index *x)
{
	for (int i = 0; i < DIM_COUNT; i++) {
		dim_free(&x->d[i]);
		free(x->fs[i]);
	}
}

static int index_build(struct shadow_index *x, const struct moat_config *c)
{
	memset(x, 0, sizeof(*x));
	for (int i = 0; i < DIM_COUNT; i++) {
		x->fs[i] = calloc((size_t)(c->nrules ? c->nrules : 1),
				  sizeof(*x->fs[i]));
		if (!x->fs[i] || dim_build(&x->d[i], c, i, x->fs[i]) < 0) {
			index_free(x);
			return -ENOMEM;
		}
	}
	return 0;
}

int moat_rule_shadow_find(const struct moat_config *c, int *by,
			  uint64_t budget)
{
	struct shadow_index x;
	struct cands k, best;
	int j;

	if (index_build(&x, c) < 0)
		return -ENOMEM;
	for (j = 0; j < c->nrules; j++) {
		/* No field with a witness leaves no candidate: not shadowed. */
		memset(&best, 0, sizeof(best));
		best.total = UINT64_MAX;
		for (int i = 0; i < DIM_COUNT; i++)
			if (dim_cands(&x.d[i], &x.fs[i][j], (uint32_t)j, &k) &&
			    k.total < best.total)
				best = k;
		by[j] = first_cover(c, &best, (uint32_t)j, &budget);
		if (by[j] == -2) {
			by[j] = -1;
			break;
		}
	}
	index_free(&x);
	return j;
}
