/*
 * Backend option learning: what each protected server (address, port)
 * offers in its SYN-ACKs, so that a cookie SYN-ACK, sent before the server
 * has been asked, promises the client only what the server will honour.
 *
 * On the packet's path: every SYN-ACK from a server behind a `synproxy`
 * rule, passed through (state mode) or answering a proxied handshake, is
 * shown to moat_syn_backend_learn(); moat_syn_answer_syn() asks
 * moat_syn_backend_get().  The table is direct-mapped by a keyed hash and
 * overwrites on collision; a server it does not know gets one real SYN
 * a second passed through to it (moat_syn_backend_probe_due, an input of
 * the SYN proxy's decision) so its SYN-ACK teaches the table; until then
 * cookie SYN-ACKs carry the safe defaults: the minimum MSS and neither
 * window scaling, SACK nor timestamps (offering the client timestamps the
 * server will not send would make the client drop the server's segments,
 * RFC 7323 section 3.2).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct backend_slot {
	struct moat_addr addr;
	uint16_t port;
	bool used;
	struct moat_syn_backend_opts o;
	uint64_t learned_ns;
	uint64_t probe_ns;  /* last SYN let through to learn this server */
};

struct moat_syn_backend {
	uint32_t mask;
	uint8_t seed[MOAT_SYN_KEY_LEN];
	struct backend_slot slot[]; /* owned; sized at create */
};

struct moat_syn_backend *moat_syn_backend_create(uint32_t slots,
					const uint8_t seed[MOAT_SYN_KEY_LEN])
{
	uint32_t n = syn_pow2(slots);
	struct moat_syn_backend *b;

	b = calloc(1, sizeof(*b) + (size_t)n * sizeof(b->slot[0]));
	if (!b) {
		errno = ENOMEM;
		return NULL;
	}
	b->mask = n - 1;
	memcpy(b->seed, seed, MOAT_SYN_KEY_LEN);
	return b;
}

void moat_syn_backend_destroy(struct moat_syn_backend *b)
{
	free(b);
}

/* @h: syn_hash_dst() of the server under b->seed. */
static struct backend_slot *slot_at(const struct moat_syn_backend *b,
				    uint32_t h)
{
	return (struct backend_slot *)&b->slot[h & b->mask];
}

static struct backend_slot *slot_of(const struct moat_syn_backend *b,
				    const struct moat_addr *a, uint16_t port)
{
	return slot_at(b, syn_hash_dst(b->seed, a, port));
}

void moat_syn_backend_learn(struct moat_syn_backend *b,
			    const struct moat_pkt *p, uint64_t now_ns)
{
	const uint8_t want = MOAT_TCP_SYN | MOAT_TCP_ACK;
	struct backend_slot *s;
	const struct moat_tcp_opts *o = &p->opt;

	if (p->proto != MOAT_IPPROTO_TCP || (p->tcp_flags & want) != want)
		return;
	s = slot_of(b, &p->src, p->sport);
	if (!s->used || s->port != p->sport || !moat_addr_eq(&s->addr, &p->src))
		memset(s, 0, sizeof(*s));
	s->addr = p->src;
	s->port = p->sport;
	s->learned_ns = now_ns;
	/* No MSS option: RFC 9293 section 3.7.1's default for the family. */
	s->o.mss = (o->present & MOAT_TCPOPT_MSS) ? o->mss
		 : p->ipv == 6 ? MOAT_SYN_DEFAULT_MSS6 : MOAT_SYN_DEFAULT_MSS4;
	/*
	 * A server answers an option only when the SYN offered it, and a
	 * client without timestamps (or a proxied SYN that could not carry
	 * them) offers less than the server can do.  So what one SYN-ACK
	 * showed is kept until the slot goes to another server: a SYN-ACK
	 * without an option does not unlearn it.
	 */
	if (o->present & MOAT_TCPOPT_WSCALE)
		s->o.wscale = o->wscale;
	else if (!s->used)
		s->o.wscale = MOAT_SYN_WSCALE_NONE;
	s->o.sack_ok |= (o->present & MOAT_TCPOPT_SACK_PERM) != 0;
	s->o.ts_ok |= (o->present & MOAT_TCPOPT_TS) != 0;
	s->o.ecn_ok |= (p->tcp_flags & (MOAT_TCP_ECE | MOAT_TCP_CWR)) ==
		       MOAT_TCP_ECE;
	s->o.known = true;
	s->used = true;
}

bool syn_backend_probe_due_hashed(const struct moat_syn_backend *b,
				  uint32_t h, const struct moat_addr *addr,
				  uint16_t port, uint64_t now_ns)
{
	const struct backend_slot *s = slot_at(b, h);
	bool mine = s->port == port && moat_addr_eq(&s->addr, addr);

	if (s->used)
		return false; /* learned: this server, or another one whose
				 options we keep */
	return !mine || now_ns - s->probe_ns >= MOAT_SYN_PROBE_NS;
}

bool moat_syn_backend_probe_due(const struct moat_syn_backend *b,
				const struct moat_addr *addr, uint16_t port,
				uint64_t now_ns)
{
	return syn_backend_probe_due_hashed(b, syn_hash_dst(b->seed, addr,
							    port),
					    addr, port, now_ns);
}

void moat_syn_backend_probe_sent(struct moat_syn_backend *b,
				 const struct moat_addr *addr, uint16_t port,
				 uint64_t now_ns)
{
	struct backend_slot *s = slot_of(b, addr, port);

	if (s->used)
		return;
	s->addr = *addr;
	s->port = port;
	s->probe_ns = now_ns;
}

void moat_syn_backend_get(const struct moat_syn_backend *b,
			  const struct moat_addr *addr, uint16_t port,
			  struct moat_syn_backend_opts *out)
{
	const struct backend_slot *s = slot_of(b, addr, port);

	if (s->used && s->port == port && moat_addr_eq(&s->addr, addr)) {
		*out = s->o;
		return;
	}
	out->mss = addr->family == MOAT_AF_INET6 ? MOAT_SYN_DEFAULT_MSS6
						 : MOAT_SYN_DEFAULT_MSS4;
	out->wscale = MOAT_SYN_WSCALE_NONE;
	out->sack_ok = false;
	out->ts_ok = false;
	out->ecn_ok = false;
	out->known = false;
}
