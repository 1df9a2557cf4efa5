/*
 * `moat ctl flows`: the filter over the engine's flow structs and the
 * flows' text and JSON lines (include/moat/io_flows.h).  Control plane.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "moat/ct.h"
#include "moat/io_community_id.h"
#include "moat/io_ctl.h"
#include "moat/io_event.h"
#include "moat/io_flows.h"
#include "moat/pkt.h"
#include "moat/rules.h"

static int parse_prefix(struct moat_io_flow_prefix *p, const char *s)
{
	char buf[MOAT_ADDR_STRLEN + 5];
	char *slash, *end;
	long len;
	int max;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (moat_addr_parse(&p->addr, buf) < 0)
		return -EINVAL;
	max = p->addr.family == MOAT_AF_INET ? 32 : 128;
	len = max;
	if (slash) {
		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || len < 0 || len > max)
			return -EINVAL;
	}
	p->len = (uint8_t)len;
	return 0;
}

static int parse_port(uint16_t *port, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static int parse_proto(uint8_t *proto, const char *s)
{
	static const struct {
		const char *name;
		uint8_t proto;
	} names[] = {
		{ "tcp", MOAT_IPPROTO_TCP }, { "udp", MOAT_IPPROTO_UDP },
		{ "icmp", MOAT_IPPROTO_ICMP }, { "icmp6", MOAT_IPPROTO_ICMPV6 },
		{ "ipv6-icmp", MOAT_IPPROTO_ICMPV6 }, { "sctp", 132 },
	};
	uint16_t v;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i].name)) {
			*proto = names[i].proto;
			return 0;
		}
	if (parse_port(&v, s) < 0 || v > 255)
		return -EINVAL;
	*proto = (uint8_t)v;
	return 0;
}

static int parse_state(uint8_t *state, const char *s)
{
	for (int i = 1; i < MOAT_CT_STATE_COUNT; i++)
		if (!strcasecmp(s, moat_ct_state_name((enum moat_ct_state)i))) {
			*state = (uint8_t)i;
			return 0;
		}
	return -EINVAL;
}

int moat_io_flow_filter_parse(struct moat_io_flow_filter *f,
			      char *const *words, int n, char *err,
			      size_t errlen)
{
	static const struct {
		const char *name;
		unsigned term;
	} terms[] = {
		{ "src", MOAT_IO_FLOW_SRC }, { "dst", MOAT_IO_FLOW_DST },
		{ "host", MOAT_IO_FLOW_HOST }, { "port", MOAT_IO_FLOW_PORT },
		{ "sport", MOAT_IO_FLOW_SPORT }, { "dport", MOAT_IO_FLOW_DPORT },
		{ "proto", MOAT_IO_FLOW_PROTO }, { "state", MOAT_IO_FLOW_STATE },
	};

	memset(f, 0, sizeof(*f));
	for (int i = 0; i < n; i += 2) {
		unsigned t = 0;
		int r = -EINVAL;

		for (size_t k = 0; k < sizeof(terms) / sizeof(terms[0]); k++)
			if (!strcmp(words[i], terms[k].name))
				t = terms[k].term;
		if (!t) {
			snprintf(err, errlen, "flows: unknown term '%s' (src, "
				 "dst, host, port, sport, dport, proto, state)",
				 words[i]);
			return -EINVAL;
		}
		if (i + 1 == n) {
			snprintf(err, errlen, "flows: '%s' needs a value",
				 words[i]);
			return -EINVAL;
		}
		if (f->terms & t) {
			snprintf(err, errlen, "flows: '%s' given twice",
				 words[i]);
			return -EINVAL;
		}
		switch (t) {
		case MOAT_IO_FLOW_SRC: r = parse_prefix(&f->src, words[i + 1]); break;
		case MOAT_IO_FLOW_DST: r = parse_prefix(&f->dst, words[i + 1]); break;
		case MOAT_IO_FLOW_HOST: r = parse_prefix(&f->host, words[i + 1]); break;
		case MOAT_IO_FLOW_PORT: r = parse_port(&f->port, words[i + 1]); break;
		case MOAT_IO_FLOW_SPORT: r = parse_port(&f->sport, words[i + 1]); break;
		case MOAT_IO_FLOW_DPORT: r = parse_port(&f->dport, words[i + 1]); break;
		case MOAT_IO_FLOW_PROTO: r = parse_proto(&f->proto, words[i + 1]); break;
		case MOAT_IO_FLOW_STATE: r = parse_state(&f->state, words[i + 1]); break;
		}
		if (r < 0) {
			snprintf(err, errlen, "flows: bad %s '%s'", words[i],
				 words[i + 1]);
			return -EINVAL;
		}
		f->terms |= t;
	}
	return 0;
}

/* @a within @p: the same family and the first p->len bits of the family's
 * own address equal (IPv4 sits in the last 4 of the 16 bytes). */
static bool in_prefix(const struct moat_io_flow_prefix *p,
		      const struct moat_addr *a)
{
	unsigned skip = p->addr.family == MOAT_AF_INET ? 96 : 0;
	unsigned bits = skip + p->len, full = bits / 8, rest = bits % 8;

	if (a->family != p->addr.family)
		return false;
	if (memcmp(a->b, p->addr.b, full))
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((a->b[full] & mask) != (p->addr.b[full] & mask))
			return false;
	}
	return true;
}

bool moat_io_flow_match(const struct moat_io_flow_filter *f,
			const struct moat_flow *fl)
{
	const struct moat_flow_key *k = &fl->key;
	unsigned t = f->terms;

	if ((t & MOAT_IO_FLOW_SRC) && !in_prefix(&f->src, &k->src))
		return false;
	if ((t & MOAT_IO_FLOW_DST) && !in_prefix(&f->dst, &k->dst))
		return false;
	if ((t & MOAT_IO_FLOW_HOST) && !in_prefix(&f->host, &k->src) &&
	    !in_prefix(&f->host, &k->dst))
		return false;
	if ((t & MOAT_IO_FLOW_PORT) && k->sport != f->port &&
	    k->dport != f->port)
		return false;
	if ((t & MOAT_IO_FLOW_SPORT) && k->sport != f->sport)
		return false;
	if ((t & MOAT_IO_FLOW_DPORT) && k->dport != f->dport)
		return false;
	if ((t & MOAT_IO_FLOW_PROTO) && k->proto != f->proto)
		return false;
	if ((t & MOAT_IO_FLOW_STATE) && fl->state != f->state)
		return false;
	return true;
}

static void endpoint(char *out, size_t len, const struct moat_addr *a,
		     uint16_t port)
{
	char s[MOAT_ADDR_STRLEN];

	moat_addr_format(a, s, sizeof(s));
	snprintf(out, len, a->family == MOAT_AF_INET6 ? "[%s]:%u" : "%s:%u", s,
		 port);
}

void moat_io_flow_text(struct moat_io_buf *b, const struct moat_flow *fl)
{
	char s[MOAT_ADDR_STRLEN + 8], d[MOAT_ADDR_STRLEN + 8], num[4];
	char cid[MOAT_COMMUNITY_ID_LEN] = "-";
	char proto[16];
	size_t i;

	snprintf(proto, sizeof(proto), "%s",
		 moat_io_proto_name(fl->key.proto, num));
	for (i = 0; proto[i]; i++)
		if (proto[i] >= 'A' && proto[i] <= 'Z')
			proto[i] = (char)(proto[i] - 'A' + 'a');
	endpoint(s, sizeof(s), &fl->key.src, fl->key.sport);
	endpoint(d, sizeof(d), &fl->key.dst, fl->key.dport);
	moat_community_id(&fl->key, 0, cid, NULL);
	moat_io_buf_printf(b, "%s %s %s -> %s rule %u%s%s expires %u "
			   "community_id %s\n",
			   moat_ct_state_name((enum moat_ct_state)fl->state),
			   proto, s, d, fl->rule,
			   fl->synproxy ? " synproxy" : "",
			   fl->modulate ? " modulate" : "", fl->expires_in, cid);
}

static void zone_field(json_t *o, const char *name,
		       const struct moat_config *cfg, int z)
{
	if (z < 0)
		return;
	if (cfg && z < moat_config_zone_count(cfg))
		json_object_set_new(o, name,
				    moat_io_json_str(moat_config_zone(cfg, z)->name));
	else
		json_object_set_new(o, name, json_integer(z));
}

void moat_io_flow_json(struct moat_io_buf *b, const struct moat_flow *fl,
		       const struct moat_config *cfg)
{
	json_t *o = json_object();
	char *s;

	if (!o) {
		b->failed = true;
		return;
	}
	moat_io_json_flow_key(o, &fl->key, 0);
	if (fl->key.proto == MOAT_IPPROTO_ICMP ||
	    fl->key.proto == MOAT_IPPROTO_ICMPV6)
		json_object_set_new(o, "icmp_id", json_integer(fl->key.sport));
	json_object_set_new(o, "state", json_string(moat_ct_state_name(
		(enum moat_ct_state)fl->state)));
	json_object_set_new(o, "rule", json_integer(fl->rule));
	zone_field(o, "zone", cfg, fl->zone[0]);
	zone_field(o, "reply_zone", cfg, fl->zone[1]);
	json_object_set_new(o, "expires", json_integer(fl->expires_in));
	json_object_set_new(o, "synproxy", json_boolean(fl->synproxy));
	json_object_set_new(o, "modulate", json_boolean(fl->modulate));
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s) {
		b->failed = true;
		return;
	}
	moat_io_buf_printf(b, "%s\n", s);
	free(s);
}
