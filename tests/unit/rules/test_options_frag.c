/*
 * The fragment and scrub options: defaults (fragments reassembled with a
 * pool of 1024, scrub all off), every value accepted, every bad one an
 * error at its line and column, and the printed form loading again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "moat/rules.h"

static struct moat_config *load(const char *text, struct moat_diags *d)
{
	return moat_config_parse_string("t", text, d);
}

static void defaults(void **state)
{
	struct moat_diags d;
	struct moat_config *c = load("", &d);
	const struct moat_options *o;

	(void)state;
	assert_non_null(c);
	o = moat_config_options(c);
	assert_int_equal(o->frag_max, 1024);
	assert_int_equal(o->frag_timeout, 30);
	assert_int_equal(o->max_mss, 0);
	assert_int_equal(o->min_ttl, 0);
	assert_false(o->random_id);
	assert_false(o->tcp_reserved_clear);
	moat_config_destroy(c);
}

static void values(void **state)
{
	struct moat_diags d;
	struct moat_config *c;
	const struct moat_options *o;

	(void)state;
	c = load("options { frag-max 4096; frag-timeout 60\n max-mss 1400; "
		 "min-ttl 64; random-id on; tcp-reserved clear }\n", &d);
	assert_non_null(c);
	o = moat_config_options(c);
	assert_int_equal(o->frag_max, 4096);
	assert_int_equal(o->frag_timeout, 60);
	assert_int_equal(o->max_mss, 1400);
	assert_int_equal(o->min_ttl, 64);
	assert_true(o->random_id);
	assert_true(o->tcp_reserved_clear);
	moat_config_destroy(c);
	c = load("options { frag-max 0; max-mss off; min-ttl off; "
		 "random-id off; tcp-reserved keep }\n", &d);
	assert_non_null(c);
	o = moat_config_options(c);
	assert_int_equal(o->frag_max, 0);
	assert_int_equal(o->max_mss, 0);
	assert_int_equal(o->min_ttl, 0);
	assert_false(o->random_id);
	assert_false(o->tcp_reserved_clear);
	moat_config_destroy(c);
}

struct bad {
	const char *text;
	int col;
	const char *substr;
};

static void errors(void **state)
{
	static const struct bad rows[] = {
		{ "options { frag-max 8 }", 20, "0 or at least 16" },
		{ "options { frag-max 70000 }", 20, "fragments" },
		{ "options { frag-timeout 0 }", 24, "seconds" },
		{ "options { frag-timeout 61 }", 24, "seconds" },
		{ "options { max-mss 10 }", 19, "MSS" },
		{ "options { max-mss 70000 }", 19, "MSS" },
		{ "options { min-ttl 0 }", 19, "TTL" },
		{ "options { min-ttl 256 }", 19, "TTL" },
		{ "options { random-id yes }", 21, "'on' or 'off'" },
		{ "options { tcp-reserved off }", 24, "'keep' or 'clear'" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct moat_diags d;
		struct moat_config *c = load(rows[i].text, &d);

		if (c)
			fail_msg("accepted: %s", rows[i].text);
		assert_true(d.count >= 1);
		if (d.d[0].line != 1 || d.d[0].col != rows[i].col ||
		    !strstr(d.d[0].msg, rows[i].substr))
			fail_msg("%s: got %d:%d %s", rows[i].text, d.d[0].line,
				 d.d[0].col, d.d[0].msg);
	}
}

/* Printed only when not the default, and the printed form loads the
 * same options again. */
static void printed(void **state)
{
	struct moat_diags d;
	struct moat_config *c, *c2;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	c = load("", &d);
	f = open_memstream(&text, &len);
	moat_config_print(c, f);
	fclose(f);
	assert_null(strstr(text, "frag-max"));
	assert_null(strstr(text, "max-mss"));
	free(text);
	moat_config_destroy(c);
	c = load("options { frag-max 64; max-mss 1200; random-id on }\n", &d);
	assert_non_null(c);
	f = open_memstream(&text, &len);
	moat_config_print(c, f);
	fclose(f);
	assert_non_null(strstr(text, "frag-max 64; frag-timeout 30"));
	assert_non_null(strstr(text, "max-mss 1200; min-ttl off; random-id on; "
				     "tcp-reserved keep"));
	c2 = load(text, &d);
	assert_non_null(c2);
	assert_memory_equal(moat_config_options(c), moat_config_options(c2),
			    sizeof(struct moat_options));
	free(text);
	moat_config_destroy(c);
	moat_config_destroy(c2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(values),
		cmocka_unit_test(errors),
		cmocka_unit_test(printed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
