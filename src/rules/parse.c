/*
 * The parser's driver: the statement loop, error recovery, `include`, and
 * the `zone` and `set` statements.  Control plane: runs at load and reload,
 * never on the packet path.
 *
 *   config    := { statement (NEWLINE | ';') }
 *   statement := zone | set | options | include | rule
 *   zone      := "zone" NAME "{" { zitem [";"] } "}"
 *   zitem     := "interface" IFNAME | "networks" addrs | "default"
 *   set       := "set" NAME "=" ( "{" elems "}" | elem )
 *   include   := "include" STRING
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules/parse.h"

static const char *const statement_words[] = {
	"zone", "set", "options", "include", "pass", "block", "reject",
};

/* Words a zone or set may not be called, so `from NAME` stays clear. */
static const char *const reserved[] = {
	"any", "from", "to", "port", "proto", "tcp", "udp", "icmp", "icmp6",
	"pass", "block", "reject", "zone", "set", "options", "include",
	"flags", "type", "code", "log", "limit", "synproxy", "modulate",
	"no", "keep", "state", "quick", "overload", "expire", "default",
	"inet", "inet6",
};

void moat_rule_next(struct parser *P)
{
	moat_rule_lex_next(&P->lx, &P->tok);
}

bool moat_rule_is(const struct parser *P, const char *word)
{
	return P->tok.kind == T_WORD && !strcmp(P->tok.text, word);
}

void moat_rule_err(struct parser *P, const struct token *t, const char *fmt,
		   ...)
{
	va_list ap;

	va_start(ap, fmt);
	moat_rule_vdiag(P->d, MOAT_DIAG_ERROR, P->file, t->line, t->col, fmt,
			ap);
	va_end(ap);
}

void moat_rule_warn(struct parser *P, const struct token *t,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	moat_rule_vdiag(P->d, MOAT_DIAG_WARNING, P->file, t->line, t->col, fmt,
			ap);
	va_end(ap);
}

int moat_rule_expected(struct parser *P, const char *what)
{
	char buf[96];

	moat_rule_err(P, &P->tok, "expected %s, found %s", what,
		      moat_rule_tok_describe(&P->tok, buf, sizeof(buf)));
	return -1;
}

void moat_rule_skip_newlines(struct parser *P)
{
	while (P->tok.kind == T_NEWLINE)
		moat_rule_next(P);
}

bool moat_rule_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= MOAT_NAME_MAX)
		return false;
	if (!(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') ||
	      (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (size_t i = 1; i < n; i++) {
		char ch = s[i];

		if (!(ch == '_' || ch == '-' || (ch >= 'a' && ch <= 'z') ||
		      (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
			return false;
	}
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (!strcmp(s, reserved[i]))
			return false;
	return true;
}

int moat_rule_zone_find(const struct moat_config *c, const char *name)
{
	for (int i = 0; i < c->nzones; i++)
		if (!strcmp(c->zones[i].name, name))
			return i;
	return -1;
}

struct moat_set *moat_rule_set_find(const struct moat_config *c,
				    const char *name)
{
	for (int i = 0; i < c->nnamed; i++)
		if (!strcmp(c->named[i]->name, name))
			return c->named[i];
	return NULL;
}

static bool at_statement_start(const struct parser *P)
{
	if (P->tok.kind != T_WORD)
		return false;
	for (size_t i = 0; i < sizeof(statement_words) / sizeof(*statement_words);
	     i++)
		if (!strcmp(P->tok.text, statement_words[i]))
			return true;
	return false;
}

/* After an error: skip to the next line that starts with a statement. */
static void recover(struct parser *P)
{
	for (int guard = 0; P->tok.kind != T_EOF; guard++) {
		if (P->tok.kind == T_NEWLINE) {
			moat_rule_next(P);
			moat_rule_skip_newlines(P);
			if (at_statement_start(P))
				return;
			continue;
		}
		moat_rule_next(P);
	}
}

/* ---- reading files ------------------------------------------------------ */

/* Read a regular file of at most CONFIG_BYTES_MAX bytes, NUL-terminated. */
int moat_rule_read_file(const char *path, char **text, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto out;
	}
	if (st.st_size > CONFIG_BYTES_MAX) {
		err = -EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0) {
			err = -errno;
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	*text = buf;
	*len = got;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

static void parse_all(struct parser *P);

/* Parse @text as @file with the same configuration, one level deeper. */
static void parse_nested(struct moat_config *c, struct moat_diags *d,
			 struct include_chain *chain, const char *file,
			 const char *text, size_t len)
{
	struct parser P = { .c = c, .d = d, .chain = chain };

	P.file = moat_rule_file_intern(c, file);
	if (!P.file)
		P.file = file;
	moat_rule_lex_init(&P.lx, P.file, text, len);
	moat_rule_next(&P);
	parse_all(&P);
}

static void include_path(const struct parser *P, const char *name,
			 char *out, size_t len)
{
	char dir[PATH_MAX];

	if (name[0] == '/') {
		snprintf(out, len, "%s", name);
		return;
	}
	snprintf(dir, sizeof(dir), "%s", P->file);
	snprintf(out, len, "%s/%s", dirname(dir), name);
}

static bool in_chain(const struct include_chain *ch, const char *real)
{
	for (int i = 0; i < ch->n; i++)
		if (ch->path[i] && !strcmp(ch->path[i], real))
			return true;
	return false;
}

static int parse_include(struct parser *P)
{
	struct token at;
	char path[PATH_MAX], *real, *text = NULL;
	size_t len = 0;
	int err;

	moat_rule_next(P);
	if (P->tok.kind != T_STRING)
		return moat_rule_expected(P, "a quoted file name after 'include'");
	at = P->tok;
	moat_rule_next(P);
	include_path(P, at.text, path, sizeof(path));
	if (P->chain->n >= INCLUDE_DEPTH_MAX + 1) {
		moat_rule_err(P, &at, "includes nested deeper than %d levels",
			      INCLUDE_DEPTH_MAX);
		return 0;
	}
	real = realpath(path, NULL);
	if (!real) {
		moat_rule_err(P, &at, "cannot include \"%s\": %s", at.text,
			      strerror(errno));
		return 0;
	}
	if (in_chain(P->chain, real)) {
		moat_rule_err(P, &at, "include cycle: \"%s\" is already being read",
			      at.text);
		free(real);
		return 0;
	}
	err = moat_rule_read_file(real, &text, &len);
	if (err) {
		moat_rule_err(P, &at, "cannot include \"%s\": %s", at.text,
			      err == -EINVAL ? "not a regular file" : strerror(-err));
		free(real);
		return 0;
	}
	P->chain->path[P->chain->n++] = real;
	parse_nested(P->c, P->d, P->chain, path, text, len);
	P->chain->path[--P->chain->n] = NULL;
	free(real);
	free(text);
	return 0;
}

/* ---- zones ----------------------------------------------------------- */

static int zone_interface(struct parser *P, int zi)
{
	struct moat_zone *z = &P->c->zones[zi];
	struct token at;

	moat_rule_next(P);
	if (P->tok.kind != T_WORD)
		return moat_rule_expected(P, "an interface name");
	at = P->tok;
	moat_rule_next(P);
	if (strlen(at.text) >= MOAT_IFNAME_MAX) {
		moat_rule_err(P, &at, "interface name '%s' is longer than %d bytes",
			      at.text, MOAT_IFNAME_MAX - 1);
		return 0;
	}
	if (z->ifname[0]) {
		moat_rule_err(P, &at, "interface given twice for zone '%s'",
			      z->name);
		return 0;
	}
	for (int i = 0; i < P->c->nzones; i++)
		if (!strcmp(P->c->zones[i].ifname, at.text))
			moat_rule_err(P, &at,
				      "interface '%s' already belongs to zone '%s'",
				      at.text, P->c->zones[i].name);
	/* The length was checked above; memcpy says so to the compiler. */
	memcpy(z->ifname, at.text, strlen(at.text) + 1);
	return 0;
}

static int zone_networks(struct parser *P, int zi, struct prefix_vec *pv,
			 bool *seen)
{
	const struct moat_set *named = NULL;
	struct token at = P->tok;

	moat_rule_next(P);
	if (*seen)
		moat_rule_err(P, &at, "networks given twice for zone '%s'",
			      P->c->zones[zi].name);
	*seen = true;
	return moat_rule_parse_addrs(P, pv, &named);
}

static int zone_item(struct parser *P, int zi, struct prefix_vec *pv,
		     bool *seen)
{
	if (moat_rule_is(P, "interface"))
		return zone_interface(P, zi);
	if (moat_rule_is(P, "networks"))
		return zone_networks(P, zi, pv, seen);
	if (moat_rule_is(P, "default")) {
		int other = moat_config_default_zone(P->c);

		if (other >= 0 && other != zi)
			moat_rule_err(P, &P->tok, "zone '%s' is already the default zone; "
				      "there can be only one", P->c->zones[other].name);
		P->c->zones[zi].is_default = true;
		moat_rule_next(P);
		return 0;
	}
	return moat_rule_expected(P, "'interface', 'networks' or 'default'");
}

/* Skip the rest of a bad item inside braces, up to ; newline or }. */
static void recover_item(struct parser *P)
{
	while (P->tok.kind != T_EOF && P->tok.kind != T_NEWLINE &&
	       P->tok.kind != T_SEMI && P->tok.kind != T_RBRACE)
		moat_rule_next(P);
}

static int zone_add(struct parser *P, const struct token *name)
{
	struct moat_config *c = P->c;
	struct moat_zone *z;

	if (c->nzones >= ZONES_MAX) {
		moat_rule_err(P, name, "more than %d zones", ZONES_MAX);
		return -1;
	}
	z = realloc(c->zones, (size_t)(c->nzones + 1) * sizeof(*z));
	if (!z)
		return -1;
	c->zones = z;
	z = &c->zones[c->nzones];
	memset(z, 0, sizeof(*z));
	snprintf(z->name, sizeof(z->name), "%.63s", name->text);
	z->line = name->line;
	z->file = P->file;
	return c->nzones++;
}

/* The items of a zone block; on return the current token is '}' or EOF. */
static int zone_body(struct parser *P, int zi, struct prefix_vec *pv)
{
	bool seen = false;

	for (int guard = 0; guard < (1 << 20); guard++) {
		while (P->tok.kind == T_NEWLINE || P->tok.kind == T_SEMI)
			moat_rule_next(P);
		if (P->tok.kind == T_RBRACE || P->tok.kind == T_EOF)
			return 0;
		if (zone_item(P, zi, pv, &seen) < 0)
			recover_item(P);
		else if (P->tok.kind != T_NEWLINE && P->tok.kind != T_SEMI &&
			 P->tok.kind != T_RBRACE) {
			(void)moat_rule_expected(P, "';', end of line or '}'");
			recover_item(P);
		}
	}
	return 0;
}

static int parse_zone(struct parser *P)
{
	struct prefix_vec pv = { 0 };
	struct moat_set *net;
	struct token name;
	int zi, ret = 0;

	moat_rule_next(P);
	if (P->tok.kind != T_WORD || !moat_rule_valid_name(P->tok.text))
		return moat_rule_expected(P, "a zone name");
	name = P->tok;
	zi = moat_rule_zone_find(P->c, name.text);
	if (zi >= 0) {
		moat_rule_err(P, &name, "duplicate zone '%s' (first defined at line %d)",
			      name.text, P->c->zones[zi].line);
		return -1;
	}
	moat_rule_next(P);
	if (P->tok.kind != T_LBRACE)
		return moat_rule_expected(P, "'{' after the zone name");
	zi = zone_add(P, &name);
	if (zi < 0)
		return -1;
	moat_rule_next(P);
	zone_body(P, zi, &pv);
	if (P->tok.kind != T_RBRACE)
		ret = moat_rule_expected(P, "'}' to close the zone");
	else
		moat_rule_next(P);
	net = moat_rule_set_new(P->c, false);
	if (!net || moat_rule_set_fill_addrs(net, &pv) < 0)
		ret = -1;
	P->c->zones[zi].networks = net;
	P->c->zones[zi].has_networks = pv.n > 0;
	prefix_vec_free(&pv);
	return ret;
}

/* ---- sets ------------------------------------------------------------- */

/* The kind of a set follows its content: the first element decides. */
static int set_kind_peek(struct parser *P)
{
	struct lexer save_lx = P->lx;
	struct token save_tok = P->tok, first = P->tok;
	const struct moat_set *ref;

	if (first.kind == T_LBRACE) {
		moat_rule_next(P);
		moat_rule_skip_newlines(P);
		first = P->tok;
		P->lx = save_lx;
		P->tok = save_tok;
	}
	ref = first.kind == T_SETREF ? moat_rule_set_find(P->c, first.text)
				      : NULL;
	if ((ref && ref->kind == MOAT_SET_PORT) ||
	    (first.kind == T_WORD && !moat_rule_looks_addr(&first)))
		return MOAT_SET_PORT;
	return MOAT_SET_ADDR;
}

static int parse_set(struct parser *P)
{
	struct prefix_vec pv = { 0 };
	struct prange_vec rv = { 0 };
	struct moat_set *s, *prev;
	struct token name;
	int kind, ret;

	moat_rule_next(P);
	if (P->tok.kind != T_WORD || !moat_rule_valid_name(P->tok.text))
		return moat_rule_expected(P, "a set name");
	name = P->tok;
	moat_rule_next(P);
	if (P->tok.kind != T_EQ)
		return moat_rule_expected(P, "'=' after the set name");
	moat_rule_next(P);
	prev = moat_rule_set_find(P->c, name.text);
	if (prev) {
		moat_rule_err(P, &name, "duplicate set '%s' (first defined at line %d)",
			      name.text, prev->line);
		return -1;
	}
	kind = set_kind_peek(P);
	{
		const struct moat_set *named = NULL;

		ret = kind == MOAT_SET_PORT
			      ? moat_rule_parse_ports(P, &rv, &named)
			      : moat_rule_parse_addrs(P, &pv, &named);
	}
	s = moat_rule_set_new(P->c, true);
	if (!s) {
		ret = -1;
		goto out;
	}
	snprintf(s->name, sizeof(s->name), "%.63s", name.text);
	s->line = name.line;
	s->kind = kind;
	if ((kind == MOAT_SET_PORT ? moat_rule_set_fill_ports(s, &rv)
				   : moat_rule_set_fill_addrs(s, &pv)) < 0)
		ret = -1;
out:
	prefix_vec_free(&pv);
	prange_vec_free(&rv);
	return ret;
}

/* ---- the statement loop -------------------------------------------------- */

static int statement(struct parser *P)
{
	if (moat_rule_is(P, "zone"))
		return parse_zone(P);
	if (moat_rule_is(P, "set"))
		return parse_set(P);
	if (moat_rule_is(P, "options"))
		return moat_rule_parse_options(P);
	if (moat_rule_is(P, "include"))
		return parse_include(P);
	if (moat_rule_is(P, "pass") || moat_rule_is(P, "block") ||
	    moat_rule_is(P, "reject"))
		return moat_rule_parse_rule(P);
	if (P->tok.kind == T_BAD && !strcmp(P->tok.text, "\"")) {
		moat_rule_err(P, &P->tok, "unterminated string");
		return -1;
	}
	return moat_rule_expected(P, "a statement (zone, set, options, include, "
				     "pass, block or reject)");
}

static void parse_all(struct parser *P)
{
	for (;;) {
		while (P->tok.kind == T_NEWLINE || P->tok.kind == T_SEMI)
			moat_rule_next(P);
		if (P->tok.kind == T_EOF)
			return;
		if (statement(P) < 0) {
			recover(P);
			continue;
		}
		if (P->tok.kind != T_NEWLINE && P->tok.kind != T_SEMI &&
		    P->tok.kind != T_EOF) {
			(void)moat_rule_expected(P, "end of line");
			recover(P);
		}
	}
}

void moat_rule_parse_text(struct moat_config *c, struct moat_diags *d,
			  const char *file, const char *text, size_t len)
{
	struct include_chain chain = { .n = 0 };

	chain.path[0] = realpath(file, NULL);
	chain.n = 1;
	parse_nested(c, d, &chain, file, text, len);
	free(chain.path[0]);
}
