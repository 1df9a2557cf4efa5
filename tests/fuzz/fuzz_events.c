/*
 * libFuzzer target for what the control and log side parse and format:
 * the first byte picks
 *   even: the rest is one `moat ctl` request line (moat_io_ctl_parse,
 *         whose flows terms are a parser of their own);
 *   odd:  the rest fills a struct moat_event and a struct moat_flow with
 *         arbitrary bytes, and every line formatted from them must be
 *         valid JSON (jansson reads it back) and the text bounded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "moat/io_ctl.h"
#include "moat/io_event.h"
#include "moat/io_flows.h"

static void must_parse(char *line)
{
	json_t *o;

	if (!line)
		return; /* no memory */
	o = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
	if (!o)
		__builtin_trap();
	json_decref(o);
	free(line);
}

static void format(const uint8_t *data, size_t size)
{
	struct moat_io_event_ctx ctx = { 0 };
	struct moat_event ev;
	struct moat_flow fl;
	struct moat_io_buf b;
	char iface[17] = "";
	size_t n;

	memset(&ev, 0, sizeof(ev));
	memset(&fl, 0, sizeof(fl));
	n = size < sizeof(ev) ? size : sizeof(ev);
	memcpy(&ev, data, n);
	data += n;
	size -= n;
	n = size < sizeof(fl) ? size : sizeof(fl);
	memcpy(&fl, data, n);
	data += n;
	size -= n;
	/* Booleans hold 0 or 1, as the engine's do. */
	uint8_t bits[2];
	memcpy(&bits[0], &fl.synproxy, 1);
	memcpy(&bits[1], &fl.modulate, 1);
	fl.synproxy = bits[0] & 1;
	fl.modulate = bits[1] & 1;
	/* The one pointer in an event points at a static name. */
	if (ev.kind == MOAT_EV_ADDRESS_TRUST)
		ev.u.trust.service = (ev.time_ns & 1) ? "rsh" : NULL;
	n = size < sizeof(iface) - 1 ? size : sizeof(iface) - 1;
	memcpy(iface, data, n);
	ctx.in_iface = iface;
	ctx.pcap_cnt = (long)(ev.time_ns >> 40);
	ctx.wall_offset_ns = -(int64_t)(ev.time_ns >> 1);
	ctx.cid_seed = (uint16_t)ev.time_ns;
	must_parse(moat_io_event_line(&ev, &ctx));
	moat_io_buf_init(&b);
	moat_io_flow_json(&b, &fl, NULL);
	if (b.p && !b.failed) {
		char *line = strdup(b.p);
		char *nl = line ? strchr(line, '\n') : NULL;

		if (nl)
			*nl = '\0';
		must_parse(line);
	}
	moat_io_buf_free(&b);
	moat_io_buf_init(&b);
	moat_io_flow_text(&b, &fl);
	if (b.p && strlen(b.p) > 512)
		__builtin_trap();
	moat_io_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[MOAT_IO_CTL_LINE_MAX + 8], err[256];
	struct moat_io_ctl_req req;
	size_t n;

	if (size == 0)
		return 0;
	if (data[0] & 1) {
		format(data + 1, size - 1);
		return 0;
	}
	n = size - 1 < sizeof(line) - 1 ? size - 1 : sizeof(line) - 1;
	memcpy(line, data + 1, n);
	line[n] = '\0';
	if (moat_io_ctl_parse(line, &req, err, sizeof(err)) < 0 && !err[0])
		__builtin_trap(); /* a refusal always says why */
	return 0;
}
