/*
 * Conntrack against real captures (tests/corpus: suricata-verify and zeek
 * TCP sessions).  Each capture is decoded and fed to a minimal stateful
 * filter that passes every new flow it may create: lookup, then track, or
 * insert on a miss.  Time comes from the capture.
 *
 * The rows say what must happen to given packets (1-based, as `moat
 * replay --trace` numbers them); captures listed with no rows must pass
 * every packet the decoder accepts.  Every capture of the folder is also
 * replayed to check that the table stays consistent.
 *
 *   test_ct_corpus CORPUS_DIR      (exit 77 when the corpus is missing)
 */
#include <dirent.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>

#include "ct_test.h"

static const char *corpus;

struct expect_row {
	const char *file;
	int pkt;                  /* 0: every packet must pass */
	enum moat_reason want;
};

#define M MOAT_R_STATE_MATCH
static const struct expect_row rows[] = {
	/* data far beyond the window, IPv4 and IPv6 */
	{ "suricata-verify__firewall-tcp-session-stream-out-of-window.pcap", 3,
	  MOAT_R_TCP_SEQ_OUT_OF_WINDOW },
	{ "suricata-verify__firewall-tcp-session-ipv6-stream-out-of-window.pcap",
	  3, MOAT_R_TCP_SEQ_OUT_OF_WINDOW },
	/* an injected RST whose ACK does not cover the SYN; later the
	 * server's own RST, exactly in sequence */
	{ "zeek__tcp-rst-inject-rae.pcap", 2, MOAT_R_TCP_RST_OUT_OF_WINDOW },
	{ "zeek__tcp-rst-inject-rae.pcap", 3, M },
	{ "zeek__tcp-rst-inject-rae.pcap", 7, M },
	{ "zeek__tcp-rst-inject-rae.pcap", 8, MOAT_R_TCP_CLOSED },
	/* a RST at the receiver's highest ACK while data is in flight */
	{ "suricata-verify__tcp-fastopen-11-reject-syn-data.pcap", 27, M },
	/* no SYN seen: strict pickup refuses */
	{ "zeek__tcp-missing-syn.pcap", 1, MOAT_R_TCP_NO_STATE },
	/* a 4-way split handshake: the server's SYN after the client's */
	{ "suricata-verify__tcp-split-handshake-01-4whs.pcap", 0, M },
	/* ordinary sessions: retransmissions, duplicates, gaps, SACK,
	 * timestamps, IPv6, window scaling; nothing may be dropped */
	{ "zeek__tcp-retransmit-fast009.pcap", 0, M },
	{ "zeek__tcp-ssh-dups.pcap", 0, M },
	{ "zeek__tcp-timestamp.pcap", 0, M },
	{ "zeek__ftp-ipv6.pcap", 0, M },
	{ "suricata-verify__community-id-ipv6.pcap", 0, M },
	{ "suricata-verify__bug-4663-http-download.pcap", 0, M },
	{ "suricata-verify__bug-4376-syn-retransmit-with-ts.pcap", 0, M },
	{ "suricata-verify__eve-payload-05-tcp-data-gap.pcap", 0, M },
	{ "suricata-verify__tcp-rst-unacked-stream-10.pcap", 0, M },
	{ "suricata-verify__firewall-tcp-session-syn-flood.pcap", 0, M },
};

/* Verdict of one decoded packet, as a stateful "pass everything" filter. */
static enum moat_reason filter(struct moat_ct *ct, const struct moat_pkt *p,
			       uint64_t now)
{
	struct moat_ct_entry *e;
	enum moat_reason why;
	int dir;

	if (p->inner.present) {
		e = moat_ct_lookup_inner(ct, p, &dir);
		return e ? M : MOAT_R_ICMP_UNRELATED;
	}
	e = moat_ct_lookup(ct, p, &dir);
	if (e) {
		why = moat_ct_track(ct, e, dir, p, now);
		if (why != MOAT_R_TCP_NO_STATE)
			return why;
		moat_ct_remove(ct, e);
	}
	return moat_ct_insert(ct, p, now, &why) ? M : why;
}

/*
 * Replay @file; @out[i] gets the verdict of packet i + 1 (MOAT_R_NONE
 * when the decoder refused it or it is not IP).  Returns the packet count,
 * or -1 when the file cannot be opened.
 */
static int replay(const char *file, enum moat_reason *out, int max)
{
	char path[1024], err[PCAP_ERRBUF_SIZE];
	struct moat_ct *ct = ct_test_table(4096);
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *pc;
	int n = 0;

	snprintf(path, sizeof(path), "%s/tcp/%s", corpus, file);
	pc = pcap_open_offline(path, err);
	if (!pc) {
		moat_ct_destroy(ct);
		return -1;
	}
	while (n < max && pcap_next_ex(pc, &h, &data) == 1) {
		static uint8_t buf[65536];
		uint64_t now = (uint64_t)h->ts.tv_sec * 1000000000ull +
			       (uint64_t)h->ts.tv_usec * 1000ull;
		uint32_t len = h->caplen < sizeof(buf) ? h->caplen : sizeof(buf);
		struct moat_pkt p;

		memcpy(buf, data, len);
		out[n] = MOAT_R_NONE;
		if (moat_pkt_decode(&p, buf, len, h->len, pcap_datalink(pc)) ==
			    MOAT_R_NONE &&
		    p.ipv != 0 && !(p.frag & MOAT_FRAG_LATER))
			out[n] = filter(ct, &p, now);
		moat_ct_expire(ct, now, 64);
		n++;
	}
	pcap_close(pc);
	assert_true(moat_ct_count(ct) <= moat_ct_capacity(ct));
	moat_ct_destroy(ct);
	return n;
}

enum { MAXPKT = 1 << 16 };
static enum moat_reason verdicts[MAXPKT];

static void test_expected_verdicts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int n = replay(rows[i].file, verdicts, MAXPKT);

		if (n < 0) {
			print_error("%s: cannot open\n", rows[i].file);
			fail();
		}
		for (int k = 0; k < n; k++) {
			enum moat_reason got = verdicts[k];

			if (rows[i].pkt && k + 1 != rows[i].pkt)
				continue;
			if (!rows[i].pkt && got == MOAT_R_NONE)
				continue; /* refused by the decoder */
			if (got == rows[i].want)
				continue;
			print_error("%s, packet %d: %s, expected %s\n",
				    rows[i].file, k + 1, moat_reason_name(got),
				    moat_reason_name(rows[i].want));
			fail();
		}
	}
}

/* Every TCP capture: no crash, the table stays within its bounds. */
static void test_all_captures(void **state)
{
	char path[1024];
	struct dirent *d;
	DIR *dir;
	int files = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/tcp", corpus);
	dir = opendir(path);
	assert_non_null(dir);
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		if (replay(d->d_name, verdicts, MAXPKT) >= 0)
			files++;
	}
	closedir(dir);
	assert_true(files >= 30);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expected_verdicts),
		cmocka_unit_test(test_all_captures),
	};
	char path[1024];
	DIR *d;

	if (argc < 2) {
		fprintf(stderr, "usage: test_ct_corpus CORPUS_DIR\n");
		return 2;
	}
	corpus = argv[1];
	snprintf(path, sizeof(path), "%s/tcp", corpus);
	d = opendir(path);
	if (!d) {
		/* The corpus ships in tests/corpus: its absence is a broken
		 * checkout, not a missing kernel feature. */
		fprintf(stderr, "no corpus at %s\n", path);
		return 1;
	}
	closedir(d);
	return cmocka_run_group_tests_name("conntrack-corpus", tests, NULL,
					   NULL);
}
