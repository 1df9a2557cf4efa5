/*
 * Where the engine hands a packet to the SYN proxy and to sequence
 * modulation.  Both rewrite TCP numbers with the one translation mechanism
 * of src/synproxy (moat_syn_translate); this file is the seam between the
 * engine's stages and those building blocks.
 */
#ifndef MOAT_ENGINE_SYNPROXY_GLUE_H
#define MOAT_ENGINE_SYNPROXY_GLUE_H

#include "engine/engine_impl.h"

int moat_engine_syn_create(struct moat_engine *e);
void moat_engine_syn_destroy(struct moat_engine *e);
void moat_engine_syn_reload(struct moat_engine *e);
void moat_engine_syn_tick(struct moat_engine *e, uint64_t now_ns,
			  struct moat_emit *out);

/* True when the flow's packets belong to the SYN proxy's handshake. */
bool moat_engine_syn_owns(const struct moat_ct_entry *ent);

/* A packet of a flow the SYN proxy owns.  Decides it; returns false. */
bool moat_engine_syn_flow(struct moat_engine *e, struct moat_flight *fl,
			  struct moat_ct_entry *ent, int dir);

/* A SYN that a `synproxy` rule passed.  True when the proxy decided it
 * (answered with a cookie); false: track it like any pass. */
bool moat_engine_syn_new(struct moat_engine *e, struct moat_flight *fl,
			 const struct moat_rule *rule);

/* Every passed TCP packet of a tracked flow: learn the server's options
 * from SYN-ACKs, keep the half-open counts of the hybrid mode. */
void moat_engine_syn_observe(struct moat_engine *e, struct moat_flight *fl,
			     struct moat_ct_entry *ent, int dir);

/* A counted half-open handshake ended (established, reset, expired). */
void moat_engine_syn_half_open_done(struct moat_engine *e,
				    struct moat_ct_entry *ent, uint64_t now);

/* Rewrite a packet of a translated flow travelling in @dir. */
bool moat_engine_translate(struct moat_engine *e, struct moat_flight *fl,
			   struct moat_ct_entry *ent, int dir);

/* Start sequence modulation on a new flow (its first packet in flight). */
void moat_engine_modulate_start(struct moat_engine *e, struct moat_flight *fl,
				struct moat_ct_entry *ent);

#endif
