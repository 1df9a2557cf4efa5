/*
 * `moat ctl flows`: which flows to show, and how.
 *
 * The engine hands out flows as structs (struct moat_flow); the filter
 * matches their fields, never text:
 *
 *   flows [src ADDR[/LEN]] [dst ADDR[/LEN]] [host ADDR[/LEN]]
 *         [port N] [sport N] [dport N] [proto tcp|udp|icmp|icmp6|N]
 *         [state NAME] [--json]
 *
 * src and dst are the flow's first packet's source and destination; host
 * and port match either side.  Every term given must match.  A prefix
 * length counts the bits of the address's own family (198.18.0.0/15).
 */
#ifndef MOAT_IO_FLOWS_H
#define MOAT_IO_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moat/engine.h"

enum moat_io_flow_term {
	MOAT_IO_FLOW_SRC = 1 << 0,
	MOAT_IO_FLOW_DST = 1 << 1,
	MOAT_IO_FLOW_HOST = 1 << 2,
	MOAT_IO_FLOW_PORT = 1 << 3,
	MOAT_IO_FLOW_SPORT = 1 << 4,
	MOAT_IO_FLOW_DPORT = 1 << 5,
	MOAT_IO_FLOW_PROTO = 1 << 6,
	MOAT_IO_FLOW_STATE = 1 << 7,
};

struct moat_io_flow_prefix {
	struct moat_addr addr;
	uint8_t len;              /* bits of the family's own address */
};

struct moat_io_flow_filter {
	unsigned terms;           /* enum moat_io_flow_term bits */
	struct moat_io_flow_prefix src, dst, host;
	uint16_t port, sport, dport;
	uint8_t proto;
	uint8_t state;            /* enum moat_ct_state */
};

/* Parse the words after `flows` (not `--json`).  0, or -EINVAL with a
 * message in @err. */
int moat_io_flow_filter_parse(struct moat_io_flow_filter *f,
			      char *const *words, int n, char *err,
			      size_t errlen);

bool moat_io_flow_match(const struct moat_io_flow_filter *f,
			const struct moat_flow *fl);

struct moat_io_buf;
struct moat_config;

/* One line per flow:
 *   STATE PROTO SRC:PORT -> DST:PORT rule N [synproxy] [modulate]
 *   expires SECONDS community_id 1:...
 * (IPv6 addresses in brackets before a port). */
void moat_io_flow_text(struct moat_io_buf *b, const struct moat_flow *fl);
/* One JSON object per line: the flow key fields of the event schema
 * (moat/io_event.h), state, rule, zones, expires, synproxy, modulate. */
void moat_io_flow_json(struct moat_io_buf *b, const struct moat_flow *fl,
		       const struct moat_config *cfg);

#endif
