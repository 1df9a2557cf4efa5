/*
 * Detection of on-path hijacking and injection (doc/design.md, last row of the
 * threat table).  It runs on every segment of a tracked TCP flow, right
 * after conntrack judged it and before the engine translates and passes
 * it, when `options { detect hijack }` is set.
 *
 * A blind attacker is stopped by the window checks of conntrack; an
 * attacker who sees the traffic is not: he knows the numbers and can write
 * in-window segments (Joncheray, "A Simple Active Attack Against TCP",
 * 1995).  What such an attack leaves on the wire, and what is checked:
 *
 *   injection   a segment starting at a SEQ already seen in that
 *               direction, carrying different bytes: one of the two
 *               copies is forged (an honest retransmission repeats the
 *               bytes, RFC 9293 section 3.4)
 *   ACK storm   the desynchronised state Joncheray describes: each end
 *               ACKs data the other never sent, both directions, in a
 *               burst (conntrack's MOAT_R_TCP_ACK_UNSENT on both sides)
 *   TTL jump    one side's TTL / hop limit moves mid-flow by more than a
 *               few hops: the packets come from somewhere else
 *
 * Memory is two fixed, lossy, direct-mapped tables allocated at create:
 *
 *   segment fingerprints   slot = keyed hash(flow, direction, SEQ)
 *     +-------+-------+----------+--------+-------+
 *     | tag32 | seq32 | full32   | head16 | len16 |  16 bytes
 *     +-------+-------+----------+--------+-------+
 *     full: SipHash of the payload; head: of its first 64 bytes
 *   flow states            slot = keyed hash(flow)
 *     tag, storm start, last unsent ACK, counts per direction, alerted
 *
 * A slot is overwritten by whichever segment or flow hashes there next:
 * detection is best effort (it misses, it never grows).  The payload hash
 * is keyed with a secret so an attacker cannot forge bytes with the same
 * fingerprint.  Alerts go to the event ring; with blocking switched on
 * (moat_engine_hijack_set_block) the flow is reset on both sides.
 */
#include <assert.h>
#include <stdlib.h>

#include <sodium.h>

#include "engine/engine_impl.h"
#include "moat/siphash.h"

enum {
	/* Bytes hashed for the head fingerprint: enough to compare segments
	 * that start at the same SEQ but were cut differently. */
	HIJACK_HEAD = 64,
	/* Fingerprints: a quarter of max-flows, flow states a quarter of
	 * those, within these bounds (small engines stay small). */
	HIJACK_SEG_MIN = 64,
	HIJACK_SEG_MAX = 1 << 20,
	HIJACK_FLOW_MIN = 16,
	/* Joncheray's storms run at line rate; 8 unsent ACKs per direction
	 * in one second is well above anything a single lost segment gives
	 * (a few duplicate ACKs). */
	HIJACK_STORM_ACKS = 8,
	/* Routes change, but one side's path length moving more than this
	 * inside one connection is what a second sender looks like. */
	HIJACK_TTL_TOLERANCE = 2,
};

#define HIJACK_STORM_NS 1000000000ull

/* Flow-state bits. */
enum {
	FS_STORM = 1 << 0,        /* this storm was reported */
	FS_TTL = 1 << 1,          /* a TTL jump was reported (bit per dir) */
};

struct seg_slot {
	uint32_t tag;  /* high bits of the key hash; 0 = empty */
	uint32_t seq;
	uint32_t full; /* keyed hash of all payload bytes */
	uint16_t head; /* 16 bits of the keyed hash of the first 64 bytes */
	uint16_t len;
};
static_assert(sizeof(struct seg_slot) == 16, "a fingerprint is 16 bytes");

struct flow_slot {
	uint32_t tag;
	uint16_t acks[2];    /* unsent ACKs per direction in this window */
	uint8_t bits;        /* FS_* */
	uint8_t pad[7];
	uint64_t start_ns;   /* window start */
	uint64_t last_ns;    /* last unsent ACK */
};
static_assert(sizeof(struct flow_slot) == 32, "a flow state is 32 bytes");

/* Owner: the engine (e->hijack). */
struct moat_hijack {
	struct seg_slot *seg;
	uint32_t seg_mask;
	struct flow_slot *flow;
	uint32_t flow_mask;
	uint8_t key[crypto_shorthash_KEYBYTES]; /* tuple and payload hashes */
	bool block;
	struct moat_hijack_stats st;
};

static uint32_t pow2_clamp(uint32_t n, uint32_t lo, uint32_t hi)
{
	uint32_t v = lo;

	while (v < n && v < hi)
		v <<= 1;
	return v;
}

int moat_engine_hijack_create(struct moat_engine *e)
{
	struct moat_hijack *h = calloc(1, sizeof(*h));
	uint32_t nseg, nflow;

	if (!h)
		return -1;
	nseg = pow2_clamp(e->opt.max_flows / 4, HIJACK_SEG_MIN, HIJACK_SEG_MAX);
	nflow = pow2_clamp(nseg / 4, HIJACK_FLOW_MIN, HIJACK_SEG_MAX);
	h->seg = calloc(nseg, sizeof(*h->seg));
	h->flow = calloc(nflow, sizeof(*h->flow));
	if (!h->seg || !h->flow) {
		free(h->seg);
		free(h->flow);
		free(h);
		return -1;
	}
	h->seg_mask = nseg - 1;
	h->flow_mask = nflow - 1;
	h->st.seg_slots = nseg;
	h->st.flow_slots = nflow;
	h->st.bytes = (uint64_t)nseg * sizeof(struct seg_slot) +
		      (uint64_t)nflow * sizeof(struct flow_slot);
	crypto_generichash(h->key, sizeof(h->key),
			   (const uint8_t *)"moat hijack", 11, e->secret,
			   sizeof(e->secret));
	e->hijack = h;
	return 0;
}

void moat_engine_hijack_destroy(struct moat_engine *e)
{
	if (!e->hijack)
		return;
	free(e->hijack->seg);
	free(e->hijack->flow);
	sodium_memzero(e->hijack->key, sizeof(e->hijack->key));
	free(e->hijack);
	e->hijack = NULL;
}

void moat_engine_hijack_set_block(struct moat_engine *e, bool block)
{
	e->hijack->block = block;
}

void moat_engine_hijack_stats(const struct moat_engine *e,
			      struct moat_hijack_stats *out)
{
	*out = e->hijack->st;
}

static uint64_t keyed_hash(const struct moat_hijack *h, const uint8_t *in,
			   size_t len)
{
	/* moat_siphash24 is crypto_shorthash (the same output), cheaper. */
	return moat_siphash24(h->key, in, len);
}

/* The flow's identity, the same from both directions. */
static uint64_t flow_hash(const struct moat_hijack *h,
			  const struct moat_ct_entry *ent)
{
	uint8_t in[16 + 16 + 2 + 2 + 1];

	memcpy(in, ent->addr[0].b, 16);
	memcpy(in + 16, ent->addr[1].b, 16);
	memcpy(in + 32, &ent->port[0], 2);
	memcpy(in + 34, &ent->port[1], 2);
	in[36] = ent->proto;
	return keyed_hash(h, in, sizeof(in));
}

/* A finaliser (MurmurHash3's fmix64): spreads dir and SEQ over the slot
 * index; the secret part is the flow hash. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static uint32_t tag_of(uint64_t k)
{
	uint32_t t = (uint32_t)(k >> 32);

	return t ? t : 1;
}

/* The fields every alert starts with: kind, flow as this packet has it. */
static struct moat_event *alert(struct moat_engine *e,
				const struct moat_flight *fl,
				enum moat_event_hijack_kind kind, int dir)
{
	struct moat_event *ev = moat_engine_event_flow(e, fl, MOAT_EV_HIJACK);

	ev->u.hijack.kind = (uint8_t)kind;
	ev->u.hijack.dir = (uint8_t)dir;
	ev->u.hijack.seq = fl->p.seq;
	ev->u.hijack.ack = fl->p.ack;
	return ev;
}

/* ---- injection -------------------------------------------------------- */

/*
 * Compare a data segment with the fingerprint of the last segment that
 * started at the same SEQ in the same direction.  Lengths may differ (a
 * stack may cut a retransmission differently): the new bytes are hashed
 * over the old length when they cover it, else the heads are compared
 * when both hold HIJACK_HEAD bytes; otherwise nothing can be said.
 * Returns true when the bytes differ (and fills @old).
 */
static bool seg_differs(struct moat_hijack *h, struct seg_slot *sl,
			const uint8_t *data, uint16_t len, uint32_t full,
			uint16_t head, struct seg_slot *old)
{
	*old = *sl;
	if (len >= sl->len) {
		uint32_t over = len == sl->len ? full :
			(uint32_t)keyed_hash(h, data, sl->len);
		if (over != sl->full)
			return true;
		/* Same bytes, and more: keep the longer fingerprint. */
		sl->len = len;
		sl->full = full;
		sl->head = head;
		return false;
	}
	if (len >= HIJACK_HEAD && sl->len >= HIJACK_HEAD)
		return head != sl->head;
	return false;
}

static bool check_injection(struct moat_engine *e, struct moat_flight *fl,
			    const struct moat_ct_entry *ent, int dir,
			    uint64_t fh)
{
	struct moat_hijack *h = e->hijack;
	const struct moat_pkt *p = &fl->p;
	const uint8_t *data = p->frame + p->payload_off;
	uint16_t len = p->payload_len;
	uint32_t seq, full, tag;
	uint16_t head;
	struct seg_slot *sl, old;
	struct moat_event *ev;
	uint64_t k;

	if (len == 0 || (uint32_t)p->payload_off + len > p->caplen)
		return false; /* nothing to compare, or not all captured */
	seq = p->seq + !!(p->tcp_flags & MOAT_TCP_SYN);
	/* A BSD keepalive repeats the last byte sent with any content
	 * (RFC 1122 section 4.2.3.6 allows "one garbage octet"). */
	if (len == 1 && seq + 1 == ent->peer[dir].end)
		return false;
	k = mix(fh ^ ((uint64_t)seq << 1 | (uint64_t)dir));
	tag = tag_of(k);
	sl = &h->seg[k & h->seg_mask];
	full = (uint32_t)keyed_hash(h, data, len);
	head = (uint16_t)(len > HIJACK_HEAD ? keyed_hash(h, data, HIJACK_HEAD)
					    : full);
	if (sl->tag != tag || sl->seq != seq) {
		sl->tag = tag;
		sl->seq = seq;
		sl->len = len;
		sl->full = full;
		sl->head = head;
		return false;
	}
	if (!seg_differs(h, sl, data, len, full, head, &old))
		return false;
	/* The first copy stays the reference: each further forgery at this
	 * SEQ alerts again. */
	h->st.injection++;
	ev = alert(e, fl, MOAT_EV_HIJACK_INJECTION, dir);
	ev->u.hijack.seq = seq;
	ev->u.hijack.len_seen = old.len;
	ev->u.hijack.len_new = len;
	ev->u.hijack.hash_seen = old.full;
	ev->u.hijack.hash_new = full;
	return true;
}

/* ---- ACK storms ------------------------------------------------------- */

static struct flow_slot *flow_slot(struct moat_hijack *h, uint64_t fh)
{
	struct flow_slot *fs = &h->flow[mix(fh) & h->flow_mask];
	uint32_t tag = tag_of(fh);

	if (fs->tag != tag) {
		memset(fs, 0, sizeof(*fs));
		fs->tag = tag;
	}
	return fs;
}

static bool is_pure_ack(const struct moat_pkt *p)
{
	return p->payload_len == 0 &&
	       (p->tcp_flags & (MOAT_TCP_SYN | MOAT_TCP_FIN | MOAT_TCP_RST |
				MOAT_TCP_ACK)) == MOAT_TCP_ACK;
}

static bool check_storm(struct moat_engine *e, struct moat_flight *fl,
			int dir, uint64_t fh)
{
	struct flow_slot *fs = flow_slot(e->hijack, fh);
	struct moat_event *ev;

	/* A quiet second ends a storm; a longer one restarts the window. */
	if (fs->last_ns && fl->now - fs->last_ns > HIJACK_STORM_NS)
		fs->bits &= (uint8_t)~FS_STORM;
	if (!fs->start_ns || fl->now - fs->start_ns > HIJACK_STORM_NS) {
		fs->start_ns = fl->now;
		fs->acks[0] = fs->acks[1] = 0;
	}
	fs->last_ns = fl->now;
	if (fs->acks[dir] < UINT16_MAX)
		fs->acks[dir]++;
	if (fs->acks[0] < HIJACK_STORM_ACKS || fs->acks[1] < HIJACK_STORM_ACKS ||
	    (fs->bits & FS_STORM))
		return false;
	fs->bits |= FS_STORM;
	e->hijack->st.ack_storm++;
	ev = alert(e, fl, MOAT_EV_HIJACK_ACK_STORM, dir);
	ev->u.hijack.acks_orig = fs->acks[0];
	ev->u.hijack.acks_reply = fs->acks[1];
	ev->u.hijack.window_ms = (uint32_t)((fl->now - fs->start_ns) /
					    1000000ull);
	return true;
}

/* ---- TTL jumps -------------------------------------------------------- */

static bool mid_flow(const struct moat_ct_entry *ent)
{
	return ent->state >= MOAT_CT_ESTABLISHED &&
	       ent->state <= MOAT_CT_LAST_ACK;
}

static bool check_ttl(struct moat_engine *e, struct moat_flight *fl,
		      const struct moat_ct_entry *ent, int dir, uint64_t fh)
{
	uint8_t first = ent->peer[dir].ttl, now = fl->p.ttl;
	uint8_t bit = (uint8_t)(FS_TTL << dir);
	struct moat_event *ev;
	struct flow_slot *fs;

	if (!(ent->flags & MOAT_CT_F_TTL_CHANGED) || first == 0 ||
	    !mid_flow(ent) ||
	    abs((int)now - (int)first) <= HIJACK_TTL_TOLERANCE)
		return false;
	fs = flow_slot(e->hijack, fh);
	if (fs->bits & bit)
		return false; /* once per flow and direction */
	fs->bits |= bit;
	e->hijack->st.ttl_jump++;
	ev = alert(e, fl, MOAT_EV_HIJACK_TTL_JUMP, dir);
	ev->u.hijack.ttl_first = first;
	ev->u.hijack.ttl_now = now;
	ev->u.hijack.len = fl->p.payload_len;
	return true;
}

/* ---- blocking --------------------------------------------------------- */

/*
 * A RST travelling in @d, at the next SEQ that direction's receiver
 * expects (RFC 5961 section 3.2 accepts exactly that), seen from the
 * receiver's side of any translation.
 */
static void send_rst(struct moat_engine *e, struct moat_flight *fl,
		     const struct moat_ct_entry *ent, int dir, int d)
{
	struct moat_emit_frame *fr = moat_emit_next(fl->out);
	struct moat_tcp_spec s;
	struct moat_l2 l2;
	uint32_t len;

	if (!fr) {
		e->emit_full++;
		return;
	}
	memset(&s, 0, sizeof(s));
	moat_ct_entry_addrs(ent, d, &s.src, &s.dst, &s.sport, &s.dport);
	s.seq = ent->peer[d].end + ent->seq_delta[d];
	s.flags = MOAT_TCP_RST;
	moat_engine_l2_reply(&fl->p, &l2);
	if (d == dir) { /* the frame's own direction: MACs as they came */
		uint8_t t[6];
		memcpy(t, l2.src, 6);
		memcpy(l2.src, l2.dst, 6);
		memcpy(l2.dst, t, 6);
	}
	len = moat_pkt_build_tcp(fr->data, sizeof(fr->data), fl->p.linktype,
				 &l2, &s);
	if (len == 0)
		return;
	fr->len = (uint16_t)len;
	fr->linktype = fl->p.linktype;
	fr->out_zone = ent->zone[!d];
	moat_emit_commit(fl->out);
	e->cnt.emitted++;
	e->hijack->st.rst_sent++;
}

static enum moat_reason block_flow(struct moat_engine *e,
				   struct moat_flight *fl,
				   struct moat_ct_entry *ent, int dir)
{
	send_rst(e, fl, ent, dir, MOAT_CT_ORIG);
	send_rst(e, fl, ent, dir, MOAT_CT_REPLY);
	moat_ct_set_state(e->ct, ent, MOAT_CT_CLOSED, fl->now);
	e->hijack->st.blocked++;
	return MOAT_R_HIJACK_BLOCKED;
}

enum moat_reason moat_engine_hijack_check(struct moat_engine *e,
					  struct moat_flight *fl,
					  struct moat_ct_entry *ent, int dir,
					  enum moat_reason track)
{
	struct moat_hijack *h = e->hijack;
	bool alert = false;
	uint64_t fh;

	if (!e->opt.detect_hijack || !h)
		return MOAT_R_NONE;
	if (h->block && (ent->flags & MOAT_CT_F_HIJACK))
		return MOAT_R_HIJACK_BLOCKED; /* what was left after a reset */
	fh = flow_hash(h, ent);
	if (track == MOAT_R_TCP_ACK_UNSENT && is_pure_ack(&fl->p))
		alert = check_storm(e, fl, dir, fh);
	if (track == MOAT_R_STATE_MATCH) {
		alert = check_injection(e, fl, ent, dir, fh);
		alert = check_ttl(e, fl, ent, dir, fh) || alert;
	}
	if (!alert)
		return MOAT_R_NONE;
	ent->flags |= MOAT_CT_F_HIJACK;
	return h->block ? block_flow(e, fl, ent, dir) : MOAT_R_NONE;
}
