/*
 * Rules micro-benchmark: nanoseconds per moat_rules_match() call with a
 * large configuration, the cost the engine pays for every packet that no
 * flow claims (new connections, floods of junk).
 *
 * The configuration: a 100,000-prefix blocklist set (IPv4 /16../24 and
 * IPv6 /40../64) consulted by the first rule, then 999 more rules:
 * per-host service rules (IPv4 and IPv6 servers; tcp and udp, single
 * ports, ranges and lists), admin sources, ICMP types, inside-out rules.  The packet mix: 2^18 packets,
 * 80% IPv4, tcp/udp/icmp, a quarter of the sources in the blocklist, most
 * destinations and ports hitting some rule, the rest falling to policy.
 *
 *   usage: bench_rules [RUNS]     (default 5; the median is printed)
 *
 * Deterministic: a fixed xorshift seed, no clock in the measured loop
 * except the two reads around it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "moat/rules.h"

enum { PREFIXES = 100000, RULES = 1000, PKTS = 1 << 18, HOSTS = 250 };

static uint32_t seed = 2463534242u;

static uint32_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 17;
	seed ^= seed << 5;
	return seed;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Blocklist prefixes live in 20.0.0.0/6 and 2001:db8::/32. */
static size_t gen_set(char *p)
{
	char *start = p;

	p += sprintf(p, "set blocklist = {\n");
	for (int i = 0; i < PREFIXES; i++) {
		uint32_t a = (20u << 24) | (rnd() & 0x03ffffff);
		int len = 16 + (int)(rnd() % 17);

		if (i % 5 == 4)
			p += sprintf(p, " 2001:db8:%x:%x::/%d\n", rnd() & 0x7fff,
				     rnd() & 0xffff, 40 + (int)(rnd() % 25));
		else
			p += sprintf(p, " %u.%u.%u.%u/%d\n", a >> 24, (a >> 16) & 255,
				     (a >> 8) & 255, 0u, len < 24 ? len : 24);
	}
	p += sprintf(p, "}\n");
	return (size_t)(p - start);
}

static size_t gen_rules(char *p)
{
	static const char *const tcp_ports[] = { "80", "443", "{ 25, 587 }",
						 "8000-8100", "22", "{ 993, 995 }" };
	char *start = p;

	p += sprintf(p, "set admins = { 198.19.100.0/24, 2001:db8:ad::/48 }\n"
			"block from @blocklist\n");
	for (int i = 1; i < RULES - 2; i++) {
		int host = i % HOSTS;

		switch (i % 5) {
		case 0:
			p += sprintf(p, "pass from outside to 198.18.%d.%d tcp port %s\n",
				     host / 200, host % 200 + 1, tcp_ports[i % 6]);
			break;
		case 1:
			p += sprintf(p, "pass from outside to 2001:db8:ffff::%x tcp port %s\n",
				     host % 200 + 1, tcp_ports[i % 6]);
			break;
		case 2:
			p += sprintf(p, "pass from outside to 198.18.%d.%d udp port %d\n",
				     host / 200, host % 200 + 1, 53 + i % 7);
			break;
		case 3:
			p += sprintf(p, "pass from @admins to 198.18.%d.%d tcp port %d\n",
				     host / 200, host % 200 + 1, 2000 + i);
			break;
		default:
			p += sprintf(p, "pass from outside to 198.18.%d.%d icmp type echo-request\n",
				     host / 200, host % 200 + 1);
			break;
		}
	}
	p += sprintf(p, "pass from inside\nblock from outside log\n");
	return (size_t)(p - start);
}

static void gen_packet(struct moat_pkt *pk, int *in_zone)
{
	static const uint16_t ports[] = { 80, 443, 25, 587, 8050, 22, 993,
					  53, 55, 2100, 3389, 445, 12345 };
	uint32_t r = rnd();
	uint8_t a[16] = { 0 };

	memset(pk, 0, sizeof(*pk));
	pk->ipv = r % 5 ? 4 : 6;
	pk->proto = r % 10 < 6 ? 6 : r % 10 < 9 ? 17 : (pk->ipv == 4 ? 1 : 58);
	*in_zone = r % 16 == 0 ? 1 : 0;
	if (pk->ipv == 4) {
		uint32_t s = r % 4 == 0 ? (20u << 24) | (rnd() & 0x03ffffff)
					 : 0x64000000u | (rnd() & 0x00ffffff);

		if (r % 7 == 0)
			s = 0xc6136400u | (rnd() & 255); /* admins */
		if (*in_zone)
			s = 0xc6120000u | (rnd() & 0xffff);
		a[0] = (uint8_t)(s >> 24); a[1] = (uint8_t)(s >> 16);
		a[2] = (uint8_t)(s >> 8); a[3] = (uint8_t)s;
		moat_addr_from_v4(&pk->src, a);
		a[0] = 198; a[1] = 18; a[2] = (uint8_t)(rnd() % 2);
		a[3] = (uint8_t)(1 + rnd() % 200);
		moat_addr_from_v4(&pk->dst, a);
	} else {
		a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8;
		for (int i = 4; i < 16; i++)
			a[i] = (uint8_t)rnd();
		moat_addr_from_v6(&pk->src, a);
		memset(a + 4, 0, 12);
		a[4] = a[5] = 0xff; /* 2001:db8:ffff::1-200, the servers */
		a[15] = (uint8_t)(1 + rnd() % 200);
		moat_addr_from_v6(&pk->dst, a);
	}
	pk->sport = (uint16_t)(1024 + rnd() % 60000);
	pk->dport = ports[rnd() % (sizeof(ports) / sizeof(ports[0]))];
	pk->tcp_flags = 0x02;
	pk->icmp_type = rnd() % 2 ? 8 : 0;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 5;
	char *text = malloc(8u << 20), *p = text;
	struct moat_pkt *pkts = calloc(PKTS, sizeof(*pkts));
	int *zones = calloc(PKTS, sizeof(*zones));
	struct moat_diags *d = malloc(sizeof(*d));
	struct moat_config *c;
	double t0, t_load, res[64];
	unsigned long sum = 0, hits = 0, first = 0, last = 0;

	if (!text || !pkts || !zones || !d || runs < 1 || runs > 64)
		return 2;
	p += sprintf(p, "zone outside { interface out0; default }\n"
			"zone inside { interface in0; networks 198.18.0.0/16 }\n");
	p += gen_set(p);
	p += gen_rules(p);
	t0 = now_ns();
	c = moat_config_parse_string("bench.conf", text, d);
	t_load = now_ns() - t0;
	if (!c) {
		for (int i = 0; i < d->count; i++)
			fprintf(stderr, "%d:%d: %s\n", d->d[i].line, d->d[i].col,
				d->d[i].msg);
		return 1;
	}
	for (int i = 0; i < PKTS; i++)
		gen_packet(&pkts[i], &zones[i]);
	for (int r = 0; r < runs; r++) {
		t0 = now_ns();
		for (int i = 0; i < PKTS; i++) {
			const struct moat_rule *m = moat_rules_match(c, &pkts[i],
								     zones[i], -1);

			sum += m ? (unsigned long)m->number : 0;
			hits += m != NULL;
			first += m && m->number == 1;
			last += m && m->number == RULES;
		}
		res[r] = (now_ns() - t0) / PKTS;
	}
	qsort(res, (size_t)runs, sizeof(res[0]), cmp_double);
	printf("rules: %d rules, %d-prefix set, %d packets x %d runs\n",
	       moat_config_rule_count(c), PREFIXES, PKTS, runs);
	printf("load (parse + check + compile): %.1f ms\n", t_load / 1e6);
	printf("match: median %.1f ns/packet (min %.1f, max %.1f) (checksum %lu)\n",
	       res[runs / 2], res[0], res[runs - 1], sum);
	printf("decided by: rule 1 (blocklist) %.0f%%, rules 2-%d %.0f%%, "
	       "rule %d (final block) %.0f%%, policy %.0f%%\n",
	       100.0 * (double)first / ((double)PKTS * runs), RULES - 1,
	       100.0 * (double)(hits - first - last) / ((double)PKTS * runs),
	       RULES, 100.0 * (double)last / ((double)PKTS * runs),
	       100.0 - 100.0 * (double)hits / ((double)PKTS * runs));
	moat_config_destroy(c);
	free(text);
	free(pkts);
	free(zones);
	free(d);
	return 0;
}
