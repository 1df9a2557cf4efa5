/*
 * The values of the rule language: numbers, rates, addresses and CIDRs,
 * ports and port ranges (numbers or a few service names), and the `{ }`
 * lists and `@set` references that group them.  Control plane only.
 *
 *   addrs := ADDR | ADDR/LEN | @set | "{" { (ADDR | ADDR/LEN | @set) [","] } "}"
 *   ports := PORT | PORT-PORT | @set | "{" { (PORT | PORT-PORT | @set) [","] } "}"
 *   rate  := N/second | N/minute
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/parse.h"

/* Well-known ports by name (IANA service names), for readability. */
static const struct {
	const char *name;
	uint16_t port;
} services[] = {
	{ "ftp", 21 }, { "ssh", 22 }, { "telnet", 23 }, { "smtp", 25 },
	{ "domain", 53 }, { "http", 80 }, { "pop3", 110 }, { "ntp", 123 },
	{ "imap", 143 }, { "snmp", 161 }, { "bgp", 179 }, { "ldap", 389 },
	{ "https", 443 }, { "submissions", 465 }, { "exec", 512 },
	{ "login", 513 }, { "shell", 514 }, { "submission", 587 },
	{ "rsync", 873 }, { "imaps", 993 }, { "pop3s", 995 },
};

/*
 * IP protocol numbers by name (IANA's registry, the names of Debian's
 * /etc/protocols) for `proto NAME`; any other number is written as such.
 * In IPv6, AH (51) is an extension header the decoder walks past, so a
 * rule sees the protocol behind it.
 */
static const struct {
	const char *name;
	uint8_t number;
} protocols[] = {
	{ "icmp", 1 }, { "igmp", 2 }, { "ipencap", 4 }, { "tcp", 6 },
	{ "egp", 8 }, { "udp", 17 }, { "ipv6", 41 }, { "rsvp", 46 },
	{ "gre", 47 }, { "esp", 50 }, { "ah", 51 }, { "icmp6", 58 },
	{ "ipv6-icmp", 58 }, { "eigrp", 88 }, { "ospf", 89 }, { "pim", 103 },
	{ "vrrp", 112 }, { "l2tp", 115 }, { "sctp", 132 }, { "udplite", 136 },
};

int moat_rule_proto_number(const char *name)
{
	for (size_t i = 0; i < sizeof(protocols) / sizeof(*protocols); i++)
		if (!strcmp(name, protocols[i].name))
			return protocols[i].number;
	return -1;
}

const char *moat_rule_proto_name(uint8_t number)
{
	for (size_t i = 0; i < sizeof(protocols) / sizeof(*protocols); i++)
		if (protocols[i].number == number)
			return protocols[i].name;
	return NULL;
}

/* Digits only, no sign, no overflow past UINT32_MAX: -1 otherwise. */
static int word_u32(const char *s, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (const char *q = s; *q; q++) {
		if (*q < '0' || *q > '9')
			return -1;
		v = v * 10 + (uint64_t)(*q - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int moat_rule_parse_u32(struct parser *P, const char *what, uint32_t min,
			uint32_t max, uint32_t *out)
{
	uint32_t v;

	if (P->tok.kind != T_WORD || word_u32(P->tok.text, &v) < 0)
		return moat_rule_expected(P, what);
	if (v < min || v > max) {
		moat_rule_err(P, &P->tok, "%s %u is out of range (%u-%u)", what, v,
			      min, max);
		moat_rule_next(P);
		return -1;
	}
	*out = v;
	moat_rule_next(P);
	return 0;
}

int moat_rule_parse_rate(struct parser *P, struct moat_rule_rate *r)
{
	char buf[TOK_MAX], *slash;
	uint32_t n;

	if (P->tok.kind != T_WORD)
		return moat_rule_expected(P, "a rate such as 10/second");
	snprintf(buf, sizeof(buf), "%s", P->tok.text);
	slash = strchr(buf, '/');
	if (!slash)
		return moat_rule_expected(P, "a rate such as 10/second");
	*slash++ = '\0';
	if (word_u32(buf, &n) < 0 || n == 0 ||
	    (strcmp(slash, "second") && strcmp(slash, "minute")))
		return moat_rule_expected(P, "a rate such as 10/second or 60/minute");
	r->count = n;
	r->period_ns = !strcmp(slash, "second") ? 1000000000ull
						: 60000000000ull;
	moat_rule_next(P);
	return 0;
}

bool moat_rule_looks_addr(const struct token *t)
{
	const char *s = t->text;

	if (t->kind != T_WORD)
		return false;
	if (strchr(s, ':'))
		return isxdigit((unsigned char)s[0]) || s[0] == ':';
	return strchr(s, '.') && isdigit((unsigned char)s[0]);
}

int moat_rule_word_addr(struct parser *P, const struct token *t,
			struct prefix *out)
{
	char buf[TOK_MAX], *slash;
	struct moat_addr a;
	uint32_t len;
	bool host = false;
	int bits;

	snprintf(buf, sizeof(buf), "%s", t->text);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (moat_addr_parse(&a, buf) < 0) {
		moat_rule_err(P, t, "'%s' is not an IPv4 or IPv6 address", buf);
		return -1;
	}
	bits = a.family == MOAT_AF_INET ? 32 : 128;
	len = (uint32_t)bits;
	if (slash && word_u32(slash, &len) < 0) {
		moat_rule_err(P, t, "'%s' is not a prefix length", slash);
		return -1;
	}
	if (len > (uint32_t)bits) {
		moat_rule_err(P, t, "prefix length /%u is too long for %s (at most /%d)",
			      len, bits == 32 ? "IPv4" : "IPv6", bits);
		return -1;
	}
	prefix_from_addr(out, &a, (int)len, &host);
	if (host)
		moat_rule_warn(P, t, "host bits set in '%s': it means the whole /%u network",
			       t->text, len);
	return 0;
}

int moat_rule_add_set_prefixes(struct prefix_vec *pv, const struct moat_set *s)
{
	return moat_rule_lpm_to_prefixes(&s->lpm, pv);
}

/* One element of an address expression: ADDR, CIDR or @set. */
static int addr_elem(struct parser *P, struct prefix_vec *pv)
{
	struct token t = P->tok;
	struct prefix p;

	moat_rule_next(P);
	if (t.kind == T_SETREF) {
		const struct moat_set *s = moat_rule_set_find(P->c, t.text);

		if (!s) {
			moat_rule_err(P, &t, "unknown set '@%s'", t.text);
			return -1;
		}
		if (s->kind != MOAT_SET_ADDR) {
			moat_rule_err(P, &t, "'@%s' is a port set; expected addresses",
				      t.text);
			return -1;
		}
		return moat_rule_add_set_prefixes(pv, s);
	}
	if (t.kind == T_WORD && moat_rule_looks_addr(&t)) {
		if (moat_rule_word_addr(P, &t, &p) < 0)
			return -1;
		return prefix_vec_push(pv, &p);
	}
	{
		char buf[96];

		moat_rule_err(P, &t, "expected an address, CIDR or @set, found %s",
			      moat_rule_tok_describe(&t, buf, sizeof(buf)));
	}
	return -1;
}

/* "{" elem { [","] elem } "}" with newlines anywhere inside. */
static int parse_list(struct parser *P, struct prefix_vec *pv,
		      struct prange_vec *rv)
{
	int ret = 0;

	moat_rule_next(P); /* '{' */
	for (int guard = 0; guard < (1 << 24); guard++) {
		while (P->tok.kind == T_NEWLINE || P->tok.kind == T_COMMA)
			moat_rule_next(P);
		if (P->tok.kind == T_RBRACE) {
			moat_rule_next(P);
			return ret;
		}
		if (P->tok.kind == T_EOF || P->tok.kind == T_LBRACE ||
		    P->tok.kind == T_SEMI)
			return moat_rule_expected(P, "'}' to close the list");
		if ((pv ? addr_elem(P, pv) : moat_rule_word_port(P, &P->tok, rv)) < 0)
			ret = -1; /* keep going: report every bad element */
	}
	return -1;
}

int moat_rule_parse_addrs(struct parser *P, struct prefix_vec *pv,
			  const struct moat_set **named)
{
	*named = NULL;
	if (P->tok.kind == T_LBRACE)
		return parse_list(P, pv, NULL);
	if (P->tok.kind == T_SETREF) {
		const struct moat_set *s = moat_rule_set_find(P->c, P->tok.text);

		if (s && s->kind == MOAT_SET_ADDR)
			*named = s;
		return addr_elem(P, pv);
	}
	if (P->tok.kind == T_WORD && moat_rule_looks_addr(&P->tok))
		return addr_elem(P, pv);
	return moat_rule_expected(P, "an address, CIDR, @set or { list }");
}

static int port_number(struct parser *P, const struct token *t, const char *s,
		       uint32_t *out)
{
	uint32_t v;

	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (!strcmp(s, services[i].name)) {
			*out = services[i].port;
			return 0;
		}
	if (word_u32(s, &v) < 0) {
		if (s[0] && strspn(s, "0123456789") == strlen(s))
			moat_rule_err(P, t, "port %s is out of range (1-65535)", s);
		else
			moat_rule_err(P, t, "expected a port number or range, found '%s'",
				      s);
		return -1;
	}
	if (v == 0) {
		moat_rule_err(P, t, "port 0 is not a valid port (1-65535)");
		return -1;
	}
	if (v > 65535) {
		moat_rule_err(P, t, "port %u is out of range (1-65535)", v);
		return -1;
	}
	*out = v;
	return 0;
}

/* PORT, PORT-PORT or @portset; consumes the token. */
int moat_rule_word_port(struct parser *P, const struct token *t,
			struct prange_vec *pv)
{
	struct token at = *t;
	char buf[TOK_MAX], *dash;
	uint32_t lo, hi;

	moat_rule_next(P);
	if (at.kind == T_SETREF) {
		const struct moat_set *s = moat_rule_set_find(P->c, at.text);

		if (!s) {
			moat_rule_err(P, &at, "unknown set '@%s'", at.text);
			return -1;
		}
		if (s->kind != MOAT_SET_PORT) {
			moat_rule_err(P, &at, "'@%s' is an address set; expected ports",
				      at.text);
			return -1;
		}
		for (uint32_t i = 0; i < s->ports.n; i++)
			if (prange_vec_push(pv, s->ports.lo[i], s->ports.hi[i]) < 0)
				return -1;
		return 0;
	}
	if (at.kind != T_WORD) {
		char d[96];

		moat_rule_err(P, &at, "expected a port, range or @set, found %s",
			      moat_rule_tok_describe(&at, d, sizeof(d)));
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", at.text);
	dash = strchr(buf, '-');
	if (dash && buf[0] >= '0' && buf[0] <= '9')
		*dash++ = '\0';
	else
		dash = NULL;
	if (port_number(P, &at, buf, &lo) < 0)
		return -1;
	hi = lo;
	if (dash && port_number(P, &at, dash, &hi) < 0)
		return -1;
	if (hi < lo) {
		moat_rule_err(P, &at, "port range %u-%u is reversed", lo, hi);
		return -1;
	}
	return prange_vec_push(pv, lo, hi);
}

int moat_rule_parse_ports(struct parser *P, struct prange_vec *pv,
			  const struct moat_set **named)
{
	*named = NULL;
	if (P->tok.kind == T_LBRACE)
		return parse_list(P, NULL, pv);
	if (P->tok.kind == T_SETREF) {
		const struct moat_set *s = moat_rule_set_find(P->c, P->tok.text);

		if (s && s->kind == MOAT_SET_PORT)
			*named = s;
	}
	if (P->tok.kind == T_WORD || P->tok.kind == T_SETREF)
		return moat_rule_word_port(P, &P->tok, pv);
	return moat_rule_expected(P, "a port, range, @set or { list }");
}

int moat_rule_set_fill_addrs(struct moat_set *s, struct prefix_vec *pv)
{
	s->kind = MOAT_SET_ADDR;
	return moat_rule_lpm_build(&s->lpm, pv->v, pv->n);
}

int moat_rule_set_fill_ports(struct moat_set *s, struct prange_vec *pv)
{
	s->kind = MOAT_SET_PORT;
	return moat_rule_ports_build(&s->ports, pv->v, pv->n);
}
