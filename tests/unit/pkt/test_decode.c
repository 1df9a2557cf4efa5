/*
 * Unit tests for decode: one table of edits to valid frames and the reason
 * (or view) each must produce, then the shapes a table row cannot express
 * (link types, VLAN stacks, IPv6 chains, ICMP quotes, IPv4 options).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "frames.h"
#include "moat/pkt.h"

enum base { B_TCP4, B_TCP6, B_UDP4 };

struct edit {
	uint16_t at;
	uint8_t val;
};

struct row {
	const char *name;
	enum base base;
	struct edit ed[4];
	int ned;
	int caplen_delta;    /* added to the frame length */
	int wire_extra;      /* wirelen = caplen + this */
	enum moat_reason want;
	int payload_len;     /* checked when >= 0 */
	uint8_t frag;        /* checked when want == NONE */
};

#define E(a, v) { (a), (v) }

/* tcp4: eth 0-13, ip 14-33 (totlen 16-17, frag 20-21), tcp 34-73:
 * flags 47, doff 46, options 54: MSS 54, SACKOK 58, TS 60, NOP 70, WS 71. */
/* tcp6: ip6 14-53 (plen 18-19), tcp 54-93.  udp4: udp 34-41, len 38-39. */
static const struct row rows[] = {
	{ "tcp4 valid", B_TCP4, {}, 0, 0, 0, MOAT_R_NONE, 0, 0 },
	{ "ihl 4", B_TCP4, { E(14, 0x44) }, 1, 0, 0, MOAT_R_IP4_BAD_IHL, -1, 0 },
	{ "ihl 0", B_TCP4, { E(14, 0x40) }, 1, 0, 0, MOAT_R_IP4_BAD_IHL, -1, 0 },
	{ "version 5", B_TCP4, { E(14, 0x55) }, 1, 0, 0, MOAT_R_IP_BAD_VERSION, -1, 0 },
	{ "ip header cut", B_TCP4, {}, 0, -45, 0, MOAT_R_TRUNCATED, -1, 0 },
	{ "totlen over capture", B_TCP4, { E(17, 100) }, 1, 0, 0, MOAT_R_IP4_BAD_TOTLEN, -1, 0 },
	{ "totlen under ihl", B_TCP4, { E(17, 10) }, 1, 0, 0, MOAT_R_IP4_BAD_TOTLEN, -1, 0 },
	{ "totlen over wire", B_TCP4, { E(17, 200) }, 1, 0, 20, MOAT_R_IP4_BAD_TOTLEN, -1, 0 },
	{ "snaplen cut payload", B_TCP4, { E(17, 86) }, 1, 0, 26, MOAT_R_NONE, 26, 0 },
	{ "snaplen cut in tcp", B_TCP4, {}, 0, -30, 30, MOAT_R_TRUNCATED, -1, 0 },
	{ "ethernet padding", B_TCP4, {}, 0, 6, 0, MOAT_R_NONE, 0, 0 },
	{ "doff 4", B_TCP4, { E(46, 0x40) }, 1, 0, 0, MOAT_R_TCP_BAD_DOFF, -1, 0 },
	{ "doff past segment", B_TCP4, { E(46, 0xf0) }, 1, 0, 0, MOAT_R_TCP_BAD_DOFF, -1, 0 },
	{ "option len 0", B_TCP4, { E(72, 0) }, 1, 0, 0, MOAT_R_TCP_BAD_OPTION, -1, 0 },
	{ "option len 1", B_TCP4, { E(72, 1) }, 1, 0, 0, MOAT_R_TCP_BAD_OPTION, -1, 0 },
	{ "option past header", B_TCP4, { E(72, 10) }, 1, 0, 0, MOAT_R_TCP_BAD_OPTION, -1, 0 },
	{ "option kind last byte", B_TCP4, { E(71, 99), E(72, 1), E(73, 99) }, 3, 0, 0, MOAT_R_TCP_BAD_OPTION, -1, 0 },
	{ "mss len 5", B_TCP4, { E(55, 5) }, 1, 0, 0, MOAT_R_TCP_BAD_OPTION, -1, 0 },
	{ "ts len 8", B_TCP4, { E(61, 8) }, 1, 0, 0, MOAT_R_TCP_BAD_OPTION, -1, 0 },
	{ "sackok len 3", B_TCP4, { E(59, 3) }, 1, 0, 0, MOAT_R_TCP_BAD_OPTION, -1, 0 },
	{ "unknown option skipped", B_TCP4, { E(58, 254) }, 1, 0, 0, MOAT_R_NONE, 0, 0 },
	{ "eol ends options", B_TCP4, { E(58, 0), E(59, 99) }, 2, 0, 0, MOAT_R_NONE, 0, 0 },
	{ "syn+fin", B_TCP4, { E(47, 0x03) }, 1, 0, 0, MOAT_R_TCP_BAD_FLAGS, -1, 0 },
	{ "syn+rst", B_TCP4, { E(47, 0x06) }, 1, 0, 0, MOAT_R_TCP_BAD_FLAGS, -1, 0 },
	{ "null flags", B_TCP4, { E(47, 0x00) }, 1, 0, 0, MOAT_R_TCP_BAD_FLAGS, -1, 0 },
	{ "fin no ack", B_TCP4, { E(47, 0x01) }, 1, 0, 0, MOAT_R_TCP_BAD_FLAGS, -1, 0 },
	{ "rst alone", B_TCP4, { E(47, 0x04) }, 1, 0, 0, MOAT_R_NONE, 0, 0 },
	{ "sport 0", B_TCP4, { E(34, 0), E(35, 0) }, 2, 0, 0, MOAT_R_TCP_BAD_PORT, -1, 0 },
	{ "first fragment", B_TCP4, { E(20, 0x20) }, 1, 0, 0, MOAT_R_NONE, 0,
	  MOAT_FRAG_MF | MOAT_FRAG_IS },
	{ "mf odd length", B_TCP4, { E(20, 0x20), E(17, 59) }, 2, -1, 0, MOAT_R_IP4_BAD_FRAG, -1, 0 },
	{ "tcp offset 8", B_TCP4, { E(21, 1) }, 1, 0, 0, MOAT_R_IP4_BAD_FRAG, -1, 0 },
	{ "later fragment", B_TCP4, { E(21, 2) }, 1, 0, 0, MOAT_R_NONE, 40,
	  MOAT_FRAG_IS | MOAT_FRAG_LATER },
	{ "later fragment df", B_TCP4, { E(20, 0x40 | 0x20), E(21, 3) }, 2, 0, 0, MOAT_R_NONE, 40,
	  MOAT_FRAG_DF | MOAT_FRAG_MF | MOAT_FRAG_IS | MOAT_FRAG_LATER },
	/* RFC 791: the reassembled total length, header included, <= 65535. */
	{ "fragment past 64k", B_TCP4, { E(20, 0x1f), E(21, 0xff) }, 2, 0, 0, MOAT_R_FRAG_TOO_BIG, -1, 0 },
	{ "fragment ends at 64k", B_TCP4, { E(20, 0x1f), E(21, 0xfc), E(16, 0), E(17, 31) }, 4, -29, 0,
	  MOAT_R_NONE, 11, MOAT_FRAG_IS | MOAT_FRAG_LATER },
	{ "fragment one past 64k", B_TCP4, { E(20, 0x1f), E(21, 0xfc), E(16, 0), E(17, 32) }, 4, -28, 0,
	  MOAT_R_FRAG_TOO_BIG, -1, 0 },
	/* RFC 1858 3.1: the first fragment holds the whole TCP header. */
	{ "tiny first fragment", B_TCP4, { E(20, 0x20), E(17, 36) }, 2, -24, 0, MOAT_R_FRAG_TINY, -1, 0 },
	{ "first fragment cuts options", B_TCP4, { E(20, 0x20), E(17, 52) }, 2, -8, 0, MOAT_R_FRAG_TINY, -1, 0 },
	{ "tcp6 valid", B_TCP6, {}, 0, 0, 0, MOAT_R_NONE, 0, 0 },
	{ "ip6 plen over capture", B_TCP6, { E(19, 80) }, 1, 0, 0, MOAT_R_IP6_BAD_PLEN, -1, 0 },
	{ "ip6 padding", B_TCP6, {}, 0, 4, 0, MOAT_R_NONE, 0, 0 },
	{ "ip6 version 4", B_TCP6, { E(14, 0x45) }, 1, 0, 0, MOAT_R_IP_BAD_VERSION, -1, 0 },
	{ "ip6 plen 0", B_TCP6, { E(19, 0) }, 1, 0, 0, MOAT_R_TRUNCATED, -1, 0 },
	{ "ip6 jumbo plen 0", B_TCP6, { E(19, 0), E(20, 0) }, 2, 0, 0, MOAT_R_IP6_BAD_PLEN, -1, 0 },
	{ "ip6 header cut", B_TCP6, {}, 0, -60, 0, MOAT_R_TRUNCATED, -1, 0 },
	{ "udp valid", B_UDP4, {}, 0, 0, 0, MOAT_R_NONE, 10, 0 },
	{ "udp len 7", B_UDP4, { E(39, 7) }, 1, 0, 0, MOAT_R_UDP_BAD_LEN, -1, 0 },
	{ "udp len over ip", B_UDP4, { E(39, 30) }, 1, 0, 0, MOAT_R_UDP_BAD_LEN, -1, 0 },
	{ "udp len under ip", B_UDP4, { E(39, 10) }, 1, 0, 0, MOAT_R_NONE, 2, 0 },
	{ "udp dport 0", B_UDP4, { E(36, 0), E(37, 0) }, 2, 0, 0, MOAT_R_UDP_BAD_PORT, -1, 0 },
	{ "udp sport 0", B_UDP4, { E(34, 0), E(35, 0) }, 2, 0, 0, MOAT_R_NONE, 10, 0 },
	{ "udp header cut", B_UDP4, {}, 0, -15, 0, MOAT_R_IP4_BAD_TOTLEN, -1, 0 },
	{ "ethernet cut", B_UDP4, {}, 0, -40, 0, MOAT_R_TRUNCATED, -1, 0 },
};

static uint32_t make_base(enum base b, uint8_t *f)
{
	switch (b) {
	case B_TCP4:
		return frame_tcp4(f);
	case B_TCP6:
		return frame_tcp6(f);
	default:
		return frame_udp4(f, 10);
	}
}

static void decode_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		uint8_t f[FRAME_CAP] = { 0 };
		struct moat_pkt p;
		uint32_t len = make_base(r->base, f);
		enum moat_reason got;

		for (int e = 0; e < r->ned; e++)
			f[r->ed[e].at] = r->ed[e].val;
		len = (uint32_t)((int)len + r->caplen_delta);
		got = moat_pkt_decode(&p, f, len, len + (uint32_t)r->wire_extra,
				      MOAT_LINK_ETHERNET);
		if (got != r->want)
			fail_msg("%s: got %s, want %s", r->name,
				 moat_reason_name(got), moat_reason_name(r->want));
		if (r->want == MOAT_R_NONE) {
			/* The builder sets DF; rows that edit byte 20 clear it. */
			assert_int_equal(p.frag & ~MOAT_FRAG_DF,
					 r->frag & ~MOAT_FRAG_DF);
			if (r->payload_len >= 0 &&
			    p.payload_len != r->payload_len)
				fail_msg("%s: payload_len %u, want %d", r->name,
					 p.payload_len, r->payload_len);
		}
	}
}

static void tcp4_fields(void **state)
{
	uint8_t f[FRAME_CAP];
	uint32_t len = frame_tcp4(f);
	struct moat_pkt p;

	(void)state;
	f[73] = 15; /* window scale over the limit: clamped (RFC 7323 2.3) */
	refill(f, len, MOAT_LINK_ETHERNET);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_NONE);
	assert_int_equal(p.ipv, 4);
	assert_int_equal(p.proto, MOAT_IPPROTO_TCP);
	assert_int_equal(p.l3_off, 14);
	assert_int_equal(p.l4_off, 34);
	assert_int_equal(p.payload_off, 74);
	assert_int_equal(p.l3_len, 60);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 80);
	assert_int_equal(p.seq, 0x11223344);
	assert_int_equal(p.ack, 0x55667788);
	assert_int_equal(p.tcp_flags, MOAT_TCP_SYN | MOAT_TCP_ACK);
	assert_int_equal(p.tcp_hlen, 40);
	assert_int_equal(p.win, 64240);
	assert_int_equal(p.ttl, 64);
	assert_int_equal(p.frag, MOAT_FRAG_DF);
	assert_int_equal(p.opt.present, MOAT_TCPOPT_MSS | MOAT_TCPOPT_WSCALE |
						MOAT_TCPOPT_SACK_PERM |
						MOAT_TCPOPT_TS);
	assert_int_equal(p.opt.mss, 1460);
	assert_int_equal(p.opt.wscale, 14);
	assert_int_equal(p.opt.tsval, 1000);
	assert_int_equal(p.opt.tsecr, 2000);
	assert_int_equal(p.opt.ts_off, 28); /* 20 + MSS 4 + SACKOK 2 + 2 */
	assert_int_equal(f[34 + p.opt.ts_off + 3], 1000 & 0xff);
	assert_int_equal(p.src.family, MOAT_AF_INET);
	assert_memory_equal(moat_addr_v4(&p.src), ((uint8_t[]){ 198, 18, 100, 10 }), 4);
	assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);
}

/* SACK blocks: count, edges, offset; 4 blocks is the most 40 bytes hold. */
static void tcp_sack_blocks(void **state)
{
	static const uint8_t opt[] = {
		1, 1, 5, 34,
		0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
		0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 8,
		1, 1,
	};
	struct moat_tcp_opts o = { 0 };

	(void)state;
	assert_int_equal(moat_pkt_tcp_options(&o, opt, sizeof(opt)), MOAT_R_NONE);
	assert_int_equal(o.sack_count, 4);
	assert_int_equal(o.sack_off, 24);
	assert_int_equal(o.sack[3][1], 8);
	/* Empty SACK (length 2) and a length that is not 2 + 8n. */
	memset(&o, 0, sizeof(o));
	assert_int_equal(moat_pkt_tcp_options(&o, (const uint8_t[]){ 5, 2, 1, 1 }, 4),
			 MOAT_R_TCP_BAD_OPTION);
	assert_int_equal(moat_pkt_tcp_options(&o, (const uint8_t[]){ 5, 6, 0, 0, 0, 0, 1, 1 }, 8),
			 MOAT_R_TCP_BAD_OPTION);
}

/* Every link type the builders write decodes back to the same L3 offset. */
static void every_linktype(void **state)
{
	static const struct {
		int linktype;
		uint16_t l3_off;
	} lt[] = {
		{ MOAT_LINK_ETHERNET, 14 }, { MOAT_LINK_RAW, 0 },
		{ MOAT_LINK_IPV4, 0 },      { MOAT_LINK_IPV6, 0 },
		{ MOAT_LINK_NULL, 4 },      { MOAT_LINK_LOOP, 4 },
		{ MOAT_LINK_LINUX_SLL, 16 }, { MOAT_LINK_LINUX_SLL2, 20 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(lt) / sizeof(lt[0]); i++) {
		for (int v6 = 0; v6 < 2; v6++) {
			struct moat_tcp_spec s;
			uint8_t f[FRAME_CAP];
			struct moat_pkt p;
			uint32_t len;

			test_tcp_spec(&s, v6);
			len = moat_pkt_build_tcp(f, sizeof(f), lt[i].linktype,
						 &test_l2, &s);
			if ((lt[i].linktype == MOAT_LINK_IPV4 && v6) ||
			    (lt[i].linktype == MOAT_LINK_IPV6 && !v6)) {
				assert_int_equal(len, 0);
				continue;
			}
			assert_true(len > 0);
			assert_int_equal(moat_pkt_decode(&p, f, len, len,
							 lt[i].linktype),
					 MOAT_R_NONE);
			assert_int_equal(p.l3_off, lt[i].l3_off);
			assert_int_equal(p.ipv, v6 ? 6 : 4);
			assert_int_equal(p.dport, 80);
			/* Every link header cut short is refused, never read. */
			for (uint32_t cut = 0; cut < p.l3_off + 1u; cut++)
				assert_int_not_equal(
					moat_pkt_decode(&p, f, cut, cut,
							lt[i].linktype),
					MOAT_R_NONE);
		}
	}
}

static void link_odd_cases(void **state)
{
	uint8_t f[FRAME_CAP];
	struct moat_pkt p;
	struct moat_tcp_spec s;
	uint32_t len;

	(void)state;
	test_tcp_spec(&s, 0);
	/* DLT_RAW's platform values 12 and 14 are raw IP too. */
	len = moat_pkt_build_tcp(f, sizeof(f), MOAT_LINK_RAW, NULL, &s);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, 12), MOAT_R_NONE);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, 14), MOAT_R_NONE);
	/* IPv4-only link carrying IPv6: refused by version. */
	f[0] = 0x60;
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_IPV4),
			 MOAT_R_IP_BAD_VERSION);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, 147),
			 MOAT_R_L2_UNKNOWN_LINKTYPE);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, -1),
			 MOAT_R_L2_UNKNOWN_LINKTYPE);
	/* NULL in big-endian host order (AF_INET = 2 as 00 00 00 02). */
	len = moat_pkt_build_tcp(f, sizeof(f), MOAT_LINK_LOOP, NULL, &s);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_NULL),
			 MOAT_R_NONE);
	f[3] = 99;
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_NULL),
			 MOAT_R_L2_BAD_HEADER);
	/* ARP: not IP, not an error. */
	len = moat_pkt_build_tcp(f, sizeof(f), MOAT_LINK_ETHERNET, &test_l2, &s);
	f[12] = 0x08;
	f[13] = 0x06;
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_NONE);
	assert_int_equal(p.ipv, 0);
	assert_int_equal(p.ethertype, 0x0806);
}

static void vlan_stacks(void **state)
{
	struct moat_l2 l2 = test_l2;
	struct moat_tcp_spec s;
	uint8_t f[FRAME_CAP];
	struct moat_pkt p;
	uint32_t len;

	(void)state;
	test_tcp_spec(&s, 0);
	l2.vlan_count = 2;
	l2.vlan[0] = 100;
	l2.vlan[1] = 4094;
	len = moat_pkt_build_tcp(f, sizeof(f), MOAT_LINK_ETHERNET, &l2, &s);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_NONE);
	assert_int_equal(p.vlan_count, 2);
	assert_int_equal(p.vlan[0], 100);
	assert_int_equal(p.vlan[1], 4094);
	assert_int_equal(p.l3_off, 22);
	assert_int_equal(p.ethertype, 0x0800);
	/* A third tag (0x9100 too counts as a tag): too deep. */
	f[20] = 0x91;
	f[21] = 0x00;
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_L2_VLAN_TOO_DEEP);
	/* A tag cut by the capture. */
	assert_int_equal(moat_pkt_decode(&p, f, 16, 16, MOAT_LINK_ETHERNET),
			 MOAT_R_TRUNCATED);
}

/* IPv4 options inserted between the header and TCP. */
static void ip4_options(void **state)
{
	static const struct {
		uint8_t opt[8];
		uint8_t len;
		enum moat_reason want;
	} rows4[] = {
		{ { 1, 1, 1, 0 }, 4, MOAT_R_NONE },
		{ { 148, 4, 0, 0 }, 4, MOAT_R_NONE },          /* router alert */
		{ { 148, 3, 0, 1 }, 4, MOAT_R_IP4_BAD_OPTIONS },
		{ { 7, 7, 4, 0, 0, 0, 0, 0 }, 8, MOAT_R_NONE }, /* record route */
		{ { 7, 3, 3, 0 }, 4, MOAT_R_IP4_BAD_OPTIONS },  /* pointer < 4 */
		{ { 68, 4, 4, 0 }, 4, MOAT_R_IP4_BAD_OPTIONS }, /* TS ptr < 5 */
		{ { 130, 5, 0, 0 }, 4, MOAT_R_IP4_BAD_OPTIONS },/* past header */
		{ { 1, 1, 1, 130 }, 4, MOAT_R_IP4_BAD_OPTIONS },/* no length */
		{ { 1, 130, 1, 0 }, 4, MOAT_R_IP4_BAD_OPTIONS },/* length 1 */
		{ { 130, 0, 0, 0 }, 4, MOAT_R_IP4_BAD_OPTIONS },/* length 0 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows4) / sizeof(rows4[0]); i++) {
		uint8_t f[FRAME_CAP];
		struct moat_pkt p;
		uint32_t len = frame_tcp4(f), n = rows4[i].len;

		memmove(f + 34 + n, f + 34, len - 34);
		memcpy(f + 34, rows4[i].opt, n);
		f[14] = (uint8_t)(0x45 + n / 4);
		f[17] = (uint8_t)(f[17] + n);
		len += n;
		if (moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET) !=
		    rows4[i].want)
			fail_msg("ip4 option row %zu", i);
		if (rows4[i].want == MOAT_R_NONE) {
			assert_int_equal(p.l4_off, 34 + n);
			assert_int_equal(p.dport, 80);
		}
	}
}

/* IPv6 extension chains: n destination-options headers, then UDP. */
static uint32_t ip6_chain(uint8_t *f, unsigned n, uint8_t first_nh)
{
	uint8_t body[512];
	uint32_t o = 0;

	for (unsigned i = 0; i < n; i++) {
		body[o] = i + 1 < n ? 60 : 17;
		body[o + 1] = 0;
		memset(body + o + 2, 0, 6); /* Pad1 x6 */
		body[o + 2] = 1;            /* PadN of 4 */
		body[o + 3] = 4;
		o += 8;
	}
	memcpy(body + o, (const uint8_t[]){ 0x30, 0x39, 0, 53, 0, 8, 0, 0 }, 8);
	o += 8;
	return frame_ip6(f, n ? first_nh : 17, body, o);
}

static void ip6_chains(void **state)
{
	uint8_t f[FRAME_CAP];
	struct moat_pkt p;
	uint32_t len;

	(void)state;
	for (unsigned n = 0; n <= MOAT_IP6_EXTHDR_MAX; n++) {
		len = ip6_chain(f, n, 60);
		assert_int_equal(moat_pkt_decode(&p, f, len, len,
						 MOAT_LINK_ETHERNET),
				 MOAT_R_NONE);
		assert_int_equal(p.proto, 17);
		assert_int_equal(p.l4_off, 54 + 8 * n);
		assert_int_equal(p.dport, 53);
	}
	/* One past the bound: a chain that "never ends" is cut off. */
	len = ip6_chain(f, MOAT_IP6_EXTHDR_MAX + 1, 60);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_IP6_EXTHDR_CHAIN);
	len = ip6_chain(f, 40, 60);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_IP6_EXTHDR_CHAIN);
	/* Hop-by-hop first is fine; later it is not (RFC 8200 4.3). */
	len = ip6_chain(f, 1, 0);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_NONE);
	len = ip6_chain(f, 2, 60);
	f[54] = 0;
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_IP6_BAD_EXTHDR);
	/* An option TLV running past its header. */
	len = ip6_chain(f, 1, 60);
	f[57] = 5;
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_IP6_BAD_EXTHDR);
	/* A header length past the payload length / past the snaplen. */
	len = ip6_chain(f, 1, 60);
	f[55] = 9;
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_IP6_BAD_EXTHDR);
	len = ip6_chain(f, 2, 60);
	assert_int_equal(moat_pkt_decode(&p, f, 60, len, MOAT_LINK_ETHERNET),
			 MOAT_R_TRUNCATED);
}

static void ip6_special_headers(void **state)
{
	uint8_t f[FRAME_CAP], body[64] = { 0 };
	struct moat_pkt p;
	uint32_t len;

	(void)state;
	/* Fragment header, offset 0, M: first piece; UDP read. */
	memcpy(body, (const uint8_t[]){ 17, 0, 0, 1, 0, 0, 0, 7 }, 8);
	memcpy(body + 8, (const uint8_t[]){ 0x30, 0x39, 0, 53, 0, 16, 0, 0 }, 8);
	len = frame_ip6(f, 44, body, 24);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_NONE);
	assert_int_equal(p.frag, MOAT_FRAG_IS | MOAT_FRAG_MF);
	assert_int_equal(p.frag_id, 7);
	assert_int_equal(p.dport, 53);
	assert_int_equal(p.frag_data_off, 14 + 40 + 8);
	/* RFC 7112: a first fragment too short for its TCP header. */
	body[0] = 6;
	len = frame_ip6(f, 44, body, 8 + 8);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_FRAG_TINY);
	/* RFC 7112: ... or for an extension header after the fragment
	 * header (destination options claiming 16 bytes, 8 there). */
	body[0] = 60;
	memcpy(body + 8, (const uint8_t[]){ 17, 1, 1, 4, 0, 0, 0, 0 }, 8);
	len = frame_ip6(f, 44, body, 16);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_FRAG_TINY);
	/* The same cut chain in an unfragmented packet: malformed. */
	len = frame_ip6(f, 60, body + 8, 8);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_IP6_BAD_EXTHDR);
	body[0] = 17;
	memcpy(body + 8, (const uint8_t[]){ 0x30, 0x39, 0, 53, 0, 16, 0, 0 }, 8);
	/* RFC 8200 4.5: offset + length past a 65535-byte payload. */
	body[2] = 0xff;
	body[3] = 0xf0;             /* offset 65520, last */
	len = frame_ip6(f, 44, body, 8 + 15);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_NONE);
	assert_int_equal(p.frag, MOAT_FRAG_IS | MOAT_FRAG_LATER);
	len = frame_ip6(f, 44, body, 8 + 16);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_FRAG_TOO_BIG);
	body[2] = 0;
	body[3] = 1;
	/* Offset 8, odd length with M: refused; without M: a later piece. */
	body[3] = 8 | 1;
	len = frame_ip6(f, 44, body, 21);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_IP6_BAD_FRAG);
	body[3] = 8;
	len = frame_ip6(f, 44, body, 21);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_NONE);
	assert_int_equal(p.frag, MOAT_FRAG_IS | MOAT_FRAG_LATER);
	assert_int_equal(p.frag_off, 8);
	assert_false(p.have & MOAT_PKT_HAVE_L4);
	/* Atomic fragment (RFC 6946): offset 0, no M: a whole packet. */
	body[3] = 0;
	body[13] = 8;
	len = frame_ip6(f, 44, body, 16);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_NONE);
	assert_int_equal(p.frag, 0);
	/* Two fragment headers. */
	body[0] = 44;
	memcpy(body + 8, (const uint8_t[]){ 17, 0, 0, 0, 0, 0, 0, 8 }, 8);
	len = frame_ip6(f, 44, body, 24);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_IP6_BAD_FRAG);
	/* AH (length in 4-byte units + 2) then TCP-less ESP: opaque. */
	memset(body, 0, sizeof(body));
	body[0] = 50;
	body[1] = 4; /* (4 + 2) * 4 = 24 bytes */
	len = frame_ip6(f, 51, body, 32);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_NONE);
	assert_int_equal(p.proto, 50);
	assert_int_equal(p.l4_off, 54 + 24);
	assert_int_equal(p.sport, 0);
	/* No next header. */
	len = frame_ip6(f, 59, body, 8);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_NONE);
	assert_int_equal(p.proto, 59);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_rows),
		cmocka_unit_test(tcp4_fields),
		cmocka_unit_test(tcp_sack_blocks),
		cmocka_unit_test(every_linktype),
		cmocka_unit_test(link_odd_cases),
		cmocka_unit_test(vlan_stacks),
		cmocka_unit_test(ip4_options),
		cmocka_unit_test(ip6_chains),
		cmocka_unit_test(ip6_special_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
