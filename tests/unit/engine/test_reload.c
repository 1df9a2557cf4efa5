/*
 * moat_engine_reload is all or nothing: when an allocation fails (injected
 * through alloc_count.h, at each of the reload's allocations in turn) it
 * returns -ENOMEM and the engine goes on with the old rules and the old
 * counts, borrowing nothing of the new configuration, which the caller
 * frees at once; when it succeeds the old one may be freed at once.  Run
 * under ASan, a configuration still borrowed after it was freed would be
 * a use after free here.
 */
#include <errno.h>
#include <stdlib.h>

#include "harness.h"

#include "../alloc_count.h"

#define ZONES                                                                  \
	"zone outside { interface out0; default }\n"                          \
	"zone inside { interface in0; networks 198.18.1.0/24 }\n"
#define SERVER "198.18.1.10"
#define CLIENT "198.18.100.10"

static const char *const old_conf =
	ZONES
	"options { policy drop\n syncookies off }\n"
	"pass from outside to 198.18.1.10 tcp port 80 max-conn 1\n";

/* More rules than the old one, numbered differently, no limit on 80. */
static const char *const new_conf =
	ZONES
	"options { policy drop\n syncookies off }\n"
	"pass from outside to 198.18.1.10 tcp port 22\n"
	"pass from outside to 198.18.1.10 tcp port 80\n"
	"pass from outside to 198.18.1.10 tcp port 443\n";

static const struct moat_result *syn(struct harness *h, uint16_t sport,
				     uint16_t dport)
{
	struct seg s = { CLIENT, SERVER, sport, dport, 1000, 0, MOAT_TCP_SYN,
			 0, 0, 0, NULL };

	return h_tcp(h, 0, &s);
}

static struct moat_config *parse(const char *text)
{
	struct moat_diags d;
	struct moat_config *c = moat_config_parse_string("new.conf", text, &d);

	assert_non_null(c);
	return c;
}

/* The old rules, with their count: port 80 holds one flow, its limit. */
static void assert_old_rules(struct harness *h, uint16_t sport)
{
	assert_verdict(syn(h, sport, 80), MOAT_VERDICT_DROP, MOAT_R_MAX_CONN);
	assert_verdict(syn(h, sport, 22), MOAT_VERDICT_DROP,
		       MOAT_R_POLICY_DROP);
}

static void failed_reload_changes_nothing(void **state)
{
	struct harness h;
	int failures = 0, r;

	(void)state;
	h_start(&h, old_conf);
	assert_verdict(syn(&h, 1000, 80), MOAT_VERDICT_PASS, MOAT_R_RULE_PASS);
	assert_old_rules(&h, 1001);
	/* Fail the first allocation of the reload, then the second, ...
	 * until it has none left to fail and succeeds. */
	for (unsigned long k = 1;; k++) {
		struct moat_config *c = parse(new_conf);

		test_alloc_fail_in = k;
		r = moat_engine_reload(h.eng, c);
		if (test_alloc_fail_in) {
			/* it made fewer than k allocations: it succeeded */
			test_alloc_fail_in = 0;
			assert_int_equal(r, 0);
			moat_config_destroy(h.cfg);
			h.cfg = c;
			break;
		}
		assert_int_equal(r, -ENOMEM);
		failures++;
		moat_config_destroy(c); /* the engine must not borrow it */
		assert_old_rules(&h, (uint16_t)(2000 + k));
	}
	/* Both the rate buckets and the per-rule counts were allocated. */
	assert_true(failures >= 2);
	/* The new rules, after the old configuration was freed. */
	assert_verdict(syn(&h, 3000, 22), MOAT_VERDICT_PASS, MOAT_R_RULE_PASS);
	assert_verdict(syn(&h, 3001, 80), MOAT_VERDICT_PASS, MOAT_R_RULE_PASS);
	assert_verdict(syn(&h, 3002, 80), MOAT_VERDICT_PASS, MOAT_R_RULE_PASS);
	assert_verdict(syn(&h, 3003, 25), MOAT_VERDICT_DROP,
		       MOAT_R_POLICY_DROP);
	h_stop(&h);
}

/* Back and forth many times, each configuration freed as soon as it is
 * replaced: nothing keeps a pointer into an old one. */
static void reload_frees_only_what_was_replaced(void **state)
{
	struct harness h;

	(void)state;
	h_start(&h, old_conf);
	for (int i = 0; i < 20; i++) {
		struct moat_config *c = parse(i % 2 ? old_conf : new_conf);

		assert_int_equal(moat_engine_reload(h.eng, c), 0);
		moat_config_destroy(h.cfg);
		h.cfg = c;
		assert_verdict(syn(&h, (uint16_t)(4000 + i), 22),
			       i % 2 ? MOAT_VERDICT_DROP : MOAT_VERDICT_PASS,
			       i % 2 ? MOAT_R_POLICY_DROP : MOAT_R_RULE_PASS);
	}
	h_stop(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(failed_reload_changes_nothing),
		cmocka_unit_test(reload_frees_only_what_was_replaced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
