/*
 * Capture files: read pcap and pcapng, write pcap.  A thin layer over
 * libpcap for `moat decode`, `moat replay` and the tests; the first and
 * last stop of an offline packet's path.
 *
 * Reading: pcap_open_offline() recognises both formats.  Timestamps are
 * delivered in nanoseconds whatever the file's resolution.  The link type
 * is reported as a pcap LINKTYPE_ value (enum moat_linktype), not libpcap's
 * platform DLT_ value (DLT_RAW is 12 or 14 where LINKTYPE_RAW is 101).
 *
 * pcapng interfaces: libpcap 1.10 does not tell which interface a packet
 * came from (struct pcap_pkthdr has no field for it) and refuses files whose
 * interfaces have different link types, so ifindex is always -1 here.
 */
#ifndef MOAT_IO_PCAP_H
#define MOAT_IO_PCAP_H

#include <stddef.h>
#include <stdint.h>

struct moat_io_pcap_reader;
struct moat_io_pcap_writer;

/* One packet; @data is owned by the reader, valid until the next call. */
struct moat_io_pcap_pkt {
	const uint8_t *data;
	uint32_t caplen;
	uint32_t wirelen;
	uint64_t ts_ns;    /* since the epoch */
	int linktype;      /* enum moat_linktype numbering */
	int ifindex;       /* pcapng interface, or -1 when unknown (always) */
};

/*
 * Open @path for reading.  Returns 0 and sets *@r, or a negative errno with
 * a message for humans in @err (@errlen bytes): missing file, not a
 * capture, unsupported version, damaged header.
 */
int moat_io_pcap_open(struct moat_io_pcap_reader **r, const char *path,
		      char *err, size_t errlen);

/*
 * Next packet into @pkt.  Returns 1 for a packet, 0 at the end of the file,
 * or -EIO with a message in @err when the file is damaged (a truncated
 * record, a bad block); packets before the damage were delivered.
 */
int moat_io_pcap_next(struct moat_io_pcap_reader *r,
		      struct moat_io_pcap_pkt *pkt, char *err, size_t errlen);

/* The file's link type (LINKTYPE_ numbering). */
int moat_io_pcap_linktype(const struct moat_io_pcap_reader *r);

/* Close; accepts NULL. */
void moat_io_pcap_close(struct moat_io_pcap_reader *r);

/*
 * Create @path as a pcap file (nanosecond timestamps) of @linktype
 * (LINKTYPE_ numbering) with @snaplen.  Returns 0 or a negative errno with
 * a message in @err.
 */
int moat_io_pcap_writer_open(struct moat_io_pcap_writer **w,
			     const char *path, int linktype, uint32_t snaplen,
			     char *err, size_t errlen);

/* Append one packet: @caplen bytes of @data, @wirelen on the wire. */
int moat_io_pcap_write(struct moat_io_pcap_writer *w, const uint8_t *data,
		       uint32_t caplen, uint32_t wirelen, uint64_t ts_ns);

/* Flush and close; returns 0 or -EIO if the data could not be written.
 * Accepts NULL. */
int moat_io_pcap_writer_close(struct moat_io_pcap_writer *w);

#endif
