/*
 * Sequence modulation (pf's `modulate state`): a host behind moat whose
 * ISNs are predictable becomes unpredictable from outside.  Each side of a
 * modulated flow gets a secret random offset; every segment it sends has
 * its SEQ shifted by it, and every segment towards it has ACK and SACK
 * shifted back.  The offsets come from a keyed hash (SipHash-2-4 under a
 * key derived from the engine's secret) of the flow's tuple, the time and a
 * counter, so an observer of many connections learns nothing about the
 * next offset.  The rewrite itself is the SYN proxy's translation.
 */
#include <sodium.h>

#include "engine/synproxy_glue.h"
#include "moat/siphash.h"

static uint32_t modulation_offset(const struct moat_engine *e,
				  const struct moat_pkt *p, uint64_t now,
				  uint32_t salt)
{
	uint8_t in[16 + 16 + 4 + 8 + 4];

	memcpy(in, p->src.b, 16);
	memcpy(in + 16, p->dst.b, 16);
	in[32] = (uint8_t)(p->sport >> 8);
	in[33] = (uint8_t)p->sport;
	in[34] = (uint8_t)(p->dport >> 8);
	in[35] = (uint8_t)p->dport;
	memcpy(in + 36, &now, 8);
	memcpy(in + 44, &salt, 4);
	return (uint32_t)moat_siphash24(e->mod_key, in, sizeof(in));
}

/* Control plane: the modulation key, derived from the engine's secret. */
void moat_engine_modulate_init(struct moat_engine *e)
{
	crypto_generichash(e->mod_key, sizeof(e->mod_key),
			   (const uint8_t *)"moat modulate", 13, e->secret,
			   sizeof(e->secret));
}

void moat_engine_modulate_start(struct moat_engine *e, struct moat_flight *fl,
				struct moat_ct_entry *ent)
{
	ent->flags |= MOAT_CT_F_MODULATE;
	ent->seq_delta[MOAT_CT_ORIG] = modulation_offset(e, &fl->p, fl->now, 0);
	ent->seq_delta[MOAT_CT_REPLY] = modulation_offset(e, &fl->p, fl->now, 1);
	fl->res->rewritten = moat_engine_translate(e, fl, ent, MOAT_CT_ORIG);
}
