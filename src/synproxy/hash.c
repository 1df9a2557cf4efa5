/*
 * Keyed hashes for the SYN proxy's tables (see internal.h).  They run
 * several times per SYN, so they are cheap keyed mixes rather than SipHash:
 * the tables are lossy and their slots are never seen from outside, so
 * they need keys an attacker does not know, not a PRF.  The cookie's MAC
 * (cookie.c) is the one place that needs SipHash.
 */
#include <string.h>

#include "internal.h"

/*
 * The retransmit table's slot for a tuple.  The flood picks these keys, so
 * the hash is keyed (an attacker who cannot see the slots cannot aim at an
 * honest client's), but it need not be a PRF: the table is lossy by
 * design.  Each 64-bit word of the tuple is mixed with the seed and
 * multiplied by its own odd constant (multiply-shift hashing), then folded.
 */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ull;
	x ^= x >> 27;
	return x;
}

uint32_t syn_hash_tuple(const uint8_t seed[MOAT_SYN_KEY_LEN],
			const struct moat_syn_tuple *t)
{
	uint64_t k0, k1, w[5], h;

	memcpy(&k0, seed, 8);
	memcpy(&k1, seed + 8, 8);
	memcpy(&w[0], t->src.b, 8);
	memcpy(&w[1], t->src.b + 8, 8);
	memcpy(&w[2], t->dst.b, 8);
	memcpy(&w[3], t->dst.b + 8, 8);
	w[4] = (uint64_t)t->sport << 16 | t->dport;
	h = (w[0] ^ k0) * 0x9e3779b97f4a7c15ull +
	    (w[1] ^ k1) * 0xc2b2ae3d27d4eb4full +
	    (w[2] ^ k1) * 0x165667b19e3779f9ull +
	    (w[3] ^ k0) * 0xd6e8feb86659fd93ull +
	    (w[4] ^ k0 ^ k1) * 0xff51afd7ed558ccdull;
	return (uint32_t)mix64(h ^ k1);
}

/*
 * The tables keyed by protected destination (the flood detector, backend
 * learning) are looked up several times per SYN, with keys an attacker
 * cannot pick freely (only the addresses and ports a `synproxy` rule
 * protects), so they use a cheaper keyed hash than SipHash: NH over the
 * 18 bytes (RFC 4418 section 5's construction), its key words drawn from
 * the seed.  The tuple-keyed retransmit table, whose keys the flood
 * chooses, keeps SipHash.
 */
uint32_t syn_hash_dst(const uint8_t seed[MOAT_SYN_KEY_LEN],
		      const struct moat_addr *a, uint16_t port)
{
	uint64_t k0, k1, w0, w1, h;

	memcpy(&k0, seed, 8);
	memcpy(&k1, seed + 8, 8);
	memcpy(&w0, a->b, 8);
	memcpy(&w1, a->b + 8, 8);
	h = (uint64_t)((uint32_t)w0 + (uint32_t)k0) *
		    ((uint32_t)(w0 >> 32) + (uint32_t)(k0 >> 32)) +
	    (uint64_t)((uint32_t)w1 + (uint32_t)k1) *
		    ((uint32_t)(w1 >> 32) + (uint32_t)(k1 >> 32)) +
	    (uint64_t)(port + (uint32_t)k1) * ((uint32_t)(k0 >> 17) | 1);
	return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

bool syn_tuple_eq(const struct moat_syn_tuple *a,
		  const struct moat_syn_tuple *b)
{
	return a->sport == b->sport && a->dport == b->dport &&
	       moat_addr_eq(&a->src, &b->src) && moat_addr_eq(&a->dst, &b->dst);
}

uint32_t syn_pow2(uint32_t n)
{
	uint32_t p = 1;

	while (p < n && p < (1u << 30))
		p <<= 1;
	return p;
}
