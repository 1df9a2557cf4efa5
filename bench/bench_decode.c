/*
 * Decode cost per packet: moat_pkt_decode() over an in-memory trace of
 * small Ethernet + IPv4 + TCP frames with options (mostly data/ACK segments
 * with timestamps, 66 bytes; one in eight a SYN with MSS, SACK-permitted,
 * timestamps and window scale, 74 bytes), next to a baseline loop that only
 * touches the same bytes (one load per cache line of each frame), so the
 * difference is the decoder's own work.  Two more loops separate compute
 * from memory: the same decode with a prefetch 8 frames ahead (what a burst
 * I/O loop does), and a hot loop over the first 4096 frames only (L1/L2
 * resident).  Median of 5 runs.  Not part of the test run; figures go to
 * bench/RESULTS.md ("## Decode").
 *
 *   bench_decode [FRAMES]      default 1000000
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "moat/pkt.h"

enum { SLOT = 80, RUNS = 5 };

/*
 * Thread CPU time, not wall time: the project's machines are shared (load
 * 4-6 on 2 vCPUs while others build and test), and time spent descheduled
 * is not the decoder's.  Cache pollution by the neighbours still counts.
 */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void make_trace(uint8_t *buf, uint32_t *lens, uint32_t n)
{
	static const struct moat_l2 l2 = { .dst = { 2, 0, 0, 0, 0, 1 },
					   .src = { 2, 0, 0, 0, 0, 2 } };
	uint32_t seed = 12345;

	for (uint32_t i = 0; i < n; i++) {
		struct moat_tcp_spec s = { 0 };
		uint8_t a[4] = { 198, 18, (uint8_t)(128 + rnd(&seed) % 128),
				 (uint8_t)rnd(&seed) };
		uint8_t b[4] = { 198, 18, 1, 10 };

		moat_addr_from_v4(&s.src, a);
		moat_addr_from_v4(&s.dst, b);
		s.sport = (uint16_t)(1024 + rnd(&seed) % 60000);
		s.dport = 80;
		s.seq = rnd(&seed);
		s.ack = rnd(&seed);
		s.win = 502;
		s.opt.present = MOAT_TCPOPT_TS;
		s.opt.tsval = rnd(&seed);
		s.opt.tsecr = rnd(&seed);
		if (i % 8 == 0) {
			s.flags = MOAT_TCP_SYN;
			s.opt.present |= MOAT_TCPOPT_MSS | MOAT_TCPOPT_WSCALE |
					 MOAT_TCPOPT_SACK_PERM;
			s.opt.mss = 1460;
			s.opt.wscale = 7;
		} else {
			s.flags = (uint8_t)(MOAT_TCP_ACK |
					    (i % 3 ? 0 : MOAT_TCP_PSH));
		}
		lens[i] = moat_pkt_build_tcp(buf + (size_t)i * SLOT, SLOT,
					     MOAT_LINK_ETHERNET, &l2, &s);
	}
}

static double run_decode(uint8_t *buf, const uint32_t *lens, uint32_t n,
			 uint64_t *sink)
{
	struct moat_pkt p;
	uint64_t t0 = now_ns(), acc = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint8_t *f = buf + (size_t)i * SLOT;

		acc += moat_pkt_decode(&p, f, lens[i], lens[i],
				       MOAT_LINK_ETHERNET);
		acc += p.seq ^ p.sport ^ p.opt.tsval;
	}
	*sink += acc;
	return (double)(now_ns() - t0) / n;
}

static double run_prefetch(uint8_t *buf, const uint32_t *lens, uint32_t n,
			   uint64_t *sink)
{
	struct moat_pkt p;
	uint64_t t0 = now_ns(), acc = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint8_t *f = buf + (size_t)i * SLOT;

		if (i + 8 < n) {
			__builtin_prefetch(f + 8 * SLOT);
			__builtin_prefetch(f + 8 * SLOT + 64);
		}
		acc += moat_pkt_decode(&p, f, lens[i], lens[i],
				       MOAT_LINK_ETHERNET);
		acc += p.seq ^ p.sport ^ p.opt.tsval;
	}
	*sink += acc;
	return (double)(now_ns() - t0) / n;
}

/* 4096 frames (320 KiB) decoded over and over: the compute cost. */
static double run_hot(uint8_t *buf, const uint32_t *lens, uint32_t n,
		      uint64_t *sink)
{
	uint32_t m = n < 4096 ? n : 4096, reps = n / m;
	double t = 0;

	for (uint32_t r = 0; r < reps; r++)
		t += run_decode(buf, lens, m, sink);
	return t / reps;
}

/* The same frames, one byte read per cache line: memory cost alone. */
static double run_baseline(const uint8_t *buf, const uint32_t *lens,
			   uint32_t n, uint64_t *sink)
{
	uint64_t t0 = now_ns(), acc = 0;

	for (uint32_t i = 0; i < n; i++) {
		const volatile uint8_t *f = buf + (size_t)i * SLOT;

		acc += f[0] + f[lens[i] - 1];
	}
	*sink += acc;
	return (double)(now_ns() - t0) / n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000000;
	double dec[RUNS], base[RUNS], pf[RUNS], hot[RUNS];
	uint64_t sink = 0;
	uint8_t *buf;
	uint32_t *lens;

	if (n == 0)
		n = 1;
	buf = malloc((size_t)n * SLOT);
	lens = malloc((size_t)n * sizeof(*lens));
	if (!buf || !lens) {
		fprintf(stderr, "bench_decode: out of memory\n");
		return 1;
	}
	make_trace(buf, lens, n);
	run_decode(buf, lens, n, &sink); /* warm up: page faults, caches */
	for (int r = 0; r < RUNS; r++) {
		base[r] = run_baseline(buf, lens, n, &sink);
		dec[r] = run_decode(buf, lens, n, &sink);
		pf[r] = run_prefetch(buf, lens, n, &sink);
		hot[r] = run_hot(buf, lens, n, &sink);
	}
	qsort(pf, RUNS, sizeof(double), cmp_double);
	qsort(hot, RUNS, sizeof(double), cmp_double);
	qsort(dec, RUNS, sizeof(double), cmp_double);
	qsort(base, RUNS, sizeof(double), cmp_double);
	printf("frames %u (Ethernet+IPv4+TCP with options, 66-74 bytes)\n", n);
	printf("baseline (touch each frame):  %.2f ns/packet (median of %d; "
	       "min %.2f, max %.2f)\n", base[RUNS / 2], RUNS, base[0],
	       base[RUNS - 1]);
	printf("moat_pkt_decode:              %.2f ns/packet (median of %d; "
	       "min %.2f, max %.2f)\n", dec[RUNS / 2], RUNS, dec[0],
	       dec[RUNS - 1]);
	printf("decode, prefetch 8 ahead:     %.2f ns/packet (median of %d; "
	       "min %.2f, max %.2f)\n", pf[RUNS / 2], RUNS, pf[0], pf[RUNS - 1]);
	printf("decode, 4096 hot frames:      %.2f ns/packet (median of %d; "
	       "min %.2f, max %.2f)\n", hot[RUNS / 2], RUNS, hot[0],
	       hot[RUNS - 1]);
	printf("decode / baseline:            %.2fx; decode - baseline: %.2f ns\n",
	       dec[RUNS / 2] / base[RUNS / 2], dec[RUNS / 2] - base[RUNS / 2]);
	printf("(checksum %llu)\n", (unsigned long long)sink);
	free(buf);
	free(lens);
	return 0;
}
