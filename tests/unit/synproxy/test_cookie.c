/*
 * SYN cookies and their keys: round trips for both families, every MSS
 * index and option combination; what must be refused (stale, forged,
 * older keys); determinism; rotation; the secret file loader.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "moat/syn.h"

#define SEC 1000000000ull
#define COUNTER MOAT_SYN_COUNTER_NS

/* An arbitrary wall-clock-like start: counter 27,000,000-ish. */
static const uint64_t T0 = 1764150000ull * SEC;

static const uint8_t secret_a[32] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

static void tuple4(struct moat_syn_tuple *t)
{
	moat_addr_parse(&t->src, "198.18.100.10");
	moat_addr_parse(&t->dst, "198.18.1.10");
	t->sport = 40000;
	t->dport = 80;
}

static void tuple6(struct moat_syn_tuple *t)
{
	moat_addr_parse(&t->src, "2001:db8:100::10");
	moat_addr_parse(&t->dst, "2001:db8:1::10");
	t->sport = 51515;
	t->dport = 443;
}

static void keys(struct moat_syn_keys *k)
{
	assert_int_equal(moat_syn_keys_init(k, secret_a, 0), 0);
}

static void test_roundtrip_every_mss(void **state)
{
	static const struct {
		void (*tuple)(struct moat_syn_tuple *);
		int family;
	} fam[] = { { tuple4, MOAT_AF_INET }, { tuple6, MOAT_AF_INET6 } };
	/* Checked at: same instant, later in the counter, next counter. */
	static const uint64_t later[] = { 0, 30 * SEC, COUNTER, COUNTER + 60 * SEC };
	struct moat_syn_keys k;
	struct moat_syn_tuple t;
	unsigned f, i, l, idx;
	uint16_t mss, got;
	uint32_t c, isn;
	uint64_t now;

	(void)state;
	keys(&k);
	for (f = 0; f < 2; f++) {
		fam[f].tuple(&t);
		for (i = 0; i < MOAT_SYN_MSS_TABLE; i++) {
			mss = moat_syn_mss_table(fam[f].family)[i];
			for (l = 0; l < 4; l++) {
				/* start of a counter so +63 s stays in the next */
				now = T0 - T0 % COUNTER + (uint64_t)i * SEC;
				isn = 0x12345678u * (i + 1) + l;
				/* An MSS between entries rounds down. */
				c = moat_syn_cookie_make(&k, &t, isn, mss + 7, now);
				idx = (c >> 27) & 3;
				assert_int_equal(idx, i);
				got = 0;
				assert_int_equal(moat_syn_cookie_check(&k, &t, isn, c,
							now + later[l], &got),
						 MOAT_R_NONE);
				assert_int_equal(got, mss);
			}
		}
	}
	moat_syn_keys_fini(&k);
}

static void test_mss_below_table(void **state)
{
	(void)state;
	assert_int_equal(moat_syn_mss_index(MOAT_AF_INET, 100), 0);
	assert_int_equal(moat_syn_mss_index(MOAT_AF_INET, 1459), 2);
	assert_int_equal(moat_syn_mss_index(MOAT_AF_INET, 65535), 3);
	assert_int_equal(moat_syn_mss_index(MOAT_AF_INET6, 1280), 0);
	assert_int_equal(moat_syn_mss_index(MOAT_AF_INET6, 9000), 3);
}

/* Every wscale x SACK x ECN survives our TSval and the client's TSecr. */
static void test_ts_options_roundtrip(void **state)
{
	static const uint8_t ws[] = { 0, 1, 7, 9, 14, MOAT_SYN_WSCALE_NONE };
	struct moat_syn_keys k;
	struct moat_syn_client in = { 0 }, out;
	unsigned w, sack, ecn, step;
	uint64_t now;
	uint32_t ts, clock;

	(void)state;
	keys(&k);
	for (step = 0; step < 5; step++) {
		now = T0 + step * 12345678901ull;
		clock = (uint32_t)(now / 1000000u) + k.ts_offset;
		for (w = 0; w < sizeof(ws); w++)
			for (sack = 0; sack < 2; sack++)
				for (ecn = 0; ecn < 2; ecn++) {
					in.wscale = ws[w];
					in.sack_ok = sack;
					in.ecn_ok = ecn;
					in.ts_ok = true;
					ts = moat_syn_ts_encode(&k, now, &in);
					/* never ahead of our clock, never far behind */
					assert_true((int32_t)(clock - ts) >= 0);
					assert_true(clock - ts < 64);
					memset(&out, 0xaa, sizeof(out));
					moat_syn_ts_decode(ts, &out);
					assert_int_equal(out.wscale, ws[w]);
					assert_int_equal(out.sack_ok, sack);
					assert_int_equal(out.ecn_ok, ecn);
				}
	}
}

static void test_counter_window(void **state)
{
	static const struct {
		int64_t counters_later;
		enum moat_reason want;
	} rows[] = {
		{ 0, MOAT_R_NONE },
		{ 1, MOAT_R_NONE },              /* previous counter: accepted */
		{ 2, MOAT_R_SYN_COOKIE_STALE },
		{ 3, MOAT_R_SYN_COOKIE_STALE },  /* three counters old */
		{ 7, MOAT_R_SYN_COOKIE_STALE },
		{ -1, MOAT_R_SYN_COOKIE_STALE }, /* from the future */
		/* Counter bits wrap: the MAC over the full counter refuses. */
		{ 8, MOAT_R_SYN_COOKIE_BAD },
		{ 9, MOAT_R_SYN_COOKIE_BAD },
	};
	struct moat_syn_keys k;
	struct moat_syn_tuple t;
	uint16_t mss;
	uint32_t c;
	unsigned i;

	(void)state;
	keys(&k);
	tuple4(&t);
	c = moat_syn_cookie_make(&k, &t, 1000, 1460, T0);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(moat_syn_cookie_check(&k, &t, 1000, c,
				T0 + (uint64_t)(rows[i].counters_later *
						(int64_t)COUNTER), &mss),
				 rows[i].want);
}

static void test_forged(void **state)
{
	struct moat_syn_keys k;
	struct moat_syn_tuple t, f;
	uint16_t mss;
	uint32_t c;
	unsigned bit;

	(void)state;
	keys(&k);
	tuple4(&t);
	c = moat_syn_cookie_make(&k, &t, 0xdeadbeef, 1460, T0);
	/* Any MAC bit, or an MSS index bit, flipped. */
	for (bit = 0; bit < 29; bit++)
		assert_int_equal(moat_syn_cookie_check(&k, &t, 0xdeadbeef,
					c ^ (1u << bit), T0, &mss),
				 MOAT_R_SYN_COOKIE_BAD);
	/* The client's ISN is covered. */
	assert_int_equal(moat_syn_cookie_check(&k, &t, 0xdeadbeee, c, T0, &mss),
			 MOAT_R_SYN_COOKIE_BAD);
	/* So is every part of the tuple. */
	f = t;
	f.sport++;
	assert_int_equal(moat_syn_cookie_check(&k, &f, 0xdeadbeef, c, T0, &mss),
			 MOAT_R_SYN_COOKIE_BAD);
	f = t;
	f.dport = 443;
	assert_int_equal(moat_syn_cookie_check(&k, &f, 0xdeadbeef, c, T0, &mss),
			 MOAT_R_SYN_COOKIE_BAD);
	f = t;
	moat_addr_parse(&f.src, "198.18.100.11");
	assert_int_equal(moat_syn_cookie_check(&k, &f, 0xdeadbeef, c, T0, &mss),
			 MOAT_R_SYN_COOKIE_BAD);
	f = t;
	moat_addr_parse(&f.dst, "198.18.1.11");
	assert_int_equal(moat_syn_cookie_check(&k, &f, 0xdeadbeef, c, T0, &mss),
			 MOAT_R_SYN_COOKIE_BAD);
	/* Swapped direction (a reflected packet). */
	f.src = t.dst;
	f.dst = t.src;
	f.sport = t.dport;
	f.dport = t.sport;
	assert_int_equal(moat_syn_cookie_check(&k, &f, 0xdeadbeef, c, T0, &mss),
			 MOAT_R_SYN_COOKIE_BAD);
}

/* A retransmitted SYN within the same counter gets the same cookie. */
static void test_deterministic(void **state)
{
	struct moat_syn_keys k;
	struct moat_syn_tuple t;
	uint64_t start = T0 - T0 % COUNTER;
	uint32_t c1, c2, c3;

	(void)state;
	keys(&k);
	tuple6(&t);
	c1 = moat_syn_cookie_make(&k, &t, 77, 1440, start + 1 * SEC);
	c2 = moat_syn_cookie_make(&k, &t, 77, 1440, start + 4 * SEC);
	c3 = moat_syn_cookie_make(&k, &t, 78, 1440, start + 4 * SEC);
	assert_int_equal(c1, c2);
	assert_int_not_equal(c1, c3);
}

/* Two gateways sharing the secret validate each other's cookies. */
static void test_shared_secret(void **state)
{
	struct moat_syn_keys a, b, other;
	struct moat_syn_tuple t;
	uint8_t s2[32];
	uint16_t mss;
	uint32_t c;

	(void)state;
	keys(&a);
	keys(&b);
	memcpy(s2, secret_a, 32);
	s2[31] ^= 1;
	assert_int_equal(moat_syn_keys_init(&other, s2, 0), 0);
	tuple4(&t);
	c = moat_syn_cookie_make(&a, &t, 5, 1300, T0);
	assert_int_equal(moat_syn_cookie_check(&b, &t, 5, c, T0 + SEC, &mss),
			 MOAT_R_NONE);
	assert_int_equal(mss, 1300);
	assert_int_equal(moat_syn_cookie_check(&other, &t, 5, c, T0, &mss),
			 MOAT_R_SYN_COOKIE_BAD);
}

/*
 * Keys rotate every 4 counters here: a cookie made under the last counter
 * of an epoch still checks in the first counter of the next (the previous
 * key stays), and never later.
 */
static void test_key_rotation(void **state)
{
	struct moat_syn_keys k;
	struct moat_syn_tuple t;
	uint64_t c0 = T0 / COUNTER, e0 = c0 / 4, last = e0 * 4 + 3;
	uint64_t at_last = last * COUNTER + SEC;
	uint8_t key_prev[16];
	uint16_t mss;
	uint32_t c;

	(void)state;
	assert_int_equal(moat_syn_keys_init(&k, secret_a, 4), 0);
	tuple4(&t);
	c = moat_syn_cookie_make(&k, &t, 9, 536, at_last);
	memcpy(key_prev, moat_syn_keys_get(&k, last), 16);
	/* Next epoch: different key, the previous still accepted. */
	moat_syn_keys_advance(&k, at_last + COUNTER);
	assert_memory_not_equal(key_prev, moat_syn_keys_get(&k, last + 1), 16);
	assert_int_equal(moat_syn_cookie_check(&k, &t, 9, c, at_last + COUNTER,
					       &mss), MOAT_R_NONE);
	/* The ring holds exactly the two epochs in use. */
	assert_true(k.slot[0].valid && k.slot[1].valid);
	assert_true((k.slot[0].epoch == e0 && k.slot[1].epoch == e0 + 1) ||
		    (k.slot[1].epoch == e0 && k.slot[0].epoch == e0 + 1));
	/* One more counter: refused, and the old key is gone after advance. */
	assert_int_equal(moat_syn_cookie_check(&k, &t, 9, c,
					       at_last + 2 * COUNTER, &mss),
			 MOAT_R_SYN_COOKIE_STALE);
	moat_syn_keys_advance(&k, at_last + 5 * COUNTER);
	assert_true(k.slot[0].epoch != e0 && k.slot[1].epoch != e0);
	/* Rotation is deterministic from (secret, time). */
	assert_memory_equal(key_prev, moat_syn_keys_get(&k, last), 16);
}

static void test_zero_secret_refused(void **state)
{
	struct moat_syn_keys k;
	uint8_t zero[32] = { 0 };

	(void)state;
	assert_int_equal(moat_syn_keys_init(&k, zero, 0), -EINVAL);
}

static int write_file(const char *path, const void *data, size_t len,
		      mode_t mode)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return -1;
	fwrite(data, 1, len, f);
	fclose(f);
	return chmod(path, mode);
}

static void test_secret_load(void **state)
{
	static const char hex[] =
		"  0102030405060708090a0b0c0d0e0f10"
		"1112131415161718191A1B1C1D1E1F20\n";
	static const struct {
		const void *data;
		size_t len;
		mode_t mode;
		int want;
	} rows[] = {
		{ hex, sizeof(hex) - 1, 0600, 0 },
		{ hex, sizeof(hex) - 1, 0400, 0 },
		{ secret_a, 32, 0600, 0 },                    /* raw bytes */
		{ hex, sizeof(hex) - 1, 0640, -EPERM },       /* group reads */
		{ hex, sizeof(hex) - 1, 0604, -EPERM },       /* others read */
		{ hex, sizeof(hex) - 1, 0620, -EPERM },       /* group writes */
		{ hex, 40, 0600, -EINVAL },                   /* short */
		{ "zz", 2, 0600, -EINVAL },
		{ "00000000000000000000000000000000"
		  "00000000000000000000000000000000", 64, 0600, -EINVAL },
	};
	char path[] = "/tmp/moat-test-secret-XXXXXX";
	uint8_t out[32];
	unsigned i;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(write_file(path, rows[i].data, rows[i].len,
					    rows[i].mode), 0);
		assert_int_equal(moat_syn_secret_load(path, out), rows[i].want);
		if (rows[i].want == 0)
			assert_memory_equal(out, secret_a, 32);
	}
	unlink(path);
	assert_int_equal(moat_syn_secret_load(path, out), -ENOENT);
	assert_int_equal(moat_syn_secret_load("/tmp", out), -EINVAL);
}

static void test_secret_random(void **state)
{
	uint8_t a[32], b[32];

	(void)state;
	assert_int_equal(moat_syn_secret_random(a), 0);
	assert_int_equal(moat_syn_secret_random(b), 0);
	assert_memory_not_equal(a, b, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_every_mss),
		cmocka_unit_test(test_mss_below_table),
		cmocka_unit_test(test_ts_options_roundtrip),
		cmocka_unit_test(test_counter_window),
		cmocka_unit_test(test_forged),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_shared_secret),
		cmocka_unit_test(test_key_rotation),
		cmocka_unit_test(test_zero_secret_refused),
		cmocka_unit_test(test_secret_load),
		cmocka_unit_test(test_secret_random),
	};

	return cmocka_run_group_tests_name("synproxy_cookie", tests, NULL, NULL);
}
