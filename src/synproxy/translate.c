/*
 * Sequence translation: the one mechanism that rewrites TCP numbers in
 * flight, for the SYN proxy (the client knows our cookie ISN, the server
 * its own ISN) and for sequence modulation (the protected host's ISN vs a
 * random one).
 *
 * On the packet's path this runs after the flow lookup, on every segment of
 * a flow whose conntrack entry carries deltas: SEQ, ACK, each SACK block's
 * edges (RFC 2018: they name the same sequence space as ACK), the timestamp
 * option (RFC 7323: TSval and TSecr), and the window when the two sides were
 * told different window scales.  The TCP checksum is updated incrementally
 * (RFC 1624, eqn. 3), 16 bits at a time, so the cost does not depend on the
 * segment's length.
 *
 * Incremental updates pair bytes as the checksum does: in 16-bit words
 * counted from the TCP header's start.  TCP options need not be aligned
 * (a lone NOP before TS puts TSval at an odd offset), so a field at an odd
 * offset is patched word by word rather than as one 32-bit value.
 */
#include <string.h>

#include "moat/syn.h"

enum {
	TCP_OFF_SEQ = 4,
	TCP_OFF_ACK = 8,
	TCP_OFF_WIN = 14,
	TCP_OFF_CSUM = 16,
	TCP_HDR_MIN = 20,
};

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

/* Write host-order @v at @off of the TCP header @tcp, fixing the checksum. */
static void patch32(uint8_t *tcp, unsigned off, uint32_t v)
{
	uint8_t nb[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
			  (uint8_t)(v >> 8), (uint8_t)v };
	uint32_t o4, n4;
	uint16_t o2, n2;
	unsigned w, i;

	if ((off & 1) == 0) {
		memcpy(&o4, tcp + off, 4);
		memcpy(tcp + off, nb, 4);
		memcpy(&n4, tcp + off, 4);
		moat_csum_replace4(tcp + TCP_OFF_CSUM, o4, n4);
		return;
	}
	/* Odd offset: the words (x,b0) (b1,b2) (b3,y); x and y unchanged. */
	for (w = off - 1; w < off + 4; w += 2) {
		memcpy(&o2, tcp + w, 2);
		for (i = w; i < w + 2; i++)
			if (i >= off && i < off + 4)
				tcp[i] = nb[i - off];
		memcpy(&n2, tcp + w, 2);
		moat_csum_replace2(tcp + TCP_OFF_CSUM, o2, n2);
	}
}

uint16_t moat_syn_rescale_window(uint16_t win, uint8_t shl, uint8_t shr)
{
	uint64_t w;

	if (shl == shr || win == 0)
		return win;
	w = ((uint64_t)win << (shl & 31)) >> (shr & 31);
	if (w > 65535)
		return 65535;
	/* A window the client reads as zero would stall it (RFC 9293
	 * section 3.8.6.1 zero-window probing) though the server has room. */
	return w == 0 ? 1 : (uint16_t)w;
}

/* Where the segment's bytes may be written: NULL if not a full header. */
static uint8_t *tcp_header(const struct moat_pkt *p)
{
	if (p->proto != MOAT_IPPROTO_TCP || p->tcp_hlen < TCP_HDR_MIN ||
	    (uint32_t)p->l4_off + p->tcp_hlen > p->caplen)
		return NULL;
	return p->frame + p->l4_off;
}

static bool translate_ts(struct moat_pkt *p, uint8_t *tcp,
			 const struct moat_syn_xlate *x)
{
	unsigned off = p->opt.ts_off;

	if (!(p->opt.present & MOAT_TCPOPT_TS) || off == 0 ||
	    off + 8u > p->tcp_hlen || (x->tsval == 0 && x->tsecr == 0))
		return false;
	if (x->tsval) {
		p->opt.tsval = get32(tcp + off) + x->tsval;
		patch32(tcp, off, p->opt.tsval);
	}
	/* TSecr means something only with ACK set (RFC 7323 section 3.2). */
	if (x->tsecr && (p->tcp_flags & MOAT_TCP_ACK)) {
		p->opt.tsecr = get32(tcp + off + 4) + x->tsecr;
		patch32(tcp, off + 4, p->opt.tsecr);
	}
	return true;
}

static bool translate_sack(struct moat_pkt *p, uint8_t *tcp, uint32_t delta)
{
	unsigned off = p->opt.sack_off, n = p->opt.sack_count, i, e;
	uint32_t v;

	if (!(p->opt.present & MOAT_TCPOPT_SACK) || off == 0 || delta == 0)
		return false;
	if (n > MOAT_SACK_MAX)
		n = MOAT_SACK_MAX;
	for (i = 0; i < n && off + 8 * i + 8 <= p->tcp_hlen; i++) {
		for (e = 0; e < 2; e++) {
			v = get32(tcp + off + 8 * i + 4 * e) + delta;
			patch32(tcp, off + 8 * i + 4 * e, v);
			p->opt.sack[i][e] = v;
		}
	}
	return i > 0;
}

static bool translate_window(struct moat_pkt *p, uint8_t *tcp,
			     const struct moat_syn_xlate *x)
{
	uint16_t w, o2, n2;

	if (x->win_shl == x->win_shr || (p->tcp_flags & MOAT_TCP_SYN))
		return false;
	w = moat_syn_rescale_window(p->win, x->win_shl, x->win_shr);
	if (w == p->win)
		return false;
	memcpy(&o2, tcp + TCP_OFF_WIN, 2);
	tcp[TCP_OFF_WIN] = (uint8_t)(w >> 8);
	tcp[TCP_OFF_WIN + 1] = (uint8_t)w;
	memcpy(&n2, tcp + TCP_OFF_WIN, 2);
	moat_csum_replace2(tcp + TCP_OFF_CSUM, o2, n2);
	p->win = w;
	return true;
}

bool moat_syn_translate(struct moat_pkt *p, const struct moat_syn_xlate *x)
{
	uint8_t *tcp = tcp_header(p);
	bool changed = false;

	if (!tcp)
		return false;
	if (x->seq) {
		p->seq = get32(tcp + TCP_OFF_SEQ) + x->seq;
		patch32(tcp, TCP_OFF_SEQ, p->seq);
		changed = true;
	}
	/* An ACK field without the ACK flag carries no meaning; leave it. */
	if (x->ack && (p->tcp_flags & MOAT_TCP_ACK)) {
		p->ack = get32(tcp + TCP_OFF_ACK) + x->ack;
		patch32(tcp, TCP_OFF_ACK, p->ack);
		changed = true;
	}
	changed |= translate_sack(p, tcp, x->ack);
	changed |= translate_ts(p, tcp, x);
	changed |= translate_window(p, tcp, x);
	return changed;
}
