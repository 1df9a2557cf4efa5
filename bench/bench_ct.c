/*
 * Conntrack micro-benchmark: what a flow lookup costs when it hits, with a
 * table that fits in cache (1k flows) and one that lives in DRAM (1M
 * flows), one packet at a time and in bursts (moat_ct_lookup_burst, which
 * prefetches), alone and followed by moat_ct_track() of a pure ACK; the cost of the keyed hash against SipHash; and the memory
 * a flow takes (sizeof the entry plus its share of the buckets, and the
 * resident memory actually added per flow).
 *
 *   bench_ct [LOOKUPS]       prints a Markdown section for bench/RESULTS.md
 *
 * Lookups go to flows drawn at random, half of them from the reply side.
 * Each figure is the median of 5 runs.  Not part of the test run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "moat/ct.h"

enum { RUNS = 5, NPKT = 1 << 16 };

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	/* xorshift64*: fixed seed, the same flows every run */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static long resident_bytes(void)
{
	long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		res = 0;
	fclose(f);
	return res * sysconf(_SC_PAGESIZE);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v)
{
	qsort(v, RUNS, sizeof(*v), cmp_double);
	return v[RUNS / 2];
}

/*
 * Flow i: 198.18.0.0/15 source and a random port, to 198.18.1.10:80.  Every
 * flow has the same ISNs (client 100, server 900): the segments used to
 * measure tracking are the pure ACKs of an idle connection.
 */
static void flow_pkt(struct moat_pkt *p, uint32_t src, uint16_t sport,
		     bool reply, uint8_t flags)
{
	uint8_t a[4] = { 198, (uint8_t)(18 + ((src >> 16) & 1)),
			 (uint8_t)(src >> 8), (uint8_t)src };
	uint8_t s[4] = { 198, 18, 1, 10 };

	memset(p, 0, sizeof(*p));
	p->ipv = 4;
	p->proto = MOAT_IPPROTO_TCP;
	p->ttl = 64;
	moat_addr_from_v4(reply ? &p->dst : &p->src, a);
	moat_addr_from_v4(reply ? &p->src : &p->dst, s);
	p->sport = reply ? 80 : sport;
	p->dport = reply ? sport : 80;
	p->tcp_flags = flags;
	p->seq = reply ? 900 : 100;
	p->ack = reply ? 101 : 0;
	if (!(flags & MOAT_TCP_SYN)) {
		p->seq++;
		p->ack = reply ? 101 : 901;
	}
	p->win = 65535;
}

struct result {
	uint32_t flows;
	double serial, burst, serial_track, burst_track, fill, bytes_rss;
};

static struct moat_ct *fill_table(uint32_t flows, uint32_t *src,
				  uint16_t *sport, long *rss_delta)
{
	struct moat_ct_params par;
	struct moat_ct *ct;
	long before = resident_bytes();
	struct moat_pkt p;

	moat_ct_params_default(&par);
	par.max_flows = flows;
	randombytes_buf(par.seed, sizeof(par.seed));
	ct = moat_ct_create(&par);
	if (!ct) {
		perror("moat_ct_create");
		exit(1);
	}
	for (uint32_t i = 0; i < flows;) {
		int dir;

		struct moat_ct_entry *e;

		src[i] = (uint32_t)rng() & 0x1ffff;
		sport[i] = (uint16_t)(1024 + rng() % 64000);
		flow_pkt(&p, src[i], sport[i], false, MOAT_TCP_SYN);
		if (moat_ct_lookup(ct, &p, &dir))
			continue;
		e = moat_ct_insert(ct, &p, 1000000000ull, NULL);
		if (!e) {
			fprintf(stderr, "insert failed at %u\n", i);
			exit(1);
		}
		flow_pkt(&p, src[i], sport[i], true,
			 MOAT_TCP_SYN | MOAT_TCP_ACK);
		moat_ct_track(ct, e, MOAT_CT_REPLY, &p, 1000000000ull);
		flow_pkt(&p, src[i], sport[i], false, MOAT_TCP_ACK);
		moat_ct_track(ct, e, MOAT_CT_ORIG, &p, 1000000000ull);
		if (e->state != MOAT_CT_ESTABLISHED) {
			fprintf(stderr, "handshake failed at %u\n", i);
			exit(1);
		}
		i++;
	}
	*rss_delta = resident_bytes() - before;
	return ct;
}

/*
 * What a lookup is given: a packet view just written by the decoder, hot in
 * L1.  The probes (which flow, which side) are compact; each chunk of
 * MOAT_CT_BURST views is filled from them, then looked up.  The cost of the
 * filling alone is measured too and subtracted.
 */
struct probe {
	uint32_t src;
	uint16_t sport;
	uint8_t reply;
};

static struct probe probes[NPKT];
static struct moat_pkt views[MOAT_CT_BURST];

enum mode { FILL_ONLY, SERIAL, BURST, SERIAL_TRACK, BURST_TRACK };

static double run(struct moat_ct *ct, long lookups, enum mode m,
		  uintptr_t *sink)
{
	const struct moat_pkt *pp[MOAT_CT_BURST];
	struct moat_ct_entry *out[MOAT_CT_BURST];
	int dirs[MOAT_CT_BURST];
	double t0 = now_ns();

	for (int k = 0; k < MOAT_CT_BURST; k++)
		pp[k] = &views[k];
	for (long i = 0; i < lookups; i += MOAT_CT_BURST) {
		for (int k = 0; k < MOAT_CT_BURST; k++) {
			const struct probe *q = &probes[(i + k) & (NPKT - 1)];

			flow_pkt(&views[k], q->src, q->sport, q->reply,
				 MOAT_TCP_ACK);
		}
		if (m == SERIAL || m == SERIAL_TRACK) {
			for (int k = 0; k < MOAT_CT_BURST; k++) {
				out[k] = moat_ct_lookup(ct, pp[k], &dirs[k]);
				if (m == SERIAL_TRACK)
					*sink += moat_ct_track(ct, out[k], dirs[k],
							       pp[k], 2e9);
				*sink += (uintptr_t)out[k];
			}
		} else if (m == BURST || m == BURST_TRACK) {
			moat_ct_lookup_burst(ct, pp, MOAT_CT_BURST, out, dirs);
			for (int k = 0; k < MOAT_CT_BURST; k++) {
				if (m == BURST_TRACK)
					*sink += moat_ct_track(ct, out[k], dirs[k],
							       pp[k], 2e9);
				*sink += (uintptr_t)out[k];
			}
		} else {
			for (int k = 0; k < MOAT_CT_BURST; k++)
				*sink += views[k].sport;
		}
	}
	return (now_ns() - t0) / (double)lookups;
}

static struct result bench_table(uint32_t flows, long lookups)
{
	uint32_t *src = malloc(flows * sizeof(*src));
	uint16_t *sport = malloc(flows * sizeof(*sport));
	struct result r = { .flows = flows };
	double ser[RUNS], bur[RUNS], sert[RUNS], burt[RUNS], base[RUNS];
	uintptr_t sink = 0;
	long rss;
	struct moat_ct *ct;

	if (!src || !sport)
		exit(1);
	/* resident before the measurement, so only the table counts (not
	 * zeros: gcc turns malloc + memset 0 into calloc, which touches
	 * nothing) */
	memset(src, 0xff, flows * sizeof(*src));
	memset(sport, 0xff, flows * sizeof(*sport));
	ct = fill_table(flows, src, sport, &rss);
	for (int i = 0; i < NPKT; i++) {
		uint32_t j = (uint32_t)(rng() % flows);

		probes[i] = (struct probe){ src[j], sport[j], (uint8_t)(i & 1) };
	}
	run(ct, lookups / 4, SERIAL, &sink); /* warm up */
	for (int k = 0; k < RUNS; k++) {
		base[k] = run(ct, lookups, FILL_ONLY, &sink);
		ser[k] = run(ct, lookups, SERIAL, &sink) - base[k];
		bur[k] = run(ct, lookups, BURST, &sink) - base[k];
		sert[k] = run(ct, lookups, SERIAL_TRACK, &sink) - base[k];
		burt[k] = run(ct, lookups, BURST_TRACK, &sink) - base[k];
	}
	r.serial = median(ser);
	r.burst = median(bur);
	r.serial_track = median(sert);
	r.burst_track = median(burt);
	r.fill = median(base);
	r.bytes_rss = (double)rss / flows;
	if (sink == 42)
		puts("");
	moat_ct_destroy(ct);
	free(src);
	free(sport);
	return r;
}

/* The keyed hash against libsodium's SipHash-2-4 over the same tuple. */
static void bench_hash(const struct moat_pkt *pk, double *nh, double *sip)
{
	uint8_t key[crypto_shorthash_KEYBYTES] = { 1 }, out[8];
	struct moat_ct_params par;
	double a[RUNS], b[RUNS];
	uintptr_t sink = 0;
	struct moat_ct *ct;
	long n = 1 << 22;

	moat_ct_params_default(&par);
	par.max_flows = 1;
	par.seed[0] = 1;
	ct = moat_ct_create(&par);
	for (int k = 0; k < RUNS; k++) {
		double t0 = now_ns();

		/* A miss in a one-flow table: the hash plus one bucket read. */
		for (long i = 0; i < n; i++) {
			int dir;

			sink += (uintptr_t)moat_ct_lookup(ct, &pk[i & 1023], &dir);
		}
		a[k] = (now_ns() - t0) / (double)n;
		t0 = now_ns();
		for (long i = 0; i < n; i++) {
			const struct moat_pkt *p = &pk[i & 1023];
			uint8_t in[40];

			memcpy(in, p->src.b, 16);
			memcpy(in + 16, p->dst.b, 16);
			memcpy(in + 32, &p->sport, 2);
			memcpy(in + 34, &p->dport, 2);
			in[36] = p->proto;
			in[37] = in[38] = in[39] = 0;
			crypto_shorthash(out, in, sizeof(in), key);
			sink += out[0];
		}
		b[k] = (now_ns() - t0) / (double)n;
	}
	*nh = median(a);
	*sip = median(b);
	if (sink == 42)
		puts("");
	moat_ct_destroy(ct);
}

/*
 * A SYN flood against a full table of half-open flows: every new SYN
 * misses, evicts the oldest half-open flow and inserts itself.  What one
 * spoofed SYN costs conntrack, lookup included, with @flows in the table.
 */
static double bench_flood(uint32_t flows, long syns)
{
	struct moat_ct_params par;
	struct moat_ct_stats st;
	struct moat_ct *ct;
	struct moat_pkt p;
	double v[RUNS];
	uint64_t now = 1000000000ull;

	moat_ct_params_default(&par);
	par.max_flows = flows;
	randombytes_buf(par.seed, sizeof(par.seed));
	ct = moat_ct_create(&par);
	if (!ct)
		exit(1);
	flow_pkt(&p, 0, 1024, false, MOAT_TCP_SYN);
	for (int k = 0; k < RUNS; k++) {
		double t0 = now_ns();

		for (long i = 0; i < syns; i++) {
			int dir;

			flow_pkt(&p, (uint32_t)rng() & 0x1ffff,
				 (uint16_t)(1024 + rng() % 64000), false,
				 MOAT_TCP_SYN);
			if (!moat_ct_lookup(ct, &p, &dir))
				moat_ct_insert(ct, &p, now, NULL);
		}
		v[k] = (now_ns() - t0) / (double)syns;
	}
	moat_ct_get_stats(ct, &st);
	if (st.evicted_halfopen == 0 || moat_ct_count(ct) != flows)
		fprintf(stderr, "flood: no eviction?\n");
	moat_ct_destroy(ct);
	return median(v);
}

static void machine(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10) == 0) {
			char *c = strchr(line, ':');

			const char *v = c ? c + 2 : line;
			size_t n = strcspn(v, "\n");

			if (n >= len)
				n = len - 1;
			memcpy(buf, v, n);
			buf[n] = 0;
			break;
		}
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	long lookups = argc > 1 ? atol(argv[1]) : 1 << 23;
	struct moat_pkt *pk = malloc(1024 * sizeof(*pk));
	struct result r[2];
	double nh, sip;
	char cpu[128], date[64];
	time_t t = time(NULL);

	if (!pk || sodium_init() < 0)
		return 1;
	for (int i = 0; i < 1024; i++)
		flow_pkt(&pk[i], (uint32_t)rng() & 0x1ffff, (uint16_t)rng(), 0,
			 MOAT_TCP_SYN);
	lookups = (lookups + NPKT - 1) / NPKT * NPKT;

	r[0] = bench_table(1000, lookups);
	bench_hash(pk, &nh, &sip);
	r[1] = bench_table(1000000, lookups);
	double flood_small = bench_flood(1000, 1 << 20);
	double flood_big = bench_flood(1000000, 1 << 22);
	machine(cpu, sizeof(cpu));
	strftime(date, sizeof(date), "%Y-%m-%d", gmtime(&t));

	printf("## Conntrack\n\n");
	printf("%s, %s, %ld CPUs online; `build/bench/bench_ct %ld` "
	       "(buildtype debugoptimized, -O2).  Lookup hits on random flows, "
	       "half from the reply side, median of %d runs, thread CPU time "
	       "(the VM is shared: wall time counts other processes).\n\n",
	       date, cpu, sysconf(_SC_NPROCESSORS_ONLN), lookups, RUNS);
	printf("| flows | lookup serial | lookup burst(%d) "
	       "| lookup+track serial | lookup+track burst "
	       "| view fill (subtracted) | RSS bytes/flow |\n",
	       MOAT_CT_BURST);
	printf("|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int i = 0; i < 2; i++)
		printf("| %u | %.1f ns | %.1f ns | %.1f ns | %.1f ns "
		       "| %.1f ns | %.1f |\n",
		       r[i].flows, r[i].serial, r[i].burst, r[i].serial_track,
		       r[i].burst_track, r[i].fill, r[i].bytes_rss);
	printf("\nBytes per flow by construction: entry %zu (two cache lines, "
	       "key and index in the first) + 4 per hash bucket "
	       "(buckets = next power of two >= flows: 4.19 at 1M) = about %.1f; "
	       "the timer wheel adds at most 512 KiB per table.  "
	       "nf_conntrack: 256 + 8.\n\n",
	       sizeof(struct moat_ct_entry),
	       sizeof(struct moat_ct_entry) + 4.0 * 1048576 / 1000000);
	printf("SYN flood on a full table of half-open flows (miss, evict the "
	       "oldest, insert), view fill included: %.1f ns per SYN with "
	       "1,000 flows, %.1f ns with 1,000,000.\n\n",
	       flood_small, flood_big);
	printf("Keyed hash: a miss in a one-flow table (NH hash + one bucket) "
	       "%.1f ns; SipHash-2-4 (crypto_shorthash) over the 40-byte "
	       "tuple alone %.1f ns.\n",
	       nh, sip);
	free(pk);
	return 0;
}
