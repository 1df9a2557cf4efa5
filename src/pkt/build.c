/*
 * Builders for the packets moat emits: TCP segments (the SYN proxy's
 * SYN-ACK, the SYN towards the server, ACKs, RSTs) and ICMP/ICMPv6
 * destination unreachable for `reject` rules.  Last step of the packet's
 * path: the engine fills a spec, a builder writes a whole frame with correct
 * checksums into a buffer from the emit pool.  No allocation, no clock.
 */
#include <string.h>

#include "pkt/internal.h"

enum {
	ETH_HLEN = 14,
	IP4_HLEN = 20,
	IP6_HLEN = 40,
	TCP_HLEN = 20,
	TCP_OPT_MAX = 40,
	ICMP_HLEN = 8,
	/* RFC 1812 4.3.2.3: an ICMPv4 error is at most 576 bytes. */
	ICMP4_ERR_MAX = 576,
	/* RFC 4443 2.4(c): an ICMPv6 error fits the minimum MTU (RFC 8200). */
	ICMP6_ERR_MAX = 1280,
	ICMP4_UNREACH = 3,
	ICMP6_UNREACH = 1,
	AF_BSD_INET = 2,
	AF_BSD_INET6 = 24,  /* NetBSD/OpenBSD; the decoder takes all values */
	SLL_OUTGOING = 4,
	ARPHRD_ETHER = 1,
};

static void put_bsd_af(uint8_t *b, uint32_t af, bool net_order)
{
	if (net_order) {
		wr32(b, af);
		return;
	}
	memcpy(b, &af, 4);
}

/* Link header for IP version @ipv; returns its length, or -1. */
static int write_l2(uint8_t *buf, uint32_t cap, int linktype,
		    const struct moat_l2 *l2, uint8_t ipv)
{
	uint16_t et = ipv == 4 ? ETH_P_IPV4 : ETH_P_IPV6;
	uint32_t af = ipv == 4 ? AF_BSD_INET : AF_BSD_INET6;
	uint32_t n;

	switch (linktype) {
	case MOAT_LINK_ETHERNET:
		if (!l2 || l2->vlan_count > MOAT_VLAN_MAX)
			return -1;
		n = ETH_HLEN + 4u * l2->vlan_count;
		if (cap < n)
			return -1;
		memcpy(buf, l2->dst, 6);
		memcpy(buf + 6, l2->src, 6);
		for (unsigned i = 0; i < l2->vlan_count; i++) {
			/* 802.1ad: S-tag outside a C-tag. */
			bool outer = l2->vlan_count == 2 && i == 0;

			wr16(buf + 12 + 4 * i, outer ? ETH_P_QINQ : ETH_P_VLAN);
			wr16(buf + 14 + 4 * i, l2->vlan[i] & 0x0fff);
		}
		wr16(buf + n - 2, et);
		return (int)n;
	case MOAT_LINK_RAW:
		return 0;
	case MOAT_LINK_IPV4:
	case MOAT_LINK_IPV6:
		return (linktype == MOAT_LINK_IPV4) == (ipv == 4) ? 0 : -1;
	case MOAT_LINK_NULL:
	case MOAT_LINK_LOOP:
		if (cap < 4)
			return -1;
		put_bsd_af(buf, af, linktype == MOAT_LINK_LOOP);
		return 4;
	case MOAT_LINK_LINUX_SLL:
		if (cap < 16)
			return -1;
		memset(buf, 0, 16);
		wr16(buf, SLL_OUTGOING);
		wr16(buf + 2, ARPHRD_ETHER);
		wr16(buf + 14, et);
		return 16;
	case MOAT_LINK_LINUX_SLL2:
		if (cap < 20)
			return -1;
		memset(buf, 0, 20);
		wr16(buf, et);
		wr16(buf + 8, ARPHRD_ETHER);
		buf[10] = SLL_OUTGOING;
		return 20;
	default:
		return -1;
	}
}

/* IP header of @l4_len bytes of payload; returns its length. */
static uint32_t write_ip(uint8_t *b, const struct moat_addr *src,
			 const struct moat_addr *dst, uint8_t proto,
			 uint8_t ttl, uint32_t l4_len)
{
	if (src->family == MOAT_AF_INET) {
		b[0] = 0x45;
		b[1] = 0;
		wr16(b + 2, (uint16_t)(IP4_HLEN + l4_len));
		wr32(b + 4, 0x4000);   /* id 0, DF: RFC 6864 atomic datagram */
		b[8] = ttl;
		b[9] = proto;
		wr16(b + 10, 0);
		memcpy(b + 12, moat_addr_v4(src), 4);
		memcpy(b + 16, moat_addr_v4(dst), 4);
		wr16(b + 10, moat_csum_fold(moat_csum_partial(b, IP4_HLEN, 0)));
		return IP4_HLEN;
	}
	wr32(b, 0x60000000);
	wr16(b + 4, (uint16_t)l4_len);
	b[6] = proto;
	b[7] = ttl;
	memcpy(b + 8, src->b, 16);
	memcpy(b + 24, dst->b, 16);
	return IP6_HLEN;
}

static uint8_t *put_opt_ts(uint8_t *o, const struct moat_tcp_opts *t)
{
	o[0] = 8;
	o[1] = 10;
	wr32(o + 2, t->tsval);
	wr32(o + 6, t->tsecr);
	return o + 10;
}

/*
 * Options in the order Linux sends them, so fingerprints look ordinary:
 * MSS, SACK-permitted + timestamps, window scale, then SACK blocks as many
 * as still fit.  Padded with EOL to a multiple of 4.  Returns the length.
 */
static uint32_t write_tcp_options(uint8_t o[TCP_OPT_MAX],
				  const struct moat_tcp_opts *t)
{
	uint8_t *w = o;
	uint8_t pr = t->present;

	if (pr & MOAT_TCPOPT_MSS) {
		w[0] = 2;
		w[1] = 4;
		wr16(w + 2, t->mss);
		w += 4;
	}
	if ((pr & MOAT_TCPOPT_SACK_PERM) && (pr & MOAT_TCPOPT_TS)) {
		w[0] = 4;
		w[1] = 2;
		w = put_opt_ts(w + 2, t);
	} else if (pr & MOAT_TCPOPT_TS) {
		w[0] = w[1] = 1;
		w = put_opt_ts(w + 2, t);
	} else if (pr & MOAT_TCPOPT_SACK_PERM) {
		w[0] = w[1] = 1;
		w[2] = 4;
		w[3] = 2;
		w += 4;
	}
	if (pr & MOAT_TCPOPT_WSCALE) {
		w[0] = 1;
		w[1] = 3;
		w[2] = 3;
		w[3] = t->wscale > MOAT_TCP_WSCALE_MAX ? MOAT_TCP_WSCALE_MAX
						       : t->wscale;
		w += 4;
	}
	if ((pr & MOAT_TCPOPT_SACK) && t->sack_count) {
		uint32_t room = (uint32_t)(TCP_OPT_MAX - (w - o) - 4) / 8;
		uint32_t n = t->sack_count < room ? t->sack_count : room;

		n = n > MOAT_SACK_MAX ? MOAT_SACK_MAX : n;
		if (n) {
			w[0] = w[1] = 1;
			w[2] = 5;
			w[3] = (uint8_t)(2 + 8 * n);
			w += 4;
			for (uint32_t i = 0; i < n; i++, w += 8) {
				wr32(w, t->sack[i][0]);
				wr32(w + 4, t->sack[i][1]);
			}
		}
	}
	while ((w - o) % 4)
		*w++ = 0;
	return (uint32_t)(w - o);
}

/* L4 checksum over [l4, l4 + len) with the pseudo header, stored at @at. */
static void put_l4_csum(uint8_t *l4, uint32_t len, uint32_t at,
			const struct moat_addr *src,
			const struct moat_addr *dst, uint8_t proto)
{
	uint32_t sum = 0;

	if (proto != MOAT_IPPROTO_ICMP)
		sum = moat_csum_pseudo(src, dst, proto, len);
	wr16(l4 + at, 0);
	wr16(l4 + at, moat_csum_fold(moat_csum_partial(l4, len, sum)));
}

uint32_t moat_pkt_build_tcp(uint8_t *buf, uint32_t cap, int linktype,
			    const struct moat_l2 *l2,
			    const struct moat_tcp_spec *s)
{
	uint8_t opt[TCP_OPT_MAX];
	uint32_t olen, iplen, tlen, l4_len;
	uint8_t *ip, *tcp;
	int l2len;

	if (s->src.family != s->dst.family ||
	    (s->src.family != MOAT_AF_INET && s->src.family != MOAT_AF_INET6))
		return 0;
	if (s->payload_len && !s->payload)
		return 0;
	l2len = write_l2(buf, cap, linktype, l2, s->src.family);
	if (l2len < 0)
		return 0;
	olen = write_tcp_options(opt, &s->opt);
	iplen = s->src.family == MOAT_AF_INET ? IP4_HLEN : IP6_HLEN;
	l4_len = TCP_HLEN + olen + s->payload_len;
	tlen = (uint32_t)l2len + iplen + l4_len;
	if (tlen > cap || iplen + l4_len > 0xffff)
		return 0;
	ip = buf + l2len;
	write_ip(ip, &s->src, &s->dst, MOAT_IPPROTO_TCP, s->ttl ? s->ttl : 64,
		 l4_len);
	tcp = ip + iplen;
	wr16(tcp, s->sport);
	wr16(tcp + 2, s->dport);
	wr32(tcp + 4, s->seq);
	wr32(tcp + 8, s->ack);
	tcp[12] = (uint8_t)(((TCP_HLEN + olen) / 4) << 4);
	tcp[13] = s->flags;
	wr16(tcp + 14, s->win);
	wr32(tcp + 16, 0);  /* checksum, urgent pointer */
	memcpy(tcp + TCP_HLEN, opt, olen);
	if (s->payload_len)
		memcpy(tcp + TCP_HLEN + olen, s->payload, s->payload_len);
	put_l4_csum(tcp, l4_len, 16, &s->src, &s->dst, MOAT_IPPROTO_TCP);
	return tlen;
}

/*
 * Never answer an error with an error, nor a piece that is not the first
 * (RFC 1122 3.2.2, RFC 4443 2.4(e)): it could start a storm.
 */
static bool may_answer(const struct moat_pkt *o)
{
	if (!(o->have & MOAT_PKT_HAVE_L3) || (o->frag & MOAT_FRAG_LATER))
		return false;
	if (o->ipv == 4 && o->proto == MOAT_IPPROTO_ICMP &&
	    (o->have & MOAT_PKT_HAVE_L4) &&
	    (o->icmp_type == 3 || o->icmp_type == 4 || o->icmp_type == 5 ||
	     o->icmp_type == 11 || o->icmp_type == 12))
		return false;
	if (o->ipv == 6 && o->proto == MOAT_IPPROTO_ICMPV6 &&
	    (o->have & MOAT_PKT_HAVE_L4) && o->icmp_type < 128)
		return false;
	return true;
}

uint32_t moat_pkt_build_unreach(uint8_t *buf, uint32_t cap, int linktype,
				const struct moat_l2 *l2,
				const struct moat_addr *src, uint8_t code,
				const struct moat_pkt *orig)
{
	bool v4 = orig->ipv == 4;
	uint32_t iplen = v4 ? IP4_HLEN : IP6_HLEN;
	uint32_t limit = (v4 ? ICMP4_ERR_MAX : ICMP6_ERR_MAX) - iplen - ICMP_HLEN;
	uint32_t end = orig->caplen, quote, l4_len, tlen;
	uint8_t proto = v4 ? MOAT_IPPROTO_ICMP : MOAT_IPPROTO_ICMPV6;
	uint8_t *ip, *icmp;
	int l2len;

	if (!may_answer(orig) || src->family != orig->src.family)
		return 0;
	if (orig->l3_len && (uint32_t)orig->l3_off + orig->l3_len < end)
		end = (uint32_t)orig->l3_off + orig->l3_len;
	if (end <= orig->l3_off)
		return 0;
	quote = end - orig->l3_off;
	quote = quote < limit ? quote : limit;
	l2len = write_l2(buf, cap, linktype, l2, orig->ipv);
	if (l2len < 0)
		return 0;
	l4_len = ICMP_HLEN + quote;
	tlen = (uint32_t)l2len + iplen + l4_len;
	if (tlen > cap)
		return 0;
	ip = buf + l2len;
	write_ip(ip, src, &orig->src, proto, 64, l4_len);
	icmp = ip + iplen;
	icmp[0] = v4 ? ICMP4_UNREACH : ICMP6_UNREACH;
	icmp[1] = code;
	memset(icmp + 2, 0, 6);   /* checksum, unused */
	memcpy(icmp + ICMP_HLEN, orig->frame + orig->l3_off, quote);
	put_l4_csum(icmp, l4_len, 2, src, &orig->src, proto);
	return tlen;
}
