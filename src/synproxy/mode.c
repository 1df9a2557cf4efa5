/*
 * The hybrid mode detector: per protected destination, answer SYNs with
 * cookies only while it is flooded.
 *
 * Cookies cost something: without timestamps the client's window scale
 * and SACK are lost, and a lost final ACK is recovered only by the lossy
 * retransmit table.  So while a destination is calm its SYNs go to the
 * server with state kept (the server retransmits its own SYN-ACK), and
 * only when its half-open count or its SYN rate crosses a threshold does
 * it switch to cookies; it switches back after a quiet period under half
 * of both thresholds (hysteresis, so a flood at the threshold does not
 * make it flap).
 *
 *        half_open >= H  or  rate >= R
 *   STATE ---------------------------------> COOKIES
 *     ^                                         |
 *     +-----------------------------------------+
 *       half_open < H/2 and rate < R/2 for Q seconds
 *
 * The rate is a sliding one-second window built from two whole-second
 * counts, the previous one weighted by how much of it still overlaps.
 *
 * The detector watches whatever the mode in force: a destination forced
 * to cookies or to state mode is still measured, so `moat ctl syncookies
 * auto` finds it in the state the flood has put it in.  Which mode is in
 * force, and so whether the detector's verdict counts, is the decision's
 * business (moat/syn_decide.h).
 *
 * On the packet's path: moat_syn_decide() (decide.c) calls
 * moat_syn_mode_syn() for each SYN a `synproxy` rule passes and
 * moat_syn_mode_half_open() as state-mode handshakes open and close; the
 * tick calls moat_syn_mode_tick().  The table is 4-way set associative by
 * a keyed hash; a new destination evicts the way that saw a SYN longest
 * ago.  Its slots have the layout of struct moat_syn_dst_slot
 * (moat/syn_decide.h), which an XDP program can read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "moat/defaults.h"
#include "moat/syn_decide.h"

enum { MODE_WAYS = 4 };

#define NS_PER_S 1000000000ull

struct moat_syn_modes {
	struct moat_syn_mode_params par;
	uint32_t sets;        /* power of two */
	uint8_t seed[MOAT_SYN_KEY_LEN];
	struct moat_syn_dst_slot slot[]; /* sets * MODE_WAYS; owned */
};

_Static_assert((int)MODE_WAYS == (int)MOAT_SYN_DST_WAYS,
	       "the layout documented in moat/syn_decide.h");

void moat_syn_mode_params_default(struct moat_syn_mode_params *p)
{
	p->half_open = MOAT_DEFAULT_SYNCOOKIES_THRESHOLD;
	p->rate = MOAT_DEFAULT_SYNCOOKIES_RATE;
	p->quiet_s = MOAT_DEFAULT_SYNCOOKIES_QUIET;
}

static void apply_defaults(struct moat_syn_mode_params *p)
{
	struct moat_syn_mode_params d;

	moat_syn_mode_params_default(&d);
	if (!p->half_open)
		p->half_open = d.half_open;
	if (!p->rate)
		p->rate = d.rate;
	if (!p->quiet_s)
		p->quiet_s = d.quiet_s;
}

struct moat_syn_modes *moat_syn_mode_create(uint32_t slots,
					   const struct moat_syn_mode_params *par,
					   const uint8_t seed[MOAT_SYN_KEY_LEN])
{
	uint32_t sets = syn_pow2((slots + MODE_WAYS - 1) / MODE_WAYS);
	struct moat_syn_modes *m;

	m = calloc(1, sizeof(*m) +
			      (size_t)sets * MODE_WAYS * sizeof(m->slot[0]));
	if (!m) {
		errno = ENOMEM;
		return NULL;
	}
	m->sets = sets;
	memcpy(m->seed, seed, MOAT_SYN_KEY_LEN);
	moat_syn_mode_set(m, par);
	return m;
}

void moat_syn_mode_destroy(struct moat_syn_modes *m)
{
	free(m);
}

void moat_syn_mode_set(struct moat_syn_modes *m,
		       const struct moat_syn_mode_params *par)
{
	m->par = *par;
	apply_defaults(&m->par);
}

static bool key_is(const struct moat_syn_dst_key *k,
		   const struct moat_addr *dst, uint16_t port)
{
	return k->family != 0 && k->family == dst->family && k->port == port &&
	       memcmp(k->addr, dst->b, sizeof(k->addr)) == 0;
}

/* @h: syn_hash_dst() of the destination under m->seed. */
static struct moat_syn_dst_slot *set_of(const struct moat_syn_modes *m,
					uint32_t h)
{
	return (struct moat_syn_dst_slot *)&m->slot[(h & (m->sets - 1)) *
						    MODE_WAYS];
}

static struct moat_syn_dst_slot *find(const struct moat_syn_modes *m,
				      uint32_t h, const struct moat_addr *dst,
				      uint16_t port)
{
	struct moat_syn_dst_slot *s = set_of(m, h);
	unsigned i;

	for (i = 0; i < MODE_WAYS; i++)
		if (key_is(&s[i].key, dst, port))
			return &s[i];
	return NULL;
}

static struct moat_syn_dst_slot *find_or_add(struct moat_syn_modes *m,
					     uint32_t h,
					     const struct moat_addr *dst,
					     uint16_t port, uint64_t now_ns)
{
	struct moat_syn_dst_slot *s = find(m, h, dst, port), *set, *victim;
	unsigned i;

	if (s)
		return s;
	set = set_of(m, h);
	victim = &set[0];
	for (i = 0; i < MODE_WAYS; i++) {
		if (set[i].key.family == 0) {
			victim = &set[i];
			break;
		}
		if (set[i].st.last_ns < victim->st.last_ns)
			victim = &set[i];
	}
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->key.addr, dst->b, sizeof(victim->key.addr));
	victim->key.port = port;
	victim->key.family = dst->family;
	victim->st.syn_sec = now_ns / NS_PER_S;
	victim->st.last_ns = now_ns;
	return victim;
}

/* Slide the two one-second counts up to @now_ns. */
static void roll(struct moat_syn_dst_state *s, uint64_t now_ns)
{
	uint64_t sec = now_ns / NS_PER_S;

	if (sec == s->syn_sec)
		return;
	s->syn_prev = sec == s->syn_sec + 1 ? s->syn_cur : 0;
	s->syn_cur = 0;
	s->syn_sec = sec;
}

static uint32_t rate_of(const struct moat_syn_dst_state *s, uint64_t now_ns)
{
	uint64_t into = now_ns % NS_PER_S;

	return (uint32_t)((uint64_t)s->syn_prev * (NS_PER_S - into) /
			  NS_PER_S) + s->syn_cur;
}

static void addr_of(const struct moat_syn_dst_key *k, struct moat_addr *a)
{
	memcpy(a->b, k->addr, sizeof(a->b));
	a->family = k->family;
}

static void fill_event(struct moat_syn_mode_event *ev,
		       const struct moat_syn_dst_slot *s, uint32_t rate,
		       uint64_t now_ns)
{
	addr_of(&s->key, &ev->dst);
	ev->port = s->key.port;
	ev->cookies = s->st.cookies;
	ev->half_open = s->st.half_open;
	ev->rate = rate;
	ev->time_ns = now_ns;
}

/* Apply the state diagram above; true when @slot switched. */
static bool evaluate(const struct moat_syn_modes *m,
		     struct moat_syn_dst_slot *slot, uint64_t now_ns,
		     struct moat_syn_mode_event *ev)
{
	const struct moat_syn_mode_params *p = &m->par;
	struct moat_syn_dst_state *s = &slot->st;
	uint32_t rate;

	roll(s, now_ns);
	rate = rate_of(s, now_ns);
	if (!s->cookies) {
		if (s->half_open < p->half_open && rate < p->rate)
			return false;
		s->cookies = 1;
		s->quiet = 0;
	} else if (s->half_open >= p->half_open / 2 || rate >= p->rate / 2) {
		s->quiet = 0;
		return false;
	} else if (!s->quiet) {
		s->quiet = 1;
		s->quiet_ns = now_ns;
		return false;
	} else if (now_ns - s->quiet_ns < (uint64_t)p->quiet_s * NS_PER_S) {
		return false;
	} else {
		s->cookies = 0;
		s->quiet = 0;
	}
	if (ev)
		fill_event(ev, slot, rate, now_ns);
	return true;
}

const struct moat_syn_dst_state *
syn_mode_syn_hashed(struct moat_syn_modes *m, uint32_t h,
		    const struct moat_addr *dst, uint16_t port,
		    uint64_t now_ns, struct moat_syn_mode_event *ev,
		    bool *switched)
{
	struct moat_syn_dst_slot *s = find_or_add(m, h, dst, port, now_ns);

	roll(&s->st, now_ns);
	if (s->st.syn_cur < UINT32_MAX)
		s->st.syn_cur++;
	s->st.last_ns = now_ns;
	*switched = evaluate(m, s, now_ns, ev);
	return &s->st;
}

void moat_syn_mode_syns(struct moat_syn_modes *m, const struct moat_addr *dst,
			uint16_t port, uint32_t n, uint64_t now_ns,
			struct moat_syn_mode_event *ev, bool *switched)
{
	struct moat_syn_dst_slot *s;

	*switched = false;
	if (n == 0)
		return;
	s = find_or_add(m, syn_hash_dst(m->seed, dst, port), dst, port, now_ns);
	roll(&s->st, now_ns);
	s->st.syn_cur = s->st.syn_cur > UINT32_MAX - n ? UINT32_MAX
						       : s->st.syn_cur + n;
	s->st.last_ns = now_ns;
	*switched = evaluate(m, s, now_ns, ev);
}

const struct moat_syn_dst_state *
moat_syn_mode_syn(struct moat_syn_modes *m, const struct moat_addr *dst,
		  uint16_t port, uint64_t now_ns,
		  struct moat_syn_mode_event *ev, bool *switched)
{
	return syn_mode_syn_hashed(m, syn_hash_dst(m->seed, dst, port), dst,
				   port, now_ns, ev, switched);
}

void moat_syn_mode_half_open(struct moat_syn_modes *m,
			     const struct moat_addr *dst, uint16_t port,
			     int delta, uint64_t now_ns,
			     struct moat_syn_mode_event *ev, bool *switched)
{
	uint32_t h = syn_hash_dst(m->seed, dst, port), *n;
	struct moat_syn_dst_slot *s;

	*switched = false;
	s = delta > 0 ? find_or_add(m, h, dst, port, now_ns)
		      : find(m, h, dst, port);
	if (!s)
		return;
	n = &s->st.half_open;
	if (delta < 0)
		*n = (uint32_t)-delta > *n ? 0 : *n - (uint32_t)-delta;
	else
		*n += (uint32_t)delta;
	*switched = evaluate(m, s, now_ns, ev);
}

uint32_t moat_syn_mode_tick(struct moat_syn_modes *m, uint64_t now_ns,
			    struct moat_syn_mode_event *ev, uint32_t max)
{
	uint32_t i, n = 0, total = m->sets * MODE_WAYS;
	struct moat_syn_dst_slot *s;

	for (i = 0; i < total && n < max; i++) {
		s = &m->slot[i];
		if (s->key.family && s->st.cookies &&
		    evaluate(m, s, now_ns, &ev[n]))
			n++;
	}
	return n;
}

const struct moat_syn_dst_state *
moat_syn_mode_find(const struct moat_syn_modes *m, const struct moat_addr *dst,
		   uint16_t port)
{
	const struct moat_syn_dst_slot *s =
		find(m, syn_hash_dst(m->seed, dst, port), dst, port);

	return s ? &s->st : NULL;
}

bool moat_syn_mode_cookies(const struct moat_syn_modes *m,
			   const struct moat_addr *dst, uint16_t port)
{
	const struct moat_syn_dst_state *s = moat_syn_mode_find(m, dst, port);

	return s && s->cookies;
}

uint32_t moat_syn_mode_list(const struct moat_syn_modes *m,
			    struct moat_syn_mode_view *out, uint32_t max)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < m->sets * MODE_WAYS && n < max; i++) {
		const struct moat_syn_dst_slot *s = &m->slot[i];
		if (!s->key.family)
			continue;
		addr_of(&s->key, &out[n].dst);
		out[n].port = s->key.port;
		out[n].cookies = s->st.cookies;
		out[n].half_open = s->st.half_open;
		out[n].rate = s->st.syn_prev > s->st.syn_cur ? s->st.syn_prev
							     : s->st.syn_cur;
		n++;
	}
	return n;
}
