/*
 * Which interface each packet of a pcapng capture was seen on.
 *
 * libpcap reads pcapng but does not say which interface a packet came from,
 * and `moat replay` picks a packet's ingress zone by that interface's name
 * (doc/design.md).  This walks the file's blocks once, alongside libpcap, and
 * records for every packet block, in file order, the name of its
 * interface.  Control plane: it allocates, and it never trusts a length.
 */
#ifndef MOAT_IO_PCAPNG_H
#define MOAT_IO_PCAPNG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
	MOAT_IO_PCAPNG_IFACES_MAX = 256, /* interfaces in a file, all sections */
	MOAT_IO_PCAPNG_NAME_MAX = 64,
};

struct moat_io_pcapng_map {
	uint32_t ifaces;                 /* interfaces described */
	char name[MOAT_IO_PCAPNG_IFACES_MAX][MOAT_IO_PCAPNG_NAME_MAX];
	uint32_t packets;                /* packet blocks seen */
	uint32_t cap;                    /* room in iface[] */
	uint16_t *iface;                 /* per packet: index into name[] */
};

/*
 * Walk @f (a pcapng stream positioned at its start) into @m.  Returns 1
 * when the file is pcapng and @m is filled, 0 when it is not pcapng (a
 * classic pcap file: nothing to map), or -EINVAL with a message in @err when
 * a block is damaged (the packets before it stay mapped).  Free with
 * moat_io_pcapng_map_free().
 */
int moat_io_pcapng_map_read(FILE *f, struct moat_io_pcapng_map *m,
			    char *err, size_t errlen);
void moat_io_pcapng_map_free(struct moat_io_pcapng_map *m);

/* The interface name of packet @index (0-based), or NULL when unknown. */
const char *moat_io_pcapng_map_name(const struct moat_io_pcapng_map *m,
				    uint32_t index);

#endif
