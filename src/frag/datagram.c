/*
 * One fragment into its datagram: where it lies, whether it agrees with
 * what came before, and what becomes of it.
 *
 * Agreement (the check that makes virtual reassembly safe: a host must not
 * reassemble bytes that are not the ones moat decided on):
 *
 *   - the same offset, length and bytes as a fragment seen: a duplicate
 *     (RFC 8200 section 4.5 lets these be dropped alone); dropped, the
 *     datagram is not harmed;
 *   - IPv4: an overlap with the same bytes in the overlapping part is
 *     kept (RFC 791 reassembly allows it), one with other bytes refuses
 *     the datagram (the overlap attacks of RFC 1858 section 4);
 *   - IPv6: any other overlap refuses the datagram (RFC 5722, RFC 8200
 *     section 4.5);
 *   - a fragment past the end the last fragment gave, or a second "last"
 *     with another end, refuses the datagram.
 *
 * Bytes moat could not keep (a frame larger than a slot, a capture cut by
 * its snaplen) cannot be compared: an overlap with them refuses.
 */
#include <string.h>

#include "frag/frag_internal.h"

enum fit { FIT_NEW, FIT_DUPLICATE, FIT_CONFLICT };

/* The fragment in flight, in the datagram's terms. */
struct incoming {
	uint16_t off, end;     /* [off, end) of the fragmentable part */
	bool last;             /* M clear */
	const uint8_t *bytes;  /* its bytes, or NULL when not all captured */
};

static void describe(const struct moat_pkt *p, struct incoming *in)
{
	/* Decode has checked that off + len fits the 65535 bytes. */
	uint32_t len = (uint32_t)p->l3_off + p->l3_len - p->frag_data_off;

	in->off = p->frag_off;
	in->end = (uint16_t)(p->frag_off + len);
	in->last = !(p->frag & MOAT_FRAG_MF);
	in->bytes = (uint32_t)p->frag_data_off + len <= p->caplen ?
		    p->frame + p->frag_data_off : NULL;
}

/* Bytes [lo, hi) of the datagram, in @pc and in @in, known and equal. */
static bool same_bytes(const struct frag_piece *pc,
		       const struct incoming *in, uint32_t lo, uint32_t hi)
{
	if (!(pc->flags & PIECE_DATA) || !in->bytes)
		return false;
	return memcmp(pc->data + pc->data_at + (lo - pc->off),
		      in->bytes + (lo - in->off), hi - lo) == 0;
}

static enum fit fit_piece(const struct moat_frag *f,
			  const struct frag_dgram *d,
			  const struct incoming *in)
{
	if (d->have_last &&
	    (in->end > d->total || (in->last && in->end != d->total)))
		return FIT_CONFLICT;
	for (uint32_t i = 0; i < d->npieces; i++) {
		const struct frag_piece *pc = &f->pc[d->piece[i]];
		uint32_t lo = pc->off > in->off ? pc->off : in->off;
		uint32_t hi = pc->end < in->end ? pc->end : in->end;

		if (in->last && pc->end > in->end)
			return FIT_CONFLICT;
		if (lo >= hi)
			continue;
		if (pc->off == in->off && pc->end == in->end &&
		    same_bytes(pc, in, lo, hi))
			return FIT_DUPLICATE;
		if (d->ipv == 6 || !same_bytes(pc, in, lo, hi))
			return FIT_CONFLICT;
	}
	return FIT_NEW;
}

/* Keep the frame when it can be sent again, else its bytes if they fit. */
static void keep_bytes(struct frag_piece *pc, const struct moat_pkt *p,
		       const struct incoming *in)
{
	uint32_t len = (uint32_t)(in->end - in->off);

	pc->off = in->off;
	pc->end = in->end;
	pc->flags = 0;
	pc->frame_len = 0;
	if (p->caplen == p->wirelen && p->caplen <= MOAT_FRAG_SLOT_BYTES) {
		memcpy(pc->data, p->frame, p->caplen);
		pc->frame_len = (uint16_t)p->caplen;
		pc->linktype = p->linktype;
		pc->data_at = p->frag_data_off;
		pc->flags = PIECE_FRAME | (in->bytes ? PIECE_DATA : 0);
	} else if (in->bytes && len <= MOAT_FRAG_SLOT_BYTES) {
		memcpy(pc->data, in->bytes, len);
		pc->data_at = 0;
		pc->flags = PIECE_DATA;
	}
}

static bool can_hold(const struct moat_pkt *p)
{
	return p->caplen == p->wirelen && p->caplen <= MOAT_FRAG_SLOT_BYTES;
}

static void insert_sorted(struct moat_frag *f, struct frag_dgram *d,
			  uint32_t idx)
{
	uint32_t i = d->npieces;

	while (i > 0 && f->pc[d->piece[i - 1]].off > f->pc[idx].off) {
		d->piece[i] = d->piece[i - 1];
		i--;
	}
	d->piece[i] = idx;
	d->npieces++;
}

/* The datagram is refused: what it held goes, its fragments follow @r. */
static void refuse(struct moat_frag *f, struct frag_dgram *d,
		   enum moat_reason r)
{
	frag_pieces_free(f, d);
	d->state = FRAG_S_DROP;
	d->reason = r;
}

static void drop(struct moat_frag_verdict *v, enum moat_reason r)
{
	v->action = MOAT_FRAG_DROP;
	v->reason = r;
}

/* Room for the fragment: a slot, and, before the first, a whole frame. */
static uint32_t take_slot(struct moat_frag *f, uint32_t d,
			  const struct moat_pkt *p, const struct incoming *in)
{
	if (f->dg[d].state == FRAG_S_WAIT && in->off != 0 && !can_hold(p))
		return FRAG_NIL;
	return frag_piece_new(f, d);
}

/* A fragment that agrees: keep it and say what becomes of it. */
static void accept_piece(struct moat_frag *f, uint32_t d, uint32_t idx,
			 const struct moat_pkt *p, const struct incoming *in,
			 struct moat_frag_verdict *v)
{
	struct frag_dgram *x = &f->dg[d];
	struct frag_piece *pc = &f->pc[idx];

	keep_bytes(pc, p, in);
	insert_sorted(f, x, idx);
	if (in->last) {
		x->have_last = true;
		x->total = in->end;
	}
	if (in->end > x->reach)
		x->reach = in->end;
	v->datagram = d;
	v->reach = x->reach;
	if (x->state == FRAG_S_PASS) {
		v->action = MOAT_FRAG_PASS;
		v->reason = MOAT_R_FRAG_FIRST_PASSED;
		frag_maybe_complete(f, d);
	} else if (in->off == 0) {
		v->action = MOAT_FRAG_DECIDE;
		v->reason = MOAT_R_NONE;
	} else {
		pc->flags |= PIECE_HELD;
		f->held++;
		drop(v, MOAT_R_FRAG_HELD);
	}
}

void moat_frag_add(struct moat_frag *f, const struct moat_pkt *p,
		   uint64_t now_ns, struct moat_frag_verdict *v)
{
	struct incoming in;
	struct frag_dgram *x;
	uint32_t d, idx;

	memset(v, 0, sizeof(*v));
	describe(p, &in);
	d = frag_find(f, p);
	if (d == FRAG_NIL)
		d = frag_dgram_new(f, p, now_ns);
	if (d == FRAG_NIL) {
		drop(v, MOAT_R_FRAG_POOL_FULL);
		return;
	}
	x = &f->dg[d];
	v->rule = x->rule;
	v->log = x->log;
	if (x->state == FRAG_S_DROP || x->state == FRAG_S_EXPIRED) {
		drop(v, x->reason);
		return;
	}
	switch (fit_piece(f, x, &in)) {
	case FIT_DUPLICATE:
		drop(v, MOAT_R_FRAG_DUPLICATE);
		return;
	case FIT_CONFLICT:
		refuse(f, x, MOAT_R_FRAG_OVERLAP);
		drop(v, MOAT_R_FRAG_OVERLAP);
		return;
	default:
		break;
	}
	if (x->npieces >= MOAT_FRAG_PER_DATAGRAM_MAX) {
		refuse(f, x, MOAT_R_FRAG_TOO_MANY);
		drop(v, MOAT_R_FRAG_TOO_MANY);
		return;
	}
	idx = take_slot(f, d, p, &in);
	if (idx == FRAG_NIL) {
		/* Nothing learnt of the datagram: do not keep an empty one. */
		if (x->state == FRAG_S_WAIT && x->npieces == 0)
			frag_dgram_free(f, d);
		drop(v, MOAT_R_FRAG_POOL_FULL);
		return;
	}
	accept_piece(f, d, idx, p, &in, v);
}

bool frag_release(struct moat_frag *f, struct frag_dgram *d,
		  struct moat_emit *out, uint32_t *sent)
{
	for (uint32_t i = 0; i < d->npieces; i++) {
		struct frag_piece *pc = &f->pc[d->piece[i]];
		struct moat_emit_frame *fr;

		if (!(pc->flags & PIECE_HELD))
			continue;
		fr = out ? moat_emit_next(out) : NULL;
		if (!fr)
			return false;
		memcpy(fr->data, pc->data, pc->frame_len);
		fr->len = pc->frame_len;
		fr->linktype = pc->linktype;
		fr->out_zone = d->out_zone;
		moat_emit_commit(out);
		pc->flags &= (uint8_t)~PIECE_HELD;
		f->held--;
		f->st.released++;
		(*sent)++;
	}
	return true;
}

void frag_maybe_complete(struct moat_frag *f, uint32_t d)
{
	struct frag_dgram *x = &f->dg[d];
	uint32_t reach = 0;

	if (x->state != FRAG_S_PASS || !x->have_last || x->pending)
		return;
	for (uint32_t i = 0; i < x->npieces; i++) {
		const struct frag_piece *pc = &f->pc[x->piece[i]];

		if (pc->off > reach)
			return;     /* a hole: more to come */
		if (pc->end > reach)
			reach = pc->end;
	}
	if (reach < x->total)
		return;
	f->st.completed++;
	frag_dgram_free(f, d);
}

uint32_t moat_frag_decide(struct moat_frag *f, uint32_t datagram,
			  const struct moat_frag_decision *dec,
			  struct moat_emit *out)
{
	struct frag_dgram *x;
	uint32_t sent = 0;

	if (datagram == FRAG_NIL || datagram > f->cap)
		return 0;
	x = &f->dg[datagram];
	if (x->state != FRAG_S_WAIT)
		return 0;
	x->rule = dec->rule;
	x->log = dec->log;
	x->out_zone = dec->out_zone;
	if (!dec->pass) {
		refuse(f, x, MOAT_R_FRAG_FIRST_DROPPED);
		return 0;
	}
	x->state = FRAG_S_PASS;
	if (frag_release(f, x, out, &sent)) {
		frag_maybe_complete(f, datagram);
	} else {
		x->pending = true;
		f->pending++;
	}
	return sent;
}
