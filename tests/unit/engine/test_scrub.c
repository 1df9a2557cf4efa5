/*
 * Scrub (src/engine/scrub.c): each normalisation on packets the engine
 * passes, its checksum fixed so the packet stays valid, and nothing
 * changed when the option is off (the default).  RFC sections as cited.
 */
#include <stdlib.h>

#include "harness.h"
#include "../frag/frags.h"

#define ZONES                                                                  \
	"zone outside { interface out0; default }\n"                           \
	"zone inside { interface in0; networks { 198.18.1.0/24, "              \
	"2001:db8:1::/48 } }\n"

static const char *const plain = ZONES "pass\n";

static struct moat_tcp_opts mss_opt(uint16_t mss)
{
	struct moat_tcp_opts o;

	memset(&o, 0, sizeof(o));
	o.present = MOAT_TCPOPT_MSS | MOAT_TCPOPT_WSCALE;
	o.mss = mss;
	o.wscale = 7;
	return o;
}

/* Decode h->frame, check every checksum, return the view. */
static void decoded(struct harness *h, struct moat_pkt *p)
{
	h_decode(h, p);
	assert_int_equal(moat_pkt_verify_checksums(p), MOAT_R_NONE);
}

static uint16_t sport = 40000;

static void syn_with_mss(struct harness *h, const char *src, const char *dst,
			 uint8_t flags, uint16_t mss)
{
	struct moat_tcp_opts o = mss_opt(mss);
	bool ack = flags & MOAT_TCP_ACK;
	struct seg s = { src, dst, ack ? 80 : sport, ack ? sport : 80, 1000,
			 ack ? 1001 : 0, flags, 0, 0, 0, &o };

	h_build(h, &s);
}

/* RFC 9293 section 3.7.1 (MSS in SYNs only), RFC 2923 section 2.1: SYN
 * and SYN-ACK MSS above max-mss are clamped, the TCP checksum still
 * right; smaller ones and other segments are left alone. */
static void max_mss_clamps(void **state)
{
	static const char *const fam[2][2] = {
		{ "198.18.100.10", "198.18.1.10" },
		{ "2001:db8:100::10", "2001:db8:1::10" } };
	struct moat_pkt p;
	struct harness h;

	(void)state;
	h_start(&h, ZONES "options { max-mss 1400 }\npass\n");
	for (int v = 0; v < 2; v++) {
		sport++;
		syn_with_mss(&h, fam[v][0], fam[v][1], MOAT_TCP_SYN, 1460);
		assert_verdict(h_run(&h, 0), MOAT_VERDICT_PASS,
			       MOAT_R_RULE_PASS);
		assert_true(h.res.rewritten);
		decoded(&h, &p);
		assert_int_equal(p.opt.mss, 1400);
		assert_int_equal(p.opt.wscale, 7);
		/* The SYN-ACK back. */
		syn_with_mss(&h, fam[v][1], fam[v][0],
			     MOAT_TCP_SYN | MOAT_TCP_ACK, 8960);
		assert_verdict(h_run(&h, 1), MOAT_VERDICT_PASS,
			       MOAT_R_STATE_MATCH);
		decoded(&h, &p);
		assert_int_equal(p.opt.mss, 1400);
		/* Already small enough. */
		sport++;
		syn_with_mss(&h, fam[v][0], fam[v][1], MOAT_TCP_SYN, 1200);
		h_run(&h, 0);
		assert_false(h.res.rewritten);
		decoded(&h, &p);
		assert_int_equal(p.opt.mss, 1200);
	}
	h_stop(&h);
}

/* The MSS option at an odd offset (after one NOP): the checksum covers
 * 16-bit words, so the change lands across two of them. */
static void max_mss_odd_offset(void **state)
{
	struct moat_pkt p;
	struct harness h;
	uint8_t *opt;

	(void)state;
	h_start(&h, ZONES "options { max-mss 536 }\npass\n");
	syn_with_mss(&h, "198.18.100.10", "198.18.1.10", MOAT_TCP_SYN, 1460);
	h_decode(&h, &p);
	assert_int_equal(p.tcp_hlen, 28);
	/* Options now: NOP, MSS 1460, NOP, NOP, NOP. */
	opt = h.frame + p.l4_off + 20;
	memcpy(opt, (const uint8_t[]){ 1, 2, 4, 0x05, 0xb4, 1, 1, 1 }, 8);
	h_decode(&h, &p);
	moat_pkt_fill_checksums(&p);
	assert_verdict(h_run(&h, 0), MOAT_VERDICT_PASS, MOAT_R_RULE_PASS);
	decoded(&h, &p);
	assert_int_equal(p.opt.mss, 536);
	assert_int_equal(opt[3], 536 >> 8);
	assert_int_equal(opt[4], 536 & 0xff);
	h_stop(&h);
}

/* RFC 791 (TTL), RFC 8200 section 3 (hop limit): raised to min-ttl, the
 * IPv4 header checksum fixed; higher ones untouched. */
static void min_ttl_raises(void **state)
{
	struct moat_tcp_opts o = mss_opt(1460);
	struct moat_pkt p;
	struct harness h;

	(void)state;
	h_start(&h, ZONES "options { min-ttl 64 }\npass\n");
	for (int v = 0; v < 2; v++) {
		struct seg s = { v ? "2001:db8:100::10" : "198.18.100.10",
				 v ? "2001:db8:1::10" : "198.18.1.10", 40000,
				 80, 1, 0, MOAT_TCP_SYN, 0, 0, 0, &o };

		h_build(&h, &s);
		h_decode(&h, &p);
		/* Hop limit 3 as if it had come a long way. */
		h.frame[p.l3_off + (v ? 7 : 8)] = 3;
		h_decode(&h, &p);
		moat_pkt_fill_checksums(&p);
		h_run(&h, 0);
		assert_true(h.res.rewritten);
		decoded(&h, &p);
		assert_int_equal(p.ttl, 64);
		/* 128 stays 128. */
		h.frame[p.l3_off + (v ? 7 : 8)] = 128;
		h_decode(&h, &p);
		moat_pkt_fill_checksums(&p);
		h_run(&h, 0);
		assert_false(h.res.rewritten);
		decoded(&h, &p);
		assert_int_equal(p.ttl, 128);
	}
	h_stop(&h);
}

/* min-ttl reaches fragments too: those that pass on arrival and those
 * held for their first fragment and sent when it passes. */
static void min_ttl_fragments(void **state)
{
	static const struct fr_dgram d = { 4, "198.18.100.53", "198.18.1.10",
					   0x4243, 17, 53, 40000, 3000, 0 };
	static uint8_t fr[FR_CAP];
	struct moat_frame f;
	struct moat_pkt p;
	struct harness h;
	const uint32_t off[3] = { 2896, 0, 1448 }, len[3] = { 104, 1448, 1448 };

	(void)state;
	h_start(&h, ZONES "options { min-ttl 100 }\npass\n");
	for (int i = 0; i < 3; i++) {
		uint32_t l = fr_piece(fr, &d, off[i], len[i], off[i] != 2896,
				      NULL);

		f = (struct moat_frame){ fr, l, l, MOAT_LINK_ETHERNET, 0 };
		moat_emit_reset(&h.out);
		moat_engine_process(h.eng, &f, h.now, &h.res, &h.out);
		if (i == 0) {
			assert_verdict(&h.res, MOAT_VERDICT_DROP,
				       MOAT_R_FRAG_HELD);
			continue;
		}
		assert_int_equal(h.res.verdict, MOAT_VERDICT_PASS);
		assert_true(h.res.rewritten);
		assert_int_equal(moat_pkt_decode(&p, fr, l, l,
						 MOAT_LINK_ETHERNET),
				 MOAT_R_NONE);
		assert_int_equal(p.ttl, 100);
		assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);
		if (i == 1) {
			struct moat_emit_frame *e = &h.out.frames[0];

			assert_int_equal(h.out.count, 1);
			assert_int_equal(moat_pkt_decode(&p, e->data, e->len,
							 e->len, e->linktype),
					 MOAT_R_NONE);
			assert_int_equal(p.frag_off, 2896);
			assert_int_equal(p.ttl, 100);
			assert_int_equal(moat_pkt_verify_checksums(&p),
					 MOAT_R_NONE);
		}
	}
	h_stop(&h);
}

static uint16_t ip_id(struct harness *h)
{
	struct moat_pkt p;

	decoded(h, &p);
	return (uint16_t)p.frag_id;
}

/* RFC 6864 section 4.1: whole IPv4 packets get fresh IDs from a keyed
 * hash (the key from the engine's secret: two engines with one secret
 * give the same IDs, so nothing else went in); fragments keep theirs. */
static void random_id(void **state)
{
	static const char *const c = ZONES "options { random-id on }\npass\n";
	struct seg s = { "198.18.100.10", "198.18.1.10", 40000, 80, 1, 0,
			 MOAT_TCP_SYN, 0, 0, 0, NULL };
	uint16_t ids[2][16];
	struct harness h;
	int same = 0;

	(void)state;
	for (int run = 0; run < 2; run++) {
		h_start(&h, c);
		for (int i = 0; i < 16; i++) {
			s.sport = (uint16_t)(40000 + i);
			h_build(&h, &s);
			assert_verdict(h_run(&h, 0), MOAT_VERDICT_PASS,
				       MOAT_R_RULE_PASS);
			assert_true(h.res.rewritten);
			ids[run][i] = ip_id(&h);
		}
		h_stop(&h);
	}
	for (int i = 0; i < 16; i++) {
		assert_int_equal(ids[0][i], ids[1][i]);
		same += ids[0][i] == 0; /* the builder's own ID */
	}
	assert_true(same < 2);
	for (int i = 1; i < 16; i++)
		assert_true(ids[0][i] != ids[0][i - 1]);
	/* A fragment keeps its ID: it joins the datagram's pieces. */
	{
		static const struct fr_dgram d = { 4, "198.18.100.53",
						   "198.18.1.10", 0x4242, 17,
						   53, 40000, 3000, 0 };
		static uint8_t fr[FR_CAP];
		struct moat_frame f;
		struct moat_pkt p;
		uint32_t l = fr_piece(fr, &d, 0, 1448, true, NULL);

		h_start(&h, c);
		f = (struct moat_frame){ fr, l, l, MOAT_LINK_ETHERNET, 0 };
		moat_emit_reset(&h.out);
		moat_engine_process(h.eng, &f, h.now, &h.res, &h.out);
		assert_verdict(&h.res, MOAT_VERDICT_PASS, MOAT_R_RULE_PASS);
		assert_false(h.res.rewritten);
		assert_int_equal(moat_pkt_decode(&p, fr, l, l,
						 MOAT_LINK_ETHERNET),
				 MOAT_R_NONE);
		assert_int_equal(p.frag_id, 0x4242);
		h_stop(&h);
	}
}

/* RFC 9293 section 3.1: the reserved bits must be zero when sent;
 * tcp-reserved clear makes them so, the checksum fixed. */
static void tcp_reserved_clear(void **state)
{
	struct seg s = { "198.18.100.10", "198.18.1.10", 40000, 80, 1, 0,
			 MOAT_TCP_SYN, 0, 0, 0, NULL };
	struct moat_pkt p;
	struct harness h;

	(void)state;
	h_start(&h, ZONES "options { tcp-reserved clear }\npass\n");
	h_build(&h, &s);
	h_decode(&h, &p);
	h.frame[p.l4_off + 12] |= 0x0f;
	h_decode(&h, &p);
	moat_pkt_fill_checksums(&p);
	assert_verdict(h_run(&h, 0), MOAT_VERDICT_PASS, MOAT_R_RULE_PASS);
	assert_true(h.res.rewritten);
	decoded(&h, &p);
	assert_int_equal(h.frame[p.l4_off + 12] & 0x0f, 0);
	assert_int_equal(h.frame[p.l4_off + 12] >> 4, 5);
	assert_int_equal(p.tcp_flags, MOAT_TCP_SYN);
	h_stop(&h);
}

/* Off by default: the same packets leave byte for byte as they came. */
static void off_by_default(void **state)
{
	struct moat_tcp_opts o = mss_opt(9000);
	struct seg s = { "198.18.100.10", "198.18.1.10", 40000, 80, 1, 0,
			 MOAT_TCP_SYN, 0, 0, 0, &o };
	uint8_t before[2048];
	struct moat_pkt p;
	struct harness h;

	(void)state;
	h_start(&h, plain);
	h_build(&h, &s);
	h_decode(&h, &p);
	h.frame[p.l3_off + 8] = 2;
	h.frame[p.l4_off + 12] |= 0x0e;
	h_decode(&h, &p);
	moat_pkt_fill_checksums(&p);
	memcpy(before, h.frame, h.len);
	assert_verdict(h_run(&h, 0), MOAT_VERDICT_PASS, MOAT_R_RULE_PASS);
	assert_false(h.res.rewritten);
	assert_memory_equal(before, h.frame, h.len);
	h_stop(&h);
}

/* A dropped packet is not touched. */
static void drops_untouched(void **state)
{
	struct seg s = { "198.18.100.10", "198.18.1.10", 40000, 80, 1, 0,
			 MOAT_TCP_SYN, 0, 0, 0, NULL };
	uint8_t before[2048];
	struct harness h;

	(void)state;
	h_start(&h, ZONES "options { random-id on; min-ttl 200 }\n"
		    "block tcp port 80\n");
	h_build(&h, &s);
	memcpy(before, h.frame, h.len);
	assert_verdict(h_run(&h, 0), MOAT_VERDICT_DROP, MOAT_R_RULE_BLOCK);
	assert_memory_equal(before, h.frame, h.len);
	h_stop(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(max_mss_clamps),
		cmocka_unit_test(max_mss_odd_offset),
		cmocka_unit_test(min_ttl_raises),
		cmocka_unit_test(min_ttl_fragments),
		cmocka_unit_test(random_id),
		cmocka_unit_test(tcp_reserved_clear),
		cmocka_unit_test(off_by_default),
		cmocka_unit_test(drops_untouched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
