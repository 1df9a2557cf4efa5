/*
 * Fragments for tests, built by hand the way a sender's IP layer cuts a
 * datagram: a UDP datagram (8-byte header, then bytes that follow a
 * pattern) of @total bytes, and any piece [off, off + len) of it as an
 * IPv4 fragment (RFC 791) or an IPv6 fragment (RFC 8200 section 4.5),
 * inside an Ethernet frame.  Used by the frag and engine unit tests.
 */
#ifndef MOAT_TEST_FRAGS_H
#define MOAT_TEST_FRAGS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "moat/pkt.h"

enum { FR_CAP = 9100, FR_DGRAM_MAX = 65536 };

/* Where a fragment comes from and goes to, and its datagram. */
struct fr_dgram {
	int ipv;                 /* 4 or 6 */
	const char *src, *dst;
	uint32_t id;
	uint8_t proto;           /* 17 unless set */
	uint16_t sport, dport;
	uint32_t total;          /* bytes of the fragmentable part */
	uint8_t salt;            /* varies the bytes */
};

/* Byte @i of the datagram (the UDP header for the first 8). */
static inline uint8_t fr_byte(const struct fr_dgram *d, uint32_t i)
{
	switch (i) {
	case 0: return (uint8_t)(d->sport >> 8);
	case 1: return (uint8_t)d->sport;
	case 2: return (uint8_t)(d->dport >> 8);
	case 3: return (uint8_t)d->dport;
	case 4: return (uint8_t)(d->total >> 8);
	case 5: return (uint8_t)d->total;
	case 6: case 7: return 0;    /* no UDP checksum (IPv4 allows it) */
	default: return (uint8_t)(i * 7 + d->salt);
	}
}

static inline void fr_put16(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static inline void fr_addr(uint8_t *out, const char *s, int ipv)
{
	struct moat_addr a;

	moat_addr_parse(&a, s);
	if (ipv == 4)
		memcpy(out, a.b + 12, 4);
	else
		memcpy(out, a.b, 16);
}

/*
 * Write the piece [off, off + len) of @d into @f (FR_CAP bytes) and return
 * the frame's length.  @more is the M flag.  @poke, when not NULL, is
 * called on the piece's bytes before they are written (to make a piece
 * that disagrees with the datagram).
 */
static inline uint32_t fr_piece(uint8_t *f, const struct fr_dgram *d,
				uint32_t off, uint32_t len, bool more,
				void (*poke)(uint8_t *bytes, uint32_t len))
{
	static const uint8_t eth[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	uint8_t proto = d->proto ? d->proto : 17;
	uint32_t h = 14, at;

	memcpy(f, eth, 12);
	if (d->ipv == 4) {
		fr_put16(f + 12, 0x0800);
		memset(f + h, 0, 20);
		f[h] = 0x45;
		fr_put16(f + h + 2, 20 + len);
		fr_put16(f + h + 4, d->id);
		fr_put16(f + h + 6, (more ? 0x2000 : 0) | (off / 8));
		f[h + 8] = 64;
		f[h + 9] = proto;
		fr_addr(f + h + 12, d->src, 4);
		fr_addr(f + h + 16, d->dst, 4);
		fr_put16(f + h + 10, moat_csum_fold(moat_csum_partial(f + h, 20,
								      0)));
		at = h + 20;
	} else {
		fr_put16(f + 12, 0x86dd);
		memset(f + h, 0, 48);
		f[h] = 0x60;
		fr_put16(f + h + 4, 8 + len);
		f[h + 6] = 44;
		f[h + 7] = 64;
		fr_addr(f + h + 8, d->src, 6);
		fr_addr(f + h + 24, d->dst, 6);
		f[h + 40] = proto;
		fr_put16(f + h + 42, (off & 0xfff8) | (more ? 1 : 0));
		f[h + 44] = (uint8_t)(d->id >> 24);
		f[h + 45] = (uint8_t)(d->id >> 16);
		f[h + 46] = (uint8_t)(d->id >> 8);
		f[h + 47] = (uint8_t)d->id;
		at = h + 48;
	}
	for (uint32_t i = 0; i < len; i++)
		f[at + i] = fr_byte(d, off + i);
	if (poke)
		poke(f + at, len);
	return at + len;
}

/* An IPv6 atomic fragment (RFC 6946): a fragment header with offset 0
 * and M clear around a whole @d. */
static inline uint32_t fr_atomic6(uint8_t *f, const struct fr_dgram *d)
{
	return fr_piece(f, d, 0, d->total, false, NULL);
}

#endif
