/*
 * The event log without a running moat: one
 * engine event and one note as JSON lines, and a logged frame in a pcap
 * file that libpcap reads back byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include <jansson.h>

#include "moat/io_eventlog.h"

static void json_and_pcap(void **state)
{
	(void)state;
	char jpath[64], ppath[64], err[256], line[1024];
	struct moat_io_eventlog *l;
	struct moat_event ev = { .time_ns = 1, .kind = MOAT_EV_SYNCOOKIES,
				 .in_zone = -1 };
	struct moat_io_event_ctx ctx = { 0 };
	json_error_t jerr;
	json_t *o;
	uint8_t frame[60];
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p;
	FILE *f;

	snprintf(jpath, sizeof(jpath), "/tmp/moat-test-ev.%d.jsonl", (int)getpid());
	snprintf(ppath, sizeof(ppath), "/tmp/moat-test-ev.%d.pcap", (int)getpid());
	l = moat_io_eventlog_open(jpath, ppath, err, sizeof(err));
	assert_non_null(l);
	ev.u.syn.cookies = 1;
	moat_addr_parse(&ev.key.dst, "198.18.1.10");
	ev.key.dport = 80;
	ev.key.proto = 6;
	moat_io_eventlog_event(l, &ev, &ctx);
	moat_io_eventlog_note(l, "reload", "x.conf:1:2: \"bad\"\n");
	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	moat_io_eventlog_frame(l, frame, sizeof(frame), sizeof(frame));
	assert_int_equal(moat_io_eventlog_stats(l)->events, 2);
	assert_int_equal(moat_io_eventlog_stats(l)->frames, 1);
	moat_io_eventlog_close(l);

	f = fopen(jpath, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	/* The engine's time was 1 ns after the monotonic origin: the log
	 * says when that was on the wall clock, so after 2020. */
	o = json_loads(line, 0, &jerr);
	assert_non_null(o);
	assert_true(strcmp(json_string_value(json_object_get(o, "timestamp")),
			   "2020") > 0);
	assert_string_equal(json_string_value(json_object_get(o, "event_type")),
			    "syncookies");
	assert_string_equal(json_string_value(json_object_get(o, "dest_ip")),
			    "198.18.1.10");
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(o, "syncookies"), "mode")), "cookies");
	json_decref(o);
	assert_non_null(fgets(line, sizeof(line), f));
	o = json_loads(line, 0, &jerr);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "event_type")),
			    "moat");
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(o, "moat"), "what")), "reload");
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(o, "moat"), "detail")), "x.conf:1:2: \"bad\"\n");
	json_decref(o);
	assert_non_null(strstr(line, "\\\"bad\\\"\\n\"}}\n"));
	fclose(f);

	p = pcap_open_offline(ppath, errbuf);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	assert_int_equal(pcap_next_ex(p, &h, &data), 1);
	assert_int_equal(h->caplen, sizeof(frame));
	assert_memory_equal(data, frame, sizeof(frame));
	pcap_close(p);
	unlink(jpath);
	unlink(ppath);
}

static void bad_path(void **state)
{
	(void)state;
	char err[256] = "";

	assert_null(moat_io_eventlog_open("/nonexistent/dir/x.jsonl", NULL, err,
					  sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/dir/x.jsonl"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_and_pcap),
		cmocka_unit_test(bad_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
