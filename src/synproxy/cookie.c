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
 *   MAC      SipHash-2-4 (moat/siphash_core.h, the same output as
 *            libsodium's crypto_shorthash) keyed with the key of
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
 *
 * The arithmetic (tables, block, MAC, TSval) is moat/cookie_core.h, which
 * the XDP program includes too: a cookie made there is this cookie.
 */
#include <string.h>

#include "moat/cookie_core.h"
#include "moat/syn.h"

_Static_assert((int)MOAT_SYN_MSS_TABLE == (int)MOAT_COOKIE_MSS_ENTRIES, "mss table");
_Static_assert((int)MOAT_SYN_TS_OPT_BITS == (int)MOAT_COOKIE_TS_OPT_BITS, "ts bits");
_Static_assert((int)MOAT_SYN_WSCALE_NONE == (int)MOAT_COOKIE_WSCALE_NONE, "wscale");
_Static_assert((int)MOAT_SYN_KEY_LEN == (int)MOAT_COOKIE_KEY_LEN, "key length");
_Static_assert(MOAT_SYN_COUNTER_NS == MOAT_COOKIE_COUNTER_NS, "counter");
_Static_assert((int)MOAT_AF_INET == 4 && (int)MOAT_AF_INET6 == 6, "block family");

const uint16_t *moat_syn_mss_table(int family)
{
	return family == MOAT_AF_INET6 ? moat_cookie_mss6 : moat_cookie_mss4;
}

unsigned moat_syn_mss_index(int family, uint16_t mss)
{
	return moat_cookie_mss_index(family == MOAT_AF_INET6, mss);
}

/* The MAC of the block for counter @counter; low MAC_BITS bits. */
static uint32_t cookie_mac(const uint8_t key[MOAT_SYN_KEY_LEN],
			   const struct moat_syn_tuple *t, uint32_t isn,
			   uint64_t counter, unsigned mss_idx)
{
	bool v6 = t->src.family == MOAT_AF_INET6;
	unsigned aoff = v6 ? 0 : 12;
	uint8_t block[MOAT_COOKIE_BLOCK_MAX];

	moat_cookie_block(block, v6, t->src.b + aoff, t->dst.b + aoff,
			  t->sport, t->dport, isn, counter, mss_idx);
	return moat_cookie_mac(key, block, v6);
}

uint32_t moat_syn_cookie_make(struct moat_syn_keys *k,
			      const struct moat_syn_tuple *t,
			      uint32_t client_isn, uint16_t mss,
			      uint64_t now_ns)
{
	uint64_t counter = moat_syn_counter(now_ns);
	unsigned idx = moat_syn_mss_index(t->src.family, mss);
	const uint8_t *key = moat_syn_keys_get(k, counter);

	return moat_cookie_isn(counter, idx,
			       cookie_mac(key, t, client_isn, counter, idx));
}

enum moat_reason moat_syn_cookie_check(struct moat_syn_keys *k,
				       const struct moat_syn_tuple *t,
				       uint32_t client_isn, uint32_t cookie,
				       uint64_t now_ns, uint16_t *mss)
{
	uint64_t now = moat_syn_counter(now_ns), counter;
	unsigned bits = cookie >> MOAT_COOKIE_COUNTER_SHIFT;
	unsigned idx = (cookie >> MOAT_COOKIE_MSS_SHIFT) &
		       (MOAT_SYN_MSS_TABLE - 1);

	/* Which of the two valid counters made it, from its low bits. */
	if (bits == (now & MOAT_COOKIE_COUNTER_MASK))
		counter = now;
	else if (now > 0 && bits == ((now - 1) & MOAT_COOKIE_COUNTER_MASK))
		counter = now - 1;
	else
		return MOAT_R_SYN_COOKIE_STALE;
	if (cookie_mac(moat_syn_keys_get(k, counter), t, client_isn, counter,
		       idx) != (cookie & MOAT_COOKIE_MAC_MASK))
		return MOAT_R_SYN_COOKIE_BAD;
	*mss = moat_cookie_mss(t->src.family == MOAT_AF_INET6, idx);
	return MOAT_R_NONE;
}

uint32_t moat_syn_ts_encode(const struct moat_syn_keys *k, uint64_t now_ns,
			    const struct moat_syn_client *c)
{
	return moat_cookie_ts(now_ns, k->ts_offset, c->wscale, c->sack_ok,
			      c->ecn_ok);
}

void moat_syn_ts_decode(uint32_t tsecr, struct moat_syn_client *c)
{
	c->wscale = tsecr & 0xf;
	if (c->wscale > MOAT_TCP_WSCALE_MAX)
		c->wscale = MOAT_SYN_WSCALE_NONE;
	c->sack_ok = (tsecr & MOAT_COOKIE_TS_SACK) != 0;
	c->ecn_ok = (tsecr & MOAT_COOKIE_TS_ECN) != 0;
}
