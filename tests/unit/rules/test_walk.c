/*
 * Walking address sets and the zones' networks as CIDR prefixes
 * (moat_set_walk_prefixes, moat_config_zone_walk_prefixes), what the XDP
 * fast path's LPM trie is filled from: a longest-prefix match over the
 * walked prefixes must answer as the compiled sets do, for every address
 * tried (nested, overlapping and odd-sized networks, both families).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "moat/rules.h"

enum { MAX = 4096 };

struct walked {
	struct moat_addr a[MAX];
	int len[MAX], val[MAX], n;
};

static int collect(void *arg, const struct moat_addr *a, int len, int val)
{
	struct walked *w = arg;

	assert_true(w->n < MAX);
	w->a[w->n] = *a;
	w->len[w->n] = len;
	w->val[w->n] = val;
	w->n++;
	return 0;
}

static bool in_prefix(const struct moat_addr *x, const struct moat_addr *p,
		      int len)
{
	int off = p->family == MOAT_AF_INET ? 96 : 0, bits = off + len;

	if (x->family != p->family)
		return false;
	for (int i = 0; i < bits; i++) {
		int m = 0x80 >> (i % 8);

		if ((x->b[i / 8] & m) != (p->b[i / 8] & m))
			return false;
	}
	return true;
}

/* The longest walked prefix holding @x: its value, or -1. */
static int lpm(const struct walked *w, const struct moat_addr *x)
{
	int best = -1, val = -1;

	for (int i = 0; i < w->n; i++)
		if (w->len[i] > best && in_prefix(x, &w->a[i], w->len[i])) {
			best = w->len[i];
			val = w->val[i];
		}
	return val;
}

static const char *const conf =
	"zone outside { interface out0; default }\n"
	"zone inside { interface in0; networks { 10.0.0.0/8, 192.0.2.7, "
	"2001:db8::/32 } }\n"
	"zone dmz { interface dmz0; networks { 10.1.0.0/16, 10.1.2.128/25, "
	"2001:db8:5::/48, 198.51.100.0/24 } }\n"
	"zone lab { networks { 10.1.2.0/24 } }\n"
	"set bogus = { 203.0.113.0/24, 100.64.0.0/10, 2001:db8:dead::/48 }\n"
	"options { bogons @bogus }\n"
	"pass from outside\n";

static const char *const probes[] = {
	"10.0.0.1", "10.1.0.1", "10.1.2.1", "10.1.2.200", "10.1.3.1",
	"10.255.255.255", "11.0.0.0", "9.255.255.255", "192.0.2.6",
	"192.0.2.7", "192.0.2.8", "198.51.100.255", "198.51.101.0",
	"203.0.113.9", "100.64.0.0", "100.127.255.255", "100.128.0.0",
	"2001:db8::1", "2001:db8:5::1", "2001:db8:6::1", "2001:db9::",
	"2001:db8:dead::9", "::1", "0.0.0.0",
};

static void zones_walk_like_lookup(void **state)
{
	static struct walked w;
	struct moat_diags d;
	struct moat_config *c = moat_config_parse_string("t", conf, &d);
	struct moat_addr a;

	(void)state;
	assert_non_null(c);
	w.n = 0;
	assert_int_equal(moat_config_zone_walk_prefixes(c, collect, &w), 0);
	assert_true(w.n > 5);
	for (unsigned i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		assert_int_equal(moat_addr_parse(&a, probes[i]), 0);
		if (lpm(&w, &a) != moat_config_zone_by_addr(c, &a))
			fail_msg("%s: walked %d, lookup %d", probes[i],
				 lpm(&w, &a), moat_config_zone_by_addr(c, &a));
	}
	moat_config_destroy(c);
}

static void set_walks_like_contains(void **state)
{
	static struct walked w;
	struct moat_diags d;
	struct moat_config *c = moat_config_parse_string("t", conf, &d);
	const struct moat_set *s;
	struct moat_addr a;

	(void)state;
	assert_non_null(c);
	s = moat_config_set(c, moat_config_options(c)->bogon_set);
	w.n = 0;
	assert_int_equal(moat_set_walk_prefixes(s, collect, &w), 0);
	for (unsigned i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		assert_int_equal(moat_addr_parse(&a, probes[i]), 0);
		if ((lpm(&w, &a) >= 0) != moat_set_contains(s, &a))
			fail_msg("%s: walked and contains differ", probes[i]);
	}
	assert_int_equal(moat_set_walk_prefixes(NULL, collect, &w), -EINVAL);
	moat_config_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(zones_walk_like_lookup),
		cmocka_unit_test(set_walks_like_contains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
