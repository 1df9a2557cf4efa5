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
 * On the packet's path: the engine calls moat_syn_mode_syn() for each SYN a
 * `synproxy` rule passes, moat_syn_mode_half_open() as state-mode
 * handshakes open and close, and moat_syn_mode_tick() from its tick.  The
 * table is 4-way set associative by a keyed hash; a new destination evicts
 * the way that saw a SYN longest ago.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum {
	MODE_WAYS = 4,
	MODE_DEFAULT_HALF_OPEN = 256,
	MODE_DEFAULT_RATE = 1000,
	MODE_DEFAULT_QUIET_S = 10,
};

#define NS_PER_S 1000000000ull

struct mode_slot {
	struct moat_addr dst;
	uint16_t port;
	bool used;
	bool cookies;
	bool quiet;           /* under half of both thresholds since quiet_ns */
	uint32_t half_open;
	uint32_t cur, prev;   /* SYNs in second @sec and the one before */
	uint64_t sec;
	uint64_t quiet_ns;
	uint64_t last_ns;     /* last SYN, for eviction */
};

struct moat_syn_modes {
	struct moat_syn_mode_params par;
	uint32_t sets;        /* power of two */
	uint8_t seed[MOAT_SYN_KEY_LEN];
	struct mode_slot slot[]; /* sets * MODE_WAYS; owned */
};

static void apply_defaults(struct moat_syn_mode_params *p)
{
	if (!p->half_open)
		p->half_open = MODE_DEFAULT_HALF_OPEN;
	if (!p->rate)
		p->rate = MODE_DEFAULT_RATE;
	if (!p->quiet_s)
		p->quiet_s = MODE_DEFAULT_QUIET_S;
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

static struct mode_slot *set_of(const struct moat_syn_modes *m,
				const struct moat_addr *dst, uint16_t port)
{
	uint32_t h = syn_hash_dst(m->seed, dst, port) & (m->sets - 1);

	return (struct mode_slot *)&m->slot[h * MODE_WAYS];
}

static struct mode_slot *find(const struct moat_syn_modes *m,
			      const struct moat_addr *dst, uint16_t port)
{
	struct mode_slot *s = set_of(m, dst, port);
	unsigned i;

	for (i = 0; i < MODE_WAYS; i++)
		if (s[i].used && s[i].port == port &&
		    moat_addr_eq(&s[i].dst, dst))
			return &s[i];
	return NULL;
}

static struct mode_slot *find_or_add(struct moat_syn_modes *m,
				     const struct moat_addr *dst,
				     uint16_t port, uint64_t now_ns)
{
	struct mode_slot *s = find(m, dst, port), *set, *victim;
	unsigned i;

	if (s)
		return s;
	set = set_of(m, dst, port);
	victim = &set[0];
	for (i = 0; i < MODE_WAYS; i++) {
		if (!set[i].used) {
			victim = &set[i];
			break;
		}
		if (set[i].last_ns < victim->last_ns)
			victim = &set[i];
	}
	memset(victim, 0, sizeof(*victim));
	victim->dst = *dst;
	victim->port = port;
	victim->used = true;
	victim->sec = now_ns / NS_PER_S;
	victim->last_ns = now_ns;
	return victim;
}

/* Slide the two one-second counts up to @now_ns. */
static void roll(struct mode_slot *s, uint64_t now_ns)
{
	uint64_t sec = now_ns / NS_PER_S;

	if (sec == s->sec)
		return;
	s->prev = sec == s->sec + 1 ? s->cur : 0;
	s->cur = 0;
	s->sec = sec;
}

static uint32_t rate_of(const struct mode_slot *s, uint64_t now_ns)
{
	uint64_t into = now_ns % NS_PER_S;

	return (uint32_t)((uint64_t)s->prev * (NS_PER_S - into) / NS_PER_S) +
	       s->cur;
}

static void fill_event(struct moat_syn_mode_event *ev,
		       const struct mode_slot *s, uint32_t rate,
		       uint64_t now_ns)
{
	ev->dst = s->dst;
	ev->port = s->port;
	ev->cookies = s->cookies;
	ev->half_open = s->half_open;
	ev->rate = rate;
	ev->time_ns = now_ns;
}

/* Apply the state diagram above; true when @s switched. */
static bool evaluate(const struct moat_syn_modes *m, struct mode_slot *s,
		     uint64_t now_ns, struct moat_syn_mode_event *ev)
{
	const struct moat_syn_mode_params *p = &m->par;
	uint32_t rate;

	roll(s, now_ns);
	rate = rate_of(s, now_ns);
	if (!s->cookies) {
		if (s->half_open < p->half_open && rate < p->rate)
			return false;
		s->cookies = true;
		s->quiet = false;
	} else if (s->half_open >= p->half_open / 2 || rate >= p->rate / 2) {
		s->quiet = false;
		return false;
	} else if (!s->quiet) {
		s->quiet = true;
		s->quiet_ns = now_ns;
		return false;
	} else if (now_ns - s->quiet_ns < (uint64_t)p->quiet_s * NS_PER_S) {
		return false;
	} else {
		s->cookies = false;
		s->quiet = false;
	}
	if (ev)
		fill_event(ev, s, rate, now_ns);
	return true;
}

bool moat_syn_mode_syn(struct moat_syn_modes *m, const struct moat_addr *dst,
		       uint16_t port, uint64_t now_ns,
		       struct moat_syn_mode_event *ev, bool *switched)
{
	struct mode_slot *s;

	*switched = false;
	if (m->par.mode == MOAT_SYN_MODE_OFF)
		return false;
	if (m->par.mode == MOAT_SYN_MODE_ON)
		return true;
	s = find_or_add(m, dst, port, now_ns);
	roll(s, now_ns);
	if (s->cur < UINT32_MAX)
		s->cur++;
	s->last_ns = now_ns;
	*switched = evaluate(m, s, now_ns, ev);
	return s->cookies;
}

void moat_syn_mode_half_open(struct moat_syn_modes *m,
			     const struct moat_addr *dst, uint16_t port,
			     int delta, uint64_t now_ns,
			     struct moat_syn_mode_event *ev, bool *switched)
{
	struct mode_slot *s;

	*switched = false;
	if (m->par.mode != MOAT_SYN_MODE_AUTO)
		return;
	s = delta > 0 ? find_or_add(m, dst, port, now_ns) : find(m, dst, port);
	if (!s)
		return;
	if (delta < 0)
		s->half_open = (uint32_t)-delta > s->half_open
				       ? 0 : s->half_open - (uint32_t)-delta;
	else
		s->half_open += (uint32_t)delta;
	*switched = evaluate(m, s, now_ns, ev);
}

uint32_t moat_syn_mode_tick(struct moat_syn_modes *m, uint64_t now_ns,
			    struct moat_syn_mode_event *ev, uint32_t max)
{
	uint32_t i, n = 0, total = m->sets * MODE_WAYS;
	struct mode_slot *s;

	if (m->par.mode != MOAT_SYN_MODE_AUTO)
		return 0;
	for (i = 0; i < total && n < max; i++) {
		s = &m->slot[i];
		if (s->used && s->cookies && evaluate(m, s, now_ns, &ev[n]))
			n++;
	}
	return n;
}

bool moat_syn_mode_cookies(const struct moat_syn_modes *m,
			   const struct moat_addr *dst, uint16_t port)
{
	const struct mode_slot *s;

	if (m->par.mode != MOAT_SYN_MODE_AUTO)
		return m->par.mode == MOAT_SYN_MODE_ON;
	s = find(m, dst, port);
	return s && s->cookies;
}

uint32_t moat_syn_mode_list(const struct moat_syn_modes *m,
			    struct moat_syn_mode_view *out, uint32_t max)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < m->sets * MODE_WAYS && n < max; i++) {
		const struct mode_slot *s = &m->slot[i];
		if (!s->used)
			continue;
		out[n].dst = s->dst;
		out[n].port = s->port;
		out[n].cookies = s->cookies;
		out[n].half_open = s->half_open;
		out[n].rate = s->prev > s->cur ? s->prev : s->cur;
		n++;
	}
	return n;
}
