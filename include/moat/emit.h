/*
 * Packets the engine emits: the SYN-ACK with a cookie, the SYN towards the
 * server, ACKs, RSTs, ICMP unreachables.
 *
 * The caller owns a struct moat_emit and hands it to each engine call; the
 * engine appends complete frames (link header included, checksums correct)
 * and never allocates.  When it is full the packet that wanted to emit is
 * counted under MOAT_R_EMIT_FULL.  The I/O backend sends each frame out of
 * the zone it names, then resets the buffer.
 */
#ifndef MOAT_EMIT_H
#define MOAT_EMIT_H

#include <stdbool.h>
#include <stdint.h>

enum {
	MOAT_EMIT_MAX = 8,          /* frames one call may emit */
	MOAT_EMIT_FRAME_MAX = 1600, /* an MTU-sized frame with two VLAN tags */
};

struct moat_emit_frame {
	uint16_t len;
	int16_t out_zone;      /* zone index the frame leaves into */
	uint16_t linktype;     /* enum moat_linktype */
	uint8_t data[MOAT_EMIT_FRAME_MAX];
};

struct moat_emit {
	uint32_t count;
	struct moat_emit_frame frames[MOAT_EMIT_MAX];
};

static inline void moat_emit_reset(struct moat_emit *e)
{
	e->count = 0;
}

/* The next free frame, or NULL when full.  Commit it with ->len != 0. */
static inline struct moat_emit_frame *moat_emit_next(struct moat_emit *e)
{
	if (e->count >= MOAT_EMIT_MAX)
		return 0;
	return &e->frames[e->count];
}

static inline void moat_emit_commit(struct moat_emit *e)
{
	e->count++;
}

#endif
