/*
 * SipHash-2-4 (Aumasson and Bernstein, 2012) as one static inline function
 * without libc, so that the same code hashes in userspace
 * (src/util/siphash.c, moat_siphash24) and in the XDP program (src/xdp),
 * which cannot link a library.  From the paper's specification: four
 * 64-bit words of state from the key, two rounds per 8-byte message word,
 * the length in the top byte of the last word, four finalisation rounds.
 * Loads are little-endian, assembled from bytes (one load on x86 at -O2,
 * and what the BPF verifier accepts at any alignment).
 */
#ifndef MOAT_SIPHASH_CORE_H
#define MOAT_SIPHASH_CORE_H

#include <stddef.h>
#include <stdint.h>

#define MOAT_SIP_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define MOAT_SIPROUND(v0, v1, v2, v3)                                          \
	do {                                                                   \
		v0 += v1; v1 = MOAT_SIP_ROTL(v1, 13); v1 ^= v0;               \
		v0 = MOAT_SIP_ROTL(v0, 32);                                   \
		v2 += v3; v3 = MOAT_SIP_ROTL(v3, 16); v3 ^= v2;               \
		v0 += v3; v3 = MOAT_SIP_ROTL(v3, 21); v3 ^= v0;               \
		v2 += v1; v1 = MOAT_SIP_ROTL(v1, 17); v1 ^= v2;               \
		v2 = MOAT_SIP_ROTL(v2, 32);                                   \
	} while (0)

static inline __attribute__((always_inline)) uint64_t
moat_sip_le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	       (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	       (uint64_t)p[7] << 56;
}

/* SipHash-2-4 of @len bytes at @in under the 16-byte @key.  Inlined
 * everywhere: with a constant @len the loops unroll (the BPF target
 * needs that for short programs). */
static inline __attribute__((always_inline)) uint64_t
moat_siphash24_core(const uint8_t *key, const uint8_t *in, size_t len)
{
	uint64_t k0 = moat_sip_le64(key), k1 = moat_sip_le64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ull ^ k0;
	uint64_t v1 = 0x646f72616e646f6dull ^ k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ k0;
	uint64_t v3 = 0x7465646279746573ull ^ k1;
	uint64_t b = (uint64_t)len << 56;
	size_t words = len / 8, i;
	const uint8_t *m = in;

	for (i = 0; i < words; i++, m += 8) {
		uint64_t w = moat_sip_le64(m);

		v3 ^= w;
		MOAT_SIPROUND(v0, v1, v2, v3);
		MOAT_SIPROUND(v0, v1, v2, v3);
		v0 ^= w;
	}
	for (i = 0; i < (len & 7); i++)
		b |= (uint64_t)m[i] << (8 * i);
	v3 ^= b;
	MOAT_SIPROUND(v0, v1, v2, v3);
	MOAT_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	MOAT_SIPROUND(v0, v1, v2, v3);
	MOAT_SIPROUND(v0, v1, v2, v3);
	MOAT_SIPROUND(v0, v1, v2, v3);
	MOAT_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

#endif
