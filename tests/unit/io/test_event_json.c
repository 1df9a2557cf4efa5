/*
 * Events as JSON (src/io/event_json.c) and the Community ID
 * (src/io/community_id.c, sha1.c): SHA-1 against FIPS 180-4's examples,
 * the Community ID against the baseline of its specification
 * (github.com/corelight/community-id-spec, baseline/baseline_deflt.json
 * and baseline_seed1.json), every kind of event as one valid JSON object
 * with the EVE-like fields, and odd bytes in names escaped into valid
 * UTF-8 JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "moat/ct.h"
#include "moat/io_community_id.h"
#include "moat/io_event.h"
#include "moat/rules.h"

static void hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void sha1_vectors(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} rows[] = {
		{ "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
		{ "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
	};
	uint8_t d[MOAT_SHA1_LEN];
	char h[41];
	struct moat_sha1 s;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		moat_sha1_init(&s);
		moat_sha1_update(&s, rows[i].in, strlen(rows[i].in));
		moat_sha1_final(&s, d);
		hex(d, sizeof(d), h);
		assert_string_equal(h, rows[i].out);
	}
	/* A million "a", fed in uneven pieces across block edges. */
	char a[1000];
	memset(a, 'a', sizeof(a));
	moat_sha1_init(&s);
	for (size_t done = 0, k = 1; done < 1000000; k = k % 997 + 1) {
		size_t n = 1000000 - done < k ? 1000000 - done : k;
		moat_sha1_update(&s, a, n);
		done += n;
	}
	moat_sha1_final(&s, d);
	hex(d, sizeof(d), h);
	assert_string_equal(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

/* seed, proto, saddr, daddr, sport (ICMP: type), dport (ICMP: code, or
 * the answer's type, which the hash derives itself), expected. */
static const struct cid_row {
	uint16_t seed;
	uint8_t proto;
	const char *saddr, *daddr;
	uint16_t sport, dport;
	const char *cid;
} cid_rows[] = {
	{ 0, 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=" },
	{ 0, 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 135, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=" },
	{ 0, 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 136, "1:zavyT/cezQr1fmImYCwYnMXbgck=" },
	{ 0, 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 135, "1:zavyT/cezQr1fmImYCwYnMXbgck=" },
	{ 0, 58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0, "1:2ObVBgIn28oZvibYZhZMBgh7WdQ=" },
	{ 0, 58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4, "1:hLZd0XGWojozrvxqE0dWB1iM6R0=" },
	{ 0, 58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 129, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=" },
	{ 0, 58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 128, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=" },
	{ 0, 58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 134, "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=" },
	{ 0, 58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 133, "1:pkvHqCL88/tg1k4cPigmZXUtL00=" },
	{ 0, 1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=" },
	{ 0, 1, "192.168.0.1", "192.168.0.89", 0, 8, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=" },
	{ 0, 1, "10.0.0.1", "10.0.0.2", 11, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM=" },
	{ 0, 6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=" },
	{ 0, 6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=" },
	{ 0, 132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=" },
	{ 0, 132, "192.168.170.56", "192.168.170.8", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=" },
	{ 0, 6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=" },
	{ 0, 6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=" },
	{ 0, 17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=" },
	{ 0, 17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=" },
	{ 0, 46, "10.1.12.1", "10.1.12.2", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=" },
	{ 0, 46, "10.1.12.2", "10.1.12.1", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=" },
	{ 1, 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136, "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY=" },
	{ 1, 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 135, "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY=" },
	{ 1, 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 136, "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM=" },
	{ 1, 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 135, "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM=" },
	{ 1, 58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0, "1:lVEtCZpYu84Xqaa++3lXFyuu2n4=" },
	{ 1, 58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4, "1:W8MHwXpWzpoSTD+cGcaJr4u0ys8=" },
	{ 1, 58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 129, "1:GfZxjAkDk2MkegpBYHV6tadtFXQ=" },
	{ 1, 58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 128, "1:GfZxjAkDk2MkegpBYHV6tadtFXQ=" },
	{ 1, 58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 134, "1:L7Ka0ZMYu+J3bL4ulW2PrqyXNo8=" },
	{ 1, 58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 133, "1:K/ee5UCqAMAQXDorP5nSa2CGLjc=" },
	{ 1, 1, "192.168.0.89", "192.168.0.1", 8, 0, "1:03g6IloqVBdcZlPyX8r0hgoE7kA=" },
	{ 1, 1, "192.168.0.1", "192.168.0.89", 0, 8, "1:03g6IloqVBdcZlPyX8r0hgoE7kA=" },
	{ 1, 1, "10.0.0.1", "10.0.0.2", 11, 0, "1:XjUibYHaafLQ3pxQeiMI8g25q20=" },
	{ 1, 6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, "1:eJYTW6AOzFLlSUoESovMjnu7rMw=" },
	{ 1, 6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, "1:eJYTW6AOzFLlSUoESovMjnu7rMw=" },
	{ 1, 132, "192.168.170.8", "192.168.170.56", 7, 7, "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=" },
	{ 1, 132, "192.168.170.56", "192.168.170.8", 7, 7, "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=" },
	{ 1, 6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:3V71V58M3Ksw/yuFALMcW0LAHvc=" },
	{ 1, 6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:3V71V58M3Ksw/yuFALMcW0LAHvc=" },
	{ 1, 17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=" },
	{ 1, 17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=" },
	{ 1, 46, "10.1.12.1", "10.1.12.2", 0, 0, "1:rYir8gphR31noO9iDRQmF/BteEI=" },
	{ 1, 46, "10.1.12.2", "10.1.12.1", 0, 0, "1:rYir8gphR31noO9iDRQmF/BteEI=" },
};

static void community_id_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cid_rows) / sizeof(cid_rows[0]); i++) {
		const struct cid_row *r = &cid_rows[i];
		struct moat_flow_key k;
		char got[MOAT_COMMUNITY_ID_LEN];

		memset(&k, 0, sizeof(k));
		assert_int_equal(moat_addr_parse(&k.src, r->saddr), 0);
		assert_int_equal(moat_addr_parse(&k.dst, r->daddr), 0);
		k.proto = r->proto;
		if (r->proto == 1 || r->proto == 58) {
			k.icmp_type = (uint8_t)r->sport;
			k.icmp_code = (uint8_t)r->dport;
		} else {
			k.sport = r->sport;
			k.dport = r->dport;
		}
		assert_int_equal(moat_community_id(&k, r->seed, got, NULL), 0);
		if (strcmp(got, r->cid))
			fail_msg("row %zu (%s -> %s proto %u): %s, not %s", i,
				 r->saddr, r->daddr, r->proto, got, r->cid);
	}
	/* No addresses, or two families: no ID. */
	struct moat_flow_key none;
	char out[MOAT_COMMUNITY_ID_LEN];
	memset(&none, 0, sizeof(none));
	assert_int_equal(moat_community_id(&none, 0, out, NULL), -1);
	moat_addr_parse(&none.src, "198.18.0.1");
	moat_addr_parse(&none.dst, "2001:db8::1");
	assert_int_equal(moat_community_id(&none, 0, out, NULL), -1);
}

static json_t *parse_line(char *line)
{
	json_error_t err;
	json_t *o;

	assert_non_null(line);
	assert_null(strchr(line, '\n'));
	o = json_loads(line, JSON_REJECT_DUPLICATES, &err);
	if (!o)
		fail_msg("not JSON (%s): %s", err.text, line);
	free(line);
	return o;
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s)
		fail_msg("no string \"%s\"", key);
	return s;
}

static long long num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("no number \"%s\"", key);
	return json_integer_value(v);
}

static struct moat_event tcp_event(enum moat_event_kind kind)
{
	struct moat_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = (uint8_t)kind;
	ev.time_ns = 1764151200006000000ull;
	ev.in_zone = 0;
	moat_addr_parse(&ev.key.src, "198.18.1.10");
	moat_addr_parse(&ev.key.dst, "198.18.100.10");
	ev.key.sport = 80;
	ev.key.dport = 40000;
	ev.key.proto = 6;
	return ev;
}

static struct moat_config *config(void)
{
	static const char text[] =
		"zone outside { interface eth0; default }\n"
		"zone inside { interface eth1; networks 198.18.1.0/24 }\n"
		"set abusers = { 192.0.2.1 }\n"
		"pass from outside to 198.18.1.10 tcp port 80 max-src-rate "
		"3/second overload @abusers\n";
	struct moat_diags d;
	struct moat_config *c = moat_config_parse_string("t.conf", text, &d);

	if (!c)
		fail_msg("config: %s", d.count ? d.d[0].msg : "?");
	return c;
}

/* The fields every event with a flow has, the same live and in a replay. */
static void schema_common_fields(void **state)
{
	struct moat_config *cfg = config();
	struct moat_event ev = tcp_event(MOAT_EV_HIJACK);
	struct moat_io_event_ctx ctx = { .cfg = cfg, .pcap_cnt = 6,
					 .in_iface = "eth0" };
	json_t *o, *h, *back;
	struct moat_event rev;

	(void)state;
	ev.u.hijack.kind = MOAT_EV_HIJACK_INJECTION;
	ev.u.hijack.dir = MOAT_CT_REPLY;
	ev.u.hijack.seq = 5001;
	ev.u.hijack.len_seen = 47;
	ev.u.hijack.len_new = 47;
	ev.u.hijack.hash_seen = 0x6c6fe4b0;
	ev.u.hijack.hash_new = 0x3d787fea;
	o = parse_line(moat_io_event_line(&ev, &ctx));
	assert_string_equal(str(o, "timestamp"),
			    "2025-11-26T10:00:00.006000+0000");
	assert_int_equal(num(o, "pcap_cnt"), 6);
	assert_string_equal(str(o, "event_type"), "hijack");
	assert_string_equal(str(o, "in_iface"), "eth0");
	assert_string_equal(str(o, "zone"), "outside");
	assert_string_equal(str(o, "src_ip"), "198.18.1.10");
	assert_int_equal(num(o, "src_port"), 80);
	assert_string_equal(str(o, "dest_ip"), "198.18.100.10");
	assert_int_equal(num(o, "dest_port"), 40000);
	assert_string_equal(str(o, "proto"), "TCP");
	assert_true(strncmp(str(o, "community_id"), "1:", 2) == 0);
	assert_int_equal(strlen(str(o, "community_id")), 30);
	assert_true(num(o, "flow_id") > 0);
	h = json_object_get(o, "hijack");
	assert_string_equal(str(h, "kind"), "injection");
	assert_string_equal(str(h, "dir"), "reply");
	assert_int_equal(num(h, "seq"), 5001);
	assert_string_equal(str(h, "hash_seen"), "6c6fe4b0");
	/* The other direction of the flow: the same flow_id and ID. */
	rev = ev;
	rev.key.src = ev.key.dst;
	rev.key.dst = ev.key.src;
	rev.key.sport = ev.key.dport;
	rev.key.dport = ev.key.sport;
	ctx.pcap_cnt = 0; /* live: no packet number */
	ctx.wall_offset_ns = 1000;
	back = parse_line(moat_io_event_line(&rev, &ctx));
	assert_null(json_object_get(back, "pcap_cnt"));
	assert_string_equal(str(back, "timestamp"),
			    "2025-11-26T10:00:00.006001+0000");
	assert_string_equal(str(back, "community_id"), str(o, "community_id"));
	assert_int_equal(num(back, "flow_id"), num(o, "flow_id"));
	json_decref(back);
	json_decref(o);
	moat_config_destroy(cfg);
}

/* Every kind: valid JSON, its event_type and the object of that name. */
static void schema_every_kind(void **state)
{
	struct moat_config *cfg = config();
	struct moat_io_event_ctx ctx = { .cfg = cfg };
	json_t *o, *f;
	struct moat_event ev;

	(void)state;
	ev = tcp_event(MOAT_EV_RULE);
	ev.u.rule.number = 1;
	ev.u.rule.line = 4;
	ev.u.rule.action = MOAT_EV_ACTION_BLOCK;
	o = parse_line(moat_io_event_line(&ev, &ctx));
	f = json_object_get(o, "rule");
	assert_string_equal(str(o, "event_type"), "rule");
	assert_int_equal(num(f, "number"), 1);
	assert_int_equal(num(f, "line"), 4);
	assert_string_equal(str(f, "action"), "block");
	json_decref(o);

	ev = tcp_event(MOAT_EV_TABLE_FULL);
	o = parse_line(moat_io_event_line(&ev, &ctx));
	assert_string_equal(str(o, "event_type"), "table_full");
	assert_null(json_object_get(o, "table_full"));
	json_decref(o);

	/* A mode switch names a service, not a flow. */
	memset(&ev, 0, sizeof(ev));
	ev.kind = MOAT_EV_SYNCOOKIES;
	ev.in_zone = -1;
	moat_addr_parse(&ev.key.dst, "198.18.1.10");
	ev.key.dport = 80;
	ev.key.proto = 6;
	ev.u.syn.cookies = 1;
	ev.u.syn.half_open = 300;
	ev.u.syn.syn_rate = 2000;
	o = parse_line(moat_io_event_line(&ev, &ctx));
	assert_string_equal(str(o, "timestamp"),
			    "1970-01-01T00:00:00.000000+0000");
	assert_string_equal(str(o, "dest_ip"), "198.18.1.10");
	assert_int_equal(num(o, "dest_port"), 80);
	assert_null(json_object_get(o, "src_ip"));
	assert_null(json_object_get(o, "community_id"));
	assert_null(json_object_get(o, "flow_id"));
	assert_null(json_object_get(o, "zone"));
	f = json_object_get(o, "syncookies");
	assert_string_equal(str(f, "mode"), "cookies");
	assert_int_equal(num(f, "half_open"), 300);
	assert_int_equal(num(f, "syn_rate"), 2000);
	json_decref(o);

	ev = tcp_event(MOAT_EV_OVERLOAD);
	ev.u.overload.set = 0;
	ev.u.overload.rule = 1;
	ev.u.overload.limit = MOAT_R_MAX_SRC_RATE;
	ev.u.overload.expire = 10;
	o = parse_line(moat_io_event_line(&ev, &ctx));
	f = json_object_get(o, "overload");
	assert_string_equal(str(f, "set"), "abusers");
	assert_string_equal(str(f, "limit"), "max-src-rate");
	assert_int_equal(num(f, "expire"), 10);
	json_decref(o);

	memset(&ev, 0, sizeof(ev));
	ev.kind = MOAT_EV_OVERLOAD_EXPIRED;
	ev.in_zone = -1;
	moat_addr_parse(&ev.key.src, "198.18.100.66");
	o = parse_line(moat_io_event_line(&ev, &ctx));
	assert_string_equal(str(o, "event_type"), "overload_expired");
	assert_string_equal(str(o, "src_ip"), "198.18.100.66");
	assert_null(json_object_get(o, "proto"));
	assert_string_equal(str(json_object_get(o, "overload_expired"), "set"),
			    "abusers");
	json_decref(o);

	ev = tcp_event(MOAT_EV_ADDRESS_TRUST);
	ev.u.trust.service = "rsh";
	ev.u.trust.rule = 2;
	o = parse_line(moat_io_event_line(&ev, &ctx));
	assert_string_equal(str(json_object_get(o, "address_trust"), "service"),
			    "rsh");
	json_decref(o);

	/* ICMP: by name, with type and code, no ports. */
	ev = tcp_event(MOAT_EV_RULE);
	ev.key.proto = 58;
	ev.key.sport = ev.key.dport = 0;
	moat_addr_parse(&ev.key.src, "2001:db8::1");
	moat_addr_parse(&ev.key.dst, "2001:db8::2");
	ev.key.icmp_type = 128;
	o = parse_line(moat_io_event_line(&ev, &ctx));
	assert_string_equal(str(o, "proto"), "IPv6-ICMP");
	assert_int_equal(num(o, "icmp_type"), 128);
	assert_null(json_object_get(o, "src_port"));
	json_decref(o);

	/* Without a configuration: numbers stand in for names. */
	ctx.cfg = NULL;
	ev = tcp_event(MOAT_EV_OVERLOAD);
	ev.in_zone = 1;
	o = parse_line(moat_io_event_line(&ev, &ctx));
	assert_int_equal(num(o, "zone"), 1);
	assert_null(json_object_get(o, "in_iface"));
	assert_int_equal(num(json_object_get(o, "overload"), "set"), 0);
	json_decref(o);
	moat_config_destroy(cfg);
}

/* Names with quotes, backslashes, control bytes and bytes that are not
 * UTF-8: the line is still valid JSON, the bad bytes U+FFFD. */
static void odd_bytes(void **state)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{ "plain", "plain" },
		{ "a\"b\\c", "a\"b\\c" },
		{ "\x01\x1f\n\t", "\x01\x1f\n\t" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },           /* é, well formed */
		{ "\xff", "\xef\xbf\xbd" },                 /* never UTF-8 */
		{ "\xc3", "\xef\xbf\xbd" },                 /* cut short */
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" }, /* overlong "/" */
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
							    /* a surrogate */
		{ "\xf4\x90\x80\x80x", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
				       "\xef\xbf\xbdx" },   /* past U+10FFFF */
		{ "\xf0\x9f\x8f\xb0", "\xf0\x9f\x8f\xb0" }, /* U+1F3F0 */
	};
	struct moat_event ev = tcp_event(MOAT_EV_TABLE_FULL);

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct moat_io_event_ctx ctx = { .in_iface = rows[i].in };
		char *line = moat_io_event_line(&ev, &ctx);
		json_t *o;

		assert_non_null(line);
		/* No raw control byte leaves: jansson writes \uXXXX. */
		for (const char *p = line; *p; p++)
			assert_true((unsigned char)*p >= 0x20);
		o = parse_line(line);
		if (strcmp(str(o, "in_iface"), rows[i].out))
			fail_msg("row %zu: wrong text", i);
		json_decref(o);
	}
}

static void proto_names(void **state)
{
	char b[4];

	(void)state;
	assert_string_equal(moat_io_proto_name(6, b), "TCP");
	assert_string_equal(moat_io_proto_name(17, b), "UDP");
	assert_string_equal(moat_io_proto_name(1, b), "ICMP");
	assert_string_equal(moat_io_proto_name(58, b), "IPv6-ICMP");
	assert_string_equal(moat_io_proto_name(132, b), "SCTP");
	assert_string_equal(moat_io_proto_name(253, b), "253");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sha1_vectors),
		cmocka_unit_test(community_id_vectors),
		cmocka_unit_test(schema_common_fields),
		cmocka_unit_test(schema_every_kind),
		cmocka_unit_test(odd_bytes),
		cmocka_unit_test(proto_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
