/*
 * Matcher tests: packet views filled by hand against a rule set, the
 * expected answer being the number of the first matching rule (0: none,
 * the policy decides).  IPv4 and IPv6, zones (named by the engine or found
 * through networks), negation, sets, source and destination ports, TCP
 * flags, ICMP types and codes, later fragments.  Then a randomised check
 * that the rule index never changes the answer of a plain first-match
 * scan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "moat/rules.h"
#include "rules/internal.h"

static const char config[] =
	"zone outside { interface out0; default }\n"
	"zone inside { interface in0; networks { 198.18.1.0/24, 2001:db8:1::/48 } }\n"
	"set admins = { 198.18.100.10, 198.18.100.64/26, 2001:db8:100::/48 }\n"
	"set web = { 80, 443 }\n"
	"block from outside tcp port 512-514\n"                          /* 1 */
	"pass from outside to 198.18.1.10 tcp port @web flags S/SA synproxy\n" /* 2 */
	"pass from outside to 2001:db8:1::10 tcp port { 80, 443 }\n"     /* 3 */
	"pass from @admins to inside tcp port 22\n"                      /* 4 */
	"pass from outside icmp type echo-request\n"                     /* 5 */
	"pass from outside icmp6 type { echo-request, neighbor-solicitation } code 0\n" /* 6 */
	"block from !@admins to inside udp port 53\n"                    /* 7 */
	"pass from outside port 53 to inside udp\n"                      /* 8 */
	"pass from inside !198.18.1.99\n"                                /* 9 */
	"reject to outside tcp port 25\n"                                /* 10 */
	"pass to 198.18.1.0/25 udp port 1000-2000\n"                     /* 11 */
	"pass from outside to 198.18.1.20 proto { esp, 51, udp }\n"      /* 12 */
	"block proto 250\n";                                             /* 13 */

enum { OUT = 0, IN = 1, NONE = -1 };
enum { S = MOAT_TCP_SYN, A = MOAT_TCP_ACK, E = MOAT_TCP_ECE };

struct row {
	const char *name;
	uint8_t proto;
	const char *src, *dst;
	uint16_t sport, dport;
	uint8_t flags, itype, icode, frag;
	int in, out;
	int want;
};

#define TCP MOAT_IPPROTO_TCP
#define UDP MOAT_IPPROTO_UDP
#define ICMP MOAT_IPPROTO_ICMP
#define ICMP6 MOAT_IPPROTO_ICMPV6
#define LATER (MOAT_FRAG_IS | MOAT_FRAG_LATER)

static const struct row rows[] = {
	{ "rlogin blocked", TCP, "203.0.113.5", "198.18.1.10", 999, 513, S, 0, 0, 0, OUT, IN, 1 },
	{ "web SYN", TCP, "203.0.113.5", "198.18.1.10", 40000, 80, S, 0, 0, 0, OUT, IN, 2 },
	{ "web ACK: flags", TCP, "203.0.113.5", "198.18.1.10", 40000, 80, A, 0, 0, 0, OUT, IN, 0 },
	{ "web SYN+ECE", TCP, "203.0.113.5", "198.18.1.10", 40000, 443, S | E, 0, 0, 0, OUT, IN, 2 },
	{ "web SYN other port", TCP, "203.0.113.5", "198.18.1.10", 40000, 8080, S, 0, 0, 0, OUT, IN, 0 },
	{ "web SYN from inside", TCP, "198.18.1.5", "198.18.1.10", 40000, 80, S, 0, 0, 0, IN, IN, 9 },
	{ "v6 web", TCP, "2001:db8:9::1", "2001:db8:1::10", 40000, 443, S, 0, 0, 0, OUT, IN, 3 },
	{ "v6 other host", TCP, "2001:db8:9::1", "2001:db8:1::11", 40000, 443, S, 0, 0, 0, OUT, IN, 0 },
	{ "admin ssh", TCP, "198.18.100.70", "198.18.1.5", 40000, 22, S, 0, 0, 0, OUT, IN, 4 },
	{ "admin ssh, egress unknown", TCP, "198.18.100.70", "198.18.1.5", 40000, 22, S, 0, 0, 0, OUT, NONE, 4 },
	{ "admin ssh elsewhere", TCP, "198.18.100.70", "198.18.2.5", 40000, 22, S, 0, 0, 0, OUT, NONE, 0 },
	{ "admin ssh, egress outside", TCP, "198.18.100.70", "198.18.1.5", 40000, 22, S, 0, 0, 0, OUT, OUT, 0 },
	{ "v6 admin ssh", TCP, "2001:db8:100::1", "2001:db8:1::5", 40000, 22, S, 0, 0, 0, OUT, IN, 4 },
	{ "non-admin ssh", TCP, "198.18.100.1", "198.18.1.5", 40000, 22, S, 0, 0, 0, OUT, IN, 0 },
	{ "echo request", ICMP, "203.0.113.5", "198.18.1.10", 7, 7, 0, 8, 0, 0, OUT, IN, 5 },
	{ "echo reply", ICMP, "203.0.113.5", "198.18.1.10", 7, 7, 0, 0, 0, 0, OUT, IN, 0 },
	{ "icmp6 echo", ICMP6, "2001:db8:9::1", "2001:db8:1::10", 7, 7, 0, 128, 0, 0, OUT, IN, 6 },
	{ "icmp6 echo code 1", ICMP6, "2001:db8:9::1", "2001:db8:1::10", 7, 7, 0, 128, 1, 0, OUT, IN, 0 },
	{ "icmp6 NS", ICMP6, "2001:db8:9::1", "2001:db8:1::10", 0, 0, 0, 135, 0, 0, OUT, IN, 6 },
	{ "icmp6 NA", ICMP6, "2001:db8:9::1", "2001:db8:1::10", 0, 0, 0, 136, 0, 0, OUT, IN, 0 },
	{ "icmp proto in v6", ICMP, "2001:db8:9::1", "2001:db8:1::10", 0, 0, 0, 8, 0, 0, OUT, IN, 0 },
	{ "dns from stranger", UDP, "198.18.100.200", "198.18.1.5", 53, 53, 0, 0, 0, 0, OUT, IN, 7 },
	{ "dns from admin", UDP, "198.18.100.10", "198.18.1.5", 53, 53, 0, 0, 0, 0, OUT, IN, 8 },
	{ "dns reply by sport", UDP, "203.0.113.1", "198.18.1.5", 53, 5000, 0, 0, 0, 0, OUT, IN, 8 },
	{ "inside out", TCP, "198.18.1.5", "8.8.8.8", 40000, 443, S, 0, 0, 0, IN, OUT, 9 },
	{ "inside, excluded host", TCP, "198.18.1.99", "8.8.8.8", 40000, 443, S, 0, 0, 0, IN, OUT, 0 },
	{ "excluded host, smtp out", TCP, "198.18.1.99", "1.2.3.4", 40000, 25, S, 0, 0, 0, IN, OUT, 10 },
	{ "smtp out, egress unknown", TCP, "198.18.1.99", "1.2.3.4", 40000, 25, S, 0, 0, 0, IN, NONE, 0 },
	{ "ingress unknown, inside net", TCP, "198.18.1.5", "8.8.8.8", 40000, 443, S, 0, 0, 0, NONE, NONE, 9 },
	{ "ingress out of range", TCP, "198.18.1.5", "8.8.8.8", 40000, 443, S, 0, 0, 0, 7, NONE, 9 },
	{ "later fragment, ports", TCP, "203.0.113.5", "198.18.1.10", 0, 0, 0, 0, 0, LATER, OUT, IN, 0 },
	{ "later fragment, no ports", UDP, "198.18.1.5", "8.8.8.8", 0, 0, 0, 0, 0, LATER, IN, OUT, 9 },
	{ "udp range", UDP, "1.2.3.4", "198.18.1.5", 9999, 1500, 0, 0, 0, 0, OUT, IN, 11 },
	{ "udp range edge", UDP, "1.2.3.4", "198.18.1.127", 9999, 2000, 0, 0, 0, 0, OUT, IN, 11 },
	{ "udp range, other half", UDP, "1.2.3.4", "198.18.1.200", 9999, 1500, 0, 0, 0, 0, OUT, IN, 0 },
	{ "udp range, past end", UDP, "1.2.3.4", "198.18.1.5", 9999, 2001, 0, 0, 0, 0, OUT, IN, 0 },
	{ "other protocol (gre)", 47, "198.18.1.5", "1.2.3.4", 0, 0, 0, 0, 0, 0, IN, OUT, 9 },
	{ "esp by name", 50, "203.0.113.5", "198.18.1.20", 0, 0, 0, 0, 0, 0, OUT, IN, 12 },
	{ "ah by number", 51, "203.0.113.5", "198.18.1.20", 0, 0, 0, 0, 0, 0, OUT, IN, 12 },
	{ "udp in the list", UDP, "203.0.113.5", "198.18.1.20", 5, 4500, 0, 0, 0, 0, OUT, IN, 12 },
	{ "gre not in the list", 47, "203.0.113.5", "198.18.1.20", 0, 0, 0, 0, 0, 0, OUT, IN, 0 },
	{ "esp elsewhere", 50, "203.0.113.5", "198.18.1.21", 0, 0, 0, 0, 0, 0, OUT, IN, 0 },
	{ "a number", 250, "203.0.113.5", "198.18.1.21", 0, 0, 0, 0, 0, 0, OUT, IN, 13 },
	{ "another number", 249, "203.0.113.5", "198.18.1.21", 0, 0, 0, 0, 0, 0, OUT, IN, 0 },
};

static void fill(struct moat_pkt *p, const struct row *r)
{
	memset(p, 0, sizeof(*p));
	assert_int_equal(moat_addr_parse(&p->src, r->src), 0);
	assert_int_equal(moat_addr_parse(&p->dst, r->dst), 0);
	p->ipv = p->src.family == MOAT_AF_INET ? 4 : 6;
	p->ethertype = p->ipv == 4 ? 0x0800 : 0x86dd;
	p->proto = r->proto;
	p->sport = r->sport;
	p->dport = r->dport;
	p->tcp_flags = r->flags;
	p->icmp_type = r->itype;
	p->icmp_code = r->icode;
	p->frag = r->frag;
}

static void test_rows(void **state)
{
	struct moat_diags d;
	struct moat_config *c = moat_config_parse_string("m", config, &d);
	int bad = 0;

	(void)state;
	for (int i = 0; !c && i < d.count; i++)
		fprintf(stderr, "%d:%d %s\n", d.d[i].line, d.d[i].col, d.d[i].msg);
	assert_non_null(c);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct moat_pkt p;
		const struct moat_rule *r;
		int got;

		fill(&p, &rows[i]);
		r = moat_rules_match(c, &p, rows[i].in, rows[i].out);
		got = r ? r->number : 0;
		if (got != rows[i].want) {
			fprintf(stderr, "'%s': want rule %d, got %d\n", rows[i].name,
				rows[i].want, got);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
	moat_config_destroy(c);
}

static void test_non_ip(void **state)
{
	struct moat_diags d;
	struct moat_config *c = moat_config_parse_string("m", "pass\n", &d);
	struct moat_pkt p;

	(void)state;
	assert_non_null(c);
	memset(&p, 0, sizeof(p));
	p.ethertype = 0x0806;
	assert_null(moat_rules_match(c, &p, -1, -1));
	p.ipv = 4;
	p.proto = TCP;
	moat_addr_parse(&p.src, "1.2.3.4");
	moat_addr_parse(&p.dst, "1.2.3.5");
	assert_int_equal(moat_rules_match(c, &p, -1, -1)->number, 1);
	assert_null(moat_rules_match(NULL, &p, -1, -1));
	moat_config_destroy(c);
}

/* ---- the index against a plain scan ---------------------------------- */

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* Targets by family: [0] IPv4, [1] IPv6, [2] either (zones, negations). */
static const char *const targets[3][6] = {
	{ "10.0.0.0/8", "10.1.0.0/16", "@s", "a 10.3.0.0/16",
	  "{ 10.4.0.0/16, 10.5.5.5 }", "10.2.3.0/24" },
	{ "2001:db8::/32", "2001:db8:1::/48", "@s6", "a 2001:db8:2::/48",
	  "{ 2001:db8:3::/64, 2001:db8::5 }", "2001:db8:1:2::/64" },
	{ "any", "a", "b", "!a", "!10.2.0.0/16", "!2001:db8:1::/48" },
};

static void random_side(char *buf, size_t len, const char *kw, int fam)
{
	snprintf(buf, len, " %s %s", kw,
		 targets[rnd() % 2 ? fam : 2][rnd() % 6]);
}

static void random_rule(char *buf, size_t len)
{
	static const char *const protos[] = { "", " tcp", " udp", " icmp",
					      " proto { tcp, udp }", " icmp6",
					      " proto gre", " proto { 47, udp }",
					      " proto { esp, 250 }" };
	static const char *const actions[] = { "pass", "block", "reject" };
	char from[64], to[64];
	int fam = (int)(rnd() % 2), pr = (int)(rnd() % 8);

	if (pr == 3 && fam == 1)
		pr = 5;
	else if (pr == 5)
		pr = 8;
	random_side(from, sizeof(from), "from", fam);
	random_side(to, sizeof(to), "to", fam);
	snprintf(buf, len, "%s%s%s%s", actions[rnd() % 3], from, to, protos[pr]);
	if (pr == 1 || pr == 2 || pr == 4) {
		uint32_t lo = 1 + rnd() % 100, hi = lo + rnd() % 20;

		switch (rnd() % 4) {
		case 0: snprintf(buf + strlen(buf), len - strlen(buf), " port %u", lo); break;
		case 1: snprintf(buf + strlen(buf), len - strlen(buf), " port %u-%u", lo, hi); break;
		case 2: snprintf(buf + strlen(buf), len - strlen(buf), " port { %u, %u }", lo, hi); break;
		default: break;
		}
	}
	if (pr == 1 && rnd() % 3 == 0)
		strncat(buf, " flags S/SA", len - strlen(buf) - 1);
	if ((pr == 3 || pr == 5) && rnd() % 2)
		strncat(buf, " type echo-request", len - strlen(buf) - 1);
	strncat(buf, "\n", len - strlen(buf) - 1);
}

static void random_v6(struct moat_addr *a)
{
	uint8_t b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, (uint8_t)(rnd() % 4), 0,
			  (uint8_t)(rnd() % 3) };

	b[15] = (uint8_t)(rnd() % 8);
	moat_addr_from_v6(a, b);
}

static void random_pkt(struct moat_pkt *p)
{
	static const uint8_t protos[] = { TCP, UDP, ICMP, 47, ICMP6, 50, 250 };
	uint8_t a[4] = { 10, (uint8_t)(rnd() % 7), (uint8_t)(rnd() % 8),
			 (uint8_t)(rnd() % 8) };

	memset(p, 0, sizeof(*p));
	p->ipv = rnd() % 3 ? 4 : 6;
	p->proto = protos[rnd() % 7];
	if (p->ipv == 6) {
		random_v6(&p->src);
		random_v6(&p->dst);
	} else {
		moat_addr_from_v4(&p->src, a);
		a[1] = (uint8_t)(rnd() % 7);
		moat_addr_from_v4(&p->dst, a);
	}
	p->sport = (uint16_t)(1 + rnd() % 130);
	p->dport = (uint16_t)(1 + rnd() % 130);
	p->tcp_flags = (uint8_t)(rnd() & 0x3f);
	p->icmp_type = rnd() % 2 ? 8 : 0;
	if (rnd() % 16 == 0)
		p->frag = LATER;
}

/* How many port intervals the index split by destination (family @ipv). */
static int splits(const struct moat_config *c, int ipv)
{
	int n = 0;

	for (int i = 0; i < PC_COUNT * c->index.nzones1; i++) {
		const struct slot *s = &c->index.slots[i];

		for (uint32_t k = 0; k < s->nint; k++)
			n += (ipv == 4 ? s->d4[k].n : s->d6[k].n) > 0;
	}
	return n;
}

static void test_index_equals_scan(void **state)
{
	(void)state;
	for (int round = 0; round < 20; round++) {
		size_t cap = 1 << 16, n;
		char *text = malloc(cap);
		struct moat_diags *d = malloc(sizeof(*d));
		struct moat_config *c;

		n = (size_t)snprintf(text, cap,
				     "zone a { interface a0; networks { 10.0.0.0/14, 2001:db8::/47 } }\n"
				     "zone b { interface b0; default }\n"
				     "set s = { 10.1.0.0/16, 10.6.0.0/15 }\n"
				     "set s6 = { 2001:db8:1::/48, 2001:db8:3::1 }\n");
		for (int i = 0; i < 120; i++) {
			random_rule(text + n, cap - n);
			n = strlen(text);
		}
		c = moat_config_parse_string("r", text, d);
		for (int i = 0; !c && i < d->count; i++)
			fprintf(stderr, "%d:%d %s\n", d->d[i].line, d->d[i].col,
				d->d[i].msg);
		assert_non_null(c);
		assert_true(splits(c, 4) > 0 && splits(c, 6) > 0);
		for (int k = 0; k < 3000; k++) {
			struct moat_pkt p;
			int in = (int)(rnd() % 3) - 1, out = (int)(rnd() % 3) - 1;
			const struct moat_rule *got;
			int want = 0;

			random_pkt(&p);
			got = moat_rules_match(c, &p, in, out);
			for (int i = 0; i < moat_config_rule_count(c); i++)
				if (moat_rule_match_one(c, moat_config_rule(c, i)->match,
							&p, in, out)) {
					want = i + 1;
					break;
				}
			assert_int_equal(got ? got->number : 0, want);
		}
		moat_config_destroy(c);
		free(d);
		free(text);
	}
}

/* ---- big sets (jump tables) against a plain prefix scan ------------- */

struct pfx {
	uint8_t b[16];
	int len;
	bool v6;
};

static bool in_prefix(const struct pfx *x, const struct moat_addr *a)
{
	const uint8_t *k = x->v6 ? a->b : moat_addr_v4(a);

	if ((a->family == MOAT_AF_INET6) != x->v6)
		return false;
	for (int bit = 0; bit < x->len; bit++)
		if (((k[bit / 8] ^ x->b[bit / 8]) >> (7 - bit % 8)) & 1)
			return false;
	return true;
}

static void test_big_set(void **state)
{
	enum { N = 3000 };
	struct pfx *px = calloc(N, sizeof(*px));
	char *text = malloc(N * 64 + 64), *p = text;
	struct moat_diags *d = malloc(sizeof(*d));
	const struct moat_set *s;
	struct moat_config *c;
	char buf[64];

	(void)state;
	p += sprintf(p, "set big = {\n");
	for (int i = 0; i < N; i++) {
		struct pfx *x = &px[i];

		x->v6 = i % 3 == 0;
		if (x->v6) {
			x->b[0] = 0x20; x->b[1] = 0x01; x->b[2] = 0x0d; x->b[3] = 0xb8;
			x->b[4] = (uint8_t)(rnd() % 4);
			x->b[5] = (uint8_t)rnd();
			x->b[6] = (uint8_t)rnd();
			x->b[7] = (uint8_t)rnd();
			x->len = 48 + (int)(rnd() % 17);
			for (int k = 0; k < 16; k++)
				if (k * 8 >= x->len)
					x->b[k] = 0;
				else if (k * 8 + 8 > x->len)
					x->b[k] &= (uint8_t)(0xff << (8 - (x->len - k * 8)));
			{
				struct moat_addr a;

				moat_addr_from_v6(&a, x->b);
				moat_addr_format(&a, buf, sizeof(buf));
			}
		} else {
			uint32_t v = (10u << 24) | (rnd() & 0x003fffff);
			x->len = 20 + (int)(rnd() % 13);
			v &= x->len ? ~0u << (32 - x->len) : 0;
			x->b[0] = (uint8_t)(v >> 24); x->b[1] = (uint8_t)(v >> 16);
			x->b[2] = (uint8_t)(v >> 8); x->b[3] = (uint8_t)v;
			snprintf(buf, sizeof(buf), "%u.%u.%u.%u", x->b[0], x->b[1],
				 x->b[2], x->b[3]);
		}
		p += sprintf(p, " %s/%d\n", buf, x->len);
	}
	p += sprintf(p, "}\n");
	c = moat_config_parse_string("big", text, d);
	assert_non_null(c);
	s = moat_config_set(c, 0);
	/* big enough for the jump tables on both families */
	assert_true(s->lpm.jump4 && s->lpm.jump6);
	for (int k = 0; k < 40000; k++) {
		struct moat_addr a;
		uint8_t b[16] = { 0 };
		bool want = false;

		if (k % 3 == 0) {
			memcpy(b, px[rnd() % N].b, 16);
			if (b[0] != 0x20) { /* an IPv4 prefix: keep it IPv4 */
				b[3] ^= (uint8_t)(rnd() & 7);
				b[2] ^= (uint8_t)(rnd() & 1);
				moat_addr_from_v4(&a, b);
			} else {
				b[7] ^= (uint8_t)(rnd() & 3);
				b[15] = (uint8_t)rnd();
				b[5] ^= (uint8_t)(rnd() & 1);
				moat_addr_from_v6(&a, b);
			}
		} else if (k % 3 == 1) {
			uint32_t v = (uint32_t)(10u << 24) | (rnd() & 0x007fffff);

			b[0] = (uint8_t)(v >> 24); b[1] = (uint8_t)(v >> 16);
			b[2] = (uint8_t)(v >> 8); b[3] = (uint8_t)v;
			moat_addr_from_v4(&a, b);
		} else {
			b[0] = 0x20; b[1] = 0x01; b[2] = 0x0d;
			b[3] = (uint8_t)(0xb7 + rnd() % 3);
			b[4] = (uint8_t)(rnd() % 5);
			b[5] = (uint8_t)rnd();
			moat_addr_from_v6(&a, b);
		}
		for (int i = 0; i < N && !want; i++)
			want = in_prefix(&px[i], &a);
		if (moat_set_contains(s, &a) != want) {
			fprintf(stderr, "%s: want %d\n", moat_addr_format(&a, buf, sizeof(buf)),
				want);
			fail();
		}
	}
	moat_config_destroy(c);
	free(px);
	free(text);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_non_ip),
		cmocka_unit_test(test_index_equals_scan),
		cmocka_unit_test(test_big_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
