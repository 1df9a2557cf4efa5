/*
 * The engine's events and flows as JSON (jansson) and text: one schema for
 * `moat run --log` and `moat replay --events`, in the manner of Suricata's
 * EVE so that the tools that read EVE read it too.  One event, one line:
 *
 *   {"timestamp":"2026-11-26T10:00:00.006000+0000","flow_id":1234,
 *    "pcap_cnt":6,"event_type":"hijack","in_iface":"eth0",
 *    "zone":"outside","src_ip":"198.18.1.10","src_port":80,
 *    "dest_ip":"198.18.100.10","dest_port":40000,"proto":"TCP",
 *    "community_id":"1:...","hijack":{"kind":"injection",...}}
 *
 * timestamp is UTC with microseconds; flow_id, the addresses, ports,
 * proto and community_id are there when the event has a flow (a mode
 * switch has only its destination); pcap_cnt only in a replay (the
 * packet's number in the capture, as Suricata's); in_iface when the
 * interface the packet came in on is known (live, or a pcapng capture),
 * zone when its ingress zone is.  The object named after event_type holds
 * the fields of that kind (doc/moat.8.scd lists them).
 *
 * Off the packet's path: the run loop and replay drain the engine's ring
 * and call these; they allocate.
 */
#ifndef MOAT_IO_EVENT_H
#define MOAT_IO_EVENT_H

#include <stdint.h>

#include <jansson.h>

#include "moat/engine.h"
#include "moat/event.h"

struct moat_config;

struct moat_io_event_ctx {
	const struct moat_config *cfg;  /* zone, interface and set names;
					   NULL: numbers only */
	int64_t wall_offset_ns;         /* added to the engine's time to get
					   the wall clock (0 in a replay,
					   whose time is the capture's) */
	const char *in_iface;           /* the interface the packet was seen
					   on (live: its port; replay: its
					   pcapng interface), or NULL */
	long pcap_cnt;                  /* 0: not a replay */
	uint16_t cid_seed;              /* Community ID seed (0 by default) */
};

/* "TCP", "UDP", "ICMP", "IPv6-ICMP", "SCTP"..., else the number. */
const char *moat_io_proto_name(uint8_t proto, char buf[4]);

/* The flow fields of @k into @o: src_ip, src_port, dest_ip, dest_port,
 * proto, icmp_type/icmp_code, flow_id and community_id. */
void moat_io_json_flow_key(json_t *o, const struct moat_flow_key *k,
			   uint16_t cid_seed);

/* @s as a JSON string (new reference), valid UTF-8 whatever its bytes:
 * a byte that does not start a well-formed UTF-8 sequence becomes U+FFFD;
 * jansson escapes quotes, backslashes and control characters. */
json_t *moat_io_json_str(const char *s);

/* @ns since the epoch as "YYYY-MM-DDTHH:MM:SS.uuuuuu+0000". */
void moat_io_iso8601(int64_t ns, char out[32]);

/* The event as a JSON object (new reference), or NULL on no memory. */
json_t *moat_io_event_json(const struct moat_event *ev,
			   const struct moat_io_event_ctx *ctx);

/* The event as one line of compact JSON, without the newline; free() it.
 * NULL on no memory. */
char *moat_io_event_line(const struct moat_event *ev,
			 const struct moat_io_event_ctx *ctx);

#endif
