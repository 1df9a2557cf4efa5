/*
 * A configuration's life: load (read, parse, check, compile), the
 * read-only accessors the engine uses, and destroy.  Control plane only:
 * everything here runs at start-up or reload, never per packet.
 *
 * All or nothing: when any error was reported the half-built configuration
 * is destroyed and NULL returned, so the engine never runs on a partly
 * understood rule set.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules/internal.h"

struct moat_set *moat_rule_set_new(struct moat_config *c, bool named)
{
	struct moat_set *s = calloc(1, sizeof(*s)), **v;

	if (!s)
		return NULL;
	s->index = -1;
	if (named) {
		v = realloc(c->named, (size_t)(c->nnamed + 1) * sizeof(*v));
		if (!v)
			goto fail;
		c->named = v;
		s->index = c->nnamed;
		c->named[c->nnamed++] = s;
		return s;
	}
	if (c->nanon == c->capanon) {
		int cap = c->capanon ? c->capanon * 2 : 16;

		v = realloc(c->anon, (size_t)cap * sizeof(*v));
		if (!v)
			goto fail;
		c->anon = v;
		c->capanon = cap;
	}
	c->anon[c->nanon++] = s;
	return s;
fail:
	free(s);
	return NULL;
}

const char *moat_rule_file_intern(struct moat_config *c, const char *file)
{
	char **v, *dup;

	for (int i = 0; i < c->nfiles; i++)
		if (!strcmp(c->files[i], file))
			return c->files[i];
	dup = strdup(file);
	v = realloc(c->files, (size_t)(c->nfiles + 1) * sizeof(*v));
	if (!dup || !v) {
		free(dup);
		if (v)
			c->files = v;
		return NULL;
	}
	c->files = v;
	c->files[c->nfiles++] = dup;
	return dup;
}

static void set_free(struct moat_set *s)
{
	if (!s)
		return;
	moat_rule_lpm_free(&s->lpm);
	moat_rule_ports_free(&s->ports);
	free(s);
}

void moat_config_destroy(struct moat_config *c)
{
	if (!c)
		return;
	moat_rule_index_free(&c->index);
	moat_rule_lpm_free(&c->zone_map);
	for (int i = 0; i < c->nnamed; i++)
		set_free(c->named[i]);
	for (int i = 0; i < c->nanon; i++)
		set_free(c->anon[i]);
	for (int i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	free(c->named);
	free(c->anon);
	free(c->files);
	free(c->zones);
	free(c->rules);
	free(c->matches);
	free(c);
}

/* One interval table of every zone's networks, valued by zone index. */
static int build_zone_map(struct moat_config *c)
{
	struct prefix_vec pv = { 0 };
	int err = 0;

	for (int z = 0; z < c->nzones && !err; z++) {
		int from = pv.n;

		if (!c->zones[z].networks)
			continue;
		err = moat_rule_lpm_to_prefixes(&c->zones[z].networks->lpm, &pv);
		for (int i = from; i < pv.n; i++)
			pv.v[i].val = z;
	}
	if (!err)
		err = moat_rule_lpm_build(&c->zone_map, pv.v, pv.n);
	prefix_vec_free(&pv);
	return err;
}

static int finish(struct moat_config *c, struct moat_diags *d)
{
	c->default_zone = -1;
	for (int z = 0; z < c->nzones; z++) {
		if (c->zones[z].is_default && c->default_zone < 0)
			c->default_zone = z;
		if (!c->zones[z].networks)
			return -ENOMEM;
	}
	for (int i = 0; i < c->nrules; i++)
		c->rules[i].match = &c->matches[i];
	if (d->errors)
		return -EINVAL; /* checks across rules need a sound parse */
	moat_rule_check_all(c, d);
	if (build_zone_map(c) < 0 || moat_rule_index_build(c) < 0)
		return -ENOMEM;
	return 0;
}

static struct moat_config *config_new(void)
{
	struct moat_config *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	moat_options_defaults(&c->opt);
	c->default_zone = -1;
	return c;
}

static int diag_cmp(const struct moat_diag *a, const struct moat_diag *b)
{
	int f = strcmp(a->file, b->file);

	if (f)
		return f;
	if (a->line != b->line)
		return a->line - b->line;
	return a->col - b->col;
}

/* Parse-time and whole-file diagnostics interleave: show them in file
 * order (a stable insertion sort: at most MOAT_DIAG_MAX entries). */
static void sort_diags(struct moat_diags *d)
{
	for (int i = 1; i < d->count; i++) {
		struct moat_diag t = d->d[i];
		int j = i;

		for (; j > 0 && diag_cmp(&d->d[j - 1], &t) > 0; j--)
			d->d[j] = d->d[j - 1];
		d->d[j] = t;
	}
}

static struct moat_config *build(const char *name, const char *text,
				 size_t len, struct moat_diags *d)
{
	struct moat_config *c = config_new();

	if (!c) {
		moat_rule_diag(d, MOAT_DIAG_ERROR, name, 0, 0, "out of memory");
		return NULL;
	}
	moat_rule_parse_text(c, d, name, text, len);
	if (finish(c, d) < 0 || d->errors) {
		sort_diags(d);
		if (!d->errors)
			moat_rule_diag(d, MOAT_DIAG_ERROR, name, 0, 0, "out of memory");
		moat_config_destroy(c);
		return NULL;
	}
	sort_diags(d);
	return c;
}

struct moat_config *moat_config_parse_string(const char *name,
					     const char *text,
					     struct moat_diags *d)
{
	moat_diags_init(d);
	return build(name ? name : "<string>", text, strlen(text), d);
}

struct moat_config *moat_config_load(const char *path, struct moat_diags *d)
{
	struct moat_config *c;
	char *text = NULL;
	size_t len = 0;
	int err;

	moat_diags_init(d);
	err = moat_rule_read_file(path, &text, &len);
	if (err) {
		moat_rule_diag(d, MOAT_DIAG_ERROR, path, 0, 0, "cannot read: %s",
			       err == -EINVAL ? "not a regular file"
					      : strerror(-err));
		return NULL;
	}
	c = build(path, text, len, d);
	free(text);
	return c;
}

const struct moat_options *moat_config_options(const struct moat_config *c)
{
	return &c->opt;
}

int moat_config_zone_count(const struct moat_config *c)
{
	return c->nzones;
}

const struct moat_zone *moat_config_zone(const struct moat_config *c, int idx)
{
	return idx >= 0 && idx < c->nzones ? &c->zones[idx] : NULL;
}

int moat_config_zone_by_ifname(const struct moat_config *c, const char *ifname)
{
	for (int i = 0; ifname && i < c->nzones; i++)
		if (c->zones[i].ifname[0] && !strcmp(c->zones[i].ifname, ifname))
			return i;
	return -1;
}

int moat_config_zone_by_name(const struct moat_config *c, const char *name)
{
	for (int i = 0; name && i < c->nzones; i++)
		if (!strcmp(c->zones[i].name, name))
			return i;
	return -1;
}

int moat_config_default_zone(const struct moat_config *c)
{
	for (int i = 0; i < c->nzones; i++)
		if (c->zones[i].is_default)
			return i;
	return -1;
}

int moat_config_rule_count(const struct moat_config *c)
{
	return c->nrules;
}

const struct moat_rule *moat_config_rule(const struct moat_config *c, int idx)
{
	return idx >= 0 && idx < c->nrules ? &c->rules[idx] : NULL;
}

int moat_config_set_count(const struct moat_config *c)
{
	return c->nnamed;
}

const struct moat_set *moat_config_set(const struct moat_config *c, int idx)
{
	return idx >= 0 && idx < c->nnamed ? c->named[idx] : NULL;
}

int moat_config_set_by_name(const struct moat_config *c, const char *name)
{
	for (int i = 0; name && i < c->nnamed; i++)
		if (!strcmp(c->named[i]->name, name))
			return i;
	return -1;
}

const char *moat_set_name(const struct moat_set *s)
{
	return s->name;
}

enum moat_set_kind moat_set_kind(const struct moat_set *s)
{
	return (enum moat_set_kind)s->kind;
}
