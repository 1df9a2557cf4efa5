/*
 * The XDP program against the engine, through BPF_PROG_TEST_RUN: for the
 * same SYN, key and time it must emit byte for byte the SYN-ACK the engine
 * emits (IPv4 and IPv6, with and without timestamps, window scale and
 * SACK, several MSS on both sides, servers learned with different
 * options); the engine must accept the final ACK of a cookie XDP made; a
 * key rotation must leave XDP's cookies valid for the engine's window; and
 * what XDP does not answer goes on, counted by why; and every frame it
 * drops (martian sources) the engine drops too, over crafted frames and
 * a replay of tests/corpus.
 *
 * Needs root (loading BPF); exits 77 (skip) without it or where the
 * kernel has no BPF, saying so.  XDP's clock is the kernel's
 * CLOCK_MONOTONIC plus the offset in moat_cfg: the engine is driven at
 * the same instant, and a comparison that straddles a 64 ms TSval step is
 * run again.
 */
#include <dirent.h>
#include <net/if.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "../engine/harness.h"
#include "moat/cookie_core.h"
#include "moat/io_pcap.h"
#include "moat/io_xdp.h"
#include "moat/syn.h"

#define CLIENT4 "198.18.100.10"
#define CLIENT6 "2001:db8:100::10"

static const char *const conf =
	"zone outside { interface out0; default }\n"
	"zone inside { interface in0; networks { 198.18.1.0/24, "
	"2001:db8:1::/64 } }\n"
	"options { syncookies on }\n"
	"pass from outside to 198.18.1.0/24 tcp port 80 synproxy\n"
	"pass from outside to 2001:db8:1::/64 tcp port 80 synproxy\n"
	"pass from inside\n";

/* The servers, each learned with its own options from its SYN-ACK. */
struct server {
	const char *addr;
	struct moat_tcp_opts opt;
	uint8_t flags;            /* of its SYN-ACK: ECE means ECN */
};

#define ALL (MOAT_TCPOPT_MSS | MOAT_TCPOPT_WSCALE | MOAT_TCPOPT_SACK_PERM | \
	     MOAT_TCPOPT_TS)

static const struct server servers[] = {
	{ "198.18.1.10", { .present = ALL, .mss = 1460, .wscale = 7 }, 0 },
	{ "198.18.1.11", { .present = MOAT_TCPOPT_MSS | MOAT_TCPOPT_SACK_PERM,
			   .mss = 1400 }, 0 },
	{ "198.18.1.12", { .present = MOAT_TCPOPT_MSS | MOAT_TCPOPT_WSCALE |
				      MOAT_TCPOPT_TS, .mss = 1300,
			   .wscale = 2 }, MOAT_TCP_ECE },
	{ "198.18.1.13", { .present = ALL, .mss = 9000, .wscale = 14 }, 0 },
	{ "2001:db8:1::10", { .present = ALL, .mss = 1440, .wscale = 9 }, 0 },
	{ "2001:db8:1::11", { .present = MOAT_TCPOPT_MSS, .mss = 1220 }, 0 },
	{ "2001:db8:1::12", { .present = ALL, .mss = 8940, .wscale = 0 },
	  MOAT_TCP_ECE },
};
enum { NSERVERS = sizeof(servers) / sizeof(servers[0]) };

/* What clients offer in their SYNs. */
struct client {
	struct moat_tcp_opts opt;
	uint8_t flags;
};

static const struct client clients[] = {
	{ { .present = 0 }, MOAT_TCP_SYN },
	{ { .present = MOAT_TCPOPT_MSS, .mss = 536 }, MOAT_TCP_SYN },
	{ { .present = MOAT_TCPOPT_MSS, .mss = 100 }, MOAT_TCP_SYN },
	{ { .present = MOAT_TCPOPT_MSS | MOAT_TCPOPT_WSCALE |
		       MOAT_TCPOPT_SACK_PERM, .mss = 1300, .wscale = 3 },
	  MOAT_TCP_SYN },
	{ { .present = ALL, .mss = 1460, .wscale = 7, .tsval = 111111 },
	  MOAT_TCP_SYN },
	{ { .present = ALL, .mss = 1440, .wscale = 14, .tsval = 0xfffffff0 },
	  MOAT_TCP_SYN | MOAT_TCP_ECE | MOAT_TCP_CWR },
	{ { .present = MOAT_TCPOPT_MSS | MOAT_TCPOPT_TS, .mss = 9000,
	    .tsval = 42 }, MOAT_TCP_SYN },
	{ { .present = MOAT_TCPOPT_TS | MOAT_TCPOPT_SACK_PERM, .tsval = 7 },
	  MOAT_TCP_SYN | MOAT_TCP_ECE },
};
enum { NCLIENTS = sizeof(clients) / sizeof(clients[0]) };

struct fixture {
	struct harness h;
	struct moat_io_xdp *x;
	int64_t offset;           /* engine time - CLOCK_MONOTONIC */
};

static int lo_ifindex(void)
{
	return (int)if_nametoindex("lo");
}

static struct moat_io_xdp *xdp_or_skip(char *err, size_t len)
{
	return moat_io_xdp_open(MOAT_XDP_OBJECT_BUILD, err, len);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t engine_now(const struct fixture *f)
{
	return (uint64_t)((int64_t)mono_ns() + f->offset);
}

/* The engine learns server @s's options: its first SYN goes through
 * (PROBE), the server's SYN-ACK teaches. */
static void teach(struct fixture *f, const struct server *s)
{
	const char *client = strchr(s->addr, ':') ? CLIENT6 : CLIENT4;
	struct moat_tcp_opts copt = { .present = ALL, .mss = 1460,
				      .wscale = 7, .tsval = 5 };
	struct seg syn = { client, s->addr, 39999, 80, 1, 0, MOAT_TCP_SYN,
			   64240, 0, 0, &copt };
	struct moat_tcp_opts sopt = s->opt;

	f->h.now = engine_now(f);
	assert_verdict(h_tcp(&f->h, OUT, &syn), MOAT_VERDICT_PASS,
		       MOAT_R_RULE_PASS);
	sopt.tsval = 1;
	sopt.tsecr = copt.tsval;
	struct seg synack = { s->addr, client, 80, 39999, 99, 2,
			      (uint8_t)(MOAT_TCP_SYN | MOAT_TCP_ACK | s->flags),
			      65160, 0, 0, &sopt };
	assert_verdict(h_tcp(&f->h, IN, &synack), MOAT_VERDICT_PASS,
		       MOAT_R_STATE_MATCH);
}

static int setup(void **state)
{
	static struct fixture f;
	char err[256];

	memset(&f, 0, sizeof(f));
	f.x = xdp_or_skip(err, sizeof(err));
	if (!f.x) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	h_start(&f.h, conf);
	moat_engine_cookie_export(f.h.eng, true);
	/* The program runs on the loopback here: it is the outside. */
	assert_int_equal(moat_io_xdp_add_port(f.x, lo_ifindex(), OUT), 0);
	assert_int_equal(moat_io_xdp_set_rules(f.x, f.h.cfg), 0);
	assert_int_equal(moat_io_xdp_set_flags(f.x, MOAT_XDP_F_COOKIES |
						    MOAT_XDP_F_RTX |
						    MOAT_XDP_F_ANTISPOOF), 0);
	for (int i = 0; i < NSERVERS; i++)
		teach(&f, &servers[i]);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	h_stop(&f->h);
	moat_io_xdp_close(f->x);
	return 0;
}

/* Run @in through the program; returns its action, the frame in @out. */
static int xdp_run(struct fixture *f, const uint8_t *in, uint32_t len,
		   uint8_t *out, uint32_t *out_len)
{
	uint8_t buf[2048];
	struct xdp_md ctx = { .data_end = len,
			      .ingress_ifindex = (uint32_t)lo_ifindex() };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .data_size_in = len,
		    .data_out = out, .data_size_out = 2048, .repeat = 1,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));

	memcpy(buf, in, len);
	assert_int_equal(bpf_prog_test_run_opts(moat_io_xdp_prog_fd(f->x), &o),
			 0);
	*out_len = o.data_size_out;
	return (int)o.retval;
}

/* The engine's answer to the SYN in h.frame at engine time now. */
static void engine_answer(struct fixture *f, uint8_t *out, uint32_t *len)
{
	static char why[4096];

	f->h.now = engine_now(f);
	moat_engine_explain_next(f->h.eng, why, sizeof(why));
	h_run(&f->h, OUT);
	if (f->h.res.reason != MOAT_R_SYN_COOKIE_SENT)
		fprintf(stderr, "%s", why);
	assert_verdict(&f->h.res, MOAT_VERDICT_DROP, MOAT_R_SYN_COOKIE_SENT);
	assert_int_equal(f->h.out.count, 1);
	*len = f->h.out.frames[0].len;
	memcpy(out, f->h.out.frames[0].data, *len);
	/* What the engine decided goes into the maps. */
	moat_io_xdp_mirror(f->x, f->h.eng);
	assert_int_equal(moat_io_xdp_push_keys(f->x, f->h.eng, f->h.now), 0);
}

static uint64_t stat(struct fixture *f, unsigned i)
{
	uint64_t n[MOAT_XDP_ST_COUNT];

	assert_int_equal(moat_io_xdp_counters(f->x, n), 0);
	return n[i];
}

static void build_syn(struct fixture *f, const struct server *s,
		      const struct client *c, uint16_t sport, uint32_t isn)
{
	const char *client = strchr(s->addr, ':') ? CLIENT6 : CLIENT4;
	struct seg syn = { client, s->addr, sport, 80, isn, 0, c->flags,
			   29200, 0, 0, &c->opt };

	h_build(&f->h, &syn);
}

/*
 * The SYN in h.frame: XDP's SYN-ACK equals the engine's at the same time
 * (both sides of the XDP run agree, or it is run again).  Leaves XDP's
 * frame in @x.
 */
static void same_synack(struct fixture *f, uint8_t *x, uint32_t *xlen)
{
	uint8_t syn[2048], e1[2048], e2[2048];
	uint32_t slen = f->h.len, l1, l2;

	memcpy(syn, f->h.frame, slen);
	for (int attempt = 0; attempt < 8; attempt++) {
		memcpy(f->h.frame, syn, slen);
		f->h.len = slen;
		engine_answer(f, e1, &l1);
		assert_int_equal(xdp_run(f, syn, slen, x, xlen), XDP_TX);
		memcpy(f->h.frame, syn, slen);
		f->h.len = slen;
		engine_answer(f, e2, &l2);
		if (l1 != l2 || memcmp(e1, e2, l1) != 0)
			continue; /* a TSval step between: again */
		assert_int_equal(*xlen, l1);
		if (memcmp(x, e1, l1) != 0) {
			for (uint32_t i = 0; i < l1; i++)
				if (x[i] != e1[i])
					fprintf(stderr, "byte %u: xdp %02x "
						"engine %02x\n", i, x[i],
						e1[i]);
			fail_msg("XDP's SYN-ACK differs from the engine's");
		}
		return;
	}
	fail_msg("the engine's answer never held still");
}

/* The client's final ACK to XDP's SYN-ACK @x goes to the engine: the
 * cookie must be valid (the proxy then opens the server side). */
static void final_ack_valid(struct fixture *f, const struct server *s,
			    const uint8_t *x, uint32_t xlen, uint16_t sport,
			    uint32_t isn, uint64_t at)
{
	const char *client = strchr(s->addr, ':') ? CLIENT6 : CLIENT4;
	struct moat_tcp_opts ts = { .present = MOAT_TCPOPT_TS };
	struct moat_pkt p;

	assert_int_equal(moat_pkt_decode(&p, (uint8_t *)x, xlen, xlen,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
	assert_int_equal(moat_pkt_verify_checksums(&p), MOAT_R_NONE);
	assert_int_equal(p.ack, isn + 1);
	ts.tsval = 111112;
	ts.tsecr = p.opt.tsval;
	struct seg ack = { client, s->addr, sport, 80, isn + 1, p.seq + 1,
			   MOAT_TCP_ACK, 229, 0, 0,
			   (p.opt.present & MOAT_TCPOPT_TS) ? &ts : NULL };
	f->h.now = at;
	assert_verdict(h_tcp(&f->h, OUT, &ack), MOAT_VERDICT_DROP,
		       MOAT_R_SYN_PROXY_CONSUMED);
	assert_int_equal(f->h.out.count, 1);
	assert_int_equal(f->h.out.frames[0].out_zone, IN);
}

static void synack_byte_for_byte(void **state)
{
	struct fixture *f = *state;
	uint8_t x[2048];
	uint32_t xlen, sent = (uint32_t)stat(f, MOAT_R_SYN_COOKIE_SENT), n = 0;
	uint16_t sport = 40000;

	for (int s = 0; s < NSERVERS; s++) {
		for (int c = 0; c < NCLIENTS; c++, sport++) {
			uint32_t isn = 0x9e3779b9u * sport;

			build_syn(f, &servers[s], &clients[c], sport, isn);
			same_synack(f, x, &xlen);
			n++;
			/* A SYN only XDP answered: the engine takes its
			 * final ACK as its own. */
			build_syn(f, &servers[s], &clients[c],
				  (uint16_t)(sport + 10000), isn);
			assert_int_equal(xdp_run(f, f->h.frame, f->h.len, x,
						 &xlen), XDP_TX);
			n++;
			final_ack_valid(f, &servers[s], x, xlen,
					(uint16_t)(sport + 10000), isn,
					engine_now(f));
		}
	}
	assert_int_equal(stat(f, MOAT_R_SYN_COOKIE_SENT) - sent, n);
}

/*
 * A key rotation: XDP's clock is moved into the last cookie counter of a
 * key epoch, a cookie made there; then into the first counter of the next
 * epoch, where the next key is used (pushed ahead) and the cookie of the
 * previous epoch is still valid for the engine; two counters later it is
 * stale, as the engine's own.
 */
static void key_rotation(void **state)
{
	struct fixture *f = *state;
	const struct server *s = &servers[0];
	const uint64_t counter_ns = MOAT_COOKIE_COUNTER_NS;
	const uint64_t per_epoch = MOAT_SYN_KEY_EPOCH_COUNTERS;
	uint64_t mono = mono_ns(), epoch = mono / counter_ns / per_epoch + 2;
	uint64_t last = (epoch * per_epoch + per_epoch - 1) * counter_ns;
	uint8_t x[2048], y[2048];
	uint32_t xlen, ylen, isn = 12345;
	struct moat_pkt p, q;

	/* 1 s into the last counter of epoch @epoch. */
	f->offset = (int64_t)(last + SEC - mono);
	assert_int_equal(moat_io_xdp_set_clock_offset(f->x, f->offset), 0);
	assert_int_equal(moat_io_xdp_push_keys(f->x, f->h.eng, engine_now(f)),
			 0);
	build_syn(f, s, &clients[4], 53001, isn);
	same_synack(f, x, &xlen);
	/* One more, whose final ACK comes too late. */
	build_syn(f, s, &clients[4], 53005, isn);
	assert_int_equal(xdp_run(f, f->h.frame, f->h.len, y, &ylen), XDP_TX);
	assert_int_equal(moat_pkt_decode(&p, y, ylen, ylen,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);

	/* The next epoch: its key was pushed with the last one; push again
	 * (the rotation) and answer with it. */
	f->offset += (int64_t)counter_ns;
	assert_int_equal(moat_io_xdp_set_clock_offset(f->x, f->offset), 0);
	uint64_t sent = stat(f, MOAT_R_SYN_COOKIE_SENT);
	build_syn(f, s, &clients[4], 53002, isn);
	assert_int_equal(xdp_run(f, f->h.frame, f->h.len, y, &ylen), XDP_TX);
	assert_int_equal(stat(f, MOAT_R_SYN_COOKIE_SENT), sent + 1);
	assert_int_equal(moat_io_xdp_push_keys(f->x, f->h.eng, engine_now(f)),
			 0);
	build_syn(f, s, &clients[4], 53003, isn);
	same_synack(f, y, &ylen);
	assert_int_equal(moat_pkt_decode(&q, y, ylen, ylen,
					 MOAT_LINK_ETHERNET), MOAT_R_NONE);
	assert_int_not_equal(p.seq >> MOAT_COOKIE_COUNTER_SHIFT,
			     q.seq >> MOAT_COOKIE_COUNTER_SHIFT);
	/* The old epoch's cookie, one counter later: still valid. */
	final_ack_valid(f, s, x, xlen, 53001, isn, engine_now(f));
	final_ack_valid(f, s, y, ylen, 53003, isn, engine_now(f));

	/* Without its key pushed, XDP does not guess: the SYN goes on. */
	f->offset += (int64_t)(2 * per_epoch * counter_ns);
	assert_int_equal(moat_io_xdp_set_clock_offset(f->x, f->offset), 0);
	sent = stat(f, MOAT_XDP_ST_PASS_NO_KEY);
	build_syn(f, s, &clients[4], 53004, isn);
	assert_int_equal(xdp_run(f, f->h.frame, f->h.len, y, &ylen), XDP_PASS);
	assert_int_equal(stat(f, MOAT_XDP_ST_PASS_NO_KEY), sent + 1);

	/* Two counters after it was made, the engine calls it stale. */
	struct seg ack = { CLIENT4, s->addr, 53005, 80, isn + 1, p.seq + 1,
			   MOAT_TCP_ACK, 229, 0, 0, NULL };
	f->h.now = last + SEC + 2 * counter_ns;
	assert_verdict(h_tcp(&f->h, OUT, &ack), MOAT_VERDICT_DROP,
		       MOAT_R_SYN_COOKIE_STALE);
	f->offset = 0;
	assert_int_equal(moat_io_xdp_set_clock_offset(f->x, 0), 0);
	assert_int_equal(moat_io_xdp_push_keys(f->x, f->h.eng, engine_now(f)),
			 0);
}

/* Frames XDP leaves to the engine, and the counter that says why. */
static void passes_the_rest(void **state)
{
	struct fixture *f = *state;
	const struct server *s = &servers[0];
	uint8_t x[2048];
	uint32_t xlen;
	struct {
		const char *what;
		unsigned stat;
	} rows[] = {
		{ "bad TCP checksum", MOAT_XDP_ST_PASS_CHECK },
		{ "bad IPv4 checksum", MOAT_XDP_ST_PASS_CHECK },
		{ "destination not in cookie mode", MOAT_XDP_ST_PASS_DST },
		{ "SYN with data", MOAT_XDP_ST_PASS_SHAPE },
		{ "ACK", MOAT_XDP_ST_PASS_NOT_SYN },
		{ "MSS option of length 3", MOAT_XDP_ST_PASS_CHECK },
		{ "IPv4 options", MOAT_XDP_ST_PASS_SHAPE },
		{ "source of the inside zone from outside",
		  MOAT_XDP_ST_PASS_CHECK },
		{ "from itself to itself", MOAT_XDP_ST_PASS_CHECK },
	};

	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct seg syn = { CLIENT4, s->addr, 60000, 80, 1, 0,
				   MOAT_TCP_SYN, 29200, 0, 0, &clients[4].opt };
		uint64_t before = stat(f, rows[i].stat);

		if (i == 2)
			syn.dst = "198.18.1.99";
		if (i == 3)
			syn.len = 10;
		if (i == 4)
			syn.flags = MOAT_TCP_ACK;
		if (i == 7)
			syn.src = "198.18.1.77";
		if (i == 8)
			syn.src = s->addr;
		h_build(&f->h, &syn);
		if (i == 0)
			f->h.frame[14 + 20 + 16] ^= 1;
		if (i == 1)
			f->h.frame[14 + 10] ^= 1;
		if (i == 5)
			f->h.frame[14 + 20 + 20 + 1] = 3;
		if (i == 6)
			f->h.frame[14] = 0x46;
		assert_int_equal(xdp_run(f, f->h.frame, f->h.len, x, &xlen),
				 XDP_PASS);
		if (stat(f, rows[i].stat) != before + 1)
			fail_msg("%s: not counted", rows[i].what);
		/* Untouched: the engine sees the frame as it came. */
		assert_int_equal(xlen, f->h.len);
		assert_memory_equal(x, f->h.frame, xlen);
	}
}

/* The engine takes the destination out of cookie mode: XDP stops too. */
static void follows_the_engine(void **state)
{
	struct fixture *f = *state;
	uint8_t x[2048];
	uint32_t xlen;

	build_syn(f, &servers[0], &clients[4], 61000, 1);
	assert_int_equal(xdp_run(f, f->h.frame, f->h.len, x, &xlen), XDP_TX);
	moat_engine_set_syncookies(f->h.eng, MOAT_SYNCOOKIES_OFF);
	assert_true(moat_io_xdp_mirror(f->x, f->h.eng) >= 1);
	assert_int_equal(xdp_run(f, f->h.frame, f->h.len, x, &xlen), XDP_PASS);
	/* Back on: the engine's next cookie puts it back. */
	moat_engine_set_syncookies(f->h.eng, MOAT_SYNCOOKIES_ON);
	build_syn(f, &servers[0], &clients[4], 61001, 1);
	same_synack(f, x, &xlen);
	build_syn(f, &servers[0], &clients[4], 61000, 1);
	assert_int_equal(xdp_run(f, f->h.frame, f->h.len, x, &xlen), XDP_TX);
	/* What XDP answered feeds the engine's counters and detector. */
	struct moat_counters c = *moat_engine_counters(f->h.eng);
	uint64_t before = c.reason[MOAT_R_SYN_COOKIE_SENT];
	moat_io_xdp_add_counters(f->x, &c);
	assert_true(c.reason[MOAT_R_SYN_COOKIE_SENT] >
		    before + stat(f, MOAT_R_SYN_COOKIE_SENT) - 1);
	moat_io_xdp_feed_syns(f->x, f->h.eng, engine_now(f));
}

/*
 * The lost final ACK: the SYN-ACKs XDP sends reach the engine's
 * retransmit table through moat_synacks, and the engine sends the same
 * frame again a second later; not when the final ACK came first.
 */
static void retransmits_xdp_synacks(void **state)
{
	struct fixture *f = *state;
	uint8_t x[2048], y[2048];
	uint32_t xlen, ylen;
	uint64_t t;

	/* What earlier tests left: the ring, and their due SYN-ACKs. */
	moat_io_xdp_consume_synacks(f->x, f->h.eng, engine_now(f), -1);
	t = engine_now(f) + 5 * SEC;
	for (int i = 0; i < 64; i++) {
		moat_emit_reset(&f->h.out);
		moat_engine_tick(f->h.eng, t, &f->h.out);
	}
	build_syn(f, &servers[0], &clients[4], 54000, 4242);
	assert_int_equal(xdp_run(f, f->h.frame, f->h.len, x, &xlen), XDP_TX);
	assert_int_equal(moat_io_xdp_consume_synacks(f->x, f->h.eng, t, OUT),
			 1);
	moat_emit_reset(&f->h.out);
	moat_engine_tick(f->h.eng, t + SEC / 2, &f->h.out);
	assert_int_equal(f->h.out.count, 0);
	moat_engine_tick(f->h.eng, t + SEC + SEC / 10, &f->h.out);
	assert_int_equal(f->h.out.count, 1);
	assert_int_equal(f->h.out.frames[0].out_zone, OUT);
	assert_int_equal(f->h.out.frames[0].len, xlen);
	assert_memory_equal(f->h.out.frames[0].data, x, xlen);

	/* The final ACK before the record: nothing to resend. */
	build_syn(f, &servers[0], &clients[4], 54001, 4242);
	assert_int_equal(xdp_run(f, f->h.frame, f->h.len, y, &ylen), XDP_TX);
	final_ack_valid(f, &servers[0], y, ylen, 54001, 4242, engine_now(f));
	assert_int_equal(moat_io_xdp_consume_synacks(f->x, f->h.eng, t, OUT),
			 0);
	moat_emit_reset(&f->h.out);
	moat_engine_tick(f->h.eng, t + 2 * SEC, &f->h.out);
	for (uint32_t i = 0; i < f->h.out.count; i++)
		assert_false(f->h.out.frames[i].len == ylen &&
			     !memcmp(f->h.out.frames[i].data, y, ylen));
}

/* ---- every answer and drop against the engine, over mutated SYNs -------- */

static uint32_t rng = 2463534242u;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static uint32_t sum16(const uint8_t *b, uint32_t len, uint32_t sum)
{
	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Make the checksums right again after a mutation, where the headers
 * still say where they are (else leave them wrong). */
static void fix_checksums(uint8_t *f, uint32_t len)
{
	uint32_t ip = 14, l4, l4len, sum;
	bool v6 = f[12] == 0x86 && f[13] == 0xdd;

	if (!v6 && (f[12] != 0x08 || f[13] != 0))
		return;
	if (v6) {
		l4 = ip + 40;
		l4len = (uint32_t)f[ip + 4] << 8 | f[ip + 5];
		if (f[ip + 6] != 6 || l4 + l4len > len || l4len < 20)
			return;
		sum = sum16(f + ip + 8, 32, 6 + l4len);
	} else {
		uint32_t ihl = (f[ip] & 15u) * 4, tot;

		if (ihl < 20 || ip + ihl > len)
			return;
		f[ip + 10] = f[ip + 11] = 0;
		sum = fold(sum16(f + ip, ihl, 0));
		f[ip + 10] = (uint8_t)(sum >> 8);
		f[ip + 11] = (uint8_t)sum;
		tot = (uint32_t)f[ip + 2] << 8 | f[ip + 3];
		l4 = ip + ihl;
		if (f[ip + 9] != 6 || tot < ihl + 20 || ip + tot > len)
			return;
		l4len = tot - ihl;
		sum = sum16(f + ip + 12, 8, 6 + l4len);
	}
	f[l4 + 16] = f[l4 + 17] = 0;
	sum = fold(sum16(f + l4, l4len, sum));
	f[l4 + 16] = (uint8_t)(sum >> 8);
	f[l4 + 17] = (uint8_t)sum;
}

/* The engine decided the SYN by a flow it tracks (conntrack's reasons). */
static bool tracked_flow_reason(enum moat_reason r)
{
	return (r >= MOAT_R_STATE_MATCH && r <= MOAT_R_TCP_CLOSED) ||
	       r == MOAT_R_TCP_SYN_REUSE || r == MOAT_R_TCP_STALE_RETRANSMIT ||
	       (r >= MOAT_R_SYN_PROXY_HELD && r <= MOAT_R_SYN_PROXY_CONSUMED);
}

/*
 * Thousands of SYNs with up to three bits flipped anywhere past the MAC
 * addresses, checksums made right again half the time: whatever XDP
 * answers the engine answers with the same frame, whatever XDP drops the
 * engine drops, whatever XDP passes on it leaves untouched.
 */
static void mutated_syns_agree(void **state)
{
	struct fixture *f = *state;
	uint8_t syn[2048], x[2048], e1[2048], e2[2048];
	uint32_t len, xlen, l1, l2;
	unsigned tx = 0, drops = 0, passes = 0, unsettled = 0, tracked = 0;

	for (int it = 0; it < 8000; it++) {
		const struct server *sv = &servers[next_rand() % NSERVERS];
		const struct client *cl = &clients[next_rand() % NCLIENTS];
		int nmut = (int)(next_rand() % 4);

		/* Ports no earlier test opened a flow on. */
		build_syn(f, sv, cl, (uint16_t)(1024 + next_rand() % 38000),
			  next_rand());
		len = f->h.len;
		memcpy(syn, f->h.frame, len);
		for (int m = 0; m < nmut; m++)
			syn[12 + next_rand() % (len - 12)] ^=
				(uint8_t)(1u << (next_rand() % 8));
		if (next_rand() & 1)
			fix_checksums(syn, len);

		memcpy(f->h.frame, syn, len);
		f->h.len = len;
		f->h.now = engine_now(f);
		h_run(&f->h, OUT);
		struct moat_result r1 = f->h.res;
		l1 = f->h.out.count ? f->h.out.frames[0].len : 0;
		if (l1)
			memcpy(e1, f->h.out.frames[0].data, l1);
		/* What moat's tick does between batches. */
		moat_io_xdp_mirror(f->x, f->h.eng);
		int act = xdp_run(f, syn, len, x, &xlen);
		if (act == XDP_PASS) {
			passes++;
			assert_int_equal(xlen, len);
			assert_memory_equal(x, syn, len);
			continue;
		}
		if (act == XDP_DROP) {
			drops++;
			assert_int_equal(r1.verdict, MOAT_VERDICT_DROP);
			continue;
		}
		assert_int_equal(act, XDP_TX);
		tx++;
		/* XDP knows no flows: a SYN whose tuple conntrack holds
		 * (here a bit flip onto an earlier test's port) meets the
		 * flow in the engine and a cookie in XDP.  Known, counted. */
		if (tracked_flow_reason(r1.reason)) {
			tracked++;
			continue;
		}
		if (r1.reason != MOAT_R_SYN_COOKIE_SENT)
			fail_msg("XDP answered a SYN the engine judged %s",
				 moat_reason_name(r1.reason));
		memcpy(f->h.frame, syn, len);
		f->h.len = len;
		f->h.now = engine_now(f);
		h_run(&f->h, OUT);
		l2 = f->h.out.count ? f->h.out.frames[0].len : 0;
		if (l2)
			memcpy(e2, f->h.out.frames[0].data, l2);
		if (l1 != l2 || memcmp(e1, e2, l1) != 0) {
			unsettled++; /* a TSval step between: no comparison */
			continue;
		}
		assert_int_equal(xlen, l1);
		assert_memory_equal(x, e1, l1);
	}
	printf("mutated SYNs: %u answered as the engine did, %u dropped, %u "
	       "passed on, %u not compared (TSval step), %u of a tracked "
	       "flow\n", tx, drops, passes, unsettled, tracked);
	assert_true(tracked * 100 < tx);
	assert_true(tx > 1000);
	assert_true(passes > 100);
}

/* ---- early drops against the engine's verdicts ------------------------ */

static const char *corpus_dir;

static const char *const conf_antispoof =
	"zone outside { interface out0; default }\n"
	"zone inside { interface in0; networks 198.18.1.0/24 }\n"
	"options { antispoof on\n policy pass }\n"
	"pass from outside\n"
	"pass from inside\n";

struct replay {
	struct fixture *f;
	struct harness e;         /* an engine with antispoof on */
	unsigned frames, dropped, reason_differs, tx;
};

/* One frame through XDP and the engine: a frame XDP drops is dropped by
 * the engine; one it passes leaves unchanged. */
static int replay_frame(struct replay *r, const uint8_t *data, uint32_t len,
			const char *what)
{
	uint8_t out[2048], copy[2048];
	uint32_t olen;
	struct moat_frame fr = { copy, len, len, MOAT_LINK_ETHERNET,
				 MOAT_ZONE_AUTO };
	int act;

	if (len < 14 || len > sizeof(copy))
		return -1;
	r->frames++;
	act = xdp_run(r->f, data, len, out, &olen);
	if (act == XDP_TX) {
		r->tx++;
		return act;
	}
	if (act == XDP_PASS) {
		assert_int_equal(olen, len);
		assert_memory_equal(out, data, len);
		return act;
	}
	assert_int_equal(act, XDP_DROP);
	r->dropped++;
	memcpy(copy, data, len);
	moat_emit_reset(&r->e.out);
	moat_engine_process(r->e.eng, &fr, r->e.now, &r->e.res, &r->e.out);
	if (r->e.res.verdict != MOAT_VERDICT_DROP)
		fail_msg("%s: XDP dropped a frame the engine passes (%s)", what,
			 moat_reason_name(r->e.res.reason));
	if (r->e.res.reason != MOAT_R_MARTIAN_SRC)
		r->reason_differs++;
	return act;
}

static void replay_file(struct replay *r, const char *path)
{
	struct moat_io_pcap_reader *rd;
	struct moat_io_pcap_pkt pkt;
	char err[256];

	if (moat_io_pcap_open(&rd, path, err, sizeof(err)) < 0)
		return; /* the corpus's unreadable files are meant to be */
	while (moat_io_pcap_next(rd, &pkt, err, sizeof(err)) > 0)
		if (pkt.linktype == MOAT_LINK_ETHERNET &&
		    pkt.caplen == pkt.wirelen)
			replay_frame(r, pkt.data, pkt.caplen, path);
	moat_io_pcap_close(rd);
}

static void martians_match_the_engine(void **state)
{
	static const struct {
		const char *src, *dst;
		uint8_t flags;
		int act;
	} rows[] = {
		{ "127.0.0.1", "198.18.1.10", MOAT_TCP_SYN, XDP_DROP },
		{ "0.0.0.0", "198.18.1.10", MOAT_TCP_SYN, XDP_DROP },
		{ "224.0.0.5", "198.18.1.10", MOAT_TCP_ACK, XDP_DROP },
		{ "255.255.255.255", "198.18.1.10", MOAT_TCP_SYN, XDP_DROP },
		{ "::1", "2001:db8:1::10", MOAT_TCP_SYN, XDP_DROP },
		{ "::", "2001:db8:1::10", MOAT_TCP_SYN, XDP_DROP },
		{ "ff02::1", "2001:db8:1::10", MOAT_TCP_ACK, XDP_DROP },
		{ "::ffff:198.18.100.1", "2001:db8:1::10", MOAT_TCP_SYN,
		  XDP_DROP },
		{ "198.18.100.10", "198.18.1.10", MOAT_TCP_SYN, XDP_PASS },
		{ "10.0.0.1", "198.18.1.10", MOAT_TCP_SYN, XDP_PASS },
		{ "2001:db8:100::1", "2001:db8:1::10", MOAT_TCP_SYN, XDP_PASS },
		{ "fe80::1", "2001:db8:1::10", MOAT_TCP_SYN, XDP_PASS },
	};
	struct fixture *f = *state;
	struct replay r = { .f = f };
	uint8_t out[2048];
	uint32_t olen;
	char path[1024];

	h_start(&r.e, conf_antispoof);
	assert_int_equal(moat_io_xdp_clear_dsts(f->x), 0);
	assert_int_equal(moat_io_xdp_set_flags(f->x, MOAT_XDP_F_COOKIES |
						     MOAT_XDP_F_RTX |
						     MOAT_XDP_F_ANTISPOOF), 0);
	uint64_t before = stat(f, MOAT_R_MARTIAN_SRC);
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct seg s = { rows[i].src, rows[i].dst, 1234, 80, 1, 1,
				 rows[i].flags, 0, 0, 0, NULL };

		h_build(&f->h, &s);
		if (replay_frame(&r, f->h.frame, f->h.len, rows[i].src) !=
		    rows[i].act)
			fail_msg("%s: want %s", rows[i].src,
				 rows[i].act == XDP_DROP ? "drop" : "pass");
	}
	/* A DHCP client without an address (RFC 2131 4.1): the engine's to
	 * judge.  Ethernet broadcast, 0.0.0.0:68 -> 255.255.255.255:67. */
	static const uint8_t dhcp[14 + 20 + 8] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 9, 0x08, 0,
		0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0x79, 0xd6,
		0, 0, 0, 0, 255, 255, 255, 255,
		0, 68, 0, 67, 0, 8, 0, 0,
	};
	memcpy(f->h.frame, dhcp, sizeof(dhcp));
	f->h.len = sizeof(dhcp);
	assert_int_equal(xdp_run(f, f->h.frame, f->h.len, out, &olen),
			 XDP_PASS);
	assert_int_equal(stat(f, MOAT_R_MARTIAN_SRC) - before, 8);

	/* The corpus: captures from other projects' test suites. */
	for (int d = 0; d < 2; d++) {
		const char *sub = d ? "malformed" : "tcp";
		DIR *dir;
		struct dirent *de;

		snprintf(path, sizeof(path), "%s/%s", corpus_dir, sub);
		dir = opendir(path);
		assert_non_null(dir);
		while ((de = readdir(dir)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s/%s", corpus_dir,
				 sub, de->d_name);
			replay_file(&r, path);
		}
		closedir(dir);
	}
	printf("corpus and crafted: %u frames, %u dropped by XDP (all "
	       "dropped by the engine, %u under another reason: malformed "
	       "as well), %u answered\n", r.frames, r.dropped,
	       r.reason_differs, r.tx);
	assert_true(r.frames > 1000);
	assert_int_equal(r.tx, 0);
	h_stop(&r.e);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(synack_byte_for_byte),
		cmocka_unit_test(key_rotation),
		cmocka_unit_test(passes_the_rest),
		cmocka_unit_test(follows_the_engine),
		cmocka_unit_test(retransmits_xdp_synacks),
		cmocka_unit_test(mutated_syns_agree),
		cmocka_unit_test(martians_match_the_engine),
	};
	char err[256];
	struct moat_io_xdp *x;

	if (argc != 2) {
		fprintf(stderr, "usage: test_xdp CORPUS_DIR\n");
		return 2;
	}
	corpus_dir = argv[1];
	if (geteuid() != 0) {
		printf("SKIP: loading BPF programs needs root\n");
		return 77;
	}
	x = xdp_or_skip(err, sizeof(err));
	if (!x) {
		/* Only a kernel without BPF (or XDP test runs) skips. */
		if (strstr(err, "Operation not permitted") ||
		    strstr(err, "Function not implemented") ||
		    strstr(err, "not supported")) {
			printf("SKIP: this kernel cannot load BPF: %s\n", err);
			return 77;
		}
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	moat_io_xdp_close(x);
	return cmocka_run_group_tests(tests, setup, teardown);
}
