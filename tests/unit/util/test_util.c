/* Unit tests for src/util: reason names and address text forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <sodium.h>

#include "moat/addr.h"
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
		cmocka_unit_test(addr_parse_and_format),
		cmocka_unit_test(v4_is_mapped),
		cmocka_unit_test(siphash_matches_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
