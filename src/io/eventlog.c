/*
 * The live event log: JSON lines for events (the schema of
 * include/moat/io_event.h, the same as `moat replay --events`), a pcap
 * file for the frames of `log` rules.
 *
 * Beside the packet's path: the engine keeps events in a bounded ring and
 * never formats or writes; the run loop drains that ring between batches
 * and hands each event here.  Times in the log are wall-clock (what an
 * operator correlates with other logs); the engine's own time stays
 * monotonic.
 */
#include <errno.h>
#include <stdbool.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "moat/io_eventlog.h"
#include "moat/io_event.h"

struct moat_io_eventlog {
	FILE *json;          /* NULL: off */
	bool json_is_stdout;
	pcap_t *dead;        /* libpcap handle for writing only */
	pcap_dumper_t *dump; /* NULL: off */
	struct moat_io_eventlog_stats st;
};

enum { SNAPLEN = 65535 };

static int open_pcap(struct moat_io_eventlog *l, const char *path,
		     char *err, size_t errlen)
{
	l->dead = pcap_open_dead(DLT_EN10MB, SNAPLEN);
	if (!l->dead) {
		snprintf(err, errlen, "pcap_open_dead failed");
		return -1;
	}
	l->dump = pcap_dump_open(l->dead, path);
	if (!l->dump) {
		snprintf(err, errlen, "%s: %s", path, pcap_geterr(l->dead));
		return -1;
	}
	return 0;
}

struct moat_io_eventlog *moat_io_eventlog_open(const char *json_path,
					       const char *pcap_path,
					       char *err, size_t errlen)
{
	struct moat_io_eventlog *l = calloc(1, sizeof(*l));

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (json_path && !strcmp(json_path, "-")) {
		l->json = stdout;
		l->json_is_stdout = true;
	} else if (json_path) {
		l->json = fopen(json_path, "ae");
		if (!l->json) {
			snprintf(err, errlen, "%s: %s", json_path, strerror(errno));
			goto fail;
		}
	}
	if (pcap_path && open_pcap(l, pcap_path, err, errlen) < 0)
		goto fail;
	return l;
fail:
	moat_io_eventlog_close(l);
	return NULL;
}

void moat_io_eventlog_close(struct moat_io_eventlog *l)
{
	if (!l)
		return;
	if (l->json && !l->json_is_stdout)
		fclose(l->json);
	else if (l->json)
		fflush(l->json);
	if (l->dump)
		pcap_dump_close(l->dump);
	if (l->dead)
		pcap_close(l->dead);
	free(l);
}

static int64_t wall_offset(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return ((int64_t)rt.tv_sec - (int64_t)mono.tv_sec) * 1000000000 +
	       ((int64_t)rt.tv_nsec - (int64_t)mono.tv_nsec);
}

static void put_line(struct moat_io_eventlog *l, char *text)
{
	if (!text || fprintf(l->json, "%s\n", text) < 0)
		l->st.errors++;
	else
		l->st.events++;
	free(text);
}

void moat_io_eventlog_event(struct moat_io_eventlog *l,
			    const struct moat_event *ev,
			    const struct moat_io_event_ctx *ctx)
{
	struct moat_io_event_ctx c = *ctx;

	if (!l || !l->json)
		return;
	/* The engine's time is monotonic: the log's is the wall clock an
	 * operator correlates with other logs. */
	c.wall_offset_ns = wall_offset();
	put_line(l, moat_io_event_line(ev, &c));
}

void moat_io_eventlog_note(struct moat_io_eventlog *l, const char *what,
			   const char *detail)
{
	struct timespec ts;
	char stamp[32];
	json_t *o;

	if (!l || !l->json)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	moat_io_iso8601((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, stamp);
	o = json_object();
	json_object_set_new(o, "timestamp", json_string(stamp));
	json_object_set_new(o, "event_type", json_string("moat"));
	json_object_set_new(o, "moat", json_pack("{so so}",
		"what", moat_io_json_str(what),
		"detail", moat_io_json_str(detail ? detail : "")));
	put_line(l, json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER));
	json_decref(o);
	fflush(l->json);
}

void moat_io_eventlog_frame(struct moat_io_eventlog *l, const uint8_t *data,
			    uint32_t caplen, uint32_t wirelen)
{
	struct pcap_pkthdr h;
	struct timespec ts;

	if (!l || !l->dump)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	h.ts.tv_sec = ts.tv_sec;
	h.ts.tv_usec = ts.tv_nsec / 1000;
	h.caplen = caplen > SNAPLEN ? SNAPLEN : caplen;
	h.len = wirelen;
	pcap_dump((u_char *)l->dump, &h, data);
	l->st.frames++;
}

void moat_io_eventlog_flush(struct moat_io_eventlog *l)
{
	if (!l)
		return;
	if (l->json && fflush(l->json) != 0)
		l->st.errors++;
	if (l->dump)
		pcap_dump_flush(l->dump);
}

const struct moat_io_eventlog_stats *
moat_io_eventlog_stats(const struct moat_io_eventlog *l)
{
	return &l->st;
}
