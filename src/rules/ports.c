/*
 * Port sets as sorted, disjoint ranges: `port 22`, `port 80-90`,
 * `port { 25, 465, 587 }` and `@portset`.  The matcher checks a source
 * port by bisection; destination ports are mostly settled by the rule
 * index (index.c) before a rule is looked at.  Built at load time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "rules/internal.h"

int prange_vec_push(struct prange_vec *pv, uint32_t lo, uint32_t hi)
{
	if (pv->n == pv->cap) {
		int cap = pv->cap ? pv->cap * 2 : 8;
		struct prange *v = realloc(pv->v, (size_t)cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		pv->v = v;
		pv->cap = cap;
	}
	pv->v[pv->n].lo = lo;
	pv->v[pv->n].hi = hi;
	pv->n++;
	return 0;
}

void prange_vec_free(struct prange_vec *pv)
{
	free(pv->v);
	pv->v = NULL;
	pv->n = pv->cap = 0;
}

static int cmp_range(const void *x, const void *y)
{
	const struct prange *a = x, *b = y;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return a->hi < b->hi ? -1 : a->hi > b->hi;
}

int moat_rule_ports_build(struct ports *ps, const struct prange *r, int n)
{
	struct prange *s = calloc((size_t)n + 1, sizeof(*s));

	ps->n = 0;
	ps->lo = calloc((size_t)n + 1, sizeof(uint16_t));
	ps->hi = calloc((size_t)n + 1, sizeof(uint16_t));
	if (!s || !ps->lo || !ps->hi) {
		free(s);
		moat_rule_ports_free(ps);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++)
		s[i] = r[i];
	qsort(s, (size_t)n, sizeof(*s), cmp_range);
	for (int i = 0; i < n; i++) {
		if (ps->n && s[i].lo <= (uint32_t)ps->hi[ps->n - 1] + 1) {
			if (s[i].hi > ps->hi[ps->n - 1])
				ps->hi[ps->n - 1] = (uint16_t)s[i].hi;
			continue;
		}
		ps->lo[ps->n] = (uint16_t)s[i].lo;
		ps->hi[ps->n] = (uint16_t)s[i].hi;
		ps->n++;
	}
	free(s);
	return 0;
}

void moat_rule_ports_free(struct ports *ps)
{
	free(ps->lo);
	free(ps->hi);
	ps->lo = ps->hi = NULL;
	ps->n = 0;
}

/* The last range starting at or below @port, or -1. */
static int64_t find(const struct ports *ps, uint32_t port)
{
	if (port > 65535)
		return (int64_t)ps->n - 1;
	return (int64_t)count_le_u16(ps->lo, ps->n, (uint16_t)port) - 1;
}

bool moat_rule_ports_has(const struct ports *ps, uint16_t port)
{
	int64_t i = find(ps, port);

	return i >= 0 && port <= ps->hi[i];
}

bool moat_rule_ports_superset(const struct ports *a, const struct ports *b)
{
	for (uint32_t i = 0; i < b->n; i++) {
		int64_t j = find(a, b->lo[i]);

		if (j < 0 || b->hi[i] > a->hi[j])
			return false;
	}
	return true;
}

bool moat_rule_ports_overlap(const struct ports *ps, uint32_t lo, uint32_t hi)
{
	for (uint32_t i = 0; i < ps->n; i++)
		if (ps->lo[i] <= hi && ps->hi[i] >= lo)
			return true;
	return false;
}

void moat_rule_ports_print(const struct ports *ps, FILE *f)
{
	if (ps->n == 1) {
		fprintf(f, "%u", ps->lo[0]);
		if (ps->hi[0] != ps->lo[0])
			fprintf(f, "-%u", ps->hi[0]);
		return;
	}
	fputs("{ ", f);
	for (uint32_t i = 0; i < ps->n; i++) {
		fprintf(f, "%s%u", i ? ", " : "", ps->lo[i]);
		if (ps->hi[i] != ps->lo[i])
			fprintf(f, "-%u", ps->hi[i]);
	}
	fputs(" }", f);
}
