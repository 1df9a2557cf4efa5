/*
 * The event log without a running moat: JSON escaping (table-driven), one
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

#include "moat/io_eventlog.h"

static const struct {
	const char *in, *out;
	size_t len;
} esc_rows[] = {
	{ "plain", "plain", 64 },
	{ "a\"b", "a\\\"b", 64 },
	{ "back\\slash", "back\\\\slash", 64 },
	{ "line\nbreak", "line\\u000abreak", 64 },
	{ "cut here", "cut", 4 },
	{ "ab\"", "ab", 4 },   /* an escape that does not fit is left out whole */
	{ "", "", 1 },
};

static void escape_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(esc_rows) / sizeof(esc_rows[0]); i++) {
		char out[64];

		moat_io_json_escape(out, esc_rows[i].len, esc_rows[i].in);
		assert_string_equal(out, esc_rows[i].out);
	}
}

static void json_and_pcap(void **state)
{
	(void)state;
	char jpath[64], ppath[64], err[256], line[1024];
	struct moat_io_eventlog *l;
	struct moat_event ev = { .time_ns = 1 };
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
	snprintf(ev.text, sizeof(ev.text), "{\"type\":\"mode\",\"syncookies\":\"on\"}");
	moat_io_eventlog_event(l, &ev);
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
	assert_non_null(strstr(line, ",\"event\":{\"type\":\"mode\",\"syncookies\":\"on\"}}\n"));
	assert_non_null(fgets(line, sizeof(line), f));
	assert_non_null(strstr(line, "\"moat\":\"reload\",\"detail\":\"x.conf:1:2: \\\"bad\\\"\\u000a\"}"));
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
		cmocka_unit_test(escape_table),
		cmocka_unit_test(json_and_pcap),
		cmocka_unit_test(bad_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
