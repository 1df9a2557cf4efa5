/*
 * moat_config_bridge_ports, the one answer to "can `moat run` bridge this
 * configuration?" that run and check share: exactly two zones with an
 * interface, found in file order whatever zones without one lie between;
 * every other count refused with one diagnostic, of the severity asked
 * for, at the zone concerned.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "moat/rules.h"

struct row {
	const char *name;
	const char *text;
	int rc;                 /* 0 or -EINVAL */
	int zone[2];            /* when rc == 0 */
	int line;               /* of the diagnostic, when rc < 0 */
	const char *substr;
};

static const struct row rows[] = {
	{ "two zones, two interfaces",
	  "zone outside { interface out0; default }\n"
	  "zone inside { interface in0; networks 198.18.1.0/24 }\n",
	  0, { 0, 1 }, 0, NULL },
	{ "a zone without interface between them",
	  "zone outside { interface out0; default }\n"
	  "zone dmz { networks 198.18.2.0/24 }\n"
	  "zone inside { interface in0; networks 198.18.1.0/24 }\n",
	  0, { 0, 2 }, 0, NULL },
	{ "interfaces in the other order",
	  "zone inside { interface in0; networks 198.18.1.0/24 }\n"
	  "zone outside { interface out0; default }\n",
	  0, { 0, 1 }, 0, NULL },
	{ "no zones at all",
	  "pass tcp port 22\n",
	  -EINVAL, { 0, 0 }, 0, "no zone has an interface" },
	{ "zones, none with an interface",
	  "zone outside { default }\n"
	  "zone inside { networks 198.18.1.0/24 }\n",
	  -EINVAL, { 0, 0 }, 0, "no zone has an interface" },
	{ "one zone with an interface (a host)",
	  "zone self { networks 198.18.1.10 }\n"
	  "zone world { interface eth0; default }\n",
	  -EINVAL, { 0, 0 }, 2, "zone 'world' is the only zone with an interface" },
	{ "three zones with an interface",
	  "zone outside { interface out0; default }\n"
	  "zone inside { interface in0; networks 198.18.1.0/25 }\n"
	  "zone dmz { interface dmz0; networks 198.18.1.128/25 }\n",
	  -EINVAL, { 0, 0 }, 3, "zone 'dmz' is a third zone with an interface" },
	{ "four zones with an interface: the third is named",
	  "zone a { interface a0; default }\n"
	  "zone b { interface b0 }\n"
	  "zone c { interface c0 }\n"
	  "zone d { interface d0 }\n",
	  -EINVAL, { 0, 0 }, 3, "zone 'c' is a third zone" },
};

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct moat_diags *d = malloc(sizeof(*d));
		struct moat_bridge_ports bp = { { -1, -1 } };
		struct moat_config *c;
		int rc;

		assert_non_null(d);
		moat_diags_init(d);
		c = moat_config_parse_string("t.conf", r->text, d);
		if (!c)
			fail_msg("%s: does not load: %s", r->name, d->d[0].msg);
		moat_diags_init(d);
		rc = moat_config_bridge_ports(c, &bp, d, MOAT_DIAG_WARNING);
		if (rc != r->rc)
			fail_msg("%s: rc %d, want %d", r->name, rc, r->rc);
		if (rc == 0) {
			assert_int_equal(bp.zone[0], r->zone[0]);
			assert_int_equal(bp.zone[1], r->zone[1]);
			assert_int_equal(d->count, 0);
		} else {
			/* Exactly one diagnostic, where it belongs, and the
			 * ports untouched. */
			assert_int_equal(d->count, 1);
			assert_int_equal(d->warnings, 1);
			assert_int_equal(d->errors, 0);
			assert_int_equal(d->d[0].severity, MOAT_DIAG_WARNING);
			assert_int_equal(d->d[0].line, r->line);
			if (!strstr(d->d[0].msg, r->substr))
				fail_msg("%s: message '%s' lacks '%s'", r->name,
					 d->d[0].msg, r->substr);
			assert_int_equal(bp.zone[0], -1);
		}
		/* The severity is the caller's, and no @d is allowed. */
		moat_diags_init(d);
		assert_int_equal(moat_config_bridge_ports(c, NULL, d,
							  MOAT_DIAG_ERROR), r->rc);
		assert_int_equal(d->errors, r->rc ? 1 : 0);
		assert_int_equal(moat_config_bridge_ports(c, NULL, NULL,
							  MOAT_DIAG_ERROR), r->rc);
		moat_config_destroy(c);
		free(d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
