/*
 * Events as EVE-like JSON lines (include/moat/io_event.h has the schema).
 * jansson builds and escapes them, so every line is valid JSON in UTF-8
 * whatever bytes a name holds.  Off the packet's path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "moat/ct.h"
#include "moat/io_community_id.h"
#include "moat/io_event.h"
#include "moat/pkt.h"
#include "moat/rules.h"

const char *moat_io_proto_name(uint8_t proto, char buf[4])
{
	switch (proto) {
	case MOAT_IPPROTO_ICMP: return "ICMP";
	case MOAT_IPPROTO_TCP: return "TCP";
	case MOAT_IPPROTO_UDP: return "UDP";
	case MOAT_IPPROTO_ICMPV6: return "IPv6-ICMP";
	case 47: return "GRE";
	case 50: return "ESP";
	case 51: return "AH";
	case 132: return "SCTP";
	}
	snprintf(buf, 4, "%u", proto);
	return buf;
}

/* The length of the well-formed UTF-8 sequence at @s (RFC 3629 section 4:
 * no overlong forms, no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80;
		unsigned char hi = c == 0xed ? 0x9f : 0xbf;

		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80;
		unsigned char hi = c == 0xf4 ? 0x8f : 0xbf;

		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 &&
		       (s[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

json_t *moat_io_json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), o = 0;
	char *buf;
	json_t *j;

	/* Each bad byte may grow to the three of U+FFFD. */
	buf = malloc(3 * len + 1);
	if (!buf)
		return NULL;
	while (*p) {
		size_t n = utf8_len(p);

		if (n == 0) {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
			continue;
		}
		memcpy(buf + o, p, n);
		o += n;
		p += n;
	}
	j = json_stringn(buf, o);
	free(buf);
	return j;
}

void moat_io_iso8601(int64_t ns, char out[32])
{
	time_t sec = (time_t)(ns / 1000000000);
	long usec = (long)(ns % 1000000000 / 1000);
	struct tm tm;

	if (usec < 0) {
		sec--;
		usec += 1000000;
	}
	char tmp[96];

	if (!gmtime_r(&sec, &tm))
		memset(&tm, 0, sizeof(tm)); /* beyond any calendar */
	/* 31 characters for years 0 to 9999, which is all a uint64_t of
	 * nanoseconds reaches. */
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%06ld+0000",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, usec);
	memcpy(out, tmp, 31);
	out[31] = '\0';
}

static void set_addr(json_t *o, const char *name, const struct moat_addr *a)
{
	char s[MOAT_ADDR_STRLEN];

	json_object_set_new(o, name,
			    json_string(moat_addr_format(a, s, sizeof(s))));
}

static bool has_ports(uint8_t proto)
{
	return proto == MOAT_IPPROTO_TCP || proto == MOAT_IPPROTO_UDP ||
	       proto == 132;
}

void moat_io_json_flow_key(json_t *o, const struct moat_flow_key *k,
			   uint16_t cid_seed)
{
	char cid[MOAT_COMMUNITY_ID_LEN], num[4];
	uint8_t d[MOAT_SHA1_LEN];
	bool icmp = k->proto == MOAT_IPPROTO_ICMP ||
		    k->proto == MOAT_IPPROTO_ICMPV6;

	bool have_cid = moat_community_id(k, cid_seed, cid, d) == 0;

	if (have_cid) {
		/* One number for one flow in every moat log: 51 bits of the
		 * same hash, so a JavaScript reader keeps it exact. */
		uint64_t id = 0;

		for (int i = 0; i < 8; i++)
			id = id << 8 | d[i];
		json_object_set_new(o, "flow_id",
				    json_integer((json_int_t)(id & ((1ull << 51) - 1))));
	}
	if (k->src.family != MOAT_AF_NONE) {
		set_addr(o, "src_ip", &k->src);
		if (has_ports(k->proto))
			json_object_set_new(o, "src_port",
					    json_integer(k->sport));
	}
	if (k->dst.family != MOAT_AF_NONE) {
		set_addr(o, "dest_ip", &k->dst);
		if (has_ports(k->proto))
			json_object_set_new(o, "dest_port",
					    json_integer(k->dport));
	}
	if (k->src.family == MOAT_AF_NONE && k->dst.family == MOAT_AF_NONE)
		return;
	if (k->proto == 0 && !have_cid)
		return; /* an address alone (an overload's source) */
	json_object_set_new(o, "proto",
			    json_string(moat_io_proto_name(k->proto, num)));
	if (icmp) {
		json_object_set_new(o, "icmp_type", json_integer(k->icmp_type));
		json_object_set_new(o, "icmp_code", json_integer(k->icmp_code));
	}
	if (have_cid)
		json_object_set_new(o, "community_id", json_string(cid));
}

static const struct moat_zone *zone_of(const struct moat_io_event_ctx *ctx,
				       int z)
{
	if (!ctx->cfg || z < 0 || z >= moat_config_zone_count(ctx->cfg))
		return NULL;
	return moat_config_zone(ctx->cfg, z);
}

static const char *set_name(const struct moat_io_event_ctx *ctx, int idx)
{
	const struct moat_set *s;

	if (!ctx->cfg || idx < 0)
		return NULL;
	s = moat_config_set(ctx->cfg, idx);
	return s && moat_set_name(s)[0] ? moat_set_name(s) : NULL;
}

static void hex32(json_t *o, const char *name, uint32_t v)
{
	char s[9];

	snprintf(s, sizeof(s), "%08x", v);
	json_object_set_new(o, name, json_string(s));
}

static json_t *hijack_fields(const struct moat_event *ev)
{
	json_t *o = json_object();

	json_object_set_new(o, "kind", json_string(moat_event_hijack_name(
					       ev->u.hijack.kind)));
	json_object_set_new(o, "dir", json_string(ev->u.hijack.dir ==
						  MOAT_CT_ORIG ? "orig" :
						  "reply"));
	json_object_set_new(o, "seq", json_integer(ev->u.hijack.seq));
	switch (ev->u.hijack.kind) {
	case MOAT_EV_HIJACK_INJECTION:
		json_object_set_new(o, "len_seen",
				    json_integer(ev->u.hijack.len_seen));
		json_object_set_new(o, "len_new",
				    json_integer(ev->u.hijack.len_new));
		hex32(o, "hash_seen", ev->u.hijack.hash_seen);
		hex32(o, "hash_new", ev->u.hijack.hash_new);
		break;
	case MOAT_EV_HIJACK_ACK_STORM:
		json_object_set_new(o, "ack", json_integer(ev->u.hijack.ack));
		json_object_set_new(o, "acks_orig",
				    json_integer(ev->u.hijack.acks_orig));
		json_object_set_new(o, "acks_reply",
				    json_integer(ev->u.hijack.acks_reply));
		json_object_set_new(o, "window_ms",
				    json_integer(ev->u.hijack.window_ms));
		break;
	case MOAT_EV_HIJACK_TTL_JUMP:
		json_object_set_new(o, "ttl_first",
				    json_integer(ev->u.hijack.ttl_first));
		json_object_set_new(o, "ttl_now",
				    json_integer(ev->u.hijack.ttl_now));
		json_object_set_new(o, "len", json_integer(ev->u.hijack.len));
		break;
	}
	return o;
}

/* The fields of the event's own kind; NULL when it has none. */
static json_t *kind_fields(const struct moat_event *ev,
			   const struct moat_io_event_ctx *ctx)
{
	json_t *o;
	const char *set;

	switch (ev->kind) {
	case MOAT_EV_RULE:
		o = json_object();
		json_object_set_new(o, "number", json_integer(ev->u.rule.number));
		json_object_set_new(o, "line", json_integer(ev->u.rule.line));
		json_object_set_new(o, "action", json_string(
			moat_event_action_name(ev->u.rule.action)));
		return o;
	case MOAT_EV_SYNCOOKIES:
		o = json_object();
		json_object_set_new(o, "mode", json_string(ev->u.syn.cookies ?
							   "cookies" : "state"));
		json_object_set_new(o, "half_open",
				    json_integer(ev->u.syn.half_open));
		json_object_set_new(o, "syn_rate",
				    json_integer(ev->u.syn.syn_rate));
		return o;
	case MOAT_EV_HIJACK:
		return hijack_fields(ev);
	case MOAT_EV_OVERLOAD:
	case MOAT_EV_OVERLOAD_EXPIRED:
		o = json_object();
		set = set_name(ctx, ev->u.overload.set);
		json_object_set_new(o, "set", set ? moat_io_json_str(set)
						  : json_integer(ev->u.overload.set));
		if (ev->kind == MOAT_EV_OVERLOAD_EXPIRED)
			return o;
		json_object_set_new(o, "rule", json_integer(ev->u.overload.rule));
		json_object_set_new(o, "limit", json_string(moat_reason_name(
			(enum moat_reason)ev->u.overload.limit)));
		json_object_set_new(o, "expire",
				    json_integer(ev->u.overload.expire));
		return o;
	case MOAT_EV_ADDRESS_TRUST:
		o = json_object();
		json_object_set_new(o, "service", json_string(
			ev->u.trust.service ? ev->u.trust.service : "?"));
		json_object_set_new(o, "rule", json_integer(ev->u.trust.rule));
		return o;
	}
	return NULL;
}

json_t *moat_io_event_json(const struct moat_event *ev,
			   const struct moat_io_event_ctx *ctx)
{
	const struct moat_zone *z = zone_of(ctx, ev->in_zone);
	const char *iface = ctx->in_iface;
	const char *type = moat_event_kind_name(ev->kind);
	json_t *o = json_object(), *fields;
	char ts[32];

	if (!o)
		return NULL;
	/* Wraps rather than overflows on nonsense: unsigned arithmetic. */
	moat_io_iso8601((int64_t)(ev->time_ns + (uint64_t)ctx->wall_offset_ns),
			ts);
	json_object_set_new(o, "timestamp", json_string(ts));
	if (ctx->pcap_cnt > 0)
		json_object_set_new(o, "pcap_cnt", json_integer(ctx->pcap_cnt));
	json_object_set_new(o, "event_type", json_string(type));
	if (iface)
		json_object_set_new(o, "in_iface", moat_io_json_str(iface));
	if (z)
		json_object_set_new(o, "zone", moat_io_json_str(z->name));
	else if (ev->in_zone >= 0)
		json_object_set_new(o, "zone", json_integer(ev->in_zone));
	moat_io_json_flow_key(o, &ev->key, ctx->cid_seed);
	fields = kind_fields(ev, ctx);
	if (fields)
		json_object_set_new(o, type, fields);
	return o;
}

char *moat_io_event_line(const struct moat_event *ev,
			 const struct moat_io_event_ctx *ctx)
{
	json_t *o = moat_io_event_json(ev, ctx);
	char *s;

	if (!o)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}
