/*
 * The lexer of the rule language: text -> tokens, each with its line and
 * column (1-based, columns count bytes) so every diagnostic can point at
 * the exact place.  Control plane only.
 *
 * Newlines are tokens: a rule ends at the end of its line.  Inside braces
 * the parser skips them, so blocks and lists may span lines.  A word is a
 * run of [A-Za-z0-9_.:/+-]: that covers names, numbers, addresses (IPv4,
 * IPv6, CIDR), port ranges "80-90", rates "10/second" and flags "S/SA";
 * the parser decides what a word means where it stands.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "rules/internal.h"

void moat_rule_lex_init(struct lexer *lx, const char *file, const char *text,
			size_t len)
{
	memset(lx, 0, sizeof(*lx));
	lx->text = text;
	lx->len = len;
	lx->line = 1;
	lx->col = 1;
	lx->file = file;
}

static int peekc(const struct lexer *lx)
{
	return lx->pos < lx->len ? (unsigned char)lx->text[lx->pos] : -1;
}

static void advance(struct lexer *lx)
{
	if (lx->text[lx->pos] == '\n') {
		lx->line++;
		lx->col = 1;
	} else {
		lx->col++;
	}
	lx->pos++;
}

static bool is_word(int c)
{
	return c >= 0 && (isalnum(c) || c == '_' || c == '.' || c == ':' ||
			  c == '/' || c == '-' || c == '+');
}

static void put(struct token *t, size_t *n, int c)
{
	if (*n + 1 < sizeof(t->text))
		t->text[(*n)++] = (char)c;
	else
		t->too_long = true;
	t->text[*n] = '\0';
}

static void skip_blank(struct lexer *lx)
{
	for (;;) {
		int c = peekc(lx);

		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' ||
		    c == '\v') {
			advance(lx);
		} else if (c == '#') {
			while (peekc(lx) >= 0 && peekc(lx) != '\n')
				advance(lx);
		} else {
			return;
		}
	}
}

static void lex_string(struct lexer *lx, struct token *t)
{
	size_t n = 0;

	advance(lx); /* the opening quote */
	t->kind = T_STRING;
	for (;;) {
		int c = peekc(lx);

		if (c < 0 || c == '\n') {
			t->kind = T_BAD; /* unterminated: the parser says so */
			snprintf(t->text, sizeof(t->text), "\"");
			return;
		}
		advance(lx);
		if (c == '"')
			return;
		put(t, &n, c);
	}
}

static int single(int c)
{
	switch (c) {
	case '{': return T_LBRACE;
	case '}': return T_RBRACE;
	case ',': return T_COMMA;
	case ';': return T_SEMI;
	case '=': return T_EQ;
	case '!': return T_BANG;
	case '\n': return T_NEWLINE;
	default: return -1;
	}
}

void moat_rule_lex_next(struct lexer *lx, struct token *t)
{
	size_t n = 0;
	int c, k;

	skip_blank(lx);
	memset(t, 0, sizeof(*t));
	t->line = lx->line;
	t->col = lx->col;
	c = peekc(lx);
	if (c < 0) {
		t->kind = T_EOF;
		return;
	}
	if (c == '"') {
		lex_string(lx, t);
		return;
	}
	k = single(c);
	if (k >= 0) {
		t->kind = k;
		put(t, &n, c);
		advance(lx);
		return;
	}
	if (c == '@') {
		advance(lx);
		t->kind = T_SETREF;
		while (is_word(peekc(lx))) {
			put(t, &n, peekc(lx));
			advance(lx);
		}
		return;
	}
	if (!is_word(c)) {
		t->kind = T_BAD;
		if (isprint(c))
			put(t, &n, c);
		else
			snprintf(t->text, sizeof(t->text), "\\x%02x", c);
		advance(lx);
		return;
	}
	t->kind = T_WORD;
	while (is_word(peekc(lx))) {
		put(t, &n, peekc(lx));
		advance(lx);
	}
}

/* "'pass'", "end of line", "end of file": what an error says it found. */
const char *moat_rule_tok_describe(const struct token *t, char *buf,
				   size_t len)
{
	switch (t->kind) {
	case T_EOF:
		snprintf(buf, len, "end of file");
		break;
	case T_NEWLINE:
		snprintf(buf, len, "end of line");
		break;
	case T_STRING:
		snprintf(buf, len, "string \"%.60s\"", t->text);
		break;
	case T_SETREF:
		snprintf(buf, len, "'@%.60s'", t->text);
		break;
	default:
		snprintf(buf, len, "'%.60s'", t->text);
		break;
	}
	return buf;
}
