/*
 * Unit tests for the rest of the codec: ICMP quotes, checksums (known
 * values, incremental = full recompute), builders (round trips through
 * decode with valid checksums), the one-line format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "frames.h"
#include "moat/pkt.h"

static uint16_t be16_at(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* Deterministic pseudo-random rows (xorshift32). */
static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* RFC 1071 section 3's worked example: sum 0xddf2, checksum 0x220d. */
static void csum_known_values(void **state)
{
	static const uint8_t d[] = { 0x00, 0x01, 0xf2, 0x03,
				     0xf4, 0xf5, 0xf6, 0xf7 };
	/* A classic IPv4 header whose checksum is 0xb861. */
	static const uint8_t ip[] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
				      0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
				      0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };

	(void)state;
	assert_int_equal(moat_csum_partial(d, sizeof(d), 0), 0xddf2);
	assert_int_equal(moat_csum_fold(moat_csum_partial(d, sizeof(d), 0)),
			 0x220d);
	/* Chaining even-length chunks equals one pass. */
	assert_int_equal(moat_csum_partial(d + 4, 4, moat_csum_partial(d, 4, 0)),
			 0xddf2);
	/* Odd length: the last byte is padded with a zero on the right. */
	assert_int_equal(moat_csum_partial(d, 3, 0), 0x0001 + 0xf200);
	assert_int_equal(moat_csum_fold(moat_csum_partial(ip, sizeof(ip), 0)),
			 0xb861);
}

/* Flip bytes: every change is caught, IP header and L4 separately. */
static void csum_verify_detects(void **state)
{
	uint8_t f[FRAME_CAP];
	struct moat_pkt p;
	uint32_t len;

	(void)state;
	len = frame_tcp4(f);
	moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET);
	assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);
	f[22] ^= 1; /* TTL */
	assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_IP4_BAD_CHECKSUM);
	f[22] ^= 1;
	f[40] ^= 0x80; /* SEQ */
	assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_L4_BAD_CHECKSUM);
	moat_pkt_fill_checksums(&p);
	assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);
	/* Snaplen cut: L4 cannot be checked and counts as good. */
	f[40] ^= 0x80;
	moat_pkt_decode(&p, f, len - 4, len, MOAT_LINK_ETHERNET);
	assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);

	/* UDP: zero means none over IPv4. */
	len = frame_udp4(f, 10);
	moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET);
	assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);
	f[40] = f[41] = 0;
	assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);
	f[45] ^= 0xff;
	moat_pkt_fill_checksums(&p);
	assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);
	assert_true(be16_at(f + 40) != 0);
}

/*
 * RFC 1624 incremental updates equal a full recompute, over random SEQ,
 * ACK, timestamp and port rewrites (what sequence translation does).
 */
static void csum_incremental_equals_full(void **state)
{
	uint32_t seed = 0x9e3779b9;

	(void)state;
	for (int i = 0; i < 2000; i++) {
		uint8_t f[FRAME_CAP], g[FRAME_CAP];
		struct moat_tcp_spec s;
		struct moat_pkt p;
		uint32_t len, v, old, at;
		uint16_t nv16, old16;

		test_tcp_spec(&s, i & 1);
		s.seq = rnd(&seed);
		s.ack = rnd(&seed);
		s.opt.tsval = rnd(&seed);
		s.payload_len = (uint16_t)(rnd(&seed) % 64);
		s.payload = (const uint8_t *)"0123456789abcdef0123456789abcdef"
					     "0123456789abcdef0123456789abcdef";
		len = moat_pkt_build_tcp(f, sizeof(f), MOAT_LINK_ETHERNET,
					 &test_l2, &s);
		assert_int_equal(moat_pkt_decode(&p, f, len, len,
						 MOAT_LINK_ETHERNET),
				 MOAT_R_NONE);
		/* A 32-bit field: SEQ, ACK or TSval, chosen by the row. */
		at = p.l4_off + (i % 3 == 0 ? 4u : i % 3 == 1 ? 8u : p.opt.ts_off);
		v = rnd(&seed);
		memcpy(&old, f + at, 4);
		f[at] = (uint8_t)(v >> 24);
		f[at + 1] = (uint8_t)(v >> 16);
		f[at + 2] = (uint8_t)(v >> 8);
		f[at + 3] = (uint8_t)v;
		memcpy(&v, f + at, 4);
		moat_csum_replace4(f + p.l4_off + 16, old, v);
		/* A 16-bit field: the source port. */
		nv16 = (uint16_t)(rnd(&seed) | 1);
		memcpy(&old16, f + p.l4_off, 2);
		f[p.l4_off] = (uint8_t)(nv16 >> 8);
		f[p.l4_off + 1] = (uint8_t)nv16;
		memcpy(&nv16, f + p.l4_off, 2);
		moat_csum_replace2(f + p.l4_off + 16, old16, nv16);

		memcpy(g, f, len);
		moat_pkt_decode(&p, g, len, len, MOAT_LINK_ETHERNET);
		moat_pkt_fill_checksums(&p);
		assert_memory_equal(f + p.l4_off + 16, g + p.l4_off + 16, 2);
		assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);
	}
}

static void build_tcp_round_trip(void **state)
{
	static const uint8_t payload[] = "GET / HTTP/1.0\r\n\r\n";
	static const int lts[] = { MOAT_LINK_ETHERNET, MOAT_LINK_RAW,
				   MOAT_LINK_LINUX_SLL2 };

	(void)state;
	for (int v6 = 0; v6 < 2; v6++) {
		for (size_t l = 0; l < sizeof(lts) / sizeof(lts[0]); l++) {
			struct moat_tcp_spec s;
			uint8_t f[FRAME_CAP];
			struct moat_pkt p;
			uint32_t len;

			test_tcp_spec(&s, v6);
			s.flags = MOAT_TCP_ACK | MOAT_TCP_PSH;
			s.opt.present |= MOAT_TCPOPT_SACK;
			s.opt.sack_count = 3;
			for (int b = 0; b < 3; b++) {
				s.opt.sack[b][0] = 1000u * (uint32_t)b;
				s.opt.sack[b][1] = 1000u * (uint32_t)b + 500;
			}
			s.payload = payload;
			s.payload_len = sizeof(payload) - 1;
			s.ttl = 33;
			len = moat_pkt_build_tcp(f, sizeof(f), lts[l], &test_l2, &s);
			assert_true(len > 0);
			assert_int_equal(moat_pkt_decode(&p, f, len, len, lts[l]),
					 MOAT_R_NONE);
			assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);
			assert_true(moat_addr_eq(&p.src, &s.src));
			assert_true(moat_addr_eq(&p.dst, &s.dst));
			assert_int_equal(p.sport, s.sport);
			assert_int_equal(p.seq, s.seq);
			assert_int_equal(p.ack, s.ack);
			assert_int_equal(p.tcp_flags, s.flags);
			assert_int_equal(p.ttl, 33);
			assert_int_equal(p.opt.mss, 1460);
			assert_int_equal(p.opt.wscale, 7);
			assert_int_equal(p.opt.tsval, 1000);
			assert_int_equal(p.opt.tsecr, 2000);
			/* 40 bytes of options: MSS, SACKOK+TS, WS use 20, two
			 * SACK blocks (4 + 16) fit beside them. */
			assert_int_equal(p.opt.sack_count, 2);
			assert_int_equal(p.opt.sack[0][1], 500);
			assert_int_equal(p.payload_len, s.payload_len);
			assert_memory_equal(f + p.payload_off, payload,
					    s.payload_len);
			/* Too small a buffer: 0, never a partial frame. */
			assert_int_equal(moat_pkt_build_tcp(f, len - 1, lts[l],
							    &test_l2, &s), 0);
		}
	}
}

/* Every option combination round-trips (bit set -> present on decode). */
static void build_tcp_option_sets(void **state)
{
	(void)state;
	for (uint8_t set = 0; set < 32; set++) {
		struct moat_tcp_spec s;
		uint8_t f[FRAME_CAP];
		struct moat_pkt p;
		uint32_t len;

		test_tcp_spec(&s, 0);
		s.opt.present = set;
		s.opt.sack_count = 2;
		len = moat_pkt_build_tcp(f, sizeof(f), MOAT_LINK_RAW, NULL, &s);
		assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_RAW),
				 MOAT_R_NONE);
		assert_int_equal(p.opt.present, set);
		assert_int_equal(p.tcp_hlen % 4, 0);
		assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);
	}
}

static void build_unreach_quotes(void **state)
{
	(void)state;
	for (int v6 = 0; v6 < 2; v6++) {
		static uint8_t big[1400];
		struct moat_tcp_spec s;
		struct moat_addr me;
		uint8_t f[FRAME_CAP], e[FRAME_CAP];
		struct moat_pkt o, p;
		uint32_t len, elen;

		test_tcp_spec(&s, v6);
		s.payload = big;
		s.payload_len = sizeof(big);
		len = moat_pkt_build_tcp(f, sizeof(f), MOAT_LINK_ETHERNET,
					 &test_l2, &s);
		assert_int_equal(moat_pkt_decode(&o, f, len, len,
						 MOAT_LINK_ETHERNET),
				 MOAT_R_NONE);
		test_addr(&me, v6 ? "2001:db8::1:1" : "198.18.1.1");
		elen = moat_pkt_build_unreach(e, sizeof(e), MOAT_LINK_ETHERNET,
					      &test_l2, &me, 3, &o);
		assert_true(elen > 0);
		/* RFC 1812 4.3.2.3 / RFC 4443 2.4(c): size limits. */
		assert_int_equal(elen - 14, v6 ? 1280 : 576);
		assert_int_equal(moat_pkt_decode(&p, e, elen, elen,
						 MOAT_LINK_ETHERNET),
				 MOAT_R_NONE);
		assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);
		assert_int_equal(p.icmp_type, v6 ? 1 : 3);
		assert_int_equal(p.icmp_code, 3);
		assert_true(moat_addr_eq(&p.dst, &s.src));
		assert_true(moat_addr_eq(&p.src, &me));
		assert_true(p.inner.present);
		assert_true(p.inner.has_ports && p.inner.has_seq);
		assert_int_equal(p.inner.proto, MOAT_IPPROTO_TCP);
		assert_true(moat_addr_eq(&p.inner.src, &s.src));
		assert_true(moat_addr_eq(&p.inner.dst, &s.dst));
		assert_int_equal(p.inner.sport, 40000);
		assert_int_equal(p.inner.dport, 80);
		assert_int_equal(p.inner.seq, s.seq);
		/* Never an error about an error (RFC 1122 3.2.2). */
		assert_int_equal(moat_pkt_build_unreach(f, sizeof(f),
							MOAT_LINK_ETHERNET,
							&test_l2, &me, 3, &p),
				 0);
		/* Wrong family for the source: refused. */
		test_addr(&me, v6 ? "198.18.1.1" : "2001:db8::1");
		assert_int_equal(moat_pkt_build_unreach(e, sizeof(e),
							MOAT_LINK_ETHERNET,
							&test_l2, &me, 3, &o),
				 0);
	}
}

/* An ICMP error quoting @q of @qlen bytes, decoded. */
static enum moat_reason icmp_error(struct moat_pkt *p, uint8_t *f,
				   const uint8_t *q, uint32_t qlen)
{
	static const uint8_t hdr[] = {
		0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00,
		0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0,
		198, 18, 1, 1, 198, 18, 100, 10,
		11, 0, 0, 0, 0, 0, 0, 0, /* time exceeded */
	};
	uint32_t len = sizeof(hdr) + qlen;

	memcpy(f, hdr, sizeof(hdr));
	memcpy(f + sizeof(hdr), q, qlen);
	f[16] = (uint8_t)((len - 14) >> 8);
	f[17] = (uint8_t)(len - 14);
	return moat_pkt_decode(p, f, len, len, MOAT_LINK_ETHERNET);
}

static void icmp_quotes(void **state)
{
	uint8_t orig[FRAME_CAP], f[FRAME_CAP];
	struct moat_pkt p;
	uint32_t olen;

	(void)state;
	olen = frame_udp4(orig, 10);
	/* The UDP datagram quoted whole, then cut to 4 and 2 L4 bytes. */
	assert_int_equal(icmp_error(&p, f, orig + 14, olen - 14), MOAT_R_NONE);
	assert_true(p.inner.present && p.inner.has_ports);
	assert_int_equal(p.inner.proto, 17);
	assert_int_equal(p.inner.sport, 12345);
	assert_int_equal(p.inner.dport, 53);
	assert_int_equal(icmp_error(&p, f, orig + 14, 24), MOAT_R_NONE);
	assert_true(p.inner.present && p.inner.has_ports);
	assert_int_equal(icmp_error(&p, f, orig + 14, 22), MOAT_R_NONE);
	assert_true(p.inner.present);
	assert_false(p.inner.has_ports);
	/* Not even an IP header, or garbage: the error itself still passes. */
	assert_int_equal(icmp_error(&p, f, orig + 14, 12), MOAT_R_NONE);
	assert_false(p.inner.present);
	assert_int_equal(icmp_error(&p, f, (const uint8_t *)"garbage!garbage!garbage!", 24),
			 MOAT_R_NONE);
	assert_false(p.inner.present);
	/* TCP quoted with 8 bytes: SEQ known. */
	olen = frame_tcp4(orig);
	assert_int_equal(icmp_error(&p, f, orig + 14, 28), MOAT_R_NONE);
	assert_true(p.inner.has_seq);
	assert_int_equal(p.inner.seq, 0x11223344);
	assert_false(p.inner.has_ack);
	/* Where the quoted header is, for a rewrite: 14 + 20 + 8 + 20. */
	assert_int_equal(p.inner.l4_off, 62);
	assert_int_equal(p.inner.l4_len, 8);
	assert_int_equal(icmp_error(&p, f, orig + 14, 27), MOAT_R_NONE);
	assert_false(p.inner.has_seq);
	/* 14 bytes of TCP: the flags say whether the ACK field means one. */
	assert_int_equal(icmp_error(&p, f, orig + 14, 34), MOAT_R_NONE);
	assert_true(p.inner.has_ack);
	assert_int_equal(p.inner.ack, 0x55667788);
	assert_int_equal(p.inner.l4_len, 14);
	assert_int_equal(icmp_error(&p, f, orig + 14, 33), MOAT_R_NONE);
	assert_false(p.inner.has_ack);
	orig[14 + 20 + 13] &= (uint8_t)~MOAT_TCP_ACK;
	assert_int_equal(icmp_error(&p, f, orig + 14, 34), MOAT_R_NONE);
	assert_false(p.inner.has_ack);
	orig[14 + 20 + 13] |= MOAT_TCP_ACK;
	/* Quote of a later fragment: addresses, no ports. */
	orig[21] = 2;
	assert_int_equal(icmp_error(&p, f, orig + 14, 28), MOAT_R_NONE);
	assert_true(p.inner.present);
	assert_false(p.inner.has_ports);
	/* The error message itself too short: truncated. */
	assert_int_equal(icmp_error(&p, f, orig, 0), MOAT_R_NONE);
	f[17] = 20 + 4;
	assert_int_equal(moat_pkt_decode(&p, f, 38, 38, MOAT_LINK_ETHERNET),
			 MOAT_R_TRUNCATED);
}

static void icmp_echo_and_v6(void **state)
{
	static const uint8_t echo6[] = { 128, 0, 0, 0, 0x12, 0x34, 0, 9 };
	uint8_t f[FRAME_CAP], q[FRAME_CAP], body[FRAME_CAP];
	struct moat_pkt p;
	uint32_t len, qlen;

	(void)state;
	len = frame_ip6(f, 58, echo6, sizeof(echo6));
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_NONE);
	assert_int_equal(p.icmp_type, 128);
	assert_int_equal(p.icmp_id, 0x1234);
	assert_int_equal(p.sport, 0x1234);
	assert_int_equal(p.icmp_seq, 9);
	moat_pkt_fill_checksums(&p);
	assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);
	/* Echo with a non-zero code: refused. */
	f[55] = 1;
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_ICMP_BAD_HEADER);
	/* ICMPv6 packet too big (type 2) quoting TCP over IPv6. */
	qlen = frame_tcp6(q) - 14;
	memcpy(body, (const uint8_t[]){ 2, 0, 0, 0, 0, 0, 5, 0 }, 8);
	memcpy(body + 8, q + 14, qlen);
	len = frame_ip6(f, 58, body, 8 + qlen);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_NONE);
	assert_true(p.inner.present && p.inner.has_seq);
	assert_int_equal(p.inner.ipv, 6);
	assert_int_equal(p.inner.dport, 80);
	/* Quote cut inside the IPv6 header: undecoded, not refused. */
	len = frame_ip6(f, 58, body, 8 + 30);
	assert_int_equal(moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET),
			 MOAT_R_NONE);
	assert_false(p.inner.present);
}

static void format_lines(void **state)
{
	char line[512];
	uint8_t f[FRAME_CAP];
	struct moat_pkt p;
	uint32_t len = frame_tcp4(f);

	(void)state;
	moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET);
	moat_pkt_format(&p, line, sizeof(line));
	assert_string_equal(line,
		"IP 198.18.100.10.40000 > 198.18.1.10.80: TCP Flags [S.], "
		"seq 287454020, ack 1432778632, win 64240, options [mss 1460,"
		"sackOK,TS val 1000 ecr 2000,wscale 7], length 0, ttl 64");
	/* Every buffer size: NUL-terminated, never longer than asked. */
	for (unsigned long n = 1; n < 200; n++) {
		char small[200];

		memset(small, 'x', sizeof(small));
		moat_pkt_format(&p, small, n);
		assert_true(strlen(small) < n);
		assert_int_equal(small[n], 'x');
	}
	/* A refused frame prints how far decode got. */
	f[14] = 0x44;
	moat_pkt_decode(&p, f, len, len, MOAT_LINK_ETHERNET);
	moat_pkt_format(&p, line, sizeof(line));
	assert_string_equal(line, "ethertype 0x0800, length 74");
}

/*
 * The bulk checksum against RFC 1071's plain definition (16-bit words,
 * end-around carry, one at a time), over every length and start offset and
 * the patterns that carry the most (all ones) and the least.
 */
static uint16_t csum_reference(const uint8_t *d, uint32_t len)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i + 1 < len; i += 2) {
		sum += (uint32_t)(d[i] << 8 | d[i + 1]);
		sum = (sum & 0xffff) + (sum >> 16);
	}
	if (len & 1) {
		sum += (uint32_t)d[len - 1] << 8;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)~sum;
}

static void csum_matches_reference(void **state)
{
	static const uint8_t fills[] = { 0xff, 0x00, 0x80, 0x7f };
	uint8_t buf[200];

	(void)state;
	for (size_t f = 0; f < sizeof(fills); f++) {
		for (uint32_t i = 0; i < sizeof(buf); i++)
			buf[i] = f == 3 ? (uint8_t)(i * 37 + 11) : fills[f];
		for (uint32_t off = 0; off < 8; off++)
			for (uint32_t len = 0; len + off <= sizeof(buf); len++)
				assert_int_equal(
					moat_csum_fold(moat_csum_partial(
						buf + off, len, 0)),
					csum_reference(buf + off, len));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(csum_known_values),
		cmocka_unit_test(csum_matches_reference),
		cmocka_unit_test(csum_verify_detects),
		cmocka_unit_test(csum_incremental_equals_full),
		cmocka_unit_test(build_tcp_round_trip),
		cmocka_unit_test(build_tcp_option_sets),
		cmocka_unit_test(build_unreach_quotes),
		cmocka_unit_test(icmp_quotes),
		cmocka_unit_test(icmp_echo_and_v6),
		cmocka_unit_test(format_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
