/*
 * Test frames for the pkt unit tests: a valid frame of each shape, built
 * with the library's own builders (themselves checked by round trips) or by
 * hand where the builders make no such packet, with checksums filled.
 */
#ifndef MOAT_TEST_PKT_FRAMES_H
#define MOAT_TEST_PKT_FRAMES_H

#include <stdint.h>
#include <string.h>

#include "moat/pkt.h"

enum { FRAME_CAP = 2048 };

static const struct moat_l2 test_l2 = {
	.dst = { 0x02, 0, 0, 0, 0, 0x01 },
	.src = { 0x02, 0, 0, 0, 0, 0x02 },
};

static inline void test_addr(struct moat_addr *a, const char *s)
{
	moat_addr_parse(a, s);
}

/* A SYN-ACK-like segment with every option moat parses. */
static inline void test_tcp_spec(struct moat_tcp_spec *s, int v6)
{
	memset(s, 0, sizeof(*s));
	test_addr(&s->src, v6 ? "2001:db8::a" : "198.18.100.10");
	test_addr(&s->dst, v6 ? "2001:db8::1:a" : "198.18.1.10");
	s->sport = 40000;
	s->dport = 80;
	s->seq = 0x11223344;
	s->ack = 0x55667788;
	s->flags = MOAT_TCP_SYN | MOAT_TCP_ACK;
	s->win = 64240;
	s->opt.present = MOAT_TCPOPT_MSS | MOAT_TCPOPT_SACK_PERM |
			 MOAT_TCPOPT_TS | MOAT_TCPOPT_WSCALE;
	s->opt.mss = 1460;
	s->opt.wscale = 7;
	s->opt.tsval = 1000;
	s->opt.tsecr = 2000;
}

/* Ethernet + IPv4 + TCP (40-byte header): l3 at 14, l4 at 34. */
static inline uint32_t frame_tcp4(uint8_t *buf)
{
	struct moat_tcp_spec s;

	test_tcp_spec(&s, 0);
	return moat_pkt_build_tcp(buf, FRAME_CAP, MOAT_LINK_ETHERNET, &test_l2,
				  &s);
}

static inline uint32_t frame_tcp6(uint8_t *buf)
{
	struct moat_tcp_spec s;

	test_tcp_spec(&s, 1);
	return moat_pkt_build_tcp(buf, FRAME_CAP, MOAT_LINK_ETHERNET, &test_l2,
				  &s);
}

/* Recompute checksums after a test edited a frame. */
static inline void refill(uint8_t *f, uint32_t len, int linktype)
{
	struct moat_pkt p;

	moat_pkt_decode(&p, f, len, len, linktype);
	moat_pkt_fill_checksums(&p);
}

/* Ethernet + IPv4 (20) + UDP with @plen payload bytes. */
static inline uint32_t frame_udp4(uint8_t *f, uint16_t plen)
{
	static const uint8_t hdr[] = {
		0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00,
		0x45, 0, 0, 0, 0, 1, 0, 0, 64, 17, 0, 0,
		198, 18, 100, 10, 198, 18, 1, 10,
		0x30, 0x39, 0x00, 0x35, 0, 0, 0, 0,
	};
	uint32_t len = sizeof(hdr) + plen;

	memcpy(f, hdr, sizeof(hdr));
	memset(f + sizeof(hdr), 0xab, plen);
	f[16] = (uint8_t)((20 + 8 + plen) >> 8);
	f[17] = (uint8_t)(20 + 8 + plen);
	f[38] = (uint8_t)((8 + plen) >> 8);
	f[39] = (uint8_t)(8 + plen);
	refill(f, len, MOAT_LINK_ETHERNET);
	return len;
}

/* Ethernet + IPv6 (40) with @nh and @body bytes after the header. */
static inline uint32_t frame_ip6(uint8_t *f, uint8_t nh, const uint8_t *body,
				 uint32_t blen)
{
	static const uint8_t hdr[] = {
		0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x86, 0xdd,
		0x60, 0, 0, 0, 0, 0, 0, 64,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b,
	};

	memcpy(f, hdr, sizeof(hdr));
	f[18] = (uint8_t)(blen >> 8);
	f[19] = (uint8_t)blen;
	f[20] = nh;
	memcpy(f + sizeof(hdr), body, blen);
	return (uint32_t)sizeof(hdr) + blen;
}

#endif
