/*
 * The lossy SYN-ACK retransmit table: what the cookie handshake gives up
 * (state), taken back in a form a flood cannot exploit.
 *
 * A cookie SYN-ACK keeps no state, so when the client's final ACK is lost
 * nobody retransmits: the client believes the connection is open and, for
 * protocols where the server speaks first (SMTP, FTP, SSH, POP3, IMAP),
 * waits for a banner that never comes.  This table remembers the SYN-ACKs
 * sent, direct-mapped by a keyed hash of the four-tuple and overwritten on
 * collision: a flood only evicts entries (it cannot grow the table), and an
 * honest client whose entry survives gets its SYN-ACK again at +1 s and
 * +3 s.  A retransmitted SYN-ACK makes a client whose ACK was lost (now
 * ESTABLISHED) send a duplicate ACK, which completes the handshake.
 *
 * On the packet's path: moat_syn_answer_syn() records, a valid final ACK
 * clears, the engine's tick asks for what is due.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * The tick scans only @due, 8 bytes a slot (512 KB for 65536 slots), not
 * the entries themselves (about 200 bytes each).
 */
#define RTX_NONE UINT64_MAX /* an empty slot is never due */

struct moat_syn_rtx {
	uint32_t mask;            /* slots - 1 */
	uint32_t cursor;          /* where the last due scan stopped */
	uint32_t live;
	uint8_t seed[MOAT_SYN_KEY_LEN];
	uint64_t *due;            /* owned; next retransmit, RTX_NONE */
	struct moat_syn_rtx_entry slot[]; /* owned; sized at create */
};

struct moat_syn_rtx *moat_syn_rtx_create(uint32_t slots,
					 const uint8_t seed[MOAT_SYN_KEY_LEN])
{
	uint32_t n = syn_pow2(slots), i;
	struct moat_syn_rtx *r;

	r = calloc(1, sizeof(*r) + (size_t)n * sizeof(r->slot[0]));
	if (r)
		r->due = calloc(n, sizeof(r->due[0]));
	if (!r || !r->due) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->mask = n - 1;
	for (i = 0; i < n; i++)
		r->due[i] = RTX_NONE;
	memcpy(r->seed, seed, MOAT_SYN_KEY_LEN);
	return r;
}

void moat_syn_rtx_destroy(struct moat_syn_rtx *r)
{
	if (r)
		free(r->due);
	free(r);
}

static uint64_t due_at(const struct moat_syn_rtx_entry *s)
{
	uint64_t ms = s->sent == 0 ? MOAT_SYN_RTX_FIRST_MS
				   : MOAT_SYN_RTX_SECOND_MS;

	return s->first_ns + ms * 1000000u;
}

static struct moat_syn_rtx_entry *slot_of(const struct moat_syn_rtx *r,
					  const struct moat_syn_tuple *t)
{
	return (struct moat_syn_rtx_entry *)
		&r->slot[syn_hash_tuple(r->seed, t) & r->mask];
}

void moat_syn_rtx_record(struct moat_syn_rtx *r,
			 const struct moat_syn_rtx_entry *e)
{
	struct moat_syn_rtx_entry *s = slot_of(r, &e->t);

	/* The client retransmitted its SYN: ours are already scheduled. */
	if (s->used && syn_tuple_eq(&s->t, &e->t) && s->c.isn == e->c.isn)
		return;
	if (!s->used)
		r->live++;
	*s = *e;
	s->sent = 0;
	s->used = true;
	r->due[s - r->slot] = due_at(s);
}

bool moat_syn_rtx_clear(struct moat_syn_rtx *r, const struct moat_syn_tuple *t)
{
	struct moat_syn_rtx_entry *s = slot_of(r, t);

	if (!s->used || !syn_tuple_eq(&s->t, t))
		return false;
	s->used = false;
	r->due[s - r->slot] = RTX_NONE;
	r->live--;
	return true;
}

const struct moat_syn_rtx_entry *
moat_syn_rtx_find(const struct moat_syn_rtx *r, const struct moat_syn_tuple *t)
{
	const struct moat_syn_rtx_entry *s = slot_of(r, t);

	return s->used && syn_tuple_eq(&s->t, t) ? s : NULL;
}

uint32_t moat_syn_rtx_due(struct moat_syn_rtx *r, uint64_t now_ns,
			  struct moat_syn_rtx_entry *out, uint32_t max)
{
	uint32_t n = 0, looked, i;
	struct moat_syn_rtx_entry *s;

	for (looked = 0; looked <= r->mask && n < max; looked++) {
		i = r->cursor;
		r->cursor = (r->cursor + 1) & r->mask;
		if (now_ns < r->due[i])
			continue;
		s = &r->slot[i];
		s->sent++;
		out[n++] = *s;
		if (s->sent >= 2) {
			s->used = false;
			r->due[i] = RTX_NONE;
			r->live--;
		} else {
			r->due[i] = due_at(s);
		}
	}
	return n;
}

uint32_t moat_syn_rtx_count(const struct moat_syn_rtx *r)
{
	return r->live;
}
