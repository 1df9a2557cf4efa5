/*
 * What the SYN-flood loader (synflood.c) tells its XDP program
 * (synflood.bpf.c) before loading it: the template SYN (checksums right)
 * and which bits of its source address to draw at random, in network
 * order.  Shared by both sides, so plain fixed-size types only.
 */
#ifndef MOAT_BENCH_SYNFLOOD_H
#define MOAT_BENCH_SYNFLOOD_H

#include <linux/types.h>

enum {
	SYNFLOOD_LEN4 = 54,   /* Ethernet, IPv4, TCP without options */
	SYNFLOOD_LEN6 = 74,   /* Ethernet, IPv6, TCP without options */
};

struct synflood_cfg {
	__u32 ipv;        /* 4 or 6: which template */
	__u32 mask4;      /* IPv4 host bits, e.g. 0x00007fff for a /17 */
	__u32 mask6[4];   /* IPv6 host bits, by 32-bit word */
	__u16 frame[SYNFLOOD_LEN6 / 2]; /* the template, as on the wire */
};

#endif
