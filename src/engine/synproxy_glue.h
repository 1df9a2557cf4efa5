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

/* What the SYN proxy made of a packet with no flow under a `synproxy`
 * rule. */
enum moat_engine_syn_step {
	MOAT_ENGINE_SYN_DECIDED,  /* decided here: a cookie sent, shed, or
				     the final ACK of a cookie handshake */
	MOAT_ENGINE_SYN_TRACK,    /* a SYN for the server: open its flow
				     like any pass, then
				     moat_engine_syn_opened() */
	MOAT_ENGINE_SYN_NOT_MINE, /* not the proxy's: a pass like any other */
};
enum moat_engine_syn_step moat_engine_syn_new(struct moat_engine *e,
					      struct moat_flight *fl,
					      const struct moat_rule *rule);

/* The flow of a SYN answered MOAT_ENGINE_SYN_TRACK was opened: counted
 * half-open for its destination. */
void moat_engine_syn_opened(struct moat_engine *e, struct moat_flight *fl,
			    struct moat_ct_entry *ent);

/* Every passed TCP packet of a tracked flow: learn the server's options
 * from SYN-ACKs, end the half-open count when the handshake is over. */
void moat_engine_syn_observe(struct moat_engine *e, struct moat_flight *fl,
			     struct moat_ct_entry *ent, int dir);

/* A flow leaves the table (conntrack's free hook). */
void moat_engine_syn_flow_gone(struct moat_engine *e,
			       struct moat_ct_entry *ent, uint64_t now);

/* Rewrite a packet of a translated flow travelling in @dir. */
bool moat_engine_translate(struct moat_engine *e, struct moat_flight *fl,
			   struct moat_ct_entry *ent, int dir);

/* Start sequence modulation on a new flow (its first packet in flight). */
void moat_engine_modulate_start(struct moat_engine *e, struct moat_flight *fl,
				struct moat_ct_entry *ent);

#endif
