/*
 * What the files of src/frag share and nobody else sees: the datagram
 * table, the fragment slots, and the helpers each file provides.
 *
 *   table.c     pools, hash chains, the age list, eviction, time-outs,
 *               statistics
 *   datagram.c  one fragment into its datagram: overlaps, limits, the
 *               decision, held fragments sent out
 *
 * Index 0 of both pools is never used, so 0 means "none" in every link.
 */
#ifndef MOAT_FRAG_INTERNAL_H
#define MOAT_FRAG_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "moat/frag.h"

enum { FRAG_NIL = 0 };

/*
 * A datagram's life:
 *
 *   (new) -> WAIT --first passes--> PASS --whole--> (freed)
 *             |  \--first dropped--> DROP
 *             |  \--overlap, too many--> DROP
 *             +------ timeout (any but EXPIRED) --> EXPIRED --timeout--> (freed)
 */
enum frag_state {
	FRAG_S_FREE = 0,
	FRAG_S_WAIT,     /* no verdict yet: the first fragment has not come */
	FRAG_S_PASS,     /* the first passed: the rest follow it */
	FRAG_S_DROP,     /* refused: the rest are dropped for ->reason */
	FRAG_S_EXPIRED,  /* timed out: a marker so stragglers are dropped */
};

enum frag_piece_flag {
	PIECE_DATA = 1 << 0,   /* the fragment's bytes are in data[] */
	PIECE_FRAME = 1 << 1,  /* data[] is the whole frame: it can be sent */
	PIECE_HELD = 1 << 2,   /* to be sent when the first fragment passes */
};

/* One fragment seen: where it lies in the datagram, and its bytes. */
struct frag_piece {
	uint32_t next_free;
	uint16_t off, end;      /* bytes [off, end) of the fragmentable part */
	uint16_t data_at;       /* where byte @off is in data[] */
	uint16_t frame_len;     /* PIECE_FRAME: the frame's length */
	uint16_t linktype;      /* PIECE_FRAME: enum moat_linktype */
	uint8_t flags;          /* enum frag_piece_flag */
	uint8_t data[MOAT_FRAG_SLOT_BYTES];
};

/*
 * A datagram: keyed by source, destination and identification, plus the
 * protocol for IPv4 (RFC 791 section 3.2; RFC 8200 section 4.5 leaves it
 * out for IPv6).
 */
struct frag_dgram {
	struct moat_addr src, dst;
	uint32_t id;
	uint8_t ipv, proto;
	uint8_t state;           /* enum frag_state */
	uint8_t npieces;
	bool have_last;          /* the fragment without M came: @total is set */
	bool pending;            /* PASS with held fragments still to send */
	bool log;
	int16_t out_zone;
	uint32_t total;          /* length of the fragmentable part */
	uint32_t reach;          /* the highest end of a fragment kept */
	enum moat_reason reason; /* DROP: the reason its fragments get */
	int rule;
	uint64_t born_ns;        /* first fragment seen (EXPIRED: expiry) */
	uint32_t hnext;          /* hash chain (free list when free) */
	uint32_t bucket;         /* the chain it is on */
	uint32_t older, newer;   /* the age list, oldest first */
	uint32_t piece[MOAT_FRAG_PER_DATAGRAM_MAX]; /* sorted by offset */
};

struct moat_frag {
	struct moat_frag_params par;
	uint32_t cap;
	struct frag_dgram *dg;    /* cap + 1; [0] unused */
	struct frag_piece *pc;    /* cap + 1; [0] unused */
	uint32_t *bucket;         /* mask + 1 chain heads */
	uint32_t mask;
	uint32_t dg_free, pc_free;
	uint32_t dg_used, pc_used, held, pending;
	uint32_t oldest, newest;  /* the age list */
	struct moat_frag_stats st; /* the counters; the gauges are computed */
};

/* table.c */
uint32_t frag_find(const struct moat_frag *f, const struct moat_pkt *p);
/* A new WAIT datagram for @p's key (evicting one if need be). */
uint32_t frag_dgram_new(struct moat_frag *f, const struct moat_pkt *p,
			uint64_t now_ns);
void frag_dgram_free(struct moat_frag *f, uint32_t d);
/* Free every fragment of @d (held ones count as lost). */
void frag_pieces_free(struct moat_frag *f, struct frag_dgram *d);
/* A slot for a fragment of datagram @d (never evicted for it), or NIL. */
uint32_t frag_piece_new(struct moat_frag *f, uint32_t d);
/* Mark @d timed out: a marker until one more timeout has passed. */
void frag_dgram_expire(struct moat_frag *f, uint32_t d, uint64_t now_ns);

/* datagram.c: send @d's held fragments while @out has room; true when
 * none is left. */
bool frag_release(struct moat_frag *f, struct frag_dgram *d,
		  struct moat_emit *out, uint32_t *sent);
/* Free @d when it passed and every byte of it has been seen. */
void frag_maybe_complete(struct moat_frag *f, uint32_t d);

#endif
