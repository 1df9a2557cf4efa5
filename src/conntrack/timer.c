/*
 * Timeouts: when a flow that stopped talking leaves the table, and which
 * flow goes first when the table is full.
 *
 * Every flow sits on two lists, both linked through 32-bit pool indices:
 *
 *  - a slot of the timer wheel (one slot per second, a hashed wheel as in
 *    Varghese and Lauck, "Hashed and Hierarchical Timing Wheels", 1987),
 *    which moat_ct_expire() walks as time passes;
 *  - the list of its timeout class (opening, established, closing, ...),
 *    in the order flows entered the class: the head of a class is its
 *    oldest flow, which is what eviction takes (table.c).
 *
 * Touching a flow on every packet must not touch other flows' cache lines,
 * so re-arming is lazy: a packet that pushes the expiry later only writes
 * the flow's own @expire; the flow stays in its old slot, and when the
 * wheel reaches that slot it is moved to the slot of its real expiry.
 * Invariant: the slot a flow sits in comes up at or before its expiry.
 * Only an earlier expiry (a state with a shorter timeout) relinks at once.
 * A slot holds flows of any revolution; a flow due more than a revolution
 * ahead is seen once per revolution and put back.  Work per call is
 * bounded; a slot too big for one call is finished by the next ones.
 */
#include "conntrack/ct_internal.h"

enum ct_class ct_class_of(enum moat_ct_state s)
{
	switch (s) {
	case MOAT_CT_ESTABLISHED:
		return CT_C_ESTABLISHED;
	case MOAT_CT_FIN_WAIT:
	case MOAT_CT_CLOSE_WAIT:
	case MOAT_CT_LAST_ACK:
		return CT_C_CLOSING;
	case MOAT_CT_TIME_WAIT:
	case MOAT_CT_CLOSED:
		return CT_C_TIMEWAIT;
	case MOAT_CT_UDP_FIRST:
		return CT_C_UDP_FIRST;
	case MOAT_CT_OTHER:
		return CT_C_OTHER;
	case MOAT_CT_UDP_MULTIPLE:
		return CT_C_UDP_MULTIPLE;
	case MOAT_CT_ICMP:
		return CT_C_ICMP;
	default:
		return CT_C_OPENING;
	}
}

/* Append entry @idx to list @id of @lists. */
void ct_list_push(struct moat_ct *ct, struct ct_list *lists, enum ct_link l,
		  uint32_t id, uint32_t idx)
{
	struct ct_list *L = &lists[id];
	uint32_t *x = ct->pool[idx].link[l];

	x[1] = CT_LIST_TAG | id;
	if (L->tail == CT_NIL) {
		x[0] = CT_LIST_TAG | id;
		L->head = idx;
	} else {
		ct->pool[L->tail].link[l][1] = idx;
		x[0] = L->tail;
	}
	L->tail = idx;
}

void ct_list_unlink(struct moat_ct *ct, struct ct_list *lists, enum ct_link l,
		    uint32_t idx)
{
	uint32_t *x = ct->pool[idx].link[l];
	uint32_t prev = x[0], next = x[1];

	if (prev & CT_LIST_TAG)
		lists[prev & ~CT_LIST_TAG].head =
			(next & CT_LIST_TAG) ? CT_NIL : next;
	else
		ct->pool[prev].link[l][1] = next;
	if (next & CT_LIST_TAG)
		lists[next & ~CT_LIST_TAG].tail =
			(prev & CT_LIST_TAG) ? CT_NIL : prev;
	else
		ct->pool[next].link[l][0] = prev;
	x[0] = x[1] = CT_NIL;
}

/*
 * A flow already due goes into the slot expire() looks at next: the hand's,
 * or the one after while the hand's slot is being drained.
 */
static uint32_t slot_of(const struct moat_ct *ct, uint32_t expire)
{
	uint32_t first = ct->hand + (ct->draining ? 1 : 0);

	return (expire < first ? first : expire) & ct->wheel_mask;
}

void ct_timer_start(struct moat_ct *ct, struct moat_ct_entry *e,
		    enum moat_ct_state st, uint32_t now_s)
{
	uint32_t idx = ct_index(ct, e);
	enum ct_class c = ct_class_of(st);

	e->state = (uint8_t)st;
	e->expire = now_s + ct->to_class[c];
	ct_list_push(ct, ct->wheel, CT_L_WHEEL, slot_of(ct, e->expire), idx);
	ct_list_push(ct, ct->klass, CT_L_CLASS, c, idx);
}

void ct_timer_stop(struct moat_ct *ct, struct moat_ct_entry *e)
{
	uint32_t idx = ct_index(ct, e);

	ct_list_unlink(ct, ct->wheel, CT_L_WHEEL, idx);
	ct_list_unlink(ct, ct->klass, CT_L_CLASS, idx);
}

void ct_timer_arm(struct moat_ct *ct, struct moat_ct_entry *e,
		  uint32_t now_s)
{
	uint32_t exp = now_s + ct->to_class[ct_class_of(e->state)];
	uint32_t idx;

	if (exp >= e->expire) {
		e->expire = exp; /* lazy: the wheel moves it when it gets there */
		return;
	}
	idx = ct_index(ct, e);
	e->expire = exp;
	ct_list_unlink(ct, ct->wheel, CT_L_WHEEL, idx);
	ct_list_push(ct, ct->wheel, CT_L_WHEEL, slot_of(ct, exp), idx);
}

void ct_state_change(struct moat_ct *ct, struct moat_ct_entry *e,
		     enum moat_ct_state st)
{
	enum ct_class from = ct_class_of(e->state), to = ct_class_of(st);
	uint32_t idx;

	if (e->state == st)
		return;
	ct->by_state[e->state]--;
	ct->by_state[st]++;
	e->state = (uint8_t)st;
	if (from == to)
		return;
	idx = ct_index(ct, e);
	ct_list_unlink(ct, ct->klass, CT_L_CLASS, idx);
	ct_list_push(ct, ct->klass, CT_L_CLASS, to, idx);
}

void moat_ct_touch(struct moat_ct *ct, struct moat_ct_entry *e,
		   uint64_t now_ns)
{
	ct_timer_arm(ct, e, ct_seconds(now_ns));
}

void moat_ct_set_state(struct moat_ct *ct, struct moat_ct_entry *e,
		       enum moat_ct_state state, uint64_t now_ns)
{
	if (state <= MOAT_CT_NONE || state >= MOAT_CT_STATE_COUNT)
		return;
	ct_state_change(ct, e, state);
	ct_timer_arm(ct, e, ct_seconds(now_ns));
}

uint32_t moat_ct_ttl(const struct moat_ct_entry *e, uint64_t now_ns)
{
	uint32_t now_s = ct_seconds(now_ns);

	return e->expire > now_s ? e->expire - now_s : 0;
}

struct expire_run {
	uint32_t now_s;
	int budget, removed;
	unsigned work, work_max;
};

/* Move all of wheel list @from to the empty list @to, in O(1). */
static void move_list(struct moat_ct *ct, uint32_t from, uint32_t to)
{
	struct ct_list *F = &ct->wheel[from];

	if (F->head != CT_NIL) {
		ct->pool[F->head].link[CT_L_WHEEL][0] = CT_LIST_TAG | to;
		ct->pool[F->tail].link[CT_L_WHEEL][1] = CT_LIST_TAG | to;
	}
	ct->wheel[to] = *F;
	F->head = F->tail = CT_NIL;
}

/*
 * Drain one slot: its flows move to the "draining" list (one past the last
 * slot), then each is removed when due or moved to the slot of its expiry,
 * possibly this same slot again (a revolution or more ahead).  The draining
 * list survives across calls, so a slot holding more flows than one call's
 * budget still finishes.  Returns false when the budget ran out first.
 */
static bool drain_slot(struct moat_ct *ct, uint32_t slot,
		       struct expire_run *r)
{
	uint32_t dl = ct->wheel_mask + 1, idx;

	if (!ct->draining) {
		move_list(ct, slot, dl);
		ct->draining = true;
	}
	while ((idx = ct->wheel[dl].head) != CT_NIL) {
		struct moat_ct_entry *e = &ct->pool[idx];

		if (r->removed >= r->budget || r->work >= r->work_max)
			return false;
		r->work++;
		if (e->expire <= r->now_s) {
			ct->st.expired++;
			ct_entry_free(ct, e);
			r->removed++;
			continue;
		}
		ct_list_unlink(ct, ct->wheel, CT_L_WHEEL, idx);
		ct_list_push(ct, ct->wheel, CT_L_WHEEL,
			     slot_of(ct, e->expire), idx);
	}
	ct->draining = false;
	return true;
}

int moat_ct_expire(struct moat_ct *ct, uint64_t now_ns, int budget)
{
	struct expire_run r = { .now_s = ct_seconds(now_ns), .budget = budget };
	uint32_t span, nslots = ct->wheel_mask + 1;

	if (budget <= 0 || r.now_s < ct->hand)
		return 0;
	/* Visiting a flow that is not due yet is cheap but not free: bound
	 * it too, so that one call never walks the whole table. */
	r.work_max = (unsigned)budget * 16u + 64u;
	span = r.now_s - ct->hand + 1;
	if (span > nslots)
		span = nslots; /* a whole revolution visits every slot */
	for (uint32_t i = 0; i < span; i++) {
		if (!drain_slot(ct, (ct->hand + i) & ct->wheel_mask, &r)) {
			ct->hand += i;
			return r.removed;
		}
	}
	ct->hand = r.now_s + 1;
	return r.removed;
}
