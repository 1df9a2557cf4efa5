/*
 * SYN proxy micro-benchmarks: cookie make and check (IPv4 and IPv6), and
 * a spoofed SYN in -> cookie SYN-ACK frame out, next to a trivial loop
 * over the same frames and a decode-only loop.  Each figure is the median
 * of 5 runs.  Not part of the test run; results go to bench/RESULTS.md.
 *
 *   ninja -C build bench/bench_syn && build/bench/bench_syn
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "moat/emit.h"
#include "moat/pkt.h"
#include "moat/syn.h"
#include "moat/syn_proxy.h"

enum { RUNS = 5, COOKIES = 2000000, FRAMES = 4096, PASSES = 200 };

static volatile uint64_t sink;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t rng = 2463534242u;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v)
{
	qsort(v, RUNS, sizeof(v[0]), cmp_double);
	return v[RUNS / 2];
}

static void tuples(struct moat_syn_tuple *t, unsigned n, int family)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (family == MOAT_AF_INET) {
			uint8_t a[4] = { 198, 18, (uint8_t)(128 + (rnd() & 127)),
					 (uint8_t)rnd() };
			uint8_t d[4] = { 198, 18, 1, 10 };

			moat_addr_from_v4(&t[i].src, a);
			moat_addr_from_v4(&t[i].dst, d);
		} else {
			uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8 }, d[16] = {
				0x20, 0x01, 0x0d, 0xb8, 0, 1 };

			for (unsigned j = 8; j < 16; j++)
				a[j] = (uint8_t)rnd();
			d[15] = 0x10;
			moat_addr_from_v6(&t[i].src, a);
			moat_addr_from_v6(&t[i].dst, d);
		}
		t[i].sport = (uint16_t)rnd();
		t[i].dport = 80;
	}
}

static void bench_cookies(struct moat_syn_keys *k, int family)
{
	static struct moat_syn_tuple t[1024];
	static uint32_t isn[1024], ck[1024];
	double make[RUNS], check[RUNS];
	uint64_t t0, now = 1764150000ull * 1000000000ull;
	uint16_t mss;
	unsigned r, i;
	uint64_t acc = 0;

	tuples(t, 1024, family);
	for (i = 0; i < 1024; i++)
		isn[i] = rnd();
	for (r = 0; r < RUNS; r++) {
		t0 = now_ns();
		for (i = 0; i < COOKIES; i++)
			acc += moat_syn_cookie_make(k, &t[i & 1023],
						    isn[i & 1023], 1460, now);
		make[r] = (double)(now_ns() - t0) / COOKIES;
		for (i = 0; i < 1024; i++)
			ck[i] = moat_syn_cookie_make(k, &t[i], isn[i], 1460,
						     now);
		t0 = now_ns();
		for (i = 0; i < COOKIES; i++)
			acc += moat_syn_cookie_check(k, &t[i & 1023],
						     isn[i & 1023],
						     ck[i & 1023], now, &mss);
		check[r] = (double)(now_ns() - t0) / COOKIES;
	}
	sink = acc;
	printf("cookie make  IPv%d: %6.1f ns   check: %6.1f ns\n",
	       family, median(make), median(check));
}

struct frames {
	uint8_t data[FRAMES][128];
	uint32_t len[FRAMES];
};

/* Spoofed SYNs as a flood brings them: 198.18.128.0/17, random ports. */
static void build_syns(struct frames *fr)
{
	struct moat_l2 l2 = { .dst = { 2, 0, 0, 0, 0, 1 },
			      .src = { 2, 0, 0, 0, 0, 2 } };
	struct moat_syn_tuple t;
	struct moat_tcp_spec s;
	unsigned i;

	for (i = 0; i < FRAMES; i++) {
		tuples(&t, 1, MOAT_AF_INET);
		memset(&s, 0, sizeof(s));
		s.src = t.src;
		s.dst = t.dst;
		s.sport = t.sport;
		s.dport = 80;
		s.seq = rnd();
		s.flags = MOAT_TCP_SYN;
		s.win = 64240;
		s.opt.present = MOAT_TCPOPT_MSS | MOAT_TCPOPT_SACK_PERM |
				MOAT_TCPOPT_TS | MOAT_TCPOPT_WSCALE;
		s.opt.mss = 1460;
		s.opt.wscale = 7;
		s.opt.tsval = rnd();
		fr->len[i] = moat_pkt_build_tcp(fr->data[i], 128,
						MOAT_LINK_ETHERNET, &l2, &s);
	}
}

/* 0: trivial loop, 1: decode only, 2: decode + cookie SYN-ACK out. */
static double run_frames(struct frames *fr, struct moat_syn *syn, int what)
{
	static struct moat_emit out;
	uint64_t t0, now = 1764150000ull * 1000000000ull, acc = 0;
	struct moat_pkt p;
	unsigned pass, i;

	moat_emit_reset(&out);
	t0 = now_ns();
	for (pass = 0; pass < PASSES; pass++) {
		for (i = 0; i < FRAMES; i++) {
			if (what == 0) {
				acc += fr->len[i] + fr->data[i][47];
				continue;
			}
			acc += moat_pkt_decode(&p, fr->data[i], fr->len[i],
					       fr->len[i], MOAT_LINK_ETHERNET);
			if (what == 1)
				continue;
			if (out.count >= MOAT_EMIT_MAX)
				moat_emit_reset(&out);
			acc += moat_syn_answer_syn(syn, &p, 0, now, &out);
		}
		now += 1000000; /* 1 ms per pass */
	}
	sink = acc;
	return (double)FRAMES * PASSES / (double)(now_ns() - t0) * 1000.0;
}

static void bench_synack(void)
{
	static const char *what[] = { "trivial loop over the frames",
				      "decode only",
				      "decode + cookie SYN-ACK out" };
	static struct frames fr;
	struct moat_syn_params par = { 0 };
	struct moat_syn *syn;
	double v[RUNS];
	int w, r;

	memset(par.secret, 0x42, sizeof(par.secret));
	syn = moat_syn_create(&par);
	if (!syn) {
		perror("moat_syn_create");
		exit(1);
	}
	build_syns(&fr);
	for (w = 0; w < 3; w++) {
		for (r = 0; r < RUNS; r++)
			v[r] = run_frames(&fr, syn, w);
		printf("%-32s %7.2f Mpps\n", what[w], median(v));
	}
	moat_syn_destroy(syn);
}

/* The floor under a cookie: libsodium's SipHash-2-4 alone, same sizes. */
static void bench_siphash(void)
{
	static const unsigned sizes[] = { 8, 16, 22, 46 };
	uint8_t key[16] = { 7 }, in[48] = { 0 }, out[8];
	double v[RUNS];
	uint64_t t0, acc = 0;
	unsigned s, r, i;

	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (r = 0; r < RUNS; r++) {
			t0 = now_ns();
			for (i = 0; i < COOKIES; i++) {
				in[0] = (uint8_t)i;
				crypto_shorthash(out, in, sizes[s], key);
				acc += out[0];
			}
			v[r] = (double)(now_ns() - t0) / COOKIES;
		}
		printf("crypto_shorthash %2u bytes: %6.1f ns\n", sizes[s],
		       median(v));
	}
	sink = acc;
}

int main(void)
{
	static const uint8_t secret[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct moat_syn_keys k;

	if (moat_syn_keys_init(&k, secret, 0) < 0)
		return 1;
	bench_siphash();
	bench_cookies(&k, MOAT_AF_INET);
	bench_cookies(&k, MOAT_AF_INET6);
	bench_synack();
	moat_syn_keys_fini(&k);
	return 0;
}
