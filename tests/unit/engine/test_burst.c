/*
 * A burst gives the verdicts, reasons, rewrites and emitted frames that
 * the same frames give one by one: mixed traffic (handshakes, data,
 * modulated flows, cookies, attacks, flows created and reset inside one
 * burst) through two engines, serial and in bursts, compared field by
 * field.
 */
#include "harness.h"

static const char *const conf =
	"zone outside { interface out0; default }\n"
	"zone inside { interface in0; networks 198.18.1.0/24 }\n"
	"options { syncookies on }\n"
	"pass from outside to 198.18.1.10 tcp port 80 synproxy\n"
	"pass from outside to 198.18.1.10 tcp port 22 modulate\n"
	"pass from outside to 198.18.1.10 tcp port 25\n"
	"pass from inside\n";

enum { N = 3000 };

struct frames {
	uint8_t data[N][128];
	uint32_t len[N];
	int16_t zone[N];
};

static void gen(struct harness *h, struct frames *fr)
{
	char cli[32];

	for (uint32_t i = 0; i < N; i += 6) {
		uint16_t port = (uint16_t)((i / 6) % 3 == 0 ? 80 :
					   (i / 6) % 3 == 1 ? 22 : 25);
		uint16_t sp = (uint16_t)(2000 + (i / 6) % 40);
		snprintf(cli, sizeof(cli), "198.18.100.%u", 10 + (i / 6) % 7);
		/* Same tuples recur: flows opened, used and reset in bursts. */
		struct seg segs[6] = {
			{ cli, "198.18.1.10", sp, port, i, 0, MOAT_TCP_SYN, 0,
			  0, 0, NULL },
			{ "198.18.1.10", cli, port, sp, 5000 + i, i + 1,
			  MOAT_TCP_SYN | MOAT_TCP_ACK, 0, 0, 0, NULL },
			{ cli, "198.18.1.10", sp, port, i + 1, 5001 + i,
			  MOAT_TCP_ACK, 0, 10, 'a', NULL },
			{ cli, "198.18.1.10", sp, port, i + 1 + 999999,
			  5001 + i, MOAT_TCP_ACK, 0, 10, 'x', NULL },
			{ "198.18.1.10", cli, port, sp, 5001 + i, i + 11,
			  MOAT_TCP_RST, 0, 0, 0, NULL },
			{ "198.18.1.77", "198.18.1.10", sp, port, i, 0,
			  MOAT_TCP_SYN, 0, 0, 0, NULL },
		};
		for (int k = 0; k < 6 && i + k < N; k++) {
			h_build(h, &segs[k]);
			memcpy(fr->data[i + k], h->frame, h->len);
			fr->len[i + k] = h->len;
			fr->zone[i + k] = (int16_t)((k == 1 || k == 4) ? 1 : 0);
		}
	}
}

static void burst_equals_serial(void **state)
{
	static struct frames fr, a, b;
	static struct moat_emit outs[MOAT_ENGINE_BURST];
	static struct moat_result ra[N], rb[N];
	static uint32_t ea[N], eb[N];
	static uint8_t ehash_a[N], ehash_b[N];
	struct harness ha, hb;

	(void)state;
	h_start(&ha, conf);
	h_start(&hb, conf);
	gen(&ha, &fr);
	a = fr;
	b = fr;
	for (uint32_t i = 0; i < N; i++) {
		struct moat_frame f = { a.data[i], a.len[i], a.len[i],
					MOAT_LINK_ETHERNET, a.zone[i] };
		moat_emit_reset(&ha.out);
		moat_engine_process(ha.eng, &f, ha.now + (i / 32) * 1000, &ra[i],
				    &ha.out);
		ea[i] = ha.out.count;
		for (uint32_t k = 0; k < ha.out.count; k++)
			for (uint32_t j = 0; j < ha.out.frames[k].len; j++)
				ehash_a[i] = (uint8_t)(ehash_a[i] * 31 +
						ha.out.frames[k].data[j]);
	}
	for (uint32_t i = 0; i < N; i += MOAT_ENGINE_BURST) {
		struct moat_frame f[MOAT_ENGINE_BURST];
		int n = (int)(N - i < MOAT_ENGINE_BURST ? N - i :
			      MOAT_ENGINE_BURST);
		for (int k = 0; k < n; k++) {
			f[k] = (struct moat_frame){ b.data[i + k], b.len[i + k],
						    b.len[i + k],
						    MOAT_LINK_ETHERNET,
						    b.zone[i + k] };
			moat_emit_reset(&outs[k]);
		}
		moat_engine_process_burst(hb.eng, f, n, hb.now + (i / 32) * 1000,
					  &rb[i], outs);
		for (int k = 0; k < n; k++) {
			eb[i + k] = outs[k].count;
			for (uint32_t m = 0; m < outs[k].count; m++)
				for (uint32_t j = 0; j < outs[k].frames[m].len;
				     j++)
					ehash_b[i + k] = (uint8_t)(
						ehash_b[i + k] * 31 +
						outs[k].frames[m].data[j]);
		}
	}
	int passed = 0, cookies = 0;
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(ra[i].verdict, rb[i].verdict);
		assert_int_equal(ra[i].reason, rb[i].reason);
		assert_int_equal(ra[i].rule, rb[i].rule);
		assert_int_equal(ra[i].rewritten, rb[i].rewritten);
		assert_int_equal(ea[i], eb[i]);
		assert_int_equal(ehash_a[i], ehash_b[i]);
		assert_memory_equal(a.data[i], b.data[i], a.len[i]);
		passed += ra[i].verdict == MOAT_VERDICT_PASS;
		cookies += ra[i].reason == MOAT_R_SYN_COOKIE_SENT;
	}
	/* The mix really mixes. */
	assert_true(passed > N / 4 && passed < N);
	assert_true(cookies > 0);
	h_stop(&ha);
	h_stop(&hb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_equals_serial),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
