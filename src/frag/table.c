/*
 * The datagram table of virtual reassembly: two pools made at create (the
 * datagram entries and the fragment slots, as many of each), hash chains
 * under a keyed hash, and one age list that serves both time-outs and
 * eviction.
 *
 * Age: a datagram's timer starts with the first of its fragments seen (RFC
 * 791's reassembly timer, RFC 8200 section 4.5's 60 seconds at the most)
 * and is not refreshed by later ones, so the age list, kept in the order
 * datagrams were created, is also the order they expire in; the tick
 * only looks at its head.  A datagram that times out stays one more
 * timeout as a marker, moved to the tail.
 *
 * Eviction: when a pool is empty, the oldest datagram goes, except that
 * among the MOAT_FRAG_EVICT_SCAN oldest an undecided, refused or expired
 * one is taken first: fragments that no first fragment claimed (what a
 * flood of junk fragments is made of) go before datagrams already passed
 * and on their way.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "frag/frag_internal.h"
#include "moat/siphash.h"

static uint32_t hash_key(const struct moat_frag *f, const struct moat_pkt *p)
{
	uint8_t in[16 + 16 + 4 + 2];

	memcpy(in, p->src.b, 16);
	memcpy(in + 16, p->dst.b, 16);
	memcpy(in + 32, &p->frag_id, 4);
	in[36] = p->ipv;
	in[37] = p->ipv == 4 ? p->proto : 0;
	return (uint32_t)moat_siphash24(f->par.seed, in, sizeof(in)) & f->mask;
}

static bool key_eq(const struct frag_dgram *d, const struct moat_pkt *p)
{
	return d->id == p->frag_id && d->ipv == p->ipv &&
	       (p->ipv != 4 || d->proto == p->proto) &&
	       moat_addr_eq(&d->src, &p->src) && moat_addr_eq(&d->dst, &p->dst);
}

uint32_t frag_find(const struct moat_frag *f, const struct moat_pkt *p)
{
	uint32_t i = f->bucket[hash_key(f, p)];

	/* Bounded: every entry is on one chain at most once. */
	for (uint32_t n = 0; i != FRAG_NIL && n <= f->cap; n++) {
		if (key_eq(&f->dg[i], p))
			return i;
		i = f->dg[i].hnext;
	}
	return FRAG_NIL;
}

static void chain_unlink(struct moat_frag *f, uint32_t d)
{
	uint32_t *at = &f->bucket[f->dg[d].bucket];

	for (uint32_t n = 0; *at != FRAG_NIL && n <= f->cap; n++) {
		if (*at == d) {
			*at = f->dg[d].hnext;
			return;
		}
		at = &f->dg[*at].hnext;
	}
}

static void age_unlink(struct moat_frag *f, uint32_t d)
{
	struct frag_dgram *x = &f->dg[d];

	if (x->older)
		f->dg[x->older].newer = x->newer;
	else
		f->oldest = x->newer;
	if (x->newer)
		f->dg[x->newer].older = x->older;
	else
		f->newest = x->older;
	x->older = x->newer = FRAG_NIL;
}

static void age_append(struct moat_frag *f, uint32_t d)
{
	struct frag_dgram *x = &f->dg[d];

	x->older = f->newest;
	x->newer = FRAG_NIL;
	if (f->newest)
		f->dg[f->newest].newer = d;
	else
		f->oldest = d;
	f->newest = d;
}

void frag_pieces_free(struct moat_frag *f, struct frag_dgram *d)
{
	for (uint32_t i = 0; i < d->npieces; i++) {
		struct frag_piece *pc = &f->pc[d->piece[i]];

		if (pc->flags & PIECE_HELD) {
			f->held--;
			f->st.held_lost++;
		}
		pc->flags = 0;
		pc->next_free = f->pc_free;
		f->pc_free = d->piece[i];
		f->pc_used--;
	}
	d->npieces = 0;
	if (d->pending) {
		d->pending = false;
		f->pending--;
	}
}

void frag_dgram_free(struct moat_frag *f, uint32_t d)
{
	struct frag_dgram *x = &f->dg[d];

	frag_pieces_free(f, x);
	chain_unlink(f, d);
	age_unlink(f, d);
	x->state = FRAG_S_FREE;
	x->hnext = f->dg_free;
	f->dg_free = d;
	f->dg_used--;
}

/* Whether @d may go to make room: not @keep, and, when slots are what is
 * wanted, holding some. */
static bool may_evict(const struct frag_dgram *x, uint32_t d, uint32_t keep,
		      bool want_slots)
{
	return d != keep && (!want_slots || x->npieces > 0);
}

static uint32_t pick_victim(const struct moat_frag *f, uint32_t keep,
			    bool want_slots)
{
	uint32_t d = f->oldest, first = FRAG_NIL;

	for (uint32_t n = 0; d != FRAG_NIL && n < MOAT_FRAG_EVICT_SCAN; n++) {
		const struct frag_dgram *x = &f->dg[d];

		if (may_evict(x, d, keep, want_slots)) {
			if (x->state != FRAG_S_PASS)
				return d;
			if (first == FRAG_NIL)
				first = d;
		}
		d = x->newer;
	}
	/* Past the window, the oldest that helps; the walk is bounded by
	 * the datagrams in the table. */
	for (uint32_t n = 0; first == FRAG_NIL && d != FRAG_NIL && n <= f->cap;
	     n++) {
		if (may_evict(&f->dg[d], d, keep, want_slots))
			first = d;
		d = f->dg[d].newer;
	}
	return first;
}

static bool evict_one(struct moat_frag *f, uint32_t keep, bool want_slots)
{
	uint32_t d = pick_victim(f, keep, want_slots);

	if (d == FRAG_NIL)
		return false;
	if (f->dg[d].state != FRAG_S_EXPIRED)
		f->st.evicted++;
	frag_dgram_free(f, d);
	return true;
}

uint32_t frag_dgram_new(struct moat_frag *f, const struct moat_pkt *p,
			uint64_t now_ns)
{
	struct frag_dgram *x;
	uint32_t d, b;

	if (f->dg_free == FRAG_NIL && !evict_one(f, FRAG_NIL, false))
		return FRAG_NIL;
	d = f->dg_free;
	x = &f->dg[d];
	f->dg_free = x->hnext;
	f->dg_used++;
	memset(x, 0, offsetof(struct frag_dgram, piece));
	x->src = p->src;
	x->dst = p->dst;
	x->id = p->frag_id;
	x->ipv = p->ipv;
	x->proto = p->ipv == 4 ? p->proto : 0;
	x->state = FRAG_S_WAIT;
	x->out_zone = -1;
	x->born_ns = now_ns;
	b = hash_key(f, p);
	x->bucket = b;
	x->hnext = f->bucket[b];
	f->bucket[b] = d;
	age_append(f, d);
	return d;
}

uint32_t frag_piece_new(struct moat_frag *f, uint32_t d)
{
	uint32_t i;

	if (f->pc_free == FRAG_NIL && !evict_one(f, d, true))
		return FRAG_NIL;
	i = f->pc_free;
	f->pc_free = f->pc[i].next_free;
	f->pc[i].next_free = FRAG_NIL;
	f->pc_used++;
	return i;
}

void frag_dgram_expire(struct moat_frag *f, uint32_t d, uint64_t now_ns)
{
	struct frag_dgram *x = &f->dg[d];

	if (x->state == FRAG_S_WAIT || x->state == FRAG_S_PASS)
		f->st.timed_out++;
	frag_pieces_free(f, x);
	x->state = FRAG_S_EXPIRED;
	x->reason = MOAT_R_FRAG_TIMEOUT;
	x->born_ns = now_ns;
	age_unlink(f, d);
	age_append(f, d);
}

struct moat_frag *moat_frag_create(const struct moat_frag_params *par)
{
	struct moat_frag *f;
	uint32_t nb = 1;

	if (!par || par->slots < MOAT_FRAG_SLOTS_MIN ||
	    par->slots > MOAT_FRAG_SLOTS_MAX || par->timeout_ns == 0) {
		errno = EINVAL;
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->par = *par;
	f->cap = par->slots;
	while (nb < f->cap)
		nb <<= 1;
	f->mask = nb - 1;
	f->dg = calloc(f->cap + 1, sizeof(*f->dg));
	f->pc = calloc(f->cap + 1, sizeof(*f->pc));
	f->bucket = calloc(nb, sizeof(*f->bucket));
	if (!f->dg || !f->pc || !f->bucket) {
		moat_frag_destroy(f);
		errno = ENOMEM;
		return NULL;
	}
	for (uint32_t i = f->cap; i >= 1; i--) {
		f->dg[i].hnext = f->dg_free;
		f->dg_free = i;
		f->pc[i].next_free = f->pc_free;
		f->pc_free = i;
	}
	return f;
}

void moat_frag_destroy(struct moat_frag *f)
{
	if (!f)
		return;
	free(f->dg);
	free(f->pc);
	free(f->bucket);
	free(f);
}

void moat_frag_set_timeout(struct moat_frag *f, uint64_t timeout_ns)
{
	if (timeout_ns)
		f->par.timeout_ns = timeout_ns;
}

/* Send what earlier emit buffers had no room for (rare: only when more
 * than one buffer's worth was held).  Walks the table only then. */
static uint32_t drain_pending(struct moat_frag *f, struct moat_emit *out)
{
	uint32_t d = f->oldest, sent = 0;

	for (uint32_t n = 0; f->pending && d != FRAG_NIL && n <= f->cap; n++) {
		uint32_t next = f->dg[d].newer;
		struct frag_dgram *x = &f->dg[d];

		if (x->pending && frag_release(f, x, out, &sent)) {
			x->pending = false;
			f->pending--;
			frag_maybe_complete(f, d);
		}
		d = next;
	}
	return sent;
}

uint32_t moat_frag_tick(struct moat_frag *f, uint64_t now_ns,
			struct moat_emit *out)
{
	uint64_t to = f->par.timeout_ns;

	for (uint32_t n = 0; n < MOAT_FRAG_EXPIRE_BUDGET && f->oldest; n++) {
		uint32_t d = f->oldest;
		struct frag_dgram *x = &f->dg[d];

		if (x->born_ns + to > now_ns)
			break;
		if (x->state == FRAG_S_EXPIRED)
			frag_dgram_free(f, d);
		else
			frag_dgram_expire(f, d, now_ns);
	}
	return f->pending ? drain_pending(f, out) : 0;
}

void moat_frag_get_stats(const struct moat_frag *f,
			 struct moat_frag_stats *st)
{
	*st = f->st;
	st->datagrams = f->dg_used;
	st->datagram_capacity = f->cap;
	st->slots = f->pc_used;
	st->slot_capacity = f->cap;
	st->held = f->held;
	st->bytes = sizeof(*f) + (uint64_t)(f->cap + 1) *
		    (sizeof(*f->dg) + sizeof(*f->pc)) +
		    (uint64_t)(f->mask + 1) * sizeof(*f->bucket);
}
