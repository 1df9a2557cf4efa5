/*
 * The XDP fast path's loader (src/io/xdp.c): loads moat's XDP program
 * (src/xdp/moat_xdp.bpf.c, maps in moat/xdp_maps.h), attaches it to the
 * zone interfaces, and keeps its maps true to the engine:
 *
 *   engine                        moat_io_xdp_tick()          XDP maps
 *   cookie key of the epoch  ---> at every rotation      ---> moat_keys
 *   cookie decisions (export) --> drained, applied        ---> moat_dsts
 *   flood detector          <---- SYNs answered in XDP   <--- moat_dsts.syns
 *   counters (ctl stats)    <---- moat_io_xdp_add_counters <-- moat_stats
 *   retransmit table        <---- SYN-ACKs XDP sent      <--- moat_synacks
 *
 * Control plane only: nothing here runs per packet.  Needs CAP_BPF and
 * CAP_NET_ADMIN (or root) to load and attach.
 */
#ifndef MOAT_IO_XDP_H
#define MOAT_IO_XDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moat/engine.h"
#include "moat/io_ctl.h"
#include "moat/rules.h"
#include "moat/xdp_maps.h"

enum {
	MOAT_IO_XDP_PORTS = 2,
	MOAT_IO_XDP_MODE_NATIVE = 1,   /* in the driver (XDP_FLAGS_DRV_MODE) */
	MOAT_IO_XDP_MODE_GENERIC = 2,  /* after the skb is built (SKB_MODE) */
};

struct moat_io_xdp;

/*
 * Open and load the object at @path (NULL: $MOAT_XDP_OBJECT, else the
 * installed one, else the build tree's).  NULL with a message in @err.
 * The program answers nothing until keys and destinations are pushed.
 */
struct moat_io_xdp *moat_io_xdp_open(const char *path, char *err,
				     size_t errlen);

/* Detach from every interface and unload; accepts NULL. */
void moat_io_xdp_close(struct moat_io_xdp *x);

/*
 * Attach to @ifname (the interface of engine zone @zone), in the driver (native) if it can, else generic with
 * the reason in @err (a warning).  Returns MOAT_IO_XDP_MODE_*, or a
 * negative errno with the message in @err.  At most MOAT_IO_XDP_PORTS.
 */
int moat_io_xdp_attach(struct moat_io_xdp *x, const char *ifname, int zone,
		       bool native_only, char *err, size_t errlen);

/*
 * What antispoof needs of the rules in force (@cfg): the zones' networks
 * and the bogons into moat_srcs, the zone of every interface into
 * moat_ports.  Answers are held off while the maps are rewritten.  At
 * start and after every reload.  0, or a negative errno (the program then
 * answers nothing; -EAGAIN: the bogons set changes at run time).
 */
int moat_io_xdp_set_rules(struct moat_io_xdp *x, const struct moat_config *cfg);

/* An interface of zone @zone that the program sees frames from without
 * moat attaching it here (tests run the program on the loopback). */
int moat_io_xdp_add_port(struct moat_io_xdp *x, int ifindex, int zone);

/* Flags (MOAT_XDP_F_*) and the fixed part of the configuration. */
int moat_io_xdp_set_flags(struct moat_io_xdp *x, uint32_t flags);
uint32_t moat_io_xdp_flags(const struct moat_io_xdp *x);
/* The engine's clock minus CLOCK_MONOTONIC (0 unless a test moves it). */
int moat_io_xdp_set_clock_offset(struct moat_io_xdp *x, int64_t offset_ns);

/*
 * Push the engine's cookie key for the epoch of @now_ns and the next one
 * (so a rotation never finds the program without a key) and its TSval
 * offset.  Cheap when nothing changed: call it at every tick.
 */
int moat_io_xdp_push_keys(struct moat_io_xdp *x, const struct moat_engine *e,
			  uint64_t now_ns);

/* A destination in cookie mode with the server's options (@v's syns is
 * ignored), or out of it (@v NULL).  0 or a negative errno. */
int moat_io_xdp_set_dst(struct moat_io_xdp *x,
			const struct moat_syn_dst_key *k,
			const struct moat_xdp_dst *v);
int moat_io_xdp_clear_dsts(struct moat_io_xdp *x);

/* Apply the engine's exported cookie decisions (moat/engine.h); returns
 * how many were applied. */
int moat_io_xdp_mirror(struct moat_io_xdp *x, struct moat_engine *e);

/* Feed the SYNs XDP answered since the last call into the engine's flood
 * detector (moat_engine_cookie_syns). */
void moat_io_xdp_feed_syns(struct moat_io_xdp *x, struct moat_engine *e,
			   uint64_t now_ns);

/*
 * Hand the SYN-ACKs XDP sent since the last call to the engine's
 * retransmit table (moat_engine_cookie_synack_sent), each with the zone
 * of the interface it left by; a record from an interface not attached
 * here goes to @unknown_zone, or is skipped when that is negative (tests
 * run the program on no interface).  Returns how many were handed over.
 */
int moat_io_xdp_consume_synacks(struct moat_io_xdp *x, struct moat_engine *e,
				uint64_t now_ns, int unknown_zone);

/* All of the above that a tick does: keys, mirror, SYN counts and the
 * SYN-ACKs for the retransmit table. */
void moat_io_xdp_tick(struct moat_io_xdp *x, struct moat_engine *e,
		      uint64_t now_ns);

/* moat_stats summed over the CPUs into @out (MOAT_XDP_ST_COUNT). */
int moat_io_xdp_counters(struct moat_io_xdp *x,
			 uint64_t out[MOAT_XDP_ST_COUNT]);

/* Add what XDP decided (packets it ended: their verdicts, reasons and the
 * frames it sent) to the engine's counters @c, for stats and metrics. */
void moat_io_xdp_add_counters(struct moat_io_xdp *x, struct moat_counters *c);

/* XDP's own counters after `moat ctl stats` (one `xdp` line) or as
 * Prometheus metrics (moat_xdp_total{counter="..."}). */
void moat_io_xdp_print(struct moat_io_xdp *x, struct moat_io_buf *out,
		       bool prom);

/* The xsks_map for the AF_XDP backend, the program (tests), or -1. */
int moat_xdp_xsk_map_fd(const struct moat_io_xdp *x);
int moat_io_xdp_prog_fd(const struct moat_io_xdp *x);

/* Which interface got which mode, for the start-up message. */
const char *moat_io_xdp_describe(const struct moat_io_xdp *x, char *buf,
				 size_t len);

#endif
