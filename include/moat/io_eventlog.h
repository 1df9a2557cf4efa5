/*
 * The live event log: the engine's events as JSON lines (--log FILE or -
 * for stdout) and the frames of `log` rules as a pcap file (--pcap-log),
 * which Wireshark and tcpdump open.
 *
 * Beside the packet's path: the run loop drains the engine's bounded event
 * ring every turn and writes here; a logged frame is copied into libpcap's
 * buffered writer, flushed once per loop turn at most every few hundred ms.
 */
#ifndef MOAT_IO_EVENTLOG_H
#define MOAT_IO_EVENTLOG_H

#include <stddef.h>
#include <stdint.h>

#include "moat/engine.h"
#include "moat/io_event.h"

struct moat_io_eventlog;

/*
 * Open the sinks; either path may be NULL (that sink is off); @json_path
 * "-" is stdout.  NULL on failure with a message in @err.
 */
struct moat_io_eventlog *moat_io_eventlog_open(const char *json_path,
					       const char *pcap_path,
					       char *err, size_t errlen);
void moat_io_eventlog_close(struct moat_io_eventlog *l); /* accepts NULL */

/* One engine event as one line of the schema of moat/io_event.h, the
 * engine's monotonic time turned into the wall clock's (the offset of
 * @ctx is replaced). */
void moat_io_eventlog_event(struct moat_io_eventlog *l,
			    const struct moat_event *ev,
			    const struct moat_io_event_ctx *ctx);
/* A line from the run loop itself (start, reload, stop):
 * {"timestamp":...,"event_type":"moat",
 *  "moat":{"what":"@what","detail":"@detail"}}. */
void moat_io_eventlog_note(struct moat_io_eventlog *l, const char *what,
			   const char *detail);
/* A frame a `log` rule matched, stamped with the wall clock now. */
void moat_io_eventlog_frame(struct moat_io_eventlog *l, const uint8_t *data,
			    uint32_t caplen, uint32_t wirelen);
void moat_io_eventlog_flush(struct moat_io_eventlog *l);

/* Counters: lines and frames written, and how many were lost. */
struct moat_io_eventlog_stats {
	uint64_t events, frames, errors;
};
const struct moat_io_eventlog_stats *
moat_io_eventlog_stats(const struct moat_io_eventlog *l);

#endif
