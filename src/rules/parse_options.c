/*
 * The `options { ... }` block: global settings with their defaults, read
 * once at load.  Each item is a keyword and its value; items are separated
 * by newlines or ';'.  An item given twice is a warning (the last wins).
 *
 *   options := "options" "{" { item [";"] } "}"
 */
#include <stdio.h>
#include <string.h>

#include "moat/defaults.h"
#include "rules/parse.h"

/* The bounds of frag-max (its default is in moat/defaults.h). */
enum {
	MOAT_FRAG_MAX_MIN = 16,      /* the frag table's smallest pool */
	MOAT_FRAG_MAX_MAX = 65536,   /* ... and its largest */
};

static const char *const timeout_names[MOAT_TIMEOUT_COUNT] = {
	[MOAT_TIMEOUT_TCP_OPENING] = "tcp.opening",
	[MOAT_TIMEOUT_TCP_ESTABLISHED] = "tcp.established",
	[MOAT_TIMEOUT_TCP_CLOSING] = "tcp.closing",
	[MOAT_TIMEOUT_TCP_TIMEWAIT] = "tcp.timewait",
	[MOAT_TIMEOUT_UDP_FIRST] = "udp.first",
	[MOAT_TIMEOUT_UDP_MULTIPLE] = "udp.multiple",
	[MOAT_TIMEOUT_ICMP] = "icmp",
	[MOAT_TIMEOUT_OTHER] = "other",
};

const char *moat_timeout_name(enum moat_timeout t)
{
	return (unsigned)t < MOAT_TIMEOUT_COUNT ? timeout_names[t] : NULL;
}

/* Defaults: moat/defaults.h, which says why each is what it is. */
void moat_options_defaults(struct moat_options *o)
{
	memset(o, 0, sizeof(*o));
	o->policy = MOAT_DEFAULT_POLICY_PASS ? MOAT_POLICY_PASS : MOAT_POLICY_DROP;
	o->syncookies = MOAT_DEFAULT_SYNCOOKIES;
	o->antispoof = MOAT_DEFAULT_ANTISPOOF;
	o->max_flows = MOAT_DEFAULT_MAX_FLOWS;
	o->pickup = MOAT_DEFAULT_PICKUP_LOOSE ? MOAT_PICKUP_LOOSE : MOAT_PICKUP_OFF;
	o->timeout[MOAT_TIMEOUT_TCP_OPENING] = MOAT_DEFAULT_TIMEOUT_TCP_OPENING;
	o->timeout[MOAT_TIMEOUT_TCP_ESTABLISHED] = MOAT_DEFAULT_TIMEOUT_TCP_ESTABLISHED;
	o->timeout[MOAT_TIMEOUT_TCP_CLOSING] = MOAT_DEFAULT_TIMEOUT_TCP_CLOSING;
	o->timeout[MOAT_TIMEOUT_TCP_TIMEWAIT] = MOAT_DEFAULT_TIMEOUT_TCP_TIMEWAIT;
	o->timeout[MOAT_TIMEOUT_UDP_FIRST] = MOAT_DEFAULT_TIMEOUT_UDP_FIRST;
	o->timeout[MOAT_TIMEOUT_UDP_MULTIPLE] = MOAT_DEFAULT_TIMEOUT_UDP_MULTIPLE;
	o->timeout[MOAT_TIMEOUT_ICMP] = MOAT_DEFAULT_TIMEOUT_ICMP;
	o->timeout[MOAT_TIMEOUT_OTHER] = MOAT_DEFAULT_TIMEOUT_OTHER;
	o->syncookies_threshold = MOAT_DEFAULT_SYNCOOKIES_THRESHOLD;
	o->syncookies_rate = MOAT_DEFAULT_SYNCOOKIES_RATE;
	o->syncookies_quiet = MOAT_DEFAULT_SYNCOOKIES_QUIET;
	o->rst_check = MOAT_DEFAULT_RST_EXACT ? MOAT_RST_CHECK_EXACT
					      : MOAT_RST_CHECK_WINDOW;
	o->checksum = MOAT_DEFAULT_CHECKSUM_VERIFY ? MOAT_CHECKSUM_VERIFY
						   : MOAT_CHECKSUM_IGNORE;
	o->detect_hijack = MOAT_DEFAULT_DETECT_HIJACK;
	o->hijack_block = MOAT_DEFAULT_HIJACK_BLOCK;
	o->bogon_set = -1;
	o->nonip_pass = MOAT_DEFAULT_NONIP_PASS;
	o->log = MOAT_DEFAULT_LOG;
	o->frag_max = MOAT_DEFAULT_FRAG_MAX;
	o->frag_timeout = MOAT_DEFAULT_FRAG_TIMEOUT;
	o->max_mss = MOAT_DEFAULT_MAX_MSS;
	o->min_ttl = MOAT_DEFAULT_MIN_TTL;
	o->random_id = MOAT_DEFAULT_RANDOM_ID;
	o->tcp_reserved_clear = MOAT_DEFAULT_TCP_RESERVED_CLEAR;
	o->io = MOAT_DEFAULT_IO;
	o->xdp = MOAT_DEFAULT_XDP;
}

/* One of @words (NULL-terminated): its index, or -1 after an error. */
static int choice(struct parser *P, const char *const *words, const char *what)
{
	for (int i = 0; words[i]; i++)
		if (moat_rule_is(P, words[i])) {
			moat_rule_next(P);
			return i;
		}
	return moat_rule_expected(P, what);
}

static int opt_timeout(struct parser *P, struct moat_options *o)
{
	uint32_t v;

	for (int i = 0; i < MOAT_TIMEOUT_COUNT; i++) {
		if (!moat_rule_is(P, timeout_names[i]))
			continue;
		moat_rule_next(P);
		if (moat_rule_parse_u32(P, "a timeout in seconds", 1, 30 * 86400,
					&v) < 0)
			return -1;
		o->timeout[i] = v;
		return 0;
	}
	return moat_rule_expected(P, "a timeout name (tcp.opening, tcp.established, "
				     "tcp.closing, tcp.timewait, udp.first, "
				     "udp.multiple, icmp, other)");
}

static int opt_log(struct parser *P, struct moat_options *o)
{
	o->log = true;
	if (P->tok.kind == T_STRING) {
		snprintf(o->log_file, sizeof(o->log_file), "%s", P->tok.text);
		moat_rule_next(P);
	}
	return 0;
}

/* `bogons @set`: sources the administrator knows no honest packet has. */
static int opt_bogons(struct parser *P, struct moat_options *o)
{
	const struct moat_set *s;

	if (P->tok.kind != T_SETREF && P->tok.kind != T_WORD)
		return moat_rule_expected(P, "@set after 'bogons'");
	s = moat_rule_set_find(P->c, P->tok.text);
	if (!s) {
		moat_rule_err(P, &P->tok, "unknown set '@%s' (define it before "
			      "the options that use it)", P->tok.text);
		return -1;
	}
	if (s->kind != MOAT_SET_ADDR) {
		moat_rule_err(P, &P->tok, "bogons needs an address set; '@%s' "
			      "holds ports", P->tok.text);
		return -1;
	}
	o->bogon_set = s->index;
	moat_rule_next(P);
	return 0;
}

static int opt_u32(struct parser *P, const char *what, uint32_t min,
		   uint32_t max, uint32_t *out)
{
	return moat_rule_parse_u32(P, what, min, max, out);
}

static int opt_syncookies_rate(struct parser *P, struct moat_options *o)
{
	struct moat_rule_rate r;

	if (P->tok.kind == T_WORD && strchr(P->tok.text, '/')) {
		if (moat_rule_parse_rate(P, &r) < 0)
			return -1;
		o->syncookies_rate = r.period_ns == 1000000000ull ? r.count
								  : (r.count + 59) / 60;
		return 0;
	}
	return opt_u32(P, "a rate in SYNs per second", 1, 100000000,
		       &o->syncookies_rate);
}

/* `frag-max N`: 0 (no reassembly: every fragment dropped) or a pool. */
static int opt_frag_max(struct parser *P, struct moat_options *o)
{
	struct token t = P->tok;
	uint32_t v;

	if (moat_rule_parse_u32(P, "a number of fragments (0, or 16 to 65536)",
				0, MOAT_FRAG_MAX_MAX, &v) < 0)
		return -1;
	if (v != 0 && v < MOAT_FRAG_MAX_MIN) {
		moat_rule_err(P, &t, "frag-max must be 0 or at least %d",
			      MOAT_FRAG_MAX_MIN);
		return -1;
	}
	o->frag_max = v;
	return 0;
}

/* `max-mss N|off`, `min-ttl N|off`: a number in [min, max], or off (0). */
static int opt_off_or(struct parser *P, const char *what, uint32_t min,
		      uint32_t max, uint32_t *out)
{
	if (moat_rule_is(P, "off")) {
		moat_rule_next(P);
		*out = 0;
		return 0;
	}
	return moat_rule_parse_u32(P, what, min, max, out);
}

static int opt_max_mss(struct parser *P, struct moat_options *o)
{
	uint32_t v;

	/* RFC 879: 536 is the IPv4 default, RFC 8200's 1280 minus headers
	 * the IPv6 one; below 64 no segment carries useful data. */
	if (opt_off_or(P, "an MSS in bytes (64 to 65535) or 'off'", 64, 65535,
		       &v) < 0)
		return -1;
	o->max_mss = (uint16_t)v;
	return 0;
}

static int opt_min_ttl(struct parser *P, struct moat_options *o)
{
	uint32_t v;

	if (opt_off_or(P, "a TTL (1 to 255) or 'off'", 1, 255, &v) < 0)
		return -1;
	o->min_ttl = (uint8_t)v;
	return 0;
}

static int set_flag(struct parser *P, const char *const *w, const char *what,
		    uint8_t *out)
{
	int v = choice(P, w, what);

	if (v < 0)
		return -1;
	*out = (uint8_t)v;
	return 0;
}

static int set_bool(struct parser *P, const char *const *w, const char *what,
		    bool *out)
{
	int v = choice(P, w, what);

	if (v < 0)
		return -1;
	*out = v == 1;
	return 0;
}

/* `io auto|afpacket|xdp`: how `moat run` reaches the interfaces. */
static int opt_io(struct parser *P, struct moat_options *o)
{
	static const char *const io[] = { "auto", "afpacket", "xdp", NULL };

	return set_flag(P, io, "'auto', 'afpacket' or 'xdp'", &o->io);
}

static int opt_value(struct parser *P, const char *key, struct moat_options *o)
{
	static const char *const policy[] = { "drop", "pass", NULL };
	static const char *const cookies[] = { "off", "on", "auto", NULL };
	static const char *const offon[] = { "off", "on", NULL };
	static const char *const pickup[] = { "off", "loose", NULL };
	static const char *const rst[] = { "exact", "window", NULL };
	static const char *const csum[] = { "verify", "ignore", NULL };
	static const char *const detect[] = { "off", "hijack", NULL };
	static const char *const nonip[] = { "drop", "pass", NULL };
	static const char *const keepclear[] = { "keep", "clear", NULL };

	if (!strcmp(key, "policy"))
		return set_flag(P, policy, "'drop' or 'pass'", &o->policy);
	if (!strcmp(key, "syncookies"))
		return set_flag(P, cookies, "'off', 'on' or 'auto'", &o->syncookies);
	if (!strcmp(key, "antispoof"))
		return set_bool(P, offon, "'on' or 'off'", &o->antispoof);
	if (!strcmp(key, "max-flows"))
		return opt_u32(P, "a number of flows", 16, 1u << 26, &o->max_flows);
	if (!strcmp(key, "pickup"))
		return set_flag(P, pickup, "'off' or 'loose'", &o->pickup);
	if (!strcmp(key, "timeout"))
		return opt_timeout(P, o);
	if (!strcmp(key, "syncookies-threshold"))
		return opt_u32(P, "a number of half-open connections", 1, 1u << 24,
			       &o->syncookies_threshold);
	if (!strcmp(key, "syncookies-rate"))
		return opt_syncookies_rate(P, o);
	if (!strcmp(key, "syncookies-quiet"))
		return opt_u32(P, "a number of seconds", 1, 86400,
			       &o->syncookies_quiet);
	if (!strcmp(key, "rst-check"))
		return set_flag(P, rst, "'exact' or 'window'", &o->rst_check);
	if (!strcmp(key, "checksum"))
		return set_flag(P, csum, "'verify' or 'ignore'", &o->checksum);
	if (!strcmp(key, "detect")) {
		if (set_bool(P, detect, "'hijack' or 'off'",
			     &o->detect_hijack) < 0)
			return -1;
		/* `detect hijack block`: close a flow caught being hijacked. */
		o->hijack_block = false;
		if (o->detect_hijack && moat_rule_is(P, "block")) {
			moat_rule_next(P);
			o->hijack_block = true;
		}
		return 0;
	}
	if (!strcmp(key, "nonip"))
		return set_bool(P, nonip, "'pass' or 'drop'", &o->nonip_pass);
	/* The same three words, in the same order, as syncookies. */
	_Static_assert(MOAT_XDP_OFF == 0 && MOAT_XDP_ON == 1 &&
		       MOAT_XDP_AUTO == 2, "xdp takes the words of cookies[]");
	if (!strcmp(key, "xdp"))
		return set_flag(P, cookies, "'off', 'on' or 'auto'", &o->xdp);
	if (!strcmp(key, "log"))
		return opt_log(P, o);
	if (!strcmp(key, "bogons"))
		return opt_bogons(P, o);
	if (!strcmp(key, "frag-max"))
		return opt_frag_max(P, o);
	if (!strcmp(key, "frag-timeout"))
		return opt_u32(P, "a number of seconds (1 to 60)", 1, 60,
			       &o->frag_timeout);
	if (!strcmp(key, "max-mss"))
		return opt_max_mss(P, o);
	if (!strcmp(key, "min-ttl"))
		return opt_min_ttl(P, o);
	if (!strcmp(key, "random-id"))
		return set_bool(P, offon, "'on' or 'off'", &o->random_id);
	if (!strcmp(key, "tcp-reserved"))
		return set_bool(P, keepclear, "'keep' or 'clear'",
				&o->tcp_reserved_clear);
	if (!strcmp(key, "io"))
		return opt_io(P, o);
	return -2;
}

static const char *const option_keys[] = {
	"policy", "syncookies", "antispoof", "max-flows", "pickup", "timeout",
	"syncookies-threshold", "syncookies-rate", "syncookies-quiet",
	"rst-check", "checksum", "detect", "nonip", "log", "bogons",
	"frag-max", "frag-timeout", "max-mss", "min-ttl", "random-id",
	"tcp-reserved", "io", "xdp",
};
enum { NKEYS = sizeof(option_keys) / sizeof(option_keys[0]) };

/* The key's index in option_keys (and a bit in *seen), or -1. */
static int key_index(const char *k)
{
	for (int i = 0; i < NKEYS; i++)
		if (!strcmp(k, option_keys[i]))
			return i;
	return -1;
}

static int option_item(struct parser *P, uint32_t *seen)
{
	struct token key = P->tok;
	int ki = key.kind == T_WORD ? key_index(key.text) : -1;

	if (ki < 0)
		return moat_rule_expected(P, "an option (policy, syncookies, antispoof, "
					     "max-flows, pickup, timeout, rst-check, "
					     "checksum, detect, nonip, log, ...)");
	moat_rule_next(P);
	/* timeouts are keyed by name: repeated `timeout` lines are normal */
	if ((*seen & (1u << ki)) && strcmp(key.text, "timeout"))
		moat_rule_warn(P, &key, "option '%s' given twice; the last one wins",
			       key.text);
	*seen |= 1u << ki;
	return opt_value(P, key.text, &P->c->opt);
}

int moat_rule_parse_options(struct parser *P)
{
	uint32_t seen = 0;

	moat_rule_next(P);
	if (P->tok.kind != T_LBRACE)
		return moat_rule_expected(P, "'{' after 'options'");
	moat_rule_next(P);
	for (int guard = 0; guard < (1 << 20); guard++) {
		while (P->tok.kind == T_NEWLINE || P->tok.kind == T_SEMI)
			moat_rule_next(P);
		if (P->tok.kind == T_RBRACE) {
			moat_rule_next(P);
			return 0;
		}
		if (P->tok.kind == T_EOF)
			return moat_rule_expected(P, "'}' to close 'options'");
		if (option_item(P, &seen) < 0 ||
		    (P->tok.kind != T_NEWLINE && P->tok.kind != T_SEMI &&
		     P->tok.kind != T_RBRACE && moat_rule_expected(P,
			"end of line, ';' or '}'") < 0)) {
			while (P->tok.kind != T_EOF && P->tok.kind != T_NEWLINE &&
			       P->tok.kind != T_SEMI && P->tok.kind != T_RBRACE)
				moat_rule_next(P);
		}
	}
	return -1;
}
