/* Unit tests for src/util: reason names and address text forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <sodium.h>

#include "moat/addr.h"
#include "moat/fmt.h"
#include "moat/siphash.h"
#include "moat/reason.h"

static void reason_names_are_unique_and_round_trip(void **state)
{
	(void)state;
	for (int i = 0; i < MOAT_R_COUNT; i++) {
		const char *n = moat_reason_name((enum moat_reason)i);
		assert_non_null(n);
		assert_int_equal(moat_reason_from_name(n), i);
	}
	assert_string_equal(moat_reason_name(MOAT_R_COUNT), "?");
	assert_int_equal(moat_reason_from_name("no-such-reason"), -1);
}

/* The pass table: the reasons whose class once differed between stats,
 * metrics and replay, each stated here, and every reason in one class. */
static void reason_classes(void **state)
{
	static const struct {
		const char *name;
		enum moat_reason_class cls;
	} rows[] = {
		{ "state-match", MOAT_CLASS_PASS },
		{ "rule-pass", MOAT_CLASS_PASS },
		{ "policy-pass", MOAT_CLASS_PASS },
		{ "ndp", MOAT_CLASS_PASS },
		{ "rule-pass-stateless", MOAT_CLASS_PASS },
		{ "tcp-syn-reuse", MOAT_CLASS_PASS },
		{ "tcp-stale-retransmit", MOAT_CLASS_PASS },
		{ "non-ip", MOAT_CLASS_PASS },
		{ "frag-first-passed", MOAT_CLASS_PASS },
		{ "non-ip-drop", MOAT_CLASS_DROP },
		{ "spoof-zone", MOAT_CLASS_DROP },
		{ "rule-block", MOAT_CLASS_DROP },
		{ "rule-reject", MOAT_CLASS_DROP },
		{ "policy-drop", MOAT_CLASS_DROP },
		{ "hijack-blocked", MOAT_CLASS_DROP },
		{ "syn-shed", MOAT_CLASS_DROP },
		{ "syn-cookie-bad", MOAT_CLASS_DROP },
		{ "syn-cookie-sent", MOAT_CLASS_ANSWER },
		{ "tcp-rst-challenge", MOAT_CLASS_ANSWER },
		{ "tcp-syn-in-window", MOAT_CLASS_ANSWER },
		{ "syn-proxy-consumed", MOAT_CLASS_ANSWER },
		{ "syn-proxy-held", MOAT_CLASS_ANSWER },
		{ "frag-held", MOAT_CLASS_ANSWER },
	};
	int per[MOAT_CLASS_COUNT] = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int r = moat_reason_from_name(rows[i].name);

		assert_true(r >= 0);
		if (moat_reason_class((enum moat_reason)r) != rows[i].cls)
			fail_msg("%s is %s, not %s", rows[i].name,
				 moat_reason_class_name(moat_reason_class(
					 (enum moat_reason)r)),
				 moat_reason_class_name(rows[i].cls));
	}
	for (int r = 0; r < MOAT_R_COUNT; r++) {
		enum moat_reason_class c = moat_reason_class((enum moat_reason)r);

		assert_true((unsigned)c < MOAT_CLASS_COUNT);
		per[c]++;
	}
	assert_true(per[MOAT_CLASS_PASS] >= 9 && per[MOAT_CLASS_ANSWER] >= 6);
	assert_int_equal(per[0] + per[1] + per[2], MOAT_R_COUNT);
	assert_int_equal(moat_reason_class(MOAT_R_COUNT), MOAT_CLASS_DROP);
	assert_int_equal(moat_reason_verdict(MOAT_CLASS_PASS), MOAT_VERDICT_PASS);
	assert_int_equal(moat_reason_verdict(MOAT_CLASS_ANSWER),
			 MOAT_VERDICT_DROP);
	assert_string_equal(moat_reason_class_name(MOAT_CLASS_ANSWER), "answer");
	assert_string_equal(moat_reason_class_name(MOAT_CLASS_COUNT), "?");
}

/* The core's bounded formatter agrees with snprintf on what it knows, and
 * never writes past the buffer. */
static void fmt_like_snprintf(void **state)
{
	char got[64], want[64];
	size_t n;

	(void)state;
	moat_fmt(got, sizeof(got), "a %s b %d c %u d %x %%", "str", -42,
		 4000000000u, 0xbeefu);
	snprintf(want, sizeof(want), "a %s b %d c %u d %x %%", "str", -42,
		 4000000000u, 0xbeefu);
	assert_string_equal(got, want);
	moat_fmt(got, sizeof(got), "%ld %lu %lld %llu %zu %c", -1L, 2UL,
		 -9223372036854775807LL - 1, 18446744073709551615ULL,
		 (size_t)7, 'z');
	snprintf(want, sizeof(want), "%ld %lu %lld %llu %zu %c", -1L, 2UL,
		 -9223372036854775807LL - 1, 18446744073709551615ULL,
		 (size_t)7, 'z');
	assert_string_equal(got, want);
	memset(got, 'X', sizeof(got));
	n = moat_fmt(got, 6, "%s", "truncated");
	assert_int_equal(n, 5);
	assert_string_equal(got, "trunc");
	assert_int_equal(got[6], 'X');
	assert_int_equal(moat_fmt(got, 1, "x%d", 1), 0);
	assert_string_equal(got, "");
	assert_int_equal(moat_fmt(got, 0, "x"), 0);
	assert_int_equal(got[0], '\0');
}

static void addr_parse_and_format(void **state)
{
	static const struct {
		const char *text;
		int family;
	} rows[] = {
		{ "198.18.1.10", MOAT_AF_INET },
		{ "0.0.0.0", MOAT_AF_INET },
		{ "2001:db8::1", MOAT_AF_INET6 },
		{ "::", MOAT_AF_INET6 },
	};
	char buf[MOAT_ADDR_STRLEN];
	struct moat_addr a;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(moat_addr_parse(&a, rows[i].text), 0);
		assert_int_equal(a.family, rows[i].family);
		assert_string_equal(moat_addr_format(&a, buf, sizeof(buf)),
				    rows[i].text);
	}
	assert_int_not_equal(moat_addr_parse(&a, "198.18.1"), 0);
	assert_int_not_equal(moat_addr_parse(&a, "example.com"), 0);
}

static void v4_is_mapped(void **state)
{
	struct moat_addr a, b;

	(void)state;
	assert_int_equal(moat_addr_parse(&a, "198.18.1.10"), 0);
	assert_int_equal(moat_addr_parse(&b, "::ffff:198.18.1.10"), 0);
	/* Same bytes, different family: never equal. */
	assert_memory_equal(a.b, b.b, 16);
	assert_false(moat_addr_eq(&a, &b));
}

/* The paper's vector (key 00..0f, message 00..0e) and libsodium's
 * crypto_shorthash, which is SipHash-2-4, on every length 0..64. */
static void siphash_matches_reference(void **state)
{
	uint8_t key[16], msg[64], ref[8];
	uint64_t want = 0xa129ca6149be45e5ull;

	(void)state;
	assert_true(sodium_init() >= 0);
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	assert_true(moat_siphash24(key, msg, 15) == want);
	for (size_t len = 0; len <= sizeof(msg); len++) {
		uint64_t got = moat_siphash24(key, msg, len), r;
		crypto_shorthash(ref, msg, len, key);
		memcpy(&r, ref, 8);
		assert_true(got == r);
		key[len % 16] ^= (uint8_t)(len * 37);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reason_names_are_unique_and_round_trip),
		cmocka_unit_test(reason_classes),
		cmocka_unit_test(fmt_like_snprintf),
		cmocka_unit_test(addr_parse_and_format),
		cmocka_unit_test(v4_is_mapped),
		cmocka_unit_test(siphash_matches_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
