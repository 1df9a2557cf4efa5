/*
 * The maps between moat and its XDP program (src/xdp/moat_xdp.bpf.c): their
 * names, keys and values, one layout for both sides.  Userspace
 * (src/io/xdp.c) writes what the engine has decided; the program only
 * reads it, and counts.
 *
 *   map          type             key                 value
 *   moat_cfg     array, 1         0                   struct moat_xdp_config
 *   moat_keys    array, 2         epoch & 1           struct moat_xdp_key
 *   moat_dsts    hash             moat_syn_dst_key    struct moat_xdp_dst
 *   moat_stats   per-CPU array    enum moat_xdp_stat  uint64_t
 *   xsks_map     xskmap           rx queue index      AF_XDP socket
 *   moat_synacks ringbuf          -                   struct moat_xdp_synack
 *   moat_srcs    LPM trie         moat_xdp_src_key    struct moat_xdp_src_val
 *   moat_ports   hash             ifindex             struct moat_xdp_port
 *
 * Header-only, no libc (moat/syn_decide.h and moat/reason.h beside it), so
 * the BPF target compiles it.  The values are stable while a program is
 * attached: moat writes them, an older object would misread others.
 */
#ifndef MOAT_XDP_MAPS_H
#define MOAT_XDP_MAPS_H

#include <stdint.h>

#include "moat/reason.h"
#include "moat/syn_decide.h"

enum {
	MOAT_XDP_DSTS_MAX = 4096,     /* destinations in cookie mode at once */
	/* AF_XDP sockets: interface number i of the attach order (the
	 * bridge's port i) owns entries i * PER_PORT + queue, so two
	 * interfaces share the one map without colliding on queue 0. */
	MOAT_XDP_XSKS_PER_PORT = 32,
	MOAT_XDP_XSKS_MAX = 64,       /* two bridge ports' worth */
	MOAT_XDP_KEY_LEN = 16,        /* a SipHash-2-4 key (moat/cookie_core.h) */
};

/* moat_cfg's flags. */
enum {
	/* What XDP does not answer goes to the AF_XDP socket of its rx
	 * queue in xsks_map (the AF_XDP backend), else to the kernel. */
	MOAT_XDP_F_REDIRECT = 1u << 0,
	/* Answer SYNs of destinations in moat_dsts (off: count only). */
	MOAT_XDP_F_COOKIES = 1u << 1,
	/* The engine's antispoof is on: drop TCP and UDP from martian
	 * sources (counted as MOAT_R_MARTIAN_SRC), and answer only SYNs whose
	 * source the zone checks and the bogons accept (moat_srcs,
	 * moat_ports). */
	MOAT_XDP_F_ANTISPOOF = 1u << 2,
	/* Copy each cookie SYN-ACK into moat_synacks, so the engine's lossy
	 * retransmit table learns of it (lossy too: a full ring drops). */
	MOAT_XDP_F_RTX = 1u << 3,
};

enum {
	MOAT_XDP_SYNACK_MAX = 96,        /* the longest cookie SYN-ACK, 94 */
	MOAT_XDP_SYNACK_RING = 1 << 18,  /* bytes: about 2000 records */
};

/*
 * The sources antispoof judges (src/engine/sanity.c): table 0 holds every
 * zone's networks with the zone that owns each (the most specific), table
 * 1 the `bogons` set.  Addresses as moat_syn_dst_key's (IPv4 ::ffff:-
 * mapped); prefixlen counts the table byte: 8 + 96 + len for IPv4.
 */
enum {
	MOAT_XDP_SRC_ZONES = 0,
	MOAT_XDP_SRC_BOGONS = 1,
	MOAT_XDP_SRCS_MAX = 1 << 16,
	MOAT_XDP_PORTS_MAX = 8,
};

struct moat_xdp_src_key {
	uint32_t prefixlen;
	uint8_t table;
	uint8_t addr[16];
} __attribute__((packed));

struct moat_xdp_src_val {
	int32_t zone;                 /* table 0: the owner zone */
};

/* An interface the program runs on: its zone, for the zone checks. */
struct moat_xdp_port {
	int32_t zone;
	uint32_t has_networks;        /* the zone declares networks */
	uint32_t xsk_base;            /* its AF_XDP sockets in xsks_map */
	uint32_t pad;
};

/* A cookie SYN-ACK the program sent, for the retransmit table. */
struct moat_xdp_synack {
	uint32_t ifindex;             /* it left by (and its SYN came in on) */
	uint16_t len;
	uint16_t pad;
	uint8_t frame[MOAT_XDP_SYNACK_MAX];
};

struct moat_xdp_config {
	uint32_t flags;
	uint32_t ts_offset;           /* the engine's (struct moat_syn_keys) */
	uint32_t epoch_counters;      /* cookie counters per key epoch */
	uint16_t synack_win_segs;     /* SYN-ACK window = this x MSS */
	uint16_t pad;
	/* The engine's clock minus bpf_ktime_get_ns() (CLOCK_MONOTONIC):
	 * 0 for `moat run`, whose bridge reads CLOCK_MONOTONIC; tests move
	 * the program's time across a key rotation with it. */
	int64_t clock_offset_ns;
};

/* A key epoch's SipHash key; slot epoch & 1.  moat writes the next
 * epoch's slot before it begins, so a slot in use is never rewritten. */
struct moat_xdp_key {
	uint64_t epoch;
	uint32_t valid;               /* 1: key is the key of epoch */
	uint32_t pad;
	uint8_t key[MOAT_XDP_KEY_LEN];
};

/* moat_xdp_dst.flags: what the server's SYN-ACK showed (learned by the
 * engine, src/synproxy/backend.c); the cookie SYN-ACK offers only what
 * the server honours (synack_options() in src/synproxy/proxy.c). */
enum {
	MOAT_XDP_DST_SACK = 1u << 0,
	MOAT_XDP_DST_TS = 1u << 1,
	MOAT_XDP_DST_ECN = 1u << 2,
};

/* A destination the engine put in cookie mode, keyed by struct
 * moat_syn_dst_key (address ::ffff:-mapped for IPv4, port host order). */
struct moat_xdp_dst {
	uint16_t mss;                 /* the server's MSS, as announced */
	uint8_t wscale;               /* the server's, or 0xf: none */
	uint8_t flags;                /* MOAT_XDP_DST_* */
	uint32_t pad;
	uint64_t syns;                /* SYNs answered here (atomic add) */
};

/*
 * moat_stats: one counter per index, per CPU.  Below MOAT_R_COUNT the
 * index is the engine's reason (moat/reason.h) of a packet that ended in
 * XDP, so that stats add them to the engine's: MOAT_R_SYN_COOKIE_SENT for
 * a SYN answered with XDP_TX.  Above it, why a packet went on (to the
 * engine, which then counts it itself).
 */
enum moat_xdp_stat {
	MOAT_XDP_ST_PASS = MOAT_R_COUNT, /* every packet not ended here */
	MOAT_XDP_ST_PASS_NOT_SYN,     /* not IPv4/IPv6 TCP, or not a pure SYN */
	MOAT_XDP_ST_PASS_SHAPE,       /* VLAN tag, IP options, extension
					 headers, fragment, SYN with data */
	MOAT_XDP_ST_PASS_DST,         /* destination not in cookie mode */
	MOAT_XDP_ST_PASS_CHECK,       /* bad checksum or options: the
					 engine's to judge and count */
	MOAT_XDP_ST_PASS_NO_KEY,      /* no key for the current epoch */
	MOAT_XDP_ST_TX_FAIL,          /* the SYN-ACK could not be built */
	MOAT_XDP_ST_REDIRECT,         /* handed to xsks_map */
	MOAT_XDP_ST_RTX_LOST,         /* SYN-ACKs moat_synacks had no room for */
	MOAT_XDP_ST_COUNT
};

#endif
