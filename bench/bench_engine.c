/*
 * Engine benchmarks: the whole packet path (decode, antispoof, conntrack,
 * rules, SYN proxy) on one core over frames in memory, each next to the
 * trivial loop that walks the same frames and parses their headers, in the
 * same run (LAB-NOTES.md: only ratios measured side by side mean anything
 * on these shared machines).
 *
 *   1. a spoofed SYN flood, syncookies on: SYN in, cookie SYN-ACK out
 *   2. established flows, 1,000 and 1,000,000 of them: ACKs round robin
 *   3. bytes per flow with 1,000,000 flows (resident memory delta)
 *
 * Usage: bench_engine [FLOWS_BIG]   (default 1000000)
 *        bench_engine --syn [SYNS [on|auto|off]]
 *               the SYN path alone, in all three modes or one
 *               (default 1048576 SYNs)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "moat/engine.h"
#include "moat/pkt.h"
#include "moat/rules.h"

enum { RUNS = 5, FRAME = 80 };

struct trace {
	uint8_t *frames; /* n frames of FRAME bytes */
	uint32_t *len;
	int16_t *zone;
	uint32_t n;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void trace_alloc(struct trace *t, uint32_t n)
{
	t->frames = calloc(n, FRAME);
	t->len = calloc(n, sizeof(*t->len));
	t->zone = calloc(n, sizeof(*t->zone));
	t->n = n;
	if (!t->frames || !t->len || !t->zone) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
}

static void put_tcp(struct trace *t, uint32_t i, uint32_t src, uint32_t dst,
		    uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		    uint8_t flags, int16_t zone)
{
	static const struct moat_l2 l2 = { { 2, 0, 0, 0, 0, 1 },
					   { 2, 0, 0, 0, 0, 2 }, 0, { 0 } };
	struct moat_tcp_spec s;
	uint8_t a[4];

	memset(&s, 0, sizeof(s));
	a[0] = src >> 24; a[1] = src >> 16; a[2] = src >> 8; a[3] = src;
	moat_addr_from_v4(&s.src, a);
	a[0] = dst >> 24; a[1] = dst >> 16; a[2] = dst >> 8; a[3] = dst;
	moat_addr_from_v4(&s.dst, a);
	s.sport = sport;
	s.dport = dport;
	s.seq = seq;
	s.ack = ack;
	s.flags = flags;
	s.win = 64240;
	if (flags == MOAT_TCP_SYN) {
		s.opt.present = MOAT_TCPOPT_MSS | MOAT_TCPOPT_SACK_PERM |
				MOAT_TCPOPT_WSCALE;
		s.opt.mss = 1460;
		s.opt.wscale = 7;
	}
	t->len[i] = moat_pkt_build_tcp(t->frames + (size_t)i * FRAME, FRAME,
				       MOAT_LINK_ETHERNET, &l2, &s);
	t->zone[i] = zone;
}

/*
 * The frames go through a pcap file, read back with libpcap as `moat
 * replay` reads captures: the baseline and the engine pay the same walk.
 */
static const char *trace_file(const struct trace *t, const char *name)
{
	static char path[256];
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d;

	snprintf(path, sizeof(path), "/tmp/moat-bench-%s-%d.pcap", name,
		 (int)getpid());
	d = pcap_dump_open(dead, path);
	if (!d) {
		fprintf(stderr, "%s: %s\n", path, pcap_geterr(dead));
		exit(1);
	}
	for (uint32_t i = 0; i < t->n; i++) {
		struct pcap_pkthdr h = { { 0, 0 }, t->len[i], t->len[i] };
		pcap_dump((u_char *)d, &h, t->frames + (size_t)i * FRAME);
	}
	pcap_dump_close(d);
	pcap_close(dead);
	return path;
}

static pcap_t *open_trace(const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);

	if (!p) {
		fprintf(stderr, "%s: %s\n", path, err);
		exit(1);
	}
	return p;
}

/* The baseline: walk the capture and pull out what a filter looks at. */
static double trivial(const char *path)
{
	volatile uint32_t sink = 0;
	struct pcap_pkthdr *h;
	const u_char *f;
	pcap_t *p = open_trace(path);
	uint32_t n = 0;
	double t0 = now_s();

	while (pcap_next_ex(p, &h, &f) == 1) {
		uint16_t et = (uint16_t)(f[12] << 8 | f[13]);
		unsigned ihl = (f[14] & 0xf) * 4u;
		n++;
		if (h->caplen >= 54 && et == 0x0800 && f[23] == 6)
			sink += (uint32_t)(f[14 + ihl] << 8 | f[15 + ihl]) ^
				(uint32_t)(f[26] ^ f[33]) ^ f[14 + ihl + 13];
	}
	(void)sink;
	t0 = n / (now_s() - t0);
	pcap_close(p);
	return t0;
}

static double run_engine(struct moat_engine *e, const char *path,
			 const struct trace *t, uint64_t *now)
{
	static uint8_t buf[65536];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct moat_result res;
	struct moat_emit out;
	pcap_t *p = open_trace(path);
	uint32_t i = 0;
	double t0 = now_s();

	while (pcap_next_ex(p, &h, &data) == 1) {
		struct moat_frame f = { buf, h->caplen, h->len,
					MOAT_LINK_ETHERNET, t->zone[i++] };
		/* The engine may rewrite: replay hands it a copy too. */
		memcpy(buf, data, h->caplen);
		out.count = 0;
		moat_engine_process(e, &f, *now, &res, &out);
		*now += 100; /* 10 Mpps of injected time */
	}
	t0 = i / (now_s() - t0);
	pcap_close(p);
	return t0;
}

static double run_engine_burst(struct moat_engine *e, const char *path,
			       const struct trace *t, uint64_t *now)
{
	static uint8_t buf[MOAT_ENGINE_BURST][FRAME];
	static struct moat_emit out[MOAT_ENGINE_BURST];
	struct moat_frame f[MOAT_ENGINE_BURST];
	struct moat_result res[MOAT_ENGINE_BURST];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p = open_trace(path);
	uint32_t i = 0;
	int k = 0;
	double t0 = now_s();

	for (;;) {
		int more = pcap_next_ex(p, &h, &data) == 1;
		if (more) {
			uint32_t len = h->caplen < FRAME ? h->caplen : FRAME;
			memcpy(buf[k], data, len);
			f[k] = (struct moat_frame){ buf[k], len, h->len,
						    MOAT_LINK_ETHERNET,
						    t->zone[i++] };
			out[k].count = 0;
			k++;
		}
		if (k == MOAT_ENGINE_BURST || (!more && k > 0)) {
			moat_engine_process_burst(e, f, k, *now, res, out);
			*now += 100u * (uint64_t)k;
			k = 0;
		}
		if (!more)
			break;
	}
	t0 = i / (now_s() - t0);
	pcap_close(p);
	return t0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	qsort(v, RUNS, sizeof(*v), cmp);
	return v[RUNS / 2];
}

static struct moat_engine *engine_for(const char *conf,
				      struct moat_config **cfg)
{
	struct moat_engine_params par;
	struct moat_diags d;

	*cfg = moat_config_parse_string("bench.conf", conf, &d);
	if (!*cfg) {
		fprintf(stderr, "bench config: %s\n", d.count ? d.d[0].msg : "?");
		exit(1);
	}
	memset(par.secret, 0x42, sizeof(par.secret));
	return moat_engine_create(*cfg, &par);
}

static void report(const char *what, double *eng, double *base)
{
	double m = median(eng), b = median(base);

	printf("| %s | %.2f Mpps (%.0f ns) | %.2f Mpps | %.2f |\n", what,
	       m / 1e6, 1e9 / m, b / 1e6, m / b);
}

#define CLIENT_NET 0xc6128000u /* 198.18.128.0/17: spoofed sources */
#define SERVER 0xc612010au     /* 198.18.1.10 */

/*
 * @n distinct spoofed SYNs to the web server under @options, each run
 * next to the trivial loop.  The first pass teaches the server's options
 * (as the hybrid mode would) and is not measured.
 */
static void bench_syns(const char *what, const char *options, uint32_t n)
{
	char conf[512];
	double eng[RUNS], base[RUNS];
	struct moat_config *cfg;
	struct moat_engine *e;
	struct trace t;
	uint64_t now = 1000000000000ull;

	snprintf(conf, sizeof(conf),
		 "zone outside { interface out0; default }\n"
		 "zone inside { interface in0; networks 198.18.1.0/24 }\n"
		 "options { %s }\n"
		 "pass from outside to 198.18.1.10 tcp port 80 synproxy\n",
		 options);
	e = engine_for(conf, &cfg);
	trace_alloc(&t, n);
	for (uint32_t i = 0; i < t.n; i++)
		put_tcp(&t, i, CLIENT_NET + (i * 2654435761u) % 32768,
			SERVER, (uint16_t)(1024 + i % 60000), 80,
			i * 2246822519u, 0, MOAT_TCP_SYN, 0);
	const char *path = trace_file(&t, "syn");
	run_engine(e, path, &t, &now);
	for (int r = 0; r < RUNS; r++) {
		base[r] = trivial(path);
		eng[r] = run_engine(e, path, &t, &now);
	}
	unlink(path);
	report(what, eng, base);
	printf("|   flows after the flood | %u | | |\n",
		(unsigned)moat_engine_counters(e)->reason[MOAT_R_RULE_PASS]);
	moat_engine_destroy(e);
	moat_config_destroy(cfg);
	free(t.frames);
	free(t.len);
	free(t.zone);
}

static void bench_synflood(void)
{
	bench_syns("spoofed SYN -> cookie SYN-ACK (1M distinct SYNs)",
		   "syncookies on", 1u << 20);
}

/*
 * The SYN path alone (`bench_engine --syn [N]`), in each of its modes:
 * cookies forced, the hybrid mode under a flood (state mode for the first
 * 1000 SYNs of a second, cookies after), and state mode (every SYN goes
 * to the server and opens a half-open flow; the table holds 4096, so
 * every SYN of a later pass evicts the oldest and is new again).  Small enough for `valgrind --tool=callgrind`.
 */
static void bench_syn_modes(uint32_t n, const char *only)
{
	static const struct {
		const char *name, *what, *options;
	} modes[] = {
		{ "on", "SYN, syncookies on: cookie SYN-ACK", "syncookies on" },
		{ "auto", "SYN, syncookies auto, flooded: cookies after the "
			  "switch", "syncookies auto" },
		{ "off", "SYN, syncookies off: tracked, half-open, evicting",
		  "syncookies off\n max-flows 4096" },
	};

	for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!only || !strcmp(only, modes[i].name))
			bench_syns(modes[i].what, modes[i].options, n);
}

static void bench_established(uint32_t flows)
{
	char conf[512];
	double eng[RUNS], base[RUNS];
	struct moat_config *cfg;
	struct moat_engine *e;
	struct trace hs, data;
	uint64_t now = 1000000000000ull;
	long rss0, rss1;
	char what[96];

	snprintf(conf, sizeof(conf),
		 "zone outside { interface out0; default }\n"
		 "zone inside { interface in0; networks 198.18.1.0/24 }\n"
		 "options { syncookies off\n max-flows %u }\n"
		 "pass from outside to 198.18.1.10 tcp port 80\n", flows + 1024);
	trace_alloc(&hs, flows * 3);
	for (uint32_t i = 0; i < flows; i++) {
		/* Clients 198.18.100.0 - 198.18.127.255, 60000 ports each. */
		uint32_t c = 0xc6126400u + (i % 200) +
			     ((i / 200 / 60000) << 8);
		uint16_t sp = (uint16_t)(1024 + (i / 200) % 60000);
		put_tcp(&hs, 3 * i, c, SERVER, sp, 80, i, 0, MOAT_TCP_SYN, 0);
		put_tcp(&hs, 3 * i + 1, SERVER, c, 80, sp, ~i, i + 1,
			MOAT_TCP_SYN | MOAT_TCP_ACK, 1);
		put_tcp(&hs, 3 * i + 2, c, SERVER, sp, 80, i + 1, ~i + 1,
			MOAT_TCP_ACK, 0);
	}
	const char *hpath = trace_file(&hs, "handshakes");
	/* Everything the engine holds, divided by its flows: the flow table
	 * is mapped (and may be faulted in) at create, and the engine's fixed
	 * pools (SYN proxy tables) are counted too, so this is an upper bound
	 * that approaches the per-flow cost as the table grows. */
	rss0 = rss_kib();
	e = engine_for(conf, &cfg);
	run_engine(e, hpath, &hs, &now);
	rss1 = rss_kib();
	unlink(hpath);
	trace_alloc(&data, flows < (1u << 20) ? (1u << 20) : flows);
	for (uint32_t k = 0; k < data.n; k++) {
		/* A random walk over the flows, so a big table misses cache. */
		uint32_t i = (uint32_t)(((uint64_t)k * 2654435761u) % flows);
		memcpy(data.frames + (size_t)k * FRAME,
		       hs.frames + (size_t)(3 * i + 2) * FRAME, FRAME);
		data.len[k] = hs.len[3 * i + 2];
		data.zone[k] = 0;
	}
	const char *dpath = trace_file(&data, "data");
	double burst[RUNS];
	for (int r = 0; r < RUNS; r++) {
		base[r] = trivial(dpath);
		eng[r] = run_engine(e, dpath, &data, &now);
		burst[r] = run_engine_burst(e, dpath, &data, &now);
	}
	unlink(dpath);
	snprintf(what, sizeof(what), "established, %u flows, ACKs in random order",
		 flows);
	report(what, eng, base);
	snprintf(what, sizeof(what), "the same in bursts of %d",
		 MOAT_ENGINE_BURST);
	report(what, burst, base);
	printf("|   flows tracked %u, passed %llu of %llu | resident %.0f bytes per flow (all engine memory / flows) | | |\n",
	       flows,
	       (unsigned long long)moat_engine_counters(e)->passed,
	       (unsigned long long)moat_engine_counters(e)->packets,
	       (rss1 - rss0) * 1024.0 / flows);
	moat_engine_destroy(e);
	moat_config_destroy(cfg);
	free(hs.frames); free(hs.len); free(hs.zone);
	free(data.frames); free(data.len); free(data.zone);
}

int main(int argc, char **argv)
{
	uint32_t big = 1000000;

	printf("| what | engine (median of %d) | trivial loop | ratio |\n", RUNS);
	printf("|---|---|---|---|\n");
	if (argc > 1 && !strcmp(argv[1], "--syn")) {
		bench_syn_modes(argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10)
					 : 1u << 20, argc > 3 ? argv[3] : NULL);
		return 0;
	}
	if (argc > 1)
		big = (uint32_t)strtoul(argv[1], NULL, 10);
	bench_synflood();
	bench_established(1000);
	bench_established(big);
	return 0;
}
