/*
 * moat/syn_decide.h as the XDP program will use it: compiled for clang's
 * BPF target, freestanding (no libc headers), by decide_bpf.sh.  A table
 * of detector slots and the decision over one of them; nothing runs.
 * moat/defaults.h too, whose thresholds such a program would size and
 * tune its maps with.
 */
#include "moat/defaults.h"
#include "moat/syn_decide.h"

const unsigned moat_test_threshold = MOAT_DEFAULT_SYNCOOKIES_THRESHOLD;
const unsigned moat_test_max_flows = MOAT_DEFAULT_MAX_FLOWS;

struct moat_syn_dst_slot moat_test_slots[4 * MOAT_SYN_DST_WAYS];

int moat_test_decide(unsigned i, unsigned mode, unsigned shed);
int moat_test_decide(unsigned i, unsigned mode, unsigned shed)
{
	const struct moat_syn_dst_slot *s = &moat_test_slots[i & 15];
	struct moat_syn_question q = { .mode = (uint8_t)mode,
				       .shed = (uint8_t)shed };

	if (s->key.family == 0)
		return moat_syn_decision(0, false, &q);
	return moat_syn_decision(&s->st, false, &q);
}

/* The cookie's arithmetic, as the XDP program makes cookies with it. */
#include "moat/cookie_core.h"

uint8_t moat_test_key[MOAT_COOKIE_KEY_LEN];
uint8_t moat_test_addr[2][16];

uint32_t moat_test_cookie(unsigned v6, uint32_t isn, uint16_t mss,
			  uint64_t now_ns);
uint32_t moat_test_cookie(unsigned v6, uint32_t isn, uint16_t mss,
			  uint64_t now_ns)
{
	uint8_t block[MOAT_COOKIE_BLOCK_MAX];
	uint64_t counter = moat_cookie_counter(now_ns);
	unsigned idx = moat_cookie_mss_index(v6 != 0, mss);

	moat_cookie_block(block, v6 != 0, moat_test_addr[0], moat_test_addr[1],
			  1234, 80, isn, counter, idx);
	return moat_cookie_isn(counter, idx,
			       moat_cookie_mac(moat_test_key, block, v6 != 0)) ^
	       moat_cookie_ts(now_ns, 7, 7, true, false);
}
