/*
 * libFuzzer target for the packet codec, the parser every frame from the
 * wire meets first.  Input: byte 0 picks the link type (low 4 bits) and
 * whether the capture was cut by a snaplen (bit 7); the rest is the frame.
 * Each input is decoded, its checksums verified and refilled, formatted,
 * and, when it decodes, answered with the builders, whose output must
 * decode back with the same fields: a builder/decoder disagreement aborts.
 *
 * ASan catches any read past the frame: it lives in its own allocation of
 * exactly caplen bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "moat/pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Index -> link type; the seed maker in scripts/fuzz-smoke uses this map. */
static const int linktypes[16] = {
	MOAT_LINK_ETHERNET, MOAT_LINK_RAW, MOAT_LINK_IPV4, MOAT_LINK_IPV6,
	MOAT_LINK_LINUX_SLL, MOAT_LINK_LINUX_SLL2, MOAT_LINK_NULL,
	MOAT_LINK_LOOP, 12, 14, MOAT_LINK_ETHERNET, MOAT_LINK_ETHERNET,
	MOAT_LINK_ETHERNET, MOAT_LINK_ETHERNET, 147, MOAT_LINK_ETHERNET,
};

static void check(int ok)
{
	if (!ok)
		abort();
}

/* The view never points outside the frame it was given. */
static void check_view(const struct moat_pkt *p)
{
	check(p->l3_off <= p->caplen);
	if (p->have & MOAT_PKT_HAVE_L4)
		check(p->l4_off <= p->caplen);
	check(p->vlan_count <= MOAT_VLAN_MAX);
	check(p->opt.sack_count <= MOAT_SACK_MAX);
	check(p->opt.wscale <= MOAT_TCP_WSCALE_MAX);
}

/* A SYN-ACK answer built from the view must decode to what was asked. */
static void round_trip_tcp(const struct moat_pkt *p, int linktype)
{
	static const struct moat_l2 l2 = { .dst = { 2 }, .src = { 4 } };
	static uint8_t buf[2048];
	struct moat_tcp_spec s = { 0 };
	struct moat_pkt q;
	uint32_t n;

	s.src = p->dst;
	s.dst = p->src;
	s.sport = p->dport ? p->dport : 1;
	s.dport = p->sport ? p->sport : 1;
	s.seq = p->ack;
	s.ack = p->seq + 1;
	s.flags = MOAT_TCP_SYN | MOAT_TCP_ACK;
	s.win = p->win;
	s.opt = p->opt;
	n = moat_pkt_build_tcp(buf, sizeof(buf), linktype, &l2, &s);
	if (n == 0)
		return;
	check(moat_pkt_decode(&q, buf, n, n, linktype) == MOAT_R_NONE);
	check(moat_pkt_verify_checksums(&q) == MOAT_R_NONE);
	check(q.seq == s.seq && q.ack == s.ack && q.sport == s.sport);
	check(moat_addr_eq(&q.src, &s.src) && moat_addr_eq(&q.dst, &s.dst));
	check((q.opt.present & ~MOAT_TCPOPT_SACK) ==
	      (s.opt.present & ~MOAT_TCPOPT_SACK));
}

static void round_trip_unreach(const struct moat_pkt *p, int linktype)
{
	static const struct moat_l2 l2 = { .dst = { 2 }, .src = { 4 } };
	static uint8_t buf[2048];
	struct moat_pkt q;
	uint32_t n;

	n = moat_pkt_build_unreach(buf, sizeof(buf), linktype, &l2, &p->dst,
				   3, p);
	if (n == 0)
		return;
	check(n <= (p->ipv == 4 ? 576u : 1280u) + 20);
	check(moat_pkt_decode(&q, buf, n, n, linktype) == MOAT_R_NONE);
	check(moat_pkt_verify_checksums(&q) == MOAT_R_NONE);
	check(q.icmp_type == (p->ipv == 4 ? 3 : 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct moat_pkt p;
	char line[512];
	uint32_t caplen, wirelen;
	uint8_t *frame;
	int linktype;

	if (size < 1 || size > 65536)
		return 0;
	linktype = linktypes[data[0] & 15];
	caplen = (uint32_t)(size - 1);
	wirelen = (data[0] & 0x80) ? caplen + 200 : caplen;
	frame = malloc(caplen ? caplen : 1);
	if (!frame)
		return 0;
	memcpy(frame, data + 1, caplen);

	enum moat_reason r = moat_pkt_decode(&p, frame, caplen, wirelen,
					     linktype);
	check(r < MOAT_R_COUNT);
	check_view(&p);
	moat_pkt_format(&p, line, sizeof(line));
	check(strlen(line) < sizeof(line));
	if (r == MOAT_R_NONE && p.ipv) {
		(void)moat_pkt_verify_checksums(&p);
		moat_pkt_fill_checksums(&p);
		if (caplen == wirelen && !(p.frag & MOAT_FRAG_IS) &&
		    (p.have & MOAT_PKT_HAVE_L4))
			check(moat_pkt_verify_checksums(&p) == MOAT_R_NONE);
		round_trip_tcp(&p, linktype);
		round_trip_unreach(&p, linktype);
	}
	free(frame);
	return 0;
}
