/*
 * SYN cookies: the ISN the SYN proxy answers a SYN with, so that it keeps
 * no state per SYN (D. J. Bernstein's idea; RFC 4987 section 3.6).
 *
 * On the packet's path: a SYN that a `synproxy` rule passes while the
 * destination is in cookie mode gets a SYN-ACK whose ISN comes from
 * moat_syn_cookie_make(); the client's final ACK is valid when
 * moat_syn_cookie_check() accepts ACK - 1 for its four-tuple and SEQ - 1.
 *
 * The 32-bit cookie ISN:
 *
 *    31    29 28 27 26                                             0
 *   +--------+-----+------------------------------------------------+
 *   |counter | mss |             MAC, 27 bits                       |
 *   | low 3  | idx |  low bits of SipHash-2-4(key, block)           |
 *   +--------+-----+------------------------------------------------+
 *
 *   counter  the 64-second counter's low 3 bits: tells which counter the
 *            cookie was made under, so a check costs one hash.  Valid:
 *            the current and the previous counter (64 to 128 s); two to
 *            seven counters old reads as stale.
 *   mss idx  index into the MSS table of the family (moat_syn_mss_table).
 *   MAC      SipHash-2-4 (moat_siphash24 = libsodium crypto_shorthash) keyed with the key of
 *            the counter's key epoch (keys.c), over the block:
 *
 *      IPv4 (22 bytes)                  IPv6 (46 bytes)
 *      src addr    4                    src addr   16
 *      dst addr    4                    dst addr   16
 *      sport dport 4                    sport dport 4
 *      client ISN  4                    client ISN  4
 *      counter     4 (low 32 bits)      counter     4
 *      mss idx     1                    mss idx     1
 *      family      1                    family      1
 *
 *   Not padded: SipHash compresses 8-byte words and carries up to 7 odd
 *   bytes in its final word, so 22 bytes cost what 16 do (3 rounds of
 *   compression) and 46 what 40 do.
 *
 *   The MAC covers the counter, the MSS index and the client's ISN, so
 *   none of them can be changed without breaking it: an attacker who
 *   cannot see our SYN-ACK has a 2^-27 chance per forged ACK.
 *
 * Options other than MSS travel in our TSval's low 6 bits when the client
 * offered timestamps (like Linux's cookie_init_timestamp()):
 *
 *    5    4    3       0
 *   +---+----+---------+
 *   |ECN|SACK| wscale  |   wscale 0xf: the client offered none
 *   +---+----+---------+
 *
 * They are not MAC'd: a client that alters them only hurts its own flow.
 */
#include <sodium.h>
#include <string.h>

#include "moat/siphash.h"
#include "moat/syn.h"

enum {
	COOKIE_MAC_BITS = 27,
	COOKIE_MSS_SHIFT = 27,
	COOKIE_COUNTER_SHIFT = 29,
	COOKIE_COUNTER_MASK = 7,
	TS_SACK_BIT = 1 << 4,
	TS_ECN_BIT = 1 << 5,
};

#define COOKIE_MAC_MASK ((1u << COOKIE_MAC_BITS) - 1)

/*
 * Linux's tables (net/ipv4/syncookies.c msstab, net/ipv6/syncookies.c):
 * the MSS of the common paths (minimum, PPPoE/tunnels, Ethernet), IPv6's
 * derived from link MTUs minus 60 bytes of headers.
 */
static const uint16_t mss_v4[MOAT_SYN_MSS_TABLE] = { 536, 1300, 1440, 1460 };
static const uint16_t mss_v6[MOAT_SYN_MSS_TABLE] = { 1220, 1420, 1440, 8940 };

const uint16_t *moat_syn_mss_table(int family)
{
	return family == MOAT_AF_INET6 ? mss_v6 : mss_v4;
}

unsigned moat_syn_mss_index(int family, uint16_t mss)
{
	const uint16_t *t = moat_syn_mss_table(family);
	unsigned i;

	for (i = MOAT_SYN_MSS_TABLE - 1; i > 0; i--)
		if (mss >= t[i])
			return i;
	return 0;
}

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

/* The MAC of the block above for counter @counter; low COOKIE_MAC_BITS. */
static uint32_t cookie_mac(const uint8_t key[MOAT_SYN_KEY_LEN],
			   const struct moat_syn_tuple *t, uint32_t isn,
			   uint64_t counter, unsigned mss_idx)
{
	uint8_t block[48];
	unsigned alen = t->src.family == MOAT_AF_INET6 ? 16 : 4;
	unsigned aoff = 16 - alen;
	uint8_t *b = block;
	uint32_t mac;

	memcpy(b, t->src.b + aoff, alen);
	b += alen;
	memcpy(b, t->dst.b + aoff, alen);
	b += alen;
	put32(b, (uint32_t)t->sport << 16 | t->dport);
	put32(b + 4, isn);
	put32(b + 8, (uint32_t)counter);
	b[12] = (uint8_t)mss_idx;
	b[13] = t->src.family;
	b += 14;
	/* moat_siphash24 is crypto_shorthash, inlined: the same MAC. */
	mac = (uint32_t)moat_siphash24(key, block, (size_t)(b - block));
	return mac & COOKIE_MAC_MASK;
}

uint32_t moat_syn_cookie_make(struct moat_syn_keys *k,
			      const struct moat_syn_tuple *t,
			      uint32_t client_isn, uint16_t mss,
			      uint64_t now_ns)
{
	uint64_t counter = moat_syn_counter(now_ns);
	unsigned idx = moat_syn_mss_index(t->src.family, mss);
	const uint8_t *key = moat_syn_keys_get(k, counter);

	return (uint32_t)(counter & COOKIE_COUNTER_MASK) << COOKIE_COUNTER_SHIFT |
	       (uint32_t)idx << COOKIE_MSS_SHIFT |
	       cookie_mac(key, t, client_isn, counter, idx);
}

enum moat_reason moat_syn_cookie_check(struct moat_syn_keys *k,
				       const struct moat_syn_tuple *t,
				       uint32_t client_isn, uint32_t cookie,
				       uint64_t now_ns, uint16_t *mss)
{
	uint64_t now = moat_syn_counter(now_ns), counter;
	unsigned bits = cookie >> COOKIE_COUNTER_SHIFT;
	unsigned idx = (cookie >> COOKIE_MSS_SHIFT) & (MOAT_SYN_MSS_TABLE - 1);

	/* Which of the two valid counters made it, from its low bits. */
	if (bits == (now & COOKIE_COUNTER_MASK))
		counter = now;
	else if (now > 0 && bits == ((now - 1) & COOKIE_COUNTER_MASK))
		counter = now - 1;
	else
		return MOAT_R_SYN_COOKIE_STALE;
	if (cookie_mac(moat_syn_keys_get(k, counter), t, client_isn, counter,
		       idx) != (cookie & COOKIE_MAC_MASK))
		return MOAT_R_SYN_COOKIE_BAD;
	*mss = moat_syn_mss_table(t->src.family)[idx];
	return MOAT_R_NONE;
}

uint32_t moat_syn_ts_encode(const struct moat_syn_keys *k, uint64_t now_ns,
			    const struct moat_syn_client *c)
{
	uint32_t now = (uint32_t)(now_ns / 1000000u) + k->ts_offset;
	uint32_t opts = c->wscale <= MOAT_TCP_WSCALE_MAX ? c->wscale
							 : MOAT_SYN_WSCALE_NONE;
	uint32_t ts;

	if (c->sack_ok)
		opts |= TS_SACK_BIT;
	if (c->ecn_ok)
		opts |= TS_ECN_BIT;
	ts = (now >> MOAT_SYN_TS_OPT_BITS << MOAT_SYN_TS_OPT_BITS) | opts;
	/* Never ahead of our clock: a later TSval from the same clock (after
	 * the proxy hands over) must not look older to the client's PAWS. */
	if ((int32_t)(ts - now) > 0)
		ts -= 1u << MOAT_SYN_TS_OPT_BITS;
	return ts;
}

void moat_syn_ts_decode(uint32_t tsecr, struct moat_syn_client *c)
{
	c->wscale = tsecr & 0xf;
	if (c->wscale > MOAT_TCP_WSCALE_MAX)
		c->wscale = MOAT_SYN_WSCALE_NONE;
	c->sack_ok = (tsecr & TS_SACK_BIT) != 0;
	c->ecn_ok = (tsecr & TS_ECN_BIT) != 0;
}
