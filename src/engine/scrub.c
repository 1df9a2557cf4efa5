/*
 * Normalisation of passed packets, in the spirit of pf's scrub (pf.conf(5)
 * "Traffic Normalization"): each is an option, off by default, and acts
 * on a packet the engine has already decided to pass, in place, as the
 * last step of its path.  The checksums are fixed incrementally (RFC 1624,
 * eqn. 3), so a first fragment, whose TCP checksum covers bytes moat never
 * sees, stays right.
 *
 *   max-mss N     a SYN or SYN-ACK whose MSS option (RFC 9293 section
 *                 3.7.1) says more than N says N: for links whose path
 *                 MTU discovery is broken (RFC 2923 section 2.1)
 *   min-ttl N     IPv4 TTL (RFC 791) and IPv6 hop limit (RFC 8200
 *                 section 3) below N are raised to N (traceroute through
 *                 moat then shows nothing before it)
 *   random-id     the identification of an IPv4 packet that is not a
 *                 fragment is replaced: a host's counter no longer tells
 *                 how much it sends (the idle scan); RFC 6864 section 4.1
 *                 gives atomic datagrams' IDs no meaning and leaves
 *                 others to be unique for their source, destination and
 *                 protocol, which a fresh keyed hash per packet keeps as
 *                 well as a host's random IDs would.  Fragments keep
 *                 theirs: their IDs join the pieces.
 *   tcp-reserved  the four reserved bits of the TCP header (RFC 9293
 *                 section 3.1, "Rsrvd": must be zero when sent) are
 *                 cleared, so nobody carries a covert channel or a
 *                 fingerprint through them (this clears the AE bit of
 *                 Accurate ECN too, which then falls back to classic ECN)
 *
 * The IDs come from SipHash-2-4 over the packet's addresses, its old ID
 * and a per-engine counter, keyed from the engine's secret: the randomness
 * comes in with the secret at create, nothing here reads a clock.
 */
#include <sodium.h>

#include "engine/frag_glue.h"
#include "moat/siphash.h"

enum {
	IP4_OFF_ID = 4,
	IP4_OFF_TTL = 8,
	IP4_OFF_CSUM = 10,
	IP6_OFF_HLIM = 7,
	TCP_OFF_X2 = 12,     /* data offset (4 bits), Rsrvd (4 bits) */
	TCP_OFF_CSUM = 16,
	TCP_FIXED = 20,
	TCPOPT_EOL = 0,
	TCPOPT_NOP = 1,
	TCPOPT_MSS = 2,
	TCPOPT_MSS_LEN = 4,
};

void moat_engine_scrub_init(struct moat_engine *e)
{
	crypto_generichash(e->scrub.id_key, sizeof(e->scrub.id_key),
			   (const uint8_t *)"moat ip id key", 14, e->secret,
			   sizeof(e->secret));
	e->scrub.id_count = 0;
}

/*
 * Byte @off of the header at @base becomes @val; the checksum at @csum
 * follows.  The checksum sums 16-bit words from the header's start (an
 * even distance from the pseudo-header's), so the word that holds the
 * byte is what changes, whatever the byte's own alignment.
 */
static void poke(uint8_t *base, uint32_t off, uint8_t val, uint8_t *csum)
{
	uint8_t *w = base + (off & ~1u);
	uint16_t old, new;

	memcpy(&old, w, 2);
	base[off] = val;
	memcpy(&new, w, 2);
	if (csum)
		moat_csum_replace2(csum, old, new);
}

/* Bytes [@off, @off + @n) of the frame were captured. */
static bool captured(const struct moat_pkt *p, uint32_t off, uint32_t n)
{
	return off + n <= p->caplen;
}

static bool scrub_ttl(struct moat_engine *e, struct moat_pkt *p)
{
	uint8_t *ip = p->frame + p->l3_off;

	if (p->ttl >= e->opt.min_ttl)
		return false;
	if (p->ipv == 4) {
		if (!captured(p, p->l3_off, 20))
			return false;
		poke(ip, IP4_OFF_TTL, e->opt.min_ttl, ip + IP4_OFF_CSUM);
	} else {
		if (!captured(p, p->l3_off, 40))
			return false;
		ip[IP6_OFF_HLIM] = e->opt.min_ttl; /* no IPv6 header checksum */
	}
	p->ttl = e->opt.min_ttl;
	e->scrub.ttl++;
	return true;
}

static bool scrub_id(struct moat_engine *e, struct moat_pkt *p)
{
	uint8_t *ip = p->frame + p->l3_off;
	uint8_t in[4 + 4 + 1 + 2 + 8];
	uint64_t h;

	if (p->ipv != 4 || (p->frag & MOAT_FRAG_IS) ||
	    !captured(p, p->l3_off, 20))
		return false;
	memcpy(in, moat_addr_v4(&p->src), 4);
	memcpy(in + 4, moat_addr_v4(&p->dst), 4);
	in[8] = p->proto;
	memcpy(in + 9, ip + IP4_OFF_ID, 2);
	memcpy(in + 11, &e->scrub.id_count, 8);
	e->scrub.id_count++;
	h = moat_siphash24(e->scrub.id_key, in, sizeof(in));
	poke(ip, IP4_OFF_ID, (uint8_t)(h >> 8), ip + IP4_OFF_CSUM);
	poke(ip, IP4_OFF_ID + 1, (uint8_t)h, ip + IP4_OFF_CSUM);
	p->frag_id = (uint32_t)(h & 0xffff);
	e->scrub.id++;
	return true;
}

/* The TCP header of @p is all here (not a later fragment, not cut). */
static uint8_t *tcp_header(struct moat_pkt *p)
{
	if (p->proto != MOAT_IPPROTO_TCP || !(p->have & MOAT_PKT_HAVE_L4) ||
	    (p->frag & MOAT_FRAG_LATER) || p->tcp_hlen < TCP_FIXED ||
	    !captured(p, p->l4_off, p->tcp_hlen))
		return NULL;
	return p->frame + p->l4_off;
}

/* The offset of the MSS option's value in the TCP header, or 0.  The
 * walk is bounded by the header's 40 option bytes (RFC 9293 3.1). */
static uint32_t mss_at(const uint8_t *tcp, uint32_t hlen)
{
	uint32_t i = TCP_FIXED;

	while (i < hlen) {
		uint8_t kind = tcp[i];

		if (kind == TCPOPT_EOL)
			return 0;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= hlen || tcp[i + 1] < 2 || i + tcp[i + 1] > hlen)
			return 0;
		if (kind == TCPOPT_MSS && tcp[i + 1] == TCPOPT_MSS_LEN)
			return i + 2;
		i += tcp[i + 1];
	}
	return 0;
}

static bool scrub_mss(struct moat_engine *e, struct moat_pkt *p, uint8_t *tcp)
{
	uint32_t at;
	uint16_t mss, max = e->opt.max_mss;

	/* RFC 9293 3.7.1: MSS is sent only in SYN segments. */
	if (!(p->tcp_flags & MOAT_TCP_SYN))
		return false;
	at = mss_at(tcp, p->tcp_hlen);
	if (!at)
		return false;
	mss = (uint16_t)(tcp[at] << 8 | tcp[at + 1]);
	if (mss <= max)
		return false;
	poke(tcp, at, (uint8_t)(max >> 8), tcp + TCP_OFF_CSUM);
	poke(tcp, at + 1, (uint8_t)max, tcp + TCP_OFF_CSUM);
	p->opt.mss = max;
	e->scrub.mss++;
	return true;
}

static bool scrub_reserved(struct moat_engine *e, uint8_t *tcp)
{
	if (!(tcp[TCP_OFF_X2] & 0x0f))
		return false;
	poke(tcp, TCP_OFF_X2, tcp[TCP_OFF_X2] & 0xf0, tcp + TCP_OFF_CSUM);
	e->scrub.reserved++;
	return true;
}

void moat_engine_scrub(struct moat_engine *e, struct moat_flight *fl)
{
	const struct moat_options *o = &e->opt;
	struct moat_pkt *p = &fl->p;
	bool changed = false;
	uint8_t *tcp;

	if (!(o->max_mss | o->min_ttl | o->random_id | o->tcp_reserved_clear) ||
	    (p->ipv != 4 && p->ipv != 6))
		return;
	if (o->min_ttl)
		changed |= scrub_ttl(e, p);
	if (o->random_id)
		changed |= scrub_id(e, p);
	tcp = tcp_header(p);
	if (tcp && o->max_mss)
		changed |= scrub_mss(e, p, tcp);
	if (tcp && o->tcp_reserved_clear)
		changed |= scrub_reserved(e, tcp);
	if (changed) {
		moat_engine_say(e, "scrub: rewritten");
		fl->res->rewritten = true;
	}
}

void moat_engine_scrub_released(struct moat_engine *e, struct moat_emit *out,
				uint32_t from)
{
	struct moat_pkt p;

	if (!e->opt.min_ttl)
		return;
	for (uint32_t i = from; i < out->count && i < MOAT_EMIT_MAX; i++) {
		struct moat_emit_frame *fr = &out->frames[i];

		if (moat_pkt_decode(&p, fr->data, fr->len, fr->len,
				    fr->linktype) == MOAT_R_NONE &&
		    (p.ipv == 4 || p.ipv == 6))
			scrub_ttl(e, &p);
	}
}
