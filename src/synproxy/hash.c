/*
 * Keyed hashes for the SYN proxy's tables (see internal.h).  Off the
 * per-packet hot path's critical part: one SipHash over at most 36 bytes.
 */
#include <string.h>

#include "internal.h"
#include "moat/siphash.h"

static uint32_t hash_bytes(const uint8_t seed[MOAT_SYN_KEY_LEN],
			   const uint8_t *b, unsigned len)
{
	return (uint32_t)moat_siphash24(seed, b, len);
}

uint32_t syn_hash_tuple(const uint8_t seed[MOAT_SYN_KEY_LEN],
			const struct moat_syn_tuple *t)
{
	uint8_t b[36];

	memcpy(b, t->src.b, 16);
	memcpy(b + 16, t->dst.b, 16);
	b[32] = (uint8_t)(t->sport >> 8);
	b[33] = (uint8_t)t->sport;
	b[34] = (uint8_t)(t->dport >> 8);
	b[35] = (uint8_t)t->dport;
	return hash_bytes(seed, b, sizeof(b));
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
