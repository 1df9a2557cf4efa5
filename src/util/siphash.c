/*
 * SipHash-2-4 for the userspace callers: the one implementation is the
 * freestanding moat/siphash_core.h, shared with the XDP program, so a
 * cookie made in XDP and one made by the engine are the same hash.
 */
#include "moat/siphash.h"
#include "moat/siphash_core.h"

uint64_t moat_siphash24(const uint8_t key[MOAT_SIPHASH_KEY_LEN],
			const void *in, size_t len)
{
	return moat_siphash24_core(key, in, len);
}
