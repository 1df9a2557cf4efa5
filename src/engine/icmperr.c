/*
 * ICMP and ICMPv6 errors: the stage after the flow lookup for a message
 * that quotes a packet (destination unreachable, time exceeded, parameter
 * problem, packet too big...).  An error is not a flow of its own; it passes
 * only as part of the flow of the packet it quotes, and only when it could
 * have been sent about that packet:
 *
 *        quoted packet  S ------------------> D   (travelled in direction d)
 *        the error      S <------ R (or D)         (travels the other way)
 *
 *   - S, the quoted source, is the error's destination (RFC 792, RFC 4443
 *     2.4: an error goes to the source of the packet that caused it); an
 *     error about S's flow sent to anyone else is icmp-wrong-dst;
 *   - it was sent by D or by a router between moat and D, so it comes in
 *     from the zone D lives in (the zone the flow's replies come from);
 *     from anywhere else it is icmp-wrong-zone;
 *   - for TCP, the quoted SEQ lies in the window of direction d, so a blind
 *     attacker cannot reset or throttle a connection with forged errors
 *     (RFC 5927 section 4.1, as Linux's tcp_v4_err and pf do).
 *
 * Linux conntrack and pf (pf_test_state_icmp) ask the same of an error.
 *
 * Translation: the quoted packet left moat rewritten when its flow is
 * modulated or proxied (src/synproxy/translate.c), so the quote carries the
 * numbers its destination saw, not those S sent.  S's stack checks the
 * quoted SEQ against its own (Linux drops an error whose SEQ is outside
 * snd.una..snd.nxt), so the quote is translated back, as pf demodulates
 * it: SEQ -= seq_delta[d], ACK += seq_delta[!d].  The quoted TCP checksum,
 * when the quote holds it, and the ICMP checksum are updated incrementally
 * (RFC 1624).  Quoted timestamps and SACK blocks are left as they are: no
 * stack reads them in an error.
 */
#include "engine/engine_impl.h"

enum {
	ICMP_OFF_CSUM = 2,
	TCP_OFF_SEQ = 4,
	TCP_OFF_ACK = 8,
	TCP_OFF_CSUM = 16,
};

/* The zone the quoted destination lives in: where its flow's replies
 * come from, else where its address belongs; -1 when not known. */
static int quoted_dst_zone(const struct moat_engine *e,
			   const struct moat_ct_entry *ent, int dir,
			   const struct moat_pkt *p)
{
	int z = ent->zone[!dir];

	if (z >= 0)
		return z;
	return moat_config_zone_by_addr(e->cfg, &p->inner.dst);
}

enum moat_reason moat_engine_icmp_related(struct moat_engine *e,
					  struct moat_flight *fl,
					  struct moat_ct_entry **out, int *dir)
{
	const struct moat_pkt *p = &fl->p;
	struct moat_ct_entry *ent;
	int z;

	*out = NULL;
	ent = moat_ct_lookup_inner(e->ct, p, dir);
	if (!ent) {
		moat_engine_say(e, "icmp error: quotes no known flow");
		return MOAT_R_ICMP_UNRELATED;
	}
	moat_engine_say(e, "icmp error: quotes a %s flow (rule %u), %s "
			"direction", moat_ct_state_name((enum moat_ct_state)ent->state),
			ent->rule,
			*dir == MOAT_CT_ORIG ? "original" : "reply");
	if (!moat_addr_eq(&p->dst, &p->inner.src)) {
		moat_engine_say(e, "icmp error: not sent to the quoted source");
		return MOAT_R_ICMP_WRONG_DST;
	}
	z = quoted_dst_zone(e, ent, *dir, p);
	if (z >= 0 && fl->res->in_zone >= 0 && z != fl->res->in_zone) {
		moat_engine_say(e, "icmp error: entered from zone %d, the "
				"quoted destination lives in zone %d",
				fl->res->in_zone, z);
		return MOAT_R_ICMP_WRONG_ZONE;
	}
	if (p->inner.proto == MOAT_IPPROTO_TCP && p->inner.has_seq &&
	    !moat_ct_icmp_seq_ok(ent, *dir, p->inner.seq)) {
		moat_engine_say(e, "icmp error: quoted SEQ %u outside the "
				"window", p->inner.seq);
		return MOAT_R_ICMP_UNRELATED;
	}
	*out = ent;
	return MOAT_R_STATE_MATCH;
}

/*
 * Replace the quoted 32-bit field at @off of the quoted TCP header @tcp by
 * @v: the quoted TCP checksum (when quoted) and the ICMP checksum @icsum
 * follow.  The quoted header starts at an even offset of the ICMP message
 * (8 bytes of ICMP, an IP header of 4-byte units), so its words are the
 * ICMP checksum's words.
 */
static void requote32(uint8_t *tcp, uint32_t quoted, unsigned off,
		      uint32_t v, uint8_t *icsum)
{
	uint8_t nb[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
			  (uint8_t)(v >> 8), (uint8_t)v };
	uint32_t o4, n4;
	uint16_t oc, nc;

	memcpy(&o4, tcp + off, 4);
	memcpy(tcp + off, nb, 4);
	memcpy(&n4, tcp + off, 4);
	moat_csum_replace4(icsum, o4, n4);
	if (quoted < TCP_OFF_CSUM + 2)
		return;
	memcpy(&oc, tcp + TCP_OFF_CSUM, 2);
	moat_csum_replace4(tcp + TCP_OFF_CSUM, o4, n4);
	memcpy(&nc, tcp + TCP_OFF_CSUM, 2);
	moat_csum_replace2(icsum, oc, nc);
}

bool moat_engine_icmp_translate(struct moat_engine *e, struct moat_flight *fl,
				const struct moat_ct_entry *ent, int dir)
{
	struct moat_pkt_inner *in = &fl->p.inner;
	uint8_t *tcp, *icsum;
	bool changed = false;

	if (!(ent->flags & (MOAT_CT_F_MODULATE | MOAT_CT_F_SYNPROXY)) ||
	    in->proto != MOAT_IPPROTO_TCP || in->l4_off == 0)
		return false;
	tcp = fl->p.frame + in->l4_off;
	icsum = fl->p.frame + fl->p.l4_off + ICMP_OFF_CSUM;
	if (in->has_seq && ent->seq_delta[dir]) {
		in->seq -= ent->seq_delta[dir];
		requote32(tcp, in->l4_len, TCP_OFF_SEQ, in->seq, icsum);
		changed = true;
	}
	if (in->has_ack && ent->seq_delta[!dir]) {
		in->ack += ent->seq_delta[!dir];
		requote32(tcp, in->l4_len, TCP_OFF_ACK, in->ack, icsum);
		changed = true;
	}
	if (changed)
		moat_engine_say(e, "icmp error: quoted SEQ/ACK translated back "
				"to the sender's numbers");
	return changed;
}
