/*
 * Shared by the files of src/synproxy only: the keyed hashes that place
 * flows and destinations in the proxy's fixed tables.
 *
 * The tables are direct-mapped and overwrite on collision, so the hash is
 * keyed (SipHash-2-4 with a seed derived from the engine's secret): an
 * attacker who cannot predict the slot of an honest flow cannot aim a flood
 * at it.
 */
#ifndef MOAT_SYN_INTERNAL_H
#define MOAT_SYN_INTERNAL_H

#include <stdint.h>

#include "moat/syn.h"

uint32_t syn_hash_tuple(const uint8_t seed[MOAT_SYN_KEY_LEN],
			const struct moat_syn_tuple *t);
uint32_t syn_hash_dst(const uint8_t seed[MOAT_SYN_KEY_LEN],
		      const struct moat_addr *a, uint16_t port);
bool syn_tuple_eq(const struct moat_syn_tuple *a,
		  const struct moat_syn_tuple *b);

/* Round up to a power of two, at least 1 and at most 2^30. */
uint32_t syn_pow2(uint32_t n);

#endif
