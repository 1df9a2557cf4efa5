/*
 * The flow table's hash: a keyed hash of a five-tuple that does not depend
 * on the direction the packet travels, so that one lookup finds a flow from
 * either side.
 *
 * Direction: the two endpoints (address, port) are put in a fixed order
 * before hashing; the entry keeps the tuple as ORIG sent it and the compare
 * in table.c tries both orientations.
 *
 * Which hash, and why: NH, the compression function of UMAC (RFC 4418
 * section 5; Black et al., "UMAC: Fast and Secure Message Authentication",
 * 1999), with 64-bit words and a 128-bit sum:
 *
 *     NH(M) = sum over i of (m[2i] + k[2i]) * (m[2i+1] + k[2i+1])  mod 2^128
 *
 * For a random key it is almost-universal (two different tuples collide
 * with probability about 2^-64 before folding), so an attacker who does not
 * know the key cannot aim a flood at one bucket.  Three 64x64->128
 * multiplies cost a few ns, against 16-19 ns for SipHash-2-4 over 16 bytes
 * on these machines (LAB-NOTES.md) and more over our 40 bytes; the lookup
 * budget at 1M flows is spent on DRAM, not on hashing.  NH is not a PRF:
 * its output is never shown to anyone.  The key is expanded from the
 * table's seed with SipHash (libsodium's crypto_shorthash) at create time.
 */
#include <string.h>

#include <sodium.h>

#include "conntrack/ct_internal.h"

__extension__ typedef unsigned __int128 ct_u128;

void ct_hash_init(struct moat_ct *ct)
{
	uint8_t in[8] = { 'm', 'o', 'a', 't', '-', 'c', 't', 0 };
	uint8_t out[crypto_shorthash_BYTES];

	static_assert(crypto_shorthash_KEYBYTES == sizeof(ct->par.seed),
		      "the seed is a SipHash key");
	for (int i = 0; i < 6; i++) {
		in[7] = (uint8_t)i;
		crypto_shorthash(out, in, sizeof(in), ct->par.seed);
		memcpy(&ct->nh_key[i], out, 8);
	}
	/* The last word multiplies a key word alone: keep it odd. */
	ct->nh_key[5] |= 1;
}

static inline uint64_t load64(const uint8_t *b)
{
	uint64_t v;

	memcpy(&v, b, 8);
	return v;
}

/* True when endpoint (a, pa) sorts after (b, pb): any fixed order works. */
static inline bool endpoint_after(uint64_t a0, uint64_t a1, uint16_t pa,
				  uint64_t b0, uint64_t b1, uint16_t pb)
{
	if (a0 != b0)
		return a0 > b0;
	if (a1 != b1)
		return a1 > b1;
	return pa > pb;
}

uint64_t ct_hash(const struct moat_ct *ct, const struct ct_tuple *t)
{
	const uint64_t *k = ct->nh_key;
	uint64_t a0 = load64(t->src->b), a1 = load64(t->src->b + 8);
	uint64_t b0 = load64(t->dst->b), b1 = load64(t->dst->b + 8);
	uint16_t pa = t->sport, pb = t->dport;

	if (endpoint_after(a0, a1, pa, b0, b1, pb)) {
		uint64_t x0 = a0, x1 = a1;
		uint16_t px = pa;

		a0 = b0;
		a1 = b1;
		pa = pb;
		b0 = x0;
		b1 = x1;
		pb = px;
	}
	uint64_t m4 = (uint64_t)pa << 32 | (uint64_t)pb << 16 |
		      (uint64_t)t->proto << 8 | t->src->family;
	ct_u128 s = (ct_u128)(a0 + k[0]) * (a1 + k[1]) +
		    (ct_u128)(b0 + k[2]) * (b1 + k[3]) +
		    (ct_u128)(m4 + k[4]) * k[5];

	/* Low product bits depend only on low input bits (the constant
	 * ::ffff: prefix of IPv4 addresses), so fold the high half in and
	 * let the caller take the top bits. */
	return (uint64_t)(s >> 64) ^ (uint64_t)s;
}

void ct_tuple_of_entry(const struct moat_ct_entry *e, struct ct_tuple *t)
{
	t->src = &e->addr[0];
	t->dst = &e->addr[1];
	t->sport = e->port[0];
	t->dport = e->port[1];
	t->proto = e->proto;
}
