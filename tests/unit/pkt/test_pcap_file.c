/*
 * Unit tests for the capture file layer (src/io/pcap_file.c), kept beside
 * the codec whose frames it carries: write then read back (link type in
 * LINKTYPE_ numbering, nanosecond timestamps, caplen/wirelen), and clear
 * errors for missing, foreign and truncated files.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "moat/io_pcap.h"
#include "moat/pkt.h"

static char path[64];

static int make_path(void **state)
{
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/moat-pcap-test-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int drop_path(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void write_then_read(void **state)
{
	static const int lts[] = { MOAT_LINK_ETHERNET, MOAT_LINK_RAW,
				   MOAT_LINK_LINUX_SLL2 };
	uint8_t frame[100];
	char err[256];

	(void)state;
	for (int i = 0; i < 100; i++)
		frame[i] = (uint8_t)i;
	for (size_t l = 0; l < sizeof(lts) / sizeof(lts[0]); l++) {
		struct moat_io_pcap_writer *w;
		struct moat_io_pcap_reader *r;
		struct moat_io_pcap_pkt pkt;

		assert_int_equal(moat_io_pcap_writer_open(&w, path, lts[l], 96,
							  err, sizeof(err)), 0);
		moat_io_pcap_write(w, frame, 60, 60, 1764151200123456789ull);
		moat_io_pcap_write(w, frame, 96, 1500, 1764151201000000001ull);
		assert_int_equal(moat_io_pcap_writer_close(w), 0);

		assert_int_equal(moat_io_pcap_open(&r, path, err, sizeof(err)), 0);
		assert_int_equal(moat_io_pcap_linktype(r), lts[l]);
		assert_int_equal(moat_io_pcap_next(r, &pkt, err, sizeof(err)), 1);
		assert_int_equal(pkt.caplen, 60);
		assert_int_equal(pkt.wirelen, 60);
		assert_int_equal(pkt.linktype, lts[l]);
		assert_int_equal(pkt.ifindex, -1);
		assert_true(pkt.ts_ns == 1764151200123456789ull);
		assert_memory_equal(pkt.data, frame, 60);
		assert_int_equal(moat_io_pcap_next(r, &pkt, err, sizeof(err)), 1);
		assert_int_equal(pkt.caplen, 96);
		assert_int_equal(pkt.wirelen, 1500);
		assert_true(pkt.ts_ns == 1764151201000000001ull);
		assert_int_equal(moat_io_pcap_next(r, &pkt, err, sizeof(err)), 0);
		moat_io_pcap_close(r);
	}
	moat_io_pcap_close(NULL);
	assert_int_equal(moat_io_pcap_writer_close(NULL), 0);
}

static void damaged_files(void **state)
{
	struct moat_io_pcap_writer *w;
	struct moat_io_pcap_reader *r;
	struct moat_io_pcap_pkt pkt;
	uint8_t frame[64] = { 0 };
	char err[256];
	FILE *f;

	(void)state;
	assert_true(moat_io_pcap_open(&r, "/nonexistent/x.pcap", err,
				      sizeof(err)) < 0);
	assert_null(r);
	assert_non_null(strstr(err, "No such file"));

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("not a capture at all, just some text\n", f);
	fclose(f);
	assert_true(moat_io_pcap_open(&r, path, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "unknown file format"));

	/* A record cut in the middle: first packet read, then -EIO. */
	assert_int_equal(moat_io_pcap_writer_open(&w, path, MOAT_LINK_ETHERNET,
						  0, err, sizeof(err)), 0);
	moat_io_pcap_write(w, frame, 64, 64, 0);
	moat_io_pcap_write(w, frame, 64, 64, 1);
	assert_int_equal(moat_io_pcap_writer_close(w), 0);
	assert_int_equal(truncate(path, 24 + 16 + 64 + 16 + 10), 0);
	assert_int_equal(moat_io_pcap_open(&r, path, err, sizeof(err)), 0);
	assert_int_equal(moat_io_pcap_next(r, &pkt, err, sizeof(err)), 1);
	assert_int_equal(moat_io_pcap_next(r, &pkt, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "after packet 1"));
	moat_io_pcap_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(write_then_read, make_path,
						drop_path),
		cmocka_unit_test_setup_teardown(damaged_files, make_path,
						drop_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
