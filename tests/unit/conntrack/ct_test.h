/*
 * Helpers for the conntrack tests: packet views filled by hand (conntrack
 * reads only struct moat_pkt, never the frame), a table with test
 * parameters, and time in seconds.
 */
#ifndef CT_TEST_H
#define CT_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "moat/ct.h"

#define SEC(s) ((uint64_t)(s) * 1000000000ull)

static inline struct moat_addr ct_addr(const char *s)
{
	struct moat_addr a;

	memset(&a, 0, sizeof(a));
	assert_int_equal(moat_addr_parse(&a, s), 0);
	return a;
}

static inline void ct_pkt_base(struct moat_pkt *p, const char *src,
			       const char *dst, uint8_t proto)
{
	memset(p, 0, sizeof(*p));
	p->src = ct_addr(src);
	p->dst = ct_addr(dst);
	p->ipv = p->src.family == MOAT_AF_INET6 ? 6 : 4;
	p->proto = proto;
	p->ttl = 64;
}

static inline void ct_pkt_tcp(struct moat_pkt *p, const char *src,
			      const char *dst, uint16_t sport, uint16_t dport,
			      uint8_t flags, uint32_t seq, uint32_t ack,
			      uint16_t win, uint16_t len)
{
	ct_pkt_base(p, src, dst, MOAT_IPPROTO_TCP);
	p->sport = sport;
	p->dport = dport;
	p->tcp_flags = flags;
	p->seq = seq;
	p->ack = ack;
	p->win = win;
	p->payload_len = len;
	p->tcp_hlen = 20;
}

static inline void ct_pkt_udp(struct moat_pkt *p, const char *src,
			      const char *dst, uint16_t sport, uint16_t dport)
{
	ct_pkt_base(p, src, dst, MOAT_IPPROTO_UDP);
	p->sport = sport;
	p->dport = dport;
	p->payload_len = 32;
}

static inline void ct_pkt_echo(struct moat_pkt *p, const char *src,
			       const char *dst, uint8_t type, uint16_t id)
{
	bool v6 = strchr(src, ':') != NULL;

	ct_pkt_base(p, src, dst, v6 ? MOAT_IPPROTO_ICMPV6 : MOAT_IPPROTO_ICMP);
	p->icmp_type = type;
	p->icmp_id = id;
	p->sport = p->dport = id;
}

static inline struct moat_ct *ct_test_table(uint32_t max_flows)
{
	struct moat_ct_params par;
	struct moat_ct *ct;

	moat_ct_params_default(&par);
	par.max_flows = max_flows;
	for (int i = 0; i < 16; i++)
		par.seed[i] = (uint8_t)(0x5a + i * 7);
	ct = moat_ct_create(&par);
	assert_non_null(ct);
	return ct;
}

#endif
