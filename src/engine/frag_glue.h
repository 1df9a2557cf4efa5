/*
 * Where the engine hands fragments to virtual reassembly (src/frag) and
 * normalises what it passes (scrub.c).  The seam between the engine's
 * stages and those parts; engine.c calls these and nothing else of them.
 */
#ifndef MOAT_ENGINE_FRAG_GLUE_H
#define MOAT_ENGINE_FRAG_GLUE_H

#include "engine/engine_impl.h"

/* Create: the frag table sized by `frag-max` (none when 0).  0 or
 * -ENOMEM.  Reload keeps the size and takes the new `frag-timeout`. */
int moat_engine_frag_create(struct moat_engine *e);
void moat_engine_frag_destroy(struct moat_engine *e);
void moat_engine_frag_reload(struct moat_engine *e);

/*
 * The fragment step, first after sanity.  Returns true when the packet
 * goes on to flows and rules: not a fragment, or the first fragment of
 * its datagram (then moat_engine_frag_decided() must follow its verdict
 * before the next packet).  Returns false when it decided the packet: a
 * later fragment given its datagram's verdict, held until its first
 * fragment comes, or dropped for its reason.
 */
bool moat_engine_frag_in(struct moat_engine *e, struct moat_flight *fl);

/* The first fragment in flight was decided: its datagram follows it, and
 * on a pass the fragments held for it go out through fl->out. */
void moat_engine_frag_decided(struct moat_engine *e, struct moat_flight *fl);

/* Time datagrams out; send held fragments an emit buffer had no room for. */
void moat_engine_frag_tick(struct moat_engine *e, uint64_t now_ns,
			   struct moat_emit *out);

/* The frag table's counters (zeros when frag-max is 0). */
void moat_engine_frag_get_stats(const struct moat_engine *e,
				struct moat_frag_stats *st);

/* scrub.c: derive the key of random-id (create). */
void moat_engine_scrub_init(struct moat_engine *e);

/*
 * scrub.c: the normalisations of `options` (max-mss, min-ttl, random-id,
 * tcp-reserved) on a packet the engine passes, in place, checksums fixed
 * incrementally (RFC 1624).  Sets fl->res->rewritten when it changed the
 * frame.  Cheap when none is on.
 */
void moat_engine_scrub(struct moat_engine *e, struct moat_flight *fl);

/* scrub.c: the same for fragments that were held and are sent now, frames
 * @from to the end of @out (only min-ttl concerns a later fragment). */
void moat_engine_scrub_released(struct moat_engine *e, struct moat_emit *out,
				uint32_t from);

#endif
