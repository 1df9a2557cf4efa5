/*
 * SipHash-2-4 (Aumasson and Bernstein, 2012): the keyed hash behind SYN
 * cookies and every table a flood can aim at.  The same function as
 * libsodium's crypto_shorthash (same key, same output, tested against it),
 * written out here because the packet path calls it several times per SYN
 * and libsodium's general version, reached through a function pointer-free
 * but non-inlinable call with byte-wise loads, costs about twice as much.
 */
#ifndef MOAT_SIPHASH_H
#define MOAT_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

enum { MOAT_SIPHASH_KEY_LEN = 16 };

/* SipHash-2-4 of @len bytes at @in under the 16-byte @key. */
uint64_t moat_siphash24(const uint8_t key[MOAT_SIPHASH_KEY_LEN],
			const void *in, size_t len);

#endif
