/*
 * The Community ID of a flow, version 1 (include/moat/io_community_id.h
 * says what it is; github.com/corelight/community-id-spec defines it).
 * Off the packet's path: the event log and `moat ctl flows` call it.
 */
#include <string.h>

#include "moat/io_community_id.h"
#include "moat/pkt.h"

enum { PROTO_SCTP = 132 };

/* The type of the answer to an ICMP message of @type, or -1 when it has
 * none (errors, redirects...: one-way, hashed as type and code). */
static int icmp_counterpart(uint8_t proto, uint8_t type)
{
	static const uint8_t v4[][2] = {
		{ 8, 0 }, { 0, 8 },     /* echo, echo reply (RFC 792) */
		{ 13, 14 }, { 14, 13 }, /* timestamp */
		{ 15, 16 }, { 16, 15 }, /* information */
		{ 10, 9 }, { 9, 10 },   /* router solicitation (RFC 1256) */
		{ 17, 18 }, { 18, 17 }, /* address mask (RFC 950) */
	};
	static const uint8_t v6[][2] = {
		{ 128, 129 }, { 129, 128 }, /* echo (RFC 4443) */
		{ 133, 134 }, { 134, 133 }, /* router (RFC 4861) */
		{ 135, 136 }, { 136, 135 }, /* neighbour */
		{ 130, 131 }, { 131, 130 }, /* MLD query, report (RFC 2710) */
		{ 139, 140 }, { 140, 139 }, /* node information (RFC 4620) */
		{ 144, 145 }, { 145, 144 }, /* home agent discovery (RFC 6275) */
	};
	const uint8_t(*t)[2] = proto == MOAT_IPPROTO_ICMP ? v4 : v6;
	size_t n = proto == MOAT_IPPROTO_ICMP ? sizeof(v4) / sizeof(v4[0])
					      : sizeof(v6) / sizeof(v6[0]);

	for (size_t i = 0; i < n; i++)
		if (t[i][0] == type)
			return t[i][1];
	return -1;
}

static void base64(const uint8_t *in, size_t len, char *out)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				  "qrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = i + 1 < len ? abc[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? abc[v & 63] : '=';
	}
	out[o] = '\0';
}

int moat_community_id(const struct moat_flow_key *k, uint16_t seed,
		      char out[MOAT_COMMUNITY_ID_LEN],
		      uint8_t digest[MOAT_SHA1_LEN])
{
	const struct moat_addr *a = &k->src, *b = &k->dst;
	uint16_t pa = k->sport, pb = k->dport;
	bool icmp = k->proto == MOAT_IPPROTO_ICMP ||
		    k->proto == MOAT_IPPROTO_ICMPV6;
	bool ports = icmp || k->proto == MOAT_IPPROTO_TCP ||
		     k->proto == MOAT_IPPROTO_UDP || k->proto == PROTO_SCTP;
	bool one_way = false;
	size_t alen = a->family == MOAT_AF_INET ? 4 : 16;
	const uint8_t *ab, *bb;
	uint8_t buf[2 + 16 + 16 + 2 + 4], d[MOAT_SHA1_LEN];
	struct moat_sha1 s;
	size_t n = 0;
	int cmp;

	if (a->family == MOAT_AF_NONE || a->family != b->family)
		return -1;
	if (icmp) {
		int other = icmp_counterpart(k->proto, k->icmp_type);

		pa = k->icmp_type;
		pb = other < 0 ? k->icmp_code : (uint16_t)other;
		one_way = other < 0;
	}
	ab = alen == 4 ? moat_addr_v4(a) : a->b;
	bb = alen == 4 ? moat_addr_v4(b) : b->b;
	cmp = memcmp(ab, bb, alen);
	if (!one_way && (cmp > 0 || (cmp == 0 && pa > pb))) {
		const uint8_t *t = ab;
		uint16_t tp = pa;

		ab = bb;
		bb = t;
		pa = pb;
		pb = tp;
	}
	buf[n++] = (uint8_t)(seed >> 8);
	buf[n++] = (uint8_t)seed;
	memcpy(buf + n, ab, alen);
	n += alen;
	memcpy(buf + n, bb, alen);
	n += alen;
	buf[n++] = k->proto;
	buf[n++] = 0;
	if (ports) {
		buf[n++] = (uint8_t)(pa >> 8);
		buf[n++] = (uint8_t)pa;
		buf[n++] = (uint8_t)(pb >> 8);
		buf[n++] = (uint8_t)pb;
	}
	moat_sha1_init(&s);
	moat_sha1_update(&s, buf, n);
	moat_sha1_final(&s, d);
	out[0] = '1';
	out[1] = ':';
	base64(d, sizeof(d), out + 2);
	if (digest)
		memcpy(digest, d, sizeof(d));
	return 0;
}
