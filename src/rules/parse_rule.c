/*
 * `pass`, `block` and `reject` rules: what the matcher will compare a
 * packet against, and what the engine does on a match.  Clauses may come
 * in any order; a rule ends at the end of its line (or ';').
 *
 *   rule   := action { clause }
 *   action := "pass" | "block" | "reject"
 *   clause := "from" side | "to" side | proto | "port" ports | "inet" | "inet6"
 *           | "flags" FLAGS | "type" icmptypes | "code" N
 *           | "log" | "synproxy" | "modulate" | "no" "state" | "keep" "state"
 *           | "limit" rate | "max-conn" N | "max-src-conn" N
 *           | "max-src-rate" rate | "overload" @set [ "expire" N ]
 *           | "syncookies" ("off" | "on" | "auto")
 *   side   := "any" [ "port" ports ]
 *           | [ "!" ] ZONE [ [ "!" ] addrs ] [ "port" ports ]
 *           | [ "!" ] addrs [ "port" ports ]
 *   proto  := "tcp" | "udp" | "icmp" | "icmp6" | "proto" (P | "{" P... "}")
 *   P      := a protocol name (tcp, udp, gre, esp, ah, sctp...) | 0-255
 *
 * `port` right after a `from` side is the source port; anywhere else it is
 * the destination port.  Checks that need only this rule happen here;
 * checks across rules are in check.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/parse.h"

enum { TYPES_MAX = 32 };

struct draft {
	struct moat_rule r;
	struct moat_rule_match m;
	struct token at;              /* the action word */
	bool has_from, has_to, has_proto;
	uint8_t fam_kw;               /* `inet` / `inet6`, else 0 */
	struct token port_at[2];      /* [0] source, [1] destination; line 0 unset */
	struct token flags_at, type_at, code_at, synproxy_at, modulate_at;
	struct token state_at, limit_at, conn_at, overload_at;
	struct token types[TYPES_MAX];
	int ntypes;
	bool bad;
};

/* ICMP (RFC 792) and ICMPv6 (RFC 4443, 4861) type names; -1: none. */
static const struct {
	const char *name;
	int16_t v4, v6;
} icmp_types[] = {
	{ "echo-reply", 0, 129 }, { "echorep", 0, 129 },
	{ "unreach", 3, 1 }, { "destination-unreachable", 3, 1 },
	{ "source-quench", 4, -1 }, { "redirect", 5, 137 },
	{ "echo-request", 8, 128 }, { "echoreq", 8, 128 },
	{ "router-advertisement", 9, 134 }, { "router-solicitation", 10, 133 },
	{ "time-exceeded", 11, 3 }, { "timex", 11, 3 },
	{ "parameter-problem", 12, 4 }, { "paramprob", 12, 4 },
	{ "timestamp", 13, -1 }, { "timestamp-reply", 14, -1 },
	{ "packet-too-big", -1, 2 }, { "neighbor-solicitation", -1, 135 },
	{ "neighbor-advertisement", -1, 136 },
};

static bool is_end(const struct parser *P)
{
	return P->tok.kind == T_NEWLINE || P->tok.kind == T_SEMI ||
	       P->tok.kind == T_EOF;
}

static const struct moat_set *anon_addrs(struct parser *P,
					 struct prefix_vec *pv)
{
	struct moat_set *s = moat_rule_set_new(P->c, false);

	if (!s || moat_rule_set_fill_addrs(s, pv) < 0)
		return NULL;
	return s;
}

static int side_ports(struct parser *P, struct draft *R, int which,
		      const struct moat_set **out)
{
	struct prange_vec rv = { 0 };
	const struct moat_set *named = NULL;
	struct moat_set *s;
	int ret;

	if (R->port_at[which].line) {
		moat_rule_err(P, &P->tok, "%s port given twice",
			      which ? "destination" : "source");
		R->bad = true;
	}
	R->port_at[which] = P->tok;
	moat_rule_next(P);
	ret = moat_rule_parse_ports(P, &rv, &named);
	if (ret == 0 && named) {
		*out = named;
	} else if (ret == 0) {
		s = moat_rule_set_new(P->c, false);
		if (!s || moat_rule_set_fill_ports(s, &rv) < 0)
			ret = -1;
		*out = s;
	}
	prange_vec_free(&rv);
	return ret;
}

static bool addr_start(const struct parser *P)
{
	return P->tok.kind == T_SETREF || P->tok.kind == T_LBRACE ||
	       moat_rule_looks_addr(&P->tok);
}

static int side_addrs(struct parser *P, struct side *s, bool neg)
{
	struct prefix_vec pv = { 0 };
	const struct moat_set *named = NULL;
	int ret = moat_rule_parse_addrs(P, &pv, &named);

	if (ret == 0) {
		s->set = named ? named : anon_addrs(P, &pv);
		s->set_neg = neg;
		if (!s->set)
			ret = -1;
	}
	prefix_vec_free(&pv);
	return ret;
}

/* The target of `from`/`to`: zone, addresses, or both. */
static int side_target(struct parser *P, struct side *s, const char *kw)
{
	bool neg = false;
	int zi;

	if (moat_rule_is(P, "any")) {
		moat_rule_next(P);
		return 0;
	}
	if (P->tok.kind == T_BANG) {
		neg = true;
		moat_rule_next(P);
	}
	zi = P->tok.kind == T_WORD ? moat_rule_zone_find(P->c, P->tok.text) : -1;
	if (zi >= 0) {
		s->zone = zi;
		s->zone_neg = neg;
		moat_rule_next(P);
		neg = false;
		if (P->tok.kind == T_BANG) {
			neg = true;
			moat_rule_next(P);
			if (!addr_start(P))
				return moat_rule_expected(P, "an address, CIDR, @set or { list } after '!'");
		}
		return addr_start(P) ? side_addrs(P, s, neg) : 0;
	}
	if (addr_start(P))
		return side_addrs(P, s, neg);
	if (P->tok.kind == T_WORD && moat_rule_valid_name(P->tok.text)) {
		moat_rule_err(P, &P->tok, "unknown zone '%s' after '%s'", P->tok.text,
			      kw);
		return -1;
	}
	{
		char what[96];

		snprintf(what, sizeof(what),
			 "a zone, address, CIDR, @set, { list } or 'any' after '%.4s'", kw);
		return moat_rule_expected(P, what);
	}
}

static int parse_side(struct parser *P, struct draft *R, bool from)
{
	struct side *s = from ? &R->m.from : &R->m.to;
	bool *seen = from ? &R->has_from : &R->has_to;
	struct token kw = P->tok;

	if (*seen) {
		moat_rule_err(P, &kw, "'%s' given twice in one rule", kw.text);
		return -1;
	}
	*seen = true;
	moat_rule_next(P);
	if (side_target(P, s, kw.text) < 0)
		return -1;
	if (moat_rule_is(P, "port"))
		return side_ports(P, R, from ? 0 : 1, from ? &s->port : &R->m.to.port);
	return 0;
}

static int proto_bit(const char *w)
{
	static const char *const names[] = { "tcp", "udp", "icmp", "icmp6" };

	for (int i = 0; i < 4; i++)
		if (!strcmp(w, names[i]))
			return 1 << i;
	return 0;
}

/* Protocol number @n into the rule: its class, or a bit of `other`. */
static void add_proto(struct moat_rule_match *m, uint8_t n)
{
	switch (n) {
	case MOAT_IPPROTO_TCP: m->protos |= 1 << PC_TCP; return;
	case MOAT_IPPROTO_UDP: m->protos |= 1 << PC_UDP; return;
	case MOAT_IPPROTO_ICMP: m->protos |= 1 << PC_ICMP; return;
	case MOAT_IPPROTO_ICMPV6: m->protos |= 1 << PC_ICMP6; return;
	default:
		m->protos |= 1 << PC_OTHER;
		m->other[n / 8] |= (uint8_t)(1u << (n % 8));
	}
}

/* One word after `proto`: a name (tcp, gre, esp, sctp...) or 0-255. */
static int proto_word(struct parser *P, struct draft *R, const char *what)
{
	const char *w = P->tok.text;
	uint32_t v;
	int n;

	if (P->tok.kind != T_WORD)
		return moat_rule_expected(P, what);
	if (w[0] >= '0' && w[0] <= '9') {
		if (moat_rule_parse_u32(P, "a protocol number", 0, 255, &v) < 0)
			return -1;
		add_proto(&R->m, (uint8_t)v);
		return 0;
	}
	n = moat_rule_proto_number(w);
	if (n < 0) {
		moat_rule_err(P, &P->tok, "unknown protocol '%s' (a name such "
			      "as gre, esp, ah or sctp, or a number 0-255)", w);
		return -1;
	}
	add_proto(&R->m, (uint8_t)n);
	moat_rule_next(P);
	return 0;
}

static int parse_proto(struct parser *P, struct draft *R)
{
	if (R->has_proto) {
		moat_rule_err(P, &P->tok, "protocol given twice (use proto { tcp, udp })");
		return -1;
	}
	R->has_proto = true;
	R->m.protos = 0;
	memset(R->m.other, 0, sizeof(R->m.other));
	if (!moat_rule_is(P, "proto")) {
		R->m.protos = (uint8_t)proto_bit(P->tok.text);
		moat_rule_next(P);
		return 0;
	}
	moat_rule_next(P);
	if (P->tok.kind != T_LBRACE)
		return proto_word(P, R, "a protocol (tcp, udp, icmp, icmp6, gre, "
				  "esp, ah, sctp..., or a number 0-255)");
	moat_rule_next(P);
	for (int guard = 0; guard < 512; guard++) {
		while (P->tok.kind == T_COMMA || P->tok.kind == T_NEWLINE)
			moat_rule_next(P);
		if (P->tok.kind == T_RBRACE) {
			moat_rule_next(P);
			return R->m.protos ? 0 : moat_rule_expected(P, "a protocol");
		}
		if (proto_word(P, R, "a protocol or '}'") < 0)
			return -1;
	}
	return moat_rule_expected(P, "'}'");
}

/* pf's flags: "S/SA" (set/mask), "S" (mask: all), "any". */
static int parse_flags(struct parser *P, struct draft *R)
{
	static const char letters[] = "FSRPAUEW";
	uint8_t v[2] = { 0, 0 };
	int part = 0;

	R->flags_at = P->tok;
	moat_rule_next(P);
	if (moat_rule_is(P, "any")) {
		moat_rule_next(P);
		R->m.has_flags = false;
		return 0;
	}
	if (P->tok.kind != T_WORD)
		return moat_rule_expected(P, "TCP flags such as S/SA, or 'any'");
	for (const char *q = P->tok.text; *q; q++) {
		const char *l = strchr(letters, *q);

		if (*q == '/' && part == 0) {
			part = 1;
			continue;
		}
		if (!l || !*q) {
			moat_rule_err(P, &P->tok,
				      "bad TCP flags '%s': use the letters FSRPAUEW as in S/SA",
				      P->tok.text);
			moat_rule_next(P);
			return -1;
		}
		v[part] |= (uint8_t)(1u << (l - letters));
	}
	if (part == 0)
		v[1] = 0xff;
	if ((v[0] & v[1]) != v[0]) {
		moat_rule_err(P, &P->tok, "flags '%s' can never match: the set flags "
			      "are not all in the mask", P->tok.text);
		moat_rule_next(P);
		return -1;
	}
	R->m.has_flags = true;
	R->m.flags_set = v[0];
	R->m.flags_mask = v[1];
	moat_rule_next(P);
	return 0;
}

static int type_word(struct parser *P, struct draft *R)
{
	if (P->tok.kind != T_WORD)
		return moat_rule_expected(P, "an ICMP type name or number");
	if (R->ntypes < TYPES_MAX)
		R->types[R->ntypes++] = P->tok;
	moat_rule_next(P);
	return 0;
}

static int parse_type(struct parser *P, struct draft *R)
{
	if (R->type_at.line) {
		moat_rule_err(P, &P->tok, "ICMP type given twice");
		return -1;
	}
	R->type_at = P->tok;
	moat_rule_next(P);
	if (P->tok.kind != T_LBRACE)
		return type_word(P, R);
	moat_rule_next(P);
	for (int guard = 0; guard < 512; guard++) {
		while (P->tok.kind == T_COMMA || P->tok.kind == T_NEWLINE)
			moat_rule_next(P);
		if (P->tok.kind == T_RBRACE) {
			moat_rule_next(P);
			return 0;
		}
		if (type_word(P, R) < 0)
			return -1;
	}
	return moat_rule_expected(P, "'}'");
}

static int parse_overload(struct parser *P, struct draft *R)
{
	struct moat_set *s;
	uint32_t v;

	R->overload_at = P->tok;
	moat_rule_next(P);
	if (P->tok.kind != T_SETREF && P->tok.kind != T_WORD)
		return moat_rule_expected(P, "@set after 'overload'");
	s = moat_rule_set_find(P->c, P->tok.text);
	if (!s) {
		moat_rule_err(P, &P->tok, "unknown set '@%s'", P->tok.text);
		return -1;
	}
	if (s->kind != MOAT_SET_ADDR) {
		moat_rule_err(P, &P->tok, "overload needs an address set; '@%s' holds ports",
			      P->tok.text);
		return -1;
	}
	s->overload = true;
	R->r.overload_set = s->index;
	moat_rule_next(P);
	if (!moat_rule_is(P, "expire"))
		return 0;
	moat_rule_next(P);
	if (moat_rule_parse_u32(P, "an expiry in seconds", 1, 30 * 86400, &v) < 0)
		return -1;
	R->r.overload_expire = v;
	return 0;
}

static int parse_state(struct parser *P, struct draft *R)
{
	bool keep = moat_rule_is(P, "keep");

	R->state_at = P->tok;
	moat_rule_next(P);
	if (!moat_rule_is(P, "state"))
		return moat_rule_expected(P, keep ? "'state' after 'keep'"
						  : "'state' after 'no'");
	moat_rule_next(P);
	R->r.keep_state = keep;
	return 0;
}

static int parse_syncookies(struct parser *P, struct draft *R)
{
	static const char *const modes[] = { "off", "on", "auto" };

	moat_rule_next(P);
	for (int i = 0; i < 3; i++)
		if (moat_rule_is(P, modes[i])) {
			R->r.syncookies = (int8_t)i;
			moat_rule_next(P);
			return 0;
		}
	return moat_rule_expected(P, "'off', 'on' or 'auto'");
}

static int parse_count(struct parser *P, struct token *at, uint32_t *out)
{
	*at = P->tok;
	moat_rule_next(P);
	return moat_rule_parse_u32(P, "a count", 1, 1u << 30, out);
}

static int parse_rate_opt(struct parser *P, struct token *at,
			  struct moat_rule_rate *r)
{
	*at = P->tok;
	moat_rule_next(P);
	return moat_rule_parse_rate(P, r);
}

static int flag_opt(struct parser *P, bool *b, struct token *at)
{
	if (at)
		*at = P->tok;
	*b = true;
	moat_rule_next(P);
	return 0;
}

static int clause(struct parser *P, struct draft *R)
{
	const char *w = P->tok.text;

	if (P->tok.kind != T_WORD)
		goto bad;
	if (!strcmp(w, "from") || !strcmp(w, "to"))
		return parse_side(P, R, w[0] == 'f');
	if (proto_bit(w) || !strcmp(w, "proto"))
		return parse_proto(P, R);
	if (!strcmp(w, "port"))
		return side_ports(P, R, 1, &R->m.to.port);
	if (!strcmp(w, "inet") || !strcmp(w, "inet6")) {
		if (R->fam_kw)
			return moat_rule_expected(P, "one address family, not two");
		R->fam_kw = w[4] ? FAM6 : FAM4;
		moat_rule_next(P);
		return 0;
	}
	if (!strcmp(w, "flags"))
		return parse_flags(P, R);
	if (!strcmp(w, "type") || !strcmp(w, "icmp-type"))
		return parse_type(P, R);
	if (!strcmp(w, "code")) {
		uint32_t v;

		R->code_at = P->tok;
		moat_rule_next(P);
		if (moat_rule_parse_u32(P, "an ICMP code", 0, 255, &v) < 0)
			return -1;
		R->m.icmp_code = (int16_t)v;
		return 0;
	}
	if (!strcmp(w, "log"))
		return flag_opt(P, &R->r.log, NULL);
	if (!strcmp(w, "synproxy"))
		return flag_opt(P, &R->r.synproxy, &R->synproxy_at);
	if (!strcmp(w, "modulate"))
		return flag_opt(P, &R->r.modulate, &R->modulate_at);
	if (!strcmp(w, "no") || !strcmp(w, "keep"))
		return parse_state(P, R);
	if (!strcmp(w, "limit"))
		return parse_rate_opt(P, &R->limit_at, &R->r.limit);
	if (!strcmp(w, "max-conn"))
		return parse_count(P, &R->conn_at, &R->r.max_conn);
	if (!strcmp(w, "max-src-conn"))
		return parse_count(P, &R->conn_at, &R->r.max_src_conn);
	if (!strcmp(w, "max-src-rate"))
		return parse_rate_opt(P, &R->conn_at, &R->r.max_src_rate);
	if (!strcmp(w, "overload"))
		return parse_overload(P, R);
	if (!strcmp(w, "syncookies"))
		return parse_syncookies(P, R);
	if (!strcmp(w, "quick")) {
		moat_rule_warn(P, &P->tok, "'quick' is implied: the first matching rule always wins");
		moat_rule_next(P);
		return 0;
	}
bad:
	return moat_rule_expected(P, "from, to, a protocol, inet, inet6, port, flags, type, or a "
				     "rule option (log, synproxy, modulate, limit, "
				     "max-conn, no state, ...)");
}

/* Resolve the ICMP type words now that the protocol is known. */
static void resolve_types(struct parser *P, struct draft *R)
{
	bool v6 = R->m.protos == (1 << PC_ICMP6);

	if (R->m.protos != (1 << PC_ICMP) && !v6) {
		moat_rule_err(P, &R->type_at, "'type' needs exactly one of icmp or icmp6");
		R->bad = true;
		return;
	}
	R->m.has_icmp_type = true;
	for (int i = 0; i < R->ntypes; i++) {
		const char *w = R->types[i].text;
		int t = -1;
		uint32_t n;

		for (size_t k = 0; k < sizeof(icmp_types) / sizeof(*icmp_types); k++)
			if (!strcmp(w, icmp_types[k].name))
				t = v6 ? icmp_types[k].v6 : icmp_types[k].v4;
		if (t < 0 && w[0] >= '0' && w[0] <= '9' &&
		    strspn(w, "0123456789") == strlen(w) && strlen(w) <= 3 &&
		    (n = (uint32_t)atoi(w)) <= 255)
			t = (int)n;
		if (t < 0) {
			moat_rule_err(P, &R->types[i], "unknown %s type '%s'",
				      v6 ? "ICMPv6" : "ICMP", w);
			R->bad = true;
			continue;
		}
		R->m.icmp_types[t / 8] |= (uint8_t)(1u << (t % 8));
	}
}

static uint8_t side_fam(const struct side *s)
{
	uint8_t f;

	if (!s->set || s->set_neg)
		return FAMALL;
	f = moat_rule_lpm_families(&s->set->lpm);
	return f ? f : FAMALL;
}

static const char *fam_name(uint8_t f)
{
	return f == FAM4 ? "IPv4 only" : f == FAM6 ? "IPv6 only" : "any family";
}

static void check_family(struct parser *P, struct draft *R)
{
	uint8_t pf = FAMALL, sf = side_fam(&R->m.from), df = side_fam(&R->m.to);

	if (!(R->m.protos & ~((1 << PC_ICMP) | (1 << PC_ICMP6))))
		pf = (uint8_t)(((R->m.protos & (1 << PC_ICMP)) ? FAM4 : 0) |
			       ((R->m.protos & (1 << PC_ICMP6)) ? FAM6 : 0));
	R->m.fam = sf & df & pf & (R->fam_kw ? R->fam_kw : FAMALL);
	if (R->m.fam)
		return;
	if (R->fam_kw && (sf & df & pf))
		moat_rule_err(P, &R->at, "rule can never match: it says %s but its "
			      "addresses or protocol are %s", R->fam_kw == FAM4 ?
			      "inet" : "inet6", fam_name(sf & df & pf));
	else
		moat_rule_err(P, &R->at, "rule can never match: source is %s, "
			      "destination is %s, protocol is %s", fam_name(sf),
			      fam_name(df), fam_name(pf));
	R->bad = true;
}

static void check_ports(struct parser *P, struct draft *R)
{
	for (int i = 0; i < 2; i++) {
		if (!R->port_at[i].line)
			continue;
		if (!R->has_proto || (R->m.protos & ~((1 << PC_TCP) | (1 << PC_UDP)))) {
			moat_rule_err(P, &R->port_at[i], "'port' needs tcp or udp in the rule");
			R->bad = true;
		}
	}
	if (R->flags_at.line && R->m.has_flags && R->m.protos != (1 << PC_TCP)) {
		moat_rule_err(P, &R->flags_at, "'flags' needs tcp (and only tcp)");
		R->bad = true;
	}
	if (R->code_at.line && !R->type_at.line) {
		moat_rule_err(P, &R->code_at, "'code' needs an ICMP 'type' before it");
		R->bad = true;
	}
	if (R->type_at.line)
		resolve_types(P, R);
}

static void check_action(struct parser *P, struct draft *R)
{
	bool pass = R->r.action == MOAT_RULE_PASS;
	bool tcp_only = R->m.protos == (1 << PC_TCP);

	if (R->r.synproxy && (!pass || !tcp_only)) {
		moat_rule_err(P, &R->synproxy_at, "synproxy needs a pass rule for tcp only");
		R->bad = true;
	}
	if (R->r.synproxy && pass && !R->r.keep_state) {
		moat_rule_err(P, &R->synproxy_at, "synproxy needs state; remove 'no state'");
		R->bad = true;
	}
	if (R->r.modulate && (!pass || !R->r.keep_state)) {
		moat_rule_err(P, &R->modulate_at, "modulate needs a pass rule that keeps "
			      "state ('no state' cannot translate sequence numbers)");
		R->bad = true;
	}
	if ((R->r.limit.count || R->conn_at.line) && !pass) {
		moat_rule_err(P, R->limit_at.line ? &R->limit_at : &R->conn_at,
			      "limits only make sense on a pass rule");
		R->bad = true;
	}
	if (R->conn_at.line && pass && !R->r.keep_state) {
		moat_rule_err(P, &R->conn_at, "connection limits need state; remove 'no state'");
		R->bad = true;
	}
	if (R->overload_at.line && !R->r.max_src_conn && !R->r.max_src_rate.count) {
		moat_rule_err(P, &R->overload_at,
			      "overload needs max-src-conn or max-src-rate in the rule");
		R->bad = true;
	}
	if (pass && !R->r.keep_state && (R->m.protos & (1 << PC_TCP)))
		moat_rule_warn(P, &R->state_at, "pass without state for tcp: replies "
			       "need a rule of their own and the window is not checked");
}

static int append_rule(struct parser *P, struct draft *R)
{
	struct moat_config *c = P->c;

	if (c->nrules == c->caprules) {
		int cap = c->caprules ? c->caprules * 2 : 16;
		struct moat_rule *r = realloc(c->rules, (size_t)cap * sizeof(*r));
		struct moat_rule_match *m;

		if (!r)
			return -1;
		c->rules = r;
		m = realloc(c->matches, (size_t)cap * sizeof(*m));
		if (!m)
			return -1;
		c->matches = m;
		c->caprules = cap;
	}
	R->r.number = c->nrules + 1;
	c->rules[c->nrules] = R->r;
	c->matches[c->nrules] = R->m;
	c->nrules++;
	return 0;
}

static void draft_init(struct parser *P, struct draft *R)
{
	memset(R, 0, sizeof(*R));
	R->at = P->tok;
	R->r.action = moat_rule_is(P, "pass") ? MOAT_RULE_PASS
		      : moat_rule_is(P, "block") ? MOAT_RULE_BLOCK
						 : MOAT_RULE_REJECT;
	R->r.line = P->tok.line;
	R->r.col = P->tok.col;
	R->r.file = P->file;
	R->r.keep_state = R->r.action == MOAT_RULE_PASS;
	R->r.syncookies = -1;
	R->r.overload_set = -1;
	R->m.protos = PCM_ALL;
	memset(R->m.other, 0xff, sizeof(R->m.other));
	R->m.from.zone = R->m.to.zone = -1;
	R->m.icmp_code = -1;
}

int moat_rule_parse_rule(struct parser *P)
{
	struct draft *R = malloc(sizeof(*R));
	int ret = -1;

	if (!R)
		return -1;
	draft_init(P, R);
	moat_rule_next(P);
	for (int guard = 0; !is_end(P) && guard < 4096; guard++)
		if (clause(P, R) < 0)
			goto out;
	if (R->state_at.line && !R->r.keep_state && R->r.action != MOAT_RULE_PASS)
		R->state_at.line = 0; /* `block ... no state` is harmless */
	if (!R->state_at.line)
		R->state_at = R->at;
	check_ports(P, R);
	check_family(P, R);
	check_action(P, R);
	if (R->r.action != MOAT_RULE_PASS)
		R->r.keep_state = false;
	ret = append_rule(P, R);
out:
	free(R);
	return ret;
}
