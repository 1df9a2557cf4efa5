/*
 * Capture files through libpcap (see include/moat/io_pcap.h).  The offline
 * I/O backend: `moat replay` and `moat decode` read frames here and hand
 * them to decode and the engine; the writer records what passed, what was
 * dropped and what moat emitted.  Control plane: it allocates and prints
 * messages into caller buffers, never to a stream.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moat/io_pcap.h"
#include "moat/pkt.h"

struct moat_io_pcap_reader {
	pcap_t *pcap;
	int linktype;
	unsigned long count; /* packets delivered, for error messages */
};

struct moat_io_pcap_writer {
	pcap_t *pcap;
	pcap_dumper_t *dump;
};

/*
 * libpcap maps a file's LINKTYPE_ to the platform's DLT_; the only one moat
 * decodes that differs is raw IP (DLT_RAW is 12, or 14 on OpenBSD).
 */
static int dlt_to_linktype(int dlt)
{
	if (dlt == DLT_RAW)
		return MOAT_LINK_RAW;
	return dlt;
}

static int linktype_to_dlt(int linktype)
{
	if (linktype == MOAT_LINK_RAW)
		return DLT_RAW;
	return linktype;
}

int moat_io_pcap_open(struct moat_io_pcap_reader **r, const char *path,
		      char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct moat_io_pcap_reader *rd;
	pcap_t *pc;

	*r = NULL;
	pc = pcap_open_offline_with_tstamp_precision(
		path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!pc) {
		/* libpcap says "unknown file format" for non-captures and
		 * names the version or block for damaged headers. */
		/* libpcap already names the file in errno messages. */
		if (strncmp(ebuf, path, strlen(path)) == 0)
			snprintf(err, errlen, "cannot read capture %s", ebuf);
		else
			snprintf(err, errlen, "%s: cannot read capture: %s",
				 path, ebuf[0] ? ebuf : "unknown error");
		return -EINVAL;
	}
	rd = calloc(1, sizeof(*rd));
	if (!rd) {
		pcap_close(pc);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	rd->pcap = pc;
	rd->linktype = dlt_to_linktype(pcap_datalink(pc));
	*r = rd;
	return 0;
}

int moat_io_pcap_next(struct moat_io_pcap_reader *r,
		      struct moat_io_pcap_pkt *pkt, char *err, size_t errlen)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc = pcap_next_ex(r->pcap, &h, &data);

	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc != 1) {
		snprintf(err, errlen, "damaged capture after packet %lu: %s",
			 r->count, pcap_geterr(r->pcap));
		return -EIO;
	}
	r->count++;
	pkt->data = data;
	pkt->caplen = h->caplen;
	pkt->wirelen = h->len < h->caplen ? h->caplen : h->len;
	/* With nanosecond precision requested, tv_usec holds nanoseconds. */
	pkt->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u +
		     (uint64_t)h->ts.tv_usec;
	pkt->linktype = r->linktype;
	pkt->ifindex = -1;
	return 1;
}

int moat_io_pcap_linktype(const struct moat_io_pcap_reader *r)
{
	return r->linktype;
}

void moat_io_pcap_close(struct moat_io_pcap_reader *r)
{
	if (!r)
		return;
	pcap_close(r->pcap);
	free(r);
}

int moat_io_pcap_writer_open(struct moat_io_pcap_writer **w,
			     const char *path, int linktype, uint32_t snaplen,
			     char *err, size_t errlen)
{
	struct moat_io_pcap_writer *wr;

	*w = NULL;
	wr = calloc(1, sizeof(*wr));
	if (!wr) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	wr->pcap = pcap_open_dead_with_tstamp_precision(
		linktype_to_dlt(linktype), (int)(snaplen ? snaplen : 262144),
		PCAP_TSTAMP_PRECISION_NANO);
	if (!wr->pcap) {
		snprintf(err, errlen, "%s: link type %d not supported", path,
			 linktype);
		free(wr);
		return -EINVAL;
	}
	wr->dump = pcap_dump_open(wr->pcap, path);
	if (!wr->dump) {
		snprintf(err, errlen, "%s: cannot create: %s", path,
			 pcap_geterr(wr->pcap));
		pcap_close(wr->pcap);
		free(wr);
		return -EIO;
	}
	*w = wr;
	return 0;
}

int moat_io_pcap_write(struct moat_io_pcap_writer *w, const uint8_t *data,
		       uint32_t caplen, uint32_t wirelen, uint64_t ts_ns)
{
	struct pcap_pkthdr h;

	h.ts.tv_sec = (time_t)(ts_ns / 1000000000u);
	h.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000u);
	h.caplen = caplen;
	h.len = wirelen < caplen ? caplen : wirelen;
	pcap_dump((u_char *)w->dump, &h, data);
	return 0;
}

int moat_io_pcap_writer_close(struct moat_io_pcap_writer *w)
{
	int rc = 0;

	if (!w)
		return 0;
	if (pcap_dump_flush(w->dump) != 0)
		rc = -EIO;
	pcap_dump_close(w->dump);
	pcap_close(w->pcap);
	free(w);
	return rc;
}
