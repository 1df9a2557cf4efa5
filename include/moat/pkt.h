/*
 * The parsed view of a packet, the decoder that fills it, checksums, and the
 * builders for the packets moat emits.
 *
 * Decoding is the first stage of the packet's path: it turns the bytes of a
 * frame into a view every later stage reads (rules, conntrack, the SYN proxy)
 * without copying the frame: the view holds offsets into the frame and the
 * header fields converted to host order.  Nothing is read before its bounds
 * are checked; a frame that cannot be trusted gets a reason and nothing else.
 *
 * Byte order: every integer field of struct moat_pkt is in host order; the
 * frame keeps wire order.  Code that rewrites the frame uses the offsets.
 */
#ifndef MOAT_PKT_H
#define MOAT_PKT_H

#include <stdbool.h>
#include <stdint.h>

#include "moat/addr.h"
#include "moat/reason.h"

/* Link types, numbered as pcap's LINKTYPE_ values (tcpdump.org/linktypes). */
enum moat_linktype {
	MOAT_LINK_NULL = 0,       /* BSD loopback: 4-byte AF_ in host order */
	MOAT_LINK_ETHERNET = 1,
	MOAT_LINK_RAW = 101,      /* raw IPv4 or IPv6; DLT_RAW 12 and 14 too */
	MOAT_LINK_LOOP = 108,     /* OpenBSD loopback: AF_ in network order */
	MOAT_LINK_LINUX_SLL = 113,
	MOAT_LINK_IPV4 = 228,
	MOAT_LINK_IPV6 = 229,
	MOAT_LINK_LINUX_SLL2 = 276,
};

enum moat_ipproto {
	MOAT_IPPROTO_ICMP = 1,
	MOAT_IPPROTO_TCP = 6,
	MOAT_IPPROTO_UDP = 17,
	MOAT_IPPROTO_ICMPV6 = 58,
};

enum moat_tcp_flag {
	MOAT_TCP_FIN = 0x01,
	MOAT_TCP_SYN = 0x02,
	MOAT_TCP_RST = 0x04,
	MOAT_TCP_PSH = 0x08,
	MOAT_TCP_ACK = 0x10,
	MOAT_TCP_URG = 0x20,
	MOAT_TCP_ECE = 0x40,
	MOAT_TCP_CWR = 0x80,
};

/* Which TCP options the segment carried (struct moat_tcp_opts.present). */
enum moat_tcpopt_bit {
	MOAT_TCPOPT_MSS = 1 << 0,
	MOAT_TCPOPT_WSCALE = 1 << 1,
	MOAT_TCPOPT_SACK_PERM = 1 << 2,
	MOAT_TCPOPT_TS = 1 << 3,
	MOAT_TCPOPT_SACK = 1 << 4,
};

enum {
	MOAT_VLAN_MAX = 2,        /* 802.1Q and QinQ; deeper stacks are refused */
	MOAT_SACK_MAX = 4,        /* RFC 2018: at most 4 blocks fit in 40 bytes */
	MOAT_IP6_EXTHDR_MAX = 8,  /* bound on the extension header walk */
	MOAT_TCP_WSCALE_MAX = 14, /* RFC 7323 section 2.3: larger values clamp */
};

struct moat_tcp_opts {
	uint8_t present;  /* enum moat_tcpopt_bit */
	uint8_t wscale;   /* clamped to MOAT_TCP_WSCALE_MAX */
	uint16_t mss;
	uint32_t tsval, tsecr;
	uint8_t ts_off;   /* offset of TSval from the TCP header start, or 0 */
	uint8_t sack_off; /* offset of the first SACK block's left edge, or 0 */
	uint8_t sack_count;
	uint32_t sack[MOAT_SACK_MAX][2]; /* left, right edges */
};

/* What an ICMP error quotes of the packet that caused it (RFC 792, 4443). */
struct moat_pkt_inner {
	bool present;        /* an error with a decodable quoted header */
	uint8_t ipv;         /* 4 or 6 */
	uint8_t proto;       /* enum moat_ipproto of the quoted packet */
	struct moat_addr src, dst;
	uint16_t sport, dport; /* TCP/UDP ports; ICMP echo: id in both */
	uint32_t seq;        /* TCP: the quoted SEQ, when 8 bytes were quoted */
	uint32_t ack;        /* TCP: the quoted ACK, when has_ack */
	bool has_seq;
	bool has_ack;        /* 14 bytes quoted and the quoted ACK flag set */
	bool has_ports;      /* sport/dport were quoted (4 bytes of L4) */
	uint16_t l4_off;     /* where the quoted L4 header starts in the
				frame (0: no L4 header quoted) */
	uint16_t l4_len;     /* how many bytes of it were captured */
};

/* Fragment bits (struct moat_pkt.frag). */
enum moat_frag_bit {
	MOAT_FRAG_DF = 1 << 0,
	MOAT_FRAG_MF = 1 << 1,
	MOAT_FRAG_IS = 1 << 2,    /* MF set or offset != 0: a piece of a packet */
	MOAT_FRAG_LATER = 1 << 3, /* offset != 0: no L4 header in this piece */
};

/* Which layers the view holds (struct moat_pkt.have). */
enum moat_pkt_have_bit {
	MOAT_PKT_HAVE_L3 = 1 << 0, /* ipv, addresses, ttl, frag... are set */
	MOAT_PKT_HAVE_L4 = 1 << 1, /* the L4 header's fields are set */
};

/*
 * Validity: decode does not clear the whole struct (it is on the fast path).
 * Every scalar field is set (to 0 when absent), except these, which hold
 * meaning only when their flag says so: src/dst bytes (have & HAVE_L3; the
 * family is always set), opt.tsval/tsecr (opt.present & TS), opt.sack
 * (opt.sack_count), and inner.* (inner.present, then has_ports/has_seq).
 */

struct moat_pkt {
	uint8_t *frame;      /* borrowed from the caller for one call */
	uint32_t caplen;     /* bytes present in @frame */
	uint32_t wirelen;    /* bytes on the wire (>= caplen) */
	uint16_t linktype;   /* enum moat_linktype */
	uint16_t ethertype;  /* innermost; 0x0800, 0x86dd, 0x0806 ... */
	uint8_t vlan_count;
	uint16_t vlan[MOAT_VLAN_MAX]; /* VLAN ids, outermost first */
	uint16_t l3_off;     /* start of the IP header */
	uint16_t l4_off;     /* start of the TCP/UDP/ICMP header */
	uint16_t payload_off;
	uint16_t payload_len; /* L4 payload bytes per the IP length */
	uint16_t l3_len;     /* IP header + payload per the IP length field */
	uint8_t have;        /* enum moat_pkt_have_bit */

	uint8_t ipv;         /* 4, 6, or 0 for a non-IP frame (ARP...) */
	uint8_t proto;       /* upper-layer protocol after extension headers */
	uint8_t ttl;         /* or hop limit */
	uint8_t tos;         /* or traffic class */
	uint8_t frag;        /* enum moat_frag_bit */
	uint16_t frag_off;   /* in bytes */
	uint16_t frag_data_off; /* a fragment: where its fragmentable part
				 * starts (IPv4: after the header; IPv6: after
				 * the fragment header); else 0 */
	uint32_t frag_id;
	struct moat_addr src, dst;

	uint16_t sport, dport; /* TCP/UDP; ICMP echo: the identifier in both */

	/* TCP */
	uint32_t seq, ack;
	uint16_t win, urp;
	uint8_t tcp_flags;   /* enum moat_tcp_flag */
	uint8_t tcp_hlen;    /* data offset in bytes */
	struct moat_tcp_opts opt;

	/* ICMP and ICMPv6 */
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id, icmp_seq; /* echo request/reply */
	struct moat_pkt_inner inner;
};

/*
 * Decode @frame (@caplen bytes captured of @wirelen) of link type @linktype
 * into @p.  IP length fields are checked against the capture: a shorter IP
 * length trims link padding; a longer one is refused unless the capture was
 * cut by a snaplen (caplen < wirelen), in which case the L4 header must
 * still be whole (else MOAT_R_TRUNCATED).  Fragments decode (frag bits set;
 * a later fragment has no L4 header), the engine decides about them.  Not
 * supported, refused: IPv6 jumbograms and BIG TCP (payload length 0), and
 * packets whose end lies past byte 65535 of the frame (offsets are 16 bits).  @p->frame points into @frame afterwards: the caller keeps it
 * alive as long as @p is used.
 *
 * Returns MOAT_R_NONE when the view is complete (p->ipv == 0 for a non-IP
 * frame such as ARP, which is not an error), else the reason the frame is
 * refused; on refusal the fields decoded so far stay set, so a printer can
 * show where decoding stopped.  Never reads past @caplen.  Checksums are not
 * checked here: see moat_pkt_verify_checksums().
 */
enum moat_reason moat_pkt_decode(struct moat_pkt *p, uint8_t *frame,
				 uint32_t caplen, uint32_t wirelen,
				 int linktype);

/*
 * Parse the @len option bytes @opt of a TCP header (the bytes after its
 * fixed 20) into @o, which the caller zeroes first.  ts_off and sack_off come
 * out relative to the TCP header.  Returns MOAT_R_NONE or
 * MOAT_R_TCP_BAD_OPTION (length 0 or 1, past the end, wrong length for a
 * fixed-size option, SACK not 2 + 8n).  Unknown options are skipped.
 */
enum moat_reason moat_pkt_tcp_options(struct moat_tcp_opts *o,
				      const uint8_t *opt, uint32_t len);

/*
 * Check the IPv4 header checksum and the TCP/UDP/ICMP/ICMPv6 checksum over
 * what was captured.  Returns MOAT_R_NONE, MOAT_R_IP4_BAD_CHECKSUM or
 * MOAT_R_L4_BAD_CHECKSUM.  A truncated capture (caplen < wirelen) cannot be
 * checked and counts as good.  A UDP/IPv4 checksum of zero means none.
 */
enum moat_reason moat_pkt_verify_checksums(const struct moat_pkt *p);

/* The Internet checksum (RFC 1071): ones'-complement sum, folded, inverted. */
uint32_t moat_csum_partial(const void *data, uint32_t len, uint32_t sum);
uint16_t moat_csum_fold(uint32_t sum);

/*
 * Incremental update (RFC 1624, eqn. 3) of a checksum stored in wire order
 * at @csum when a 16- or 32-bit wire-order field changes from @old to @new.
 */
void moat_csum_replace2(uint8_t csum[2], uint16_t old_be, uint16_t new_be);
void moat_csum_replace4(uint8_t csum[2], uint32_t old_be, uint32_t new_be);

/* Recompute the IPv4 header and L4 checksums of @p's frame from scratch. */
void moat_pkt_fill_checksums(struct moat_pkt *p);

/*
 * Builders for the packets moat emits.  Each writes a complete frame of
 * @linktype (Ethernet gets @l2 addresses; the rest need none) into @buf of
 * @cap bytes and returns its length, or 0 when @cap is too small.
 * Checksums are correct on return.
 */
struct moat_l2 {
	uint8_t dst[6], src[6];
	uint8_t vlan_count;
	uint16_t vlan[MOAT_VLAN_MAX];
};

struct moat_tcp_spec {
	struct moat_addr src, dst; /* same family */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;             /* enum moat_tcp_flag */
	uint16_t win;
	uint8_t ttl;               /* 0: 64 */
	struct moat_tcp_opts opt;  /* present bits say which to write */
	const uint8_t *payload;
	uint16_t payload_len;
};

uint32_t moat_pkt_build_tcp(uint8_t *buf, uint32_t cap, int linktype,
			    const struct moat_l2 *l2,
			    const struct moat_tcp_spec *spec);

/*
 * ICMP destination unreachable (IPv4: type 3; IPv6: type 1) quoting the
 * packet @orig as RFC 792 / RFC 4443 section 3.1 say, from @src, to
 * @orig's source.  The quote is as much of @orig's IP packet as was
 * captured, cut so the error stays within 576 bytes (IPv4, RFC 1812
 * 4.3.2.3) or 1280 bytes (IPv6, RFC 4443 2.4(c)).  Also returns 0 when
 * @orig must not be answered (RFC 1122 3.2.2, RFC 4443 2.4(e)): an ICMP
 * error, a non-first fragment, no IP header, or @src of another family.
 */
uint32_t moat_pkt_build_unreach(uint8_t *buf, uint32_t cap, int linktype,
				const struct moat_l2 *l2,
				const struct moat_addr *src, uint8_t code,
				const struct moat_pkt *orig);

/*
 * One line in the spirit of `tcpdump -n`: addresses, ports, flags, SEQ/ACK,
 * length, options.  Writes at most @len bytes (NUL included) to @buf.
 */
int moat_pkt_format(const struct moat_pkt *p, char *buf, unsigned long len);

#endif
