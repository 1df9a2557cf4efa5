/*
 * The SYN cookie's arithmetic, one implementation for the two places that
 * make cookies: the engine (src/synproxy/cookie.c, which adds the key ring
 * and moat's types) and the XDP program (src/xdp/moat_xdp.bpf.c, which
 * answers SYNs before they reach userspace).  Static inline and without
 * libc (only the compiler's stdbool.h, stddef.h, stdint.h), so that clang's
 * BPF target compiles it; tests/unit/synproxy/decide_bpf.sh checks that.
 *
 * The layout of the 32-bit cookie and of the hashed block is drawn in
 * src/synproxy/cookie.c; the numbers are here.
 */
#ifndef MOAT_COOKIE_CORE_H
#define MOAT_COOKIE_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "moat/siphash_core.h"

enum {
	MOAT_COOKIE_KEY_LEN = 16,
	MOAT_COOKIE_MAC_BITS = 27,
	MOAT_COOKIE_MSS_SHIFT = 27,
	MOAT_COOKIE_COUNTER_SHIFT = 29,
	MOAT_COOKIE_COUNTER_MASK = 7,
	MOAT_COOKIE_MSS_ENTRIES = 4,   /* per family; 2 bits in the ISN */
	MOAT_COOKIE_BLOCK4 = 22,       /* bytes hashed for IPv4 */
	MOAT_COOKIE_BLOCK6 = 46,       /* ... and for IPv6 */
	MOAT_COOKIE_BLOCK_MAX = 48,
	MOAT_COOKIE_TS_OPT_BITS = 6,   /* low TSval bits that carry options */
	MOAT_COOKIE_TS_SACK = 1 << 4,
	MOAT_COOKIE_TS_ECN = 1 << 5,
	MOAT_COOKIE_WSCALE_NONE = 0xf, /* "the client offered no scaling" */
	MOAT_COOKIE_WSCALE_MAX = 14,   /* RFC 7323 section 2.3 */
};

/* The cookie counter advances every 64 s, as Linux's (syncookies.c). */
#define MOAT_COOKIE_COUNTER_NS (64ull * 1000000000ull)
#define MOAT_COOKIE_MAC_MASK ((1u << MOAT_COOKIE_MAC_BITS) - 1)

/*
 * Linux's tables (net/ipv4/syncookies.c msstab, net/ipv6/syncookies.c):
 * the MSS of the common paths (minimum, PPPoE/tunnels, Ethernet), IPv6's
 * derived from link MTUs minus 60 bytes of headers.  Ascending.
 */
static const uint16_t moat_cookie_mss4[MOAT_COOKIE_MSS_ENTRIES] = {
	536, 1300, 1440, 1460 };
static const uint16_t moat_cookie_mss6[MOAT_COOKIE_MSS_ENTRIES] = {
	1220, 1420, 1440, 8940 };

static inline uint16_t moat_cookie_mss(bool v6, unsigned idx)
{
	idx &= MOAT_COOKIE_MSS_ENTRIES - 1;
	return v6 ? moat_cookie_mss6[idx] : moat_cookie_mss4[idx];
}

/* Index of the largest table MSS <= @mss (0 when @mss is smaller). */
static inline unsigned moat_cookie_mss_index(bool v6, uint16_t mss)
{
	unsigned i;

	for (i = MOAT_COOKIE_MSS_ENTRIES - 1; i > 0; i--)
		if (mss >= moat_cookie_mss(v6, i))
			return i;
	return 0;
}

/* The cookie counter at @now_ns. */
static inline uint64_t moat_cookie_counter(uint64_t now_ns)
{
	return now_ns / MOAT_COOKIE_COUNTER_NS;
}

static inline void moat_cookie_put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

/*
 * The hashed block (cookie.c draws it) into @b (MOAT_COOKIE_BLOCK_MAX
 * bytes): @src and @dst are 4 (IPv4) or 16 (IPv6) bytes in network order,
 * ports and ISN in host order.  Returns its length.
 */
static inline __attribute__((always_inline)) unsigned
moat_cookie_block(uint8_t *b, bool v6, const uint8_t *src, const uint8_t *dst,
		  uint16_t sport, uint16_t dport, uint32_t isn,
		  uint64_t counter, unsigned mss_idx)
{
	unsigned alen = v6 ? 16 : 4, i;

	for (i = 0; i < alen; i++) {
		b[i] = src[i];
		b[alen + i] = dst[i];
	}
	b += 2 * alen;
	moat_cookie_put32(b, (uint32_t)sport << 16 | dport);
	moat_cookie_put32(b + 4, isn);
	moat_cookie_put32(b + 8, (uint32_t)counter);
	b[12] = (uint8_t)mss_idx;
	b[13] = v6 ? 6 : 4;   /* moat's family numbers (moat/addr.h) */
	return 2 * alen + 14;
}

/* The MAC: SipHash-2-4 of the block under @key, low MAC_BITS bits.  The
 * length is one of two constants, so the hash unrolls. */
static inline __attribute__((always_inline)) uint32_t
moat_cookie_mac(const uint8_t *key, const uint8_t *block, bool v6)
{
	uint64_t h = v6 ? moat_siphash24_core(key, block, MOAT_COOKIE_BLOCK6)
			: moat_siphash24_core(key, block, MOAT_COOKIE_BLOCK4);

	return (uint32_t)h & MOAT_COOKIE_MAC_MASK;
}

/* The 32-bit cookie from its three fields. */
static inline uint32_t moat_cookie_isn(uint64_t counter, unsigned mss_idx,
				       uint32_t mac)
{
	return (uint32_t)(counter & MOAT_COOKIE_COUNTER_MASK)
		       << MOAT_COOKIE_COUNTER_SHIFT |
	       (uint32_t)(mss_idx & (MOAT_COOKIE_MSS_ENTRIES - 1))
		       << MOAT_COOKIE_MSS_SHIFT |
	       (mac & MOAT_COOKIE_MAC_MASK);
}

/*
 * Our TSval at @now_ns (RFC 7323 section 5.4: 1 ms ticks, hidden behind
 * @ts_offset) with the low TS_OPT_BITS replaced by the client's window
 * scale (or WSCALE_NONE), SACK and ECN, the way Linux's
 * cookie_init_timestamp() does; never ahead of the clock, so that a later
 * TSval of the same clock (after the proxy hands over) is not older to the
 * client's PAWS (RFC 7323 section 5.3).
 */
static inline uint32_t moat_cookie_ts(uint64_t now_ns, uint32_t ts_offset,
				      uint8_t wscale, bool sack_ok,
				      bool ecn_ok)
{
	uint32_t now = (uint32_t)(now_ns / 1000000u) + ts_offset;
	uint32_t opts = wscale <= MOAT_COOKIE_WSCALE_MAX
				? wscale : MOAT_COOKIE_WSCALE_NONE;
	uint32_t ts;

	if (sack_ok)
		opts |= MOAT_COOKIE_TS_SACK;
	if (ecn_ok)
		opts |= MOAT_COOKIE_TS_ECN;
	ts = (now >> MOAT_COOKIE_TS_OPT_BITS << MOAT_COOKIE_TS_OPT_BITS) | opts;
	if ((int32_t)(ts - now) > 0)
		ts -= 1u << MOAT_COOKIE_TS_OPT_BITS;
	return ts;
}

#endif
