/*
 * Shared by the files of src/synproxy only: the keyed hashes that place
 * flows and destinations in the proxy's fixed tables, and lookups that
 * take such a hash.
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

/*
 * The detector's and the backend table's lookups with the destination's
 * syn_hash_dst() already computed, so that the decision for one SYN
 * hashes its destination once (decide.c).  @h must be the hash under the
 * table's own seed: moat_syn_create() gives both tables the same one.
 */
const struct moat_syn_dst_state *
syn_mode_syn_hashed(struct moat_syn_modes *m, uint32_t h,
		    const struct moat_addr *dst, uint16_t port,
		    uint64_t now_ns, struct moat_syn_mode_event *ev,
		    bool *switched);
bool syn_backend_probe_due_hashed(const struct moat_syn_backend *b,
				  uint32_t h, const struct moat_addr *addr,
				  uint16_t port, uint64_t now_ns);

/* Round up to a power of two, at least 1 and at most 2^30. */
uint32_t syn_pow2(uint32_t n);

#endif
