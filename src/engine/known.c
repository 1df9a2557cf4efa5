/*
 * Sources that have completed a TCP handshake through moat: the clients
 * that keep priority when the gateway must shed load (doc/design.md, the SYN
 * flood).  A spoofed source never completes a handshake (it never sees the
 * SYN-ACK), so under a flood this set holds the honest clients.
 *
 * A fixed, direct-mapped table of 32-bit tags of a keyed hash of the
 * address (SipHash under a key derived from the engine's secret, so an
 * attacker cannot aim collisions at it); a collision overwrites: a known
 * source may be forgotten, an unknown one is taken for known only when its
 * tag matches, with odds of 1 in 2^32 per lookup.
 */
#include <sodium.h>
#include <stdlib.h>

#include "engine/engine_impl.h"
#include "moat/siphash.h"

struct moat_known {
	uint8_t key[MOAT_SIPHASH_KEY_LEN];
	uint32_t mask;
	uint32_t tag[]; /* 0 = empty */
};

/* A quarter of the flow table, as a power of two within the bounds: more
 * sources than that with live handshakes would not fit its flows anyway. */
static uint32_t known_slots(uint32_t max_flows)
{
	uint32_t n = MOAT_ENGINE_KNOWN_MIN;

	while (n < max_flows / 4 && n < MOAT_ENGINE_KNOWN_MAX)
		n <<= 1;
	return n;
}

int moat_engine_known_create(struct moat_engine *e)
{
	uint32_t n = known_slots(e->opt.max_flows);
	struct moat_known *k;

	k = calloc(1, sizeof(*k) + n * sizeof(k->tag[0]));
	if (!k)
		return -1;
	k->mask = n - 1;
	crypto_generichash(k->key, sizeof(k->key),
			   (const uint8_t *)"moat known sources", 18, e->secret,
			   sizeof(e->secret));
	e->known = k;
	return 0;
}

void moat_engine_known_destroy(struct moat_engine *e)
{
	free(e->known);
	e->known = NULL;
}

static uint64_t known_hash(const struct moat_known *k,
			   const struct moat_addr *a)
{
	return moat_siphash24(k->key, a->b, sizeof(a->b));
}

void moat_engine_known_add(struct moat_engine *e, const struct moat_addr *a)
{
	uint64_t h = known_hash(e->known, a);
	uint32_t tag = (uint32_t)(h >> 32) | 1; /* never 0 */

	e->known->tag[h & e->known->mask] = tag;
}

bool moat_engine_known_has(const struct moat_engine *e,
			   const struct moat_addr *a)
{
	uint64_t h = known_hash(e->known, a);
	uint32_t tag = (uint32_t)(h >> 32) | 1;

	return e->known->tag[h & e->known->mask] == tag;
}

void moat_engine_set_shed(struct moat_engine *e, bool shed)
{
	e->shed = shed;
}
