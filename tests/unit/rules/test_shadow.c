/*
 * The shadowing check (src/rules/shadow.c) finds, for every rule, the same
 * first earlier rule that covers it as the pairwise scan it replaced:
 * random rule sets over a small universe (nested networks, negations,
 * named and overload sets, zones, source and destination ports, protocols,
 * flags, ICMP types), where rules cover each other often, are checked
 * both ways.  Also: the comparison budget stops the check where it says,
 * and `moat check` says so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rules/internal.h"

static uint32_t rnd_state = 2026;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

#define PICK(a) ((a)[rnd() % (sizeof(a) / sizeof((a)[0]))])

static const char *const head =
	"zone outside { interface out0; default }\n"
	"zone inside { interface in0; networks { 10.0.0.0/8, 2001:db8::/32 } }\n"
	"zone dmz { networks 192.0.2.0/24 }\n"
	"set web = { 10.1.0.0/16, 2001:db8:1::/48 }\n"
	"set one = { 10.1.2.3 }\n"
	"set many = { 10.9.0.1, 10.9.0.3, 10.9.0.5, 10.9.0.7, 10.9.0.9,\n"
	"  10.9.0.11, 10.9.0.13, 10.9.0.15, 10.9.0.17, 10.9.0.19, 10.9.0.21,\n"
	"  10.9.0.23, 10.9.0.25, 10.9.0.27, 10.9.0.29, 10.9.0.31, 10.9.0.33 }\n"
	"set bad = { 10.7.0.0/16 }\n"
	"set empty = { }\n"
	"set svc = { 80, 443, 8080-8090 }\n"
	"pass from outside to 10.7.0.1 tcp port 25 max-src-conn 1 overload @bad\n";

/* By family: [0] IPv4, [1] IPv6, [2] either.  Nested on purpose:
 * 10.0.0.0/8 > 10.1.0.0/16 > 10.1.2.0/24 > 10.1.2.3. */
static const char *const addrs4[] = {
	"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3", "10.2.0.0/16",
	"{ 10.1.2.3, 10.2.0.0/16 }", "{ 10.1.0.0/16, 10.2.0.0/15 }", "@one",
	"@many", "@bad", "0.0.0.0/0", "inside 10.1.0.0/16",
};
static const char *const addrs6[] = {
	"2001:db8::/32", "2001:db8:1::/48", "2001:db8:1::5", "::/0",
	"inside 2001:db8:1::/48", "{ 2001:db8:1::5, 2001:db8:2::/48 }",
};
static const char *const addrs_any[] = {
	"{ 10.1.0.0/16, 2001:db8:1::/48 }", "@web", "!10.1.0.0/16",
	"!10.1.2.0/24", "!@web", "!@one", "inside", "outside", "dmz", "!inside",
	"any", "@empty",
};

static const char *const ports[] = {
	"80", "443", "80-90", "1-1024", "{ 80, 443 }", "{ 22, 80-85 }",
	"@svc", "8080", "1024-65535", "65535", "1-65535",
};

/* Protocols by family, the same way. */
static const char *const protos4[] = { "icmp", "tcp", "udp", "" };
static const char *const protos6[] = { "icmp6", "tcp", "udp", "" };
static const char *const protos_any[] = {
	"", "tcp", "udp", "proto { tcp, udp }", "tcp", "",
};

static void add(char *b, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add(char *b, size_t len, const char *fmt, ...)
{
	size_t n = strlen(b);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b + n, len - n, fmt, ap);
	va_end(ap);
}

static const char *random_addr(int fam)
{
	if (rnd() % 2 == 0 || fam == 2)
		return PICK(addrs_any);
	return fam == 0 ? PICK(addrs4) : PICK(addrs6);
}

static void random_side(char *b, size_t len, const char *kw, int fam,
			bool l4)
{
	if (rnd() % 8 == 0)
		return;
	add(b, len, " %s %s", kw, random_addr(fam));
	if (l4 && rnd() % 2 == 0)
		add(b, len, " port %s", PICK(ports));
}

/* A rule of one family (0 IPv4, 1 IPv6, 2 both), so that it is valid. */
static void random_rule(char *b, size_t len)
{
	int fam = (int)(rnd() % 3);
	const char *pr = fam == 0 ? PICK(protos4) :
			 fam == 1 ? PICK(protos6) : PICK(protos_any);
	bool l4 = strstr(pr, "tcp") || strstr(pr, "udp");

	b[0] = 0;
	add(b, len, "%s", rnd() % 2 ? "pass" : "block");
	random_side(b, len, "from", fam, l4);
	random_side(b, len, "to", fam, l4);
	if (pr[0])
		add(b, len, " %s", pr);
	if (!strcmp(pr, "tcp") && rnd() % 3 == 0)
		add(b, len, " flags %s", PICK(((const char *const[]){
						 "S/SA", "S", "A/A", "S/SAFR", "any" })));
	if ((!strcmp(pr, "icmp") || !strcmp(pr, "icmp6")) && rnd() % 2) {
		add(b, len, " type %s", PICK(((const char *const[]){
						"echo-request", "{ echo-request, echo-reply }",
						"unreach" })));
		if (rnd() % 3 == 0)
			add(b, len, " code %u", rnd() % 2);
	}
	if (fam < 2 && rnd() % 8 == 0)
		add(b, len, " %s", fam == 0 ? "inet" : "inet6");
	add(b, len, "\n");
}

static struct moat_config *parse(const char *text)
{
	struct moat_diags d;
	struct moat_config *c = moat_config_parse_string("shadow.conf", text, &d);

	if (!c)
		for (int i = 0; i < d.count; i++)
			fprintf(stderr, "%d:%d: %s\n", d.d[i].line, d.d[i].col,
				d.d[i].msg);
	return c;
}

/* The definition: the first earlier rule that covers j, pair by pair. */
static int slow_first_cover(const struct moat_config *c, int j)
{
	for (int i = 0; i < j; i++)
		if (moat_rule_covers(&c->matches[i], &c->matches[j]))
			return i;
	return -1;
}

enum { SETS = 1000, RULES = 60 };

static void fast_equals_pairwise(void **state)
{
	size_t len = (size_t)RULES * 200 + 2048;
	char *text = malloc(len), line[200];
	int by[RULES + 1], shadowed = 0, rules = 0, tried = 0, refused = 0;

	(void)state;
	assert_non_null(text);
	while (tried < SETS) {
		struct moat_config *c;

		snprintf(text, len, "%s", head);
		for (int r = 0; r < RULES; r++) {
			random_rule(line, sizeof(line));
			add(text, len, "%s", line);
		}
		c = parse(text);
		if (!c) {
			/* a random clash the parser refuses; rare */
			assert_true(++refused < SETS / 4);
			continue;
		}
		tried++;
		assert_true(c->nrules <= RULES + 1);
		assert_int_equal(moat_rule_shadow_find(c, by, UINT64_MAX),
				 c->nrules);
		for (int j = 0; j < c->nrules; j++) {
			int want = slow_first_cover(c, j);

			if (by[j] != want)
				fail_msg("set %d rule %d: fast %d, pairwise %d\n%s",
					 tried, j + 1, by[j] + 1, want + 1, text);
			shadowed += want >= 0;
		}
		rules += c->nrules;
		moat_config_destroy(c);
	}
	free(text);
	/* The universe is small on purpose: many rules are shadowed, so a
	 * finder that missed candidates would be caught. */
	print_message("%d rules, %d shadowed, %d sets refused\n", rules,
		      shadowed, refused);
	assert_true(shadowed > rules / 4);
	assert_true(shadowed < rules * 3 / 4);
}

/*
 * Rules that agree on every field the index files by and still do not
 * cover each other (source sets too big to file, pairwise disjoint): each
 * rule's candidates are all the rules before it.
 */
static char *alike_rules(int n)
{
	size_t len = (size_t)n * 420 + 1024, at;
	char *t = malloc(len);

	assert_non_null(t);
	at = (size_t)snprintf(t, len, "zone outside { interface out0; default }\n"
					"zone inside { interface in0 }\n");
	for (int r = 0; r < n; r++) {
		at += (size_t)snprintf(t + at, len - at, "pass from {");
		for (int k = 0; k < 20; k++)
			at += (size_t)snprintf(t + at, len - at, "%s 10.%d.%d.%d",
					       k ? "," : "", r / 250, r % 250,
					       k * 2 + 1);
		at += (size_t)snprintf(t + at, len - at, " }\n");
	}
	return t;
}

static void budget_stops_the_check(void **state)
{
	char *t = alike_rules(300);
	struct moat_config *c = parse(t);
	int by[300];
	int done;

	(void)state;
	assert_non_null(c);
	/* Rule j compares j pairs: 0 + 1 + ... + 99 = 4950 for 100 rules. */
	done = moat_rule_shadow_find(c, by, 4950);
	assert_int_equal(done, 100);
	for (int j = 0; j < done; j++)
		assert_int_equal(by[j], -1);
	assert_int_equal(moat_rule_shadow_find(c, by, UINT64_MAX), 300);
	moat_config_destroy(c);
	free(t);
}

/* Past the budget the load says where the check stopped (a warning, not an
 * error: the rules still load). */
static void check_says_where_it_stopped(void **state)
{
	char *t = alike_rules(7000);
	struct moat_diags d;
	struct moat_config *c = moat_config_parse_string("alike.conf", t, &d);
	bool said = false;

	(void)state;
	assert_non_null(c);
	for (int i = 0; i < d.count; i++)
		if (strstr(d.d[i].msg, "not checked for shadowing") &&
		    strstr(d.d[i].msg, "to 7000"))
			said = true;
	assert_true(said);
	moat_config_destroy(c);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fast_equals_pairwise),
		cmocka_unit_test(budget_stops_the_check),
		cmocka_unit_test(check_says_where_it_stopped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
