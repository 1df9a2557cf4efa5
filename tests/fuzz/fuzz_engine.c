/*
 * Fuzz target for the whole engine: the input is a sequence of frames with
 * time steps and ingress zones, run through one engine made for the input
 * (max-flows 64: every table is sized from it, so the engine is cheap to
 * make, about 4000 inputs a second (bench/RESULTS.md), and eviction and
 * every table's overwrite paths run), checked against invariants after
 * every call:
 *   - every packet ends in exactly one verdict and one known reason, and
 *     the counters add up;
 *   - the flow table never holds more than its capacity;
 *   - every emitted frame fits its buffer and decodes as a valid packet.
 *
 * Record: [flags: bit 0 zone, bit 1 tick first][time step, 2 bytes, ms]
 *         [length, 2 bytes][frame]
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "moat/engine.h"
#include "moat/pkt.h"
#include "moat/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char conf[] =
	"zone outside { interface out0; default }\n"
	"zone inside { interface in0; networks { 198.18.1.0/24, 2001:db8:1::/64 } }\n"
	"set bad = { }\n"
	"options { syncookies auto\n max-flows 64\n syncookies-rate 20\n"
	" detect hijack\n frag-max 16 }\n"
	"block from outside tcp port 512-514\n"
	"reject from outside to 198.18.1.10 tcp port 8080\n"
	"pass from outside to { 198.18.1.10, 2001:db8:1::10 } tcp port 80 synproxy\n"
	"pass from outside to 198.18.1.10 tcp port 22 modulate max-src-conn 3 "
	"max-src-rate 5/second overload bad expire 10\n"
	"pass from outside udp port 53\n"
	"pass from outside icmp type echo-request limit 10/second\n"
	"pass from outside icmp6\n"
	"pass from inside\n";

static int count_flow_cb_n;
static void count_flow(const struct moat_flow *fi, void *arg)
{
	(void)fi;
	(void)arg;
	count_flow_cb_n++;
}

static void check(const struct moat_engine *e, const struct moat_result *r,
		  const struct moat_emit *out)
{
	const struct moat_counters *c = moat_engine_counters(e);
	uint64_t sum = 0;

	if (r->verdict != MOAT_VERDICT_PASS && r->verdict != MOAT_VERDICT_DROP)
		__builtin_trap();
	if ((unsigned)r->reason >= MOAT_R_COUNT)
		__builtin_trap();
	for (int i = 0; i < MOAT_R_COUNT; i++)
		sum += c->reason[i];
	if (sum != c->packets || c->passed + c->dropped != c->packets)
		__builtin_trap();
	for (uint32_t i = 0; i < out->count; i++) {
		struct moat_pkt p;
		uint8_t copy[MOAT_EMIT_FRAME_MAX];
		const struct moat_emit_frame *f = &out->frames[i];
		if (f->len == 0 || f->len > MOAT_EMIT_FRAME_MAX)
			__builtin_trap();
		memcpy(copy, f->data, f->len);
		if (moat_pkt_decode(&p, copy, f->len, f->len, f->linktype) !=
		    MOAT_R_NONE)
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct moat_config *cfg;
	static struct moat_emit out;
	static uint8_t frame[2048];
	struct moat_engine_params par;
	struct moat_engine *e;
	struct moat_result r = { 0 };
	uint64_t now = 1000000000000ull;
	size_t off = 0;

	if (!cfg) {
		struct moat_diags d;
		cfg = moat_config_parse_string("fuzz.conf", conf, &d);
		if (!cfg)
			abort();
	}
	memset(par.secret, 0x33, sizeof(par.secret));
	e = moat_engine_create(cfg, &par);
	if (!e)
		abort();
	while (off + 5 <= size) {
		uint8_t flags = data[off];
		uint16_t step = (uint16_t)(data[off + 1] << 8 | data[off + 2]);
		uint16_t len = (uint16_t)(data[off + 3] << 8 | data[off + 4]);
		off += 5;
		if (len > size - off)
			len = (uint16_t)(size - off);
		if (len > sizeof(frame))
			len = sizeof(frame);
		memcpy(frame, data + off, len);
		off += len;
		now += (uint64_t)step * 1000000u;
		if (flags & 2) {
			moat_emit_reset(&out);
			moat_engine_tick(e, now, &out);
			check(e, &r, &out);
		}
		struct moat_frame f = { frame, len, len, MOAT_LINK_ETHERNET,
					(int16_t)(flags & 1) };
		moat_emit_reset(&out);
		moat_engine_process(e, &f, now, &r, &out);
		check(e, &r, &out);
		count_flow_cb_n = 0;
		moat_engine_flows(e, count_flow, NULL, 1 << 20);
		if (count_flow_cb_n > 64)
			__builtin_trap();
	}
	moat_engine_destroy(e);
	return 0;
}
