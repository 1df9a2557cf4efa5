/*
 * `moat decode [--verify-checksums] FILE`: print every packet of a capture
 * as the decoder sees it, one line each, then a count per reason.  The tool
 * for looking at what moat will make of a capture before replaying it, and
 * what the corpus and oracle tests compare against tshark.
 *
 * Line format (stable, scripts parse it):
 *   INDEX TIMESTAMP VIEW                    decoded
 *   INDEX TIMESTAMP REFUSED REASON: VIEW    refused; VIEW shows how far
 * then summary lines starting with "# ".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "moat/io_pcap.h"
#include "moat/pkt.h"

enum { FRAME_MAX = 262144 }; /* libpcap's largest snaplen */

struct decode_opts {
	const char *path;
	int verify;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: moat decode [--verify-checksums] FILE\n"
		"\n"
		"Print one line per packet of FILE (pcap or pcapng): its index\n"
		"from 1, its timestamp, then the decoded view, or\n"
		"'REFUSED <reason>: ' and what was decoded.  Ends with a count\n"
		"per reason.\n"
		"\n"
		"  --verify-checksums  also check IPv4/TCP/UDP/ICMP checksums\n"
		"                      and report bad ones as refusals\n"
		"  -h, --help          this text\n"
		"\n"
		"Exit status: 0 the file was read (refused packets included),\n"
		"1 it could not be opened or is damaged, 2 usage error.\n");
}

static int parse_args(int argc, char **argv, struct decode_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return 1;
		if (!strcmp(a, "--verify-checksums")) {
			o->verify = 1;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "moat decode: unknown option '%s'\n", a);
			return -1;
		} else if (o->path) {
			fprintf(stderr, "moat decode: one FILE only\n");
			return -1;
		} else {
			o->path = a;
		}
	}
	if (!o->path) {
		fprintf(stderr, "moat decode: missing FILE\n");
		return -1;
	}
	return 0;
}

static void print_one(unsigned long idx, const struct moat_io_pcap_pkt *pkt,
		      int verify, unsigned long *counts)
{
	static uint8_t frame[FRAME_MAX];
	char line[1024];
	struct moat_pkt p;
	uint32_t cap = pkt->caplen < FRAME_MAX ? pkt->caplen : FRAME_MAX;
	enum moat_reason r;

	/* Decode may be handed a frame to rewrite; keep libpcap's intact. */
	memcpy(frame, pkt->data, cap);
	r = moat_pkt_decode(&p, frame, cap, pkt->wirelen, pkt->linktype);
	if (r == MOAT_R_NONE && verify)
		r = moat_pkt_verify_checksums(&p);
	moat_pkt_format(&p, line, sizeof(line));
	printf("%lu %llu.%09llu ", idx,
	       (unsigned long long)(pkt->ts_ns / 1000000000u),
	       (unsigned long long)(pkt->ts_ns % 1000000000u));
	if (r == MOAT_R_NONE)
		printf("%s\n", line);
	else
		printf("REFUSED %s: %s\n", moat_reason_name(r), line);
	counts[r < MOAT_R_COUNT ? r : MOAT_R_NONE]++;
}

static void print_summary(unsigned long n, const unsigned long *counts,
			  int linktype)
{
	printf("# packets %lu, decoded %lu, refused %lu, linktype %d\n", n,
	       counts[MOAT_R_NONE], n - counts[MOAT_R_NONE], linktype);
	for (int i = 1; i < MOAT_R_COUNT; i++)
		if (counts[i])
			printf("# reason %s %lu\n",
			       moat_reason_name((enum moat_reason)i), counts[i]);
}

int moat_cli_decode(int argc, char **argv)
{
	struct decode_opts o = { 0 };
	struct moat_io_pcap_reader *rd;
	struct moat_io_pcap_pkt pkt;
	unsigned long counts[MOAT_R_COUNT] = { 0 }, n = 0;
	char err[512];
	int rc = parse_args(argc, argv, &o);

	if (rc > 0) {
		usage(stdout);
		return 0;
	}
	if (rc < 0) {
		usage(stderr);
		return 2;
	}
	if (moat_io_pcap_open(&rd, o.path, err, sizeof(err)) < 0) {
		fprintf(stderr, "moat decode: %s\n", err);
		return 1;
	}
	while ((rc = moat_io_pcap_next(rd, &pkt, err, sizeof(err))) > 0)
		print_one(++n, &pkt, o.verify, counts);
	print_summary(n, counts, moat_io_pcap_linktype(rd));
	moat_io_pcap_close(rd);
	if (rc < 0) {
		fflush(stdout);
		fprintf(stderr, "moat decode: %s: %s\n", o.path, err);
		return 1;
	}
	return 0;
}
