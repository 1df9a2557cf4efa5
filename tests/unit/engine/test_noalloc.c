/*
 * No allocation on the packet path: after create, a long run of traffic
 * (sessions, a spoofed SYN flood answered with cookies, proxied
 * handshakes, expiry, ticks) must not call malloc, calloc, realloc or
 * aligned_alloc once.  The linker's --wrap sends every such call made by
 * the core libraries through the counter of alloc_count.h.
 */
#include <stdlib.h>

#include "harness.h"

#include "../alloc_count.h"
#include "../frag/frags.h"

static const char *const conf =
	"zone outside { interface out0; default }\n"
	"zone inside { interface in0; networks 198.18.1.0/24 }\n"
	"options { syncookies auto\n max-flows 1024\n syncookies-rate 200 }\n"
	"pass from outside to 198.18.1.10 tcp port 80 synproxy\n"
	"pass from outside to 198.18.1.10 tcp port 22 modulate\n"
	"pass from inside\n";

static void long_run_allocates_nothing(void **state)
{
	struct harness h;
	char src[32];
	unsigned long before;

	(void)state;
	h_start(&h, conf);
	before = test_allocs;
	assert_true(before > 0); /* create allocated, and we saw it */
	for (uint32_t i = 0; i < 20000; i++) {
		/* A spoofed SYN flood, more flows than the table holds. */
		snprintf(src, sizeof(src), "198.18.%u.%u", 128 + (i / 250) % 100,
			 1 + i % 250);
		struct seg syn = { src, "198.18.1.10", (uint16_t)(1024 + i),
				   (i & 1) ? 80 : 22, i * 2654435761u, 0,
				   MOAT_TCP_SYN, 0, 0, 0, NULL };
		h_tcp(&h, 0, &syn);
		/* Honest sessions to the modulated port. */
		struct seg s = { "198.18.100.10", "198.18.1.10",
				 (uint16_t)(30000 + i % 1000), 22, i, 0,
				 MOAT_TCP_SYN, 0, 0, 0, NULL };
		h_tcp(&h, 0, &s);
		struct seg sa = { "198.18.1.10", "198.18.100.10", 22,
				  (uint16_t)(30000 + i % 1000), 77, i + 1,
				  MOAT_TCP_SYN | MOAT_TCP_ACK, 0, 0, 0, NULL };
		h_tcp(&h, 1, &sa);
		h.now += SEC / 1000;
		if (i % 100 == 0) {
			moat_emit_reset(&h.out);
			moat_engine_tick(h.eng, h.now, &h.out);
		}
	}
	assert_int_equal(test_allocs - before, 0);
	h_stop(&h);
}

/* Fragments: held, released, refused, evicted, timed out, and scrub on
 * what passes; none of it allocates. */
static void fragments_allocate_nothing(void **state)
{
	static uint8_t fr[FR_CAP];
	struct fr_dgram d = { 4, "198.18.100.53", "198.18.1.10", 0, 17, 53,
			      40000, 3000, 0 };
	struct harness h;
	unsigned long before;

	(void)state;
	h_start(&h, "zone outside { interface out0; default }\n"
		    "zone inside { interface in0; networks 198.18.1.0/24 }\n"
		    "options { frag-max 16; max-mss 1400; min-ttl 10; "
		    "random-id on; tcp-reserved clear }\n"
		    "pass to inside udp port 40000\n");
	before = test_allocs;
	for (uint32_t i = 0; i < 5000; i++) {
		uint32_t order[3] = { 1448, 2896, 0 };

		d.ipv = (i & 1) ? 6 : 4;
		d.src = d.ipv == 4 ? "198.18.100.53" : "2001:db8:100::53";
		d.dst = d.ipv == 4 ? "198.18.1.10" : "2001:db8:1::10";
		d.id = i;
		for (int k = 0; k < 3; k++) {
			uint32_t off = order[(k + i) % 3];
			uint32_t len = off == 2896 ? 104 : 1448;
			struct moat_frame f;

			/* Every seventh datagram is never completed. */
			if (off == 0 && i % 7 == 0)
				continue;
			f = (struct moat_frame){ fr, 0, 0, MOAT_LINK_ETHERNET,
						 0 };
			f.caplen = f.wirelen = fr_piece(fr, &d, off, len,
							off != 2896, NULL);
			moat_emit_reset(&h.out);
			moat_engine_process(h.eng, &f, h.now, &h.res, &h.out);
		}
		h.now += SEC / 100;
		if (i % 10 == 0) {
			moat_emit_reset(&h.out);
			moat_engine_tick(h.eng, h.now, &h.out);
		}
	}
	assert_int_equal(test_allocs - before, 0);
	/* It did go through all of that. */
	assert_true(moat_engine_counters(h.eng)->reason[MOAT_R_FRAG_HELD] > 0);
	assert_true(moat_engine_counters(h.eng)->reason[MOAT_R_FRAG_FIRST_PASSED]
		    > 0);
	assert_true(moat_engine_counters(h.eng)->emitted > 0);
	h_stop(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(long_run_allocates_nothing),
		cmocka_unit_test(fragments_allocate_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
