/*
 * The parser's shared state and helpers, split across parse*.c by topic:
 *
 *   parse.c          statements, recovery, include, zones, sets
 *   parse_value.c    addresses, ports, numbers, rates, lists
 *   parse_options.c  the options block
 *   parse_rule.c     pass / block / reject
 *
 * Recursive descent over one token of lookahead.  Every error names the
 * token found and what was expected, at the token's line and column; the
 * statement is then skipped and parsing resumes at the next line that
 * starts a statement, so one run reports several errors.
 */
#ifndef MOAT_RULES_PARSE_H
#define MOAT_RULES_PARSE_H

#include "rules/internal.h"

enum {
	INCLUDE_DEPTH_MAX = 8,
	CONFIG_BYTES_MAX = 4 << 20,  /* a larger file is refused, not read */
	ZONES_MAX = 64,
};

struct include_chain {
	char *path[INCLUDE_DEPTH_MAX + 1]; /* real paths, outermost first */
	int n;
};

struct parser {
	struct moat_config *c;
	struct moat_diags *d;
	struct lexer lx;
	struct token tok;           /* the current token */
	const char *file;           /* interned in c->files */
	struct include_chain *chain;
};

void moat_rule_next(struct parser *P);
bool moat_rule_is(const struct parser *P, const char *word);
void moat_rule_err(struct parser *P, const struct token *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void moat_rule_warn(struct parser *P, const struct token *t,
		    const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "expected WHAT, found TOKEN" at the current token; returns -1. */
int moat_rule_expected(struct parser *P, const char *what);
void moat_rule_skip_newlines(struct parser *P);
bool moat_rule_valid_name(const char *s);
int moat_rule_zone_find(const struct moat_config *c, const char *name);
struct moat_set *moat_rule_set_find(const struct moat_config *c,
				    const char *name);

/* parse_value.c: each consumes what it parses; -1 after an error. */
int moat_rule_parse_u32(struct parser *P, const char *what, uint32_t min,
			uint32_t max, uint32_t *out);
int moat_rule_parse_rate(struct parser *P, struct moat_rule_rate *r);
int moat_rule_word_addr(struct parser *P, const struct token *t,
			struct prefix *out);
bool moat_rule_looks_addr(const struct token *t);
/* An address, CIDR, @set or { list } into @pv; *@named set when the whole
 * expression is exactly one @set (so rules can share it). */
int moat_rule_parse_addrs(struct parser *P, struct prefix_vec *pv,
			  const struct moat_set **named);
int moat_rule_parse_ports(struct parser *P, struct prange_vec *pv,
			  const struct moat_set **named);
int moat_rule_add_set_prefixes(struct prefix_vec *pv,
			       const struct moat_set *s);
int moat_rule_word_port(struct parser *P, const struct token *t,
			struct prange_vec *pv);
int moat_rule_set_fill_addrs(struct moat_set *s, struct prefix_vec *pv);
int moat_rule_set_fill_ports(struct moat_set *s, struct prange_vec *pv);

int moat_rule_parse_options(struct parser *P);
int moat_rule_parse_rule(struct parser *P);

#endif
