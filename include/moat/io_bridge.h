/*
 * `moat run`'s loop: a transparent bridge between two interfaces.
 *
 * The live packet's path end to end: frames come out of each port
 * (io_port.h: an AF_XDP socket or an AF_PACKET ring), go through moat_engine_process() with
 * their ingress zone and CLOCK_MONOTONIC time, and those that pass are
 * queued unchanged (or as the engine rewrote them) on the other port;
 * frames the engine emits leave by the port of the zone they name.  Between
 * batches the loop ticks the engine (at least every 50 ms, traffic or
 * not), drains its events into the log, serves the control socket, asks
 * for a reload on SIGHUP and `moat ctl reload` and swaps in what the
 * loader thread compiled (moat/io_reload.h), and stops on SIGTERM/SIGINT.
 *
 * One thread, one engine: the engine is never called concurrently (the
 * reload's loader thread never touches it).
 */
#ifndef MOAT_IO_BRIDGE_H
#define MOAT_IO_BRIDGE_H

#include <stddef.h>
#include <stdio.h>

#include "moat/engine.h"
#include "moat/io_ctl.h"
#include "moat/io_eventlog.h"
#include "moat/io_port.h"
#include "moat/io_reload.h"

enum {
	MOAT_IO_TICK_NS = 50 * 1000 * 1000,   /* twice the engine's 10 Hz minimum */
	MOAT_IO_POLL_MS = 50,
	/* After a frame, poll without sleeping this long by default
	 * (bridge.c, keep_polling): longer than the gaps between the
	 * packets of one request and its answer through a quiet gateway. */
	MOAT_IO_SPIN_US = 200,
	MOAT_IO_EVENTS_BATCH = 64,
	MOAT_IO_FLOWS_MAX = 100000,          /* lines `moat ctl flows` prints */
};

struct moat_io_bridge_conf {
	const char *ifname[2];
	int zone[2];                    /* the zone index of each interface */
	struct moat_engine *engine;     /* borrowed; NULL passes every frame */
	const char *ctl_path;           /* NULL: no control socket */
	struct moat_io_eventlog *log;   /* borrowed; NULL: no log */
	/* SIGHUP and `moat ctl reload` ask it for a reload (borrowed; NULL:
	 * reloads are not available); the loop swaps the result into the
	 * engine between two batches and answers with its words. */
	struct moat_io_reload *reload;
	/* Shed load (moat_engine_set_shed) once frames wait this long in a
	 * ring; 0: the default, 250 ms. */
	uint64_t shed_after_ns;
	/* The ports' backend (io_port.h); MOAT_IO_AUTO: AF_XDP where it
	 * can attach, else AF_PACKET (moat_io_bridge_note says why). */
	enum moat_io_backend io;
	/* AF_XDP: an XSKMAP per interface that an XDP program already
	 * redirects through (io_afxdp.h); NULL: libxdp's default program. */
	const int *xsks_map_fd;
	/* Poll without sleeping this many microseconds after a frame; 0
	 * never, negative the default (MOAT_IO_SPIN_US). */
	long spin_us;
	/* A fast path in front of the ports (the XDP program, moat/io_xdp.h):
	 * ticked with the engine, and its counters (packets it decided
	 * before they reached a port) added to the engine's in stats and
	 * metrics.  NULL: none. */
	void (*fast_tick)(void *arg, struct moat_engine *e, uint64_t now_ns);
	void (*fast_counters)(void *arg, struct moat_counters *c);
	/* Its own lines after `moat ctl stats` (@prom false) or metrics. */
	void (*fast_print)(void *arg, struct moat_io_buf *out, bool prom);
	void *fast_arg;
};

struct moat_io_bridge;

/* Opens both ports and the control socket.  NULL with a message in @err. */
struct moat_io_bridge *moat_io_bridge_create(const struct moat_io_bridge_conf *c,
					     char *err, size_t errlen);
void moat_io_bridge_destroy(struct moat_io_bridge *b); /* accepts NULL */

const struct moat_io_port *moat_io_bridge_port(const struct moat_io_bridge *b,
					       int i);

/* Why the ports are not what was asked for (auto fell back), or "". */
const char *moat_io_bridge_note(const struct moat_io_bridge *b);

/* Run until SIGTERM or SIGINT.  Returns 0, or a negative errno if the
 * loop could not poll. */
int moat_io_bridge_run(struct moat_io_bridge *b);

/* The final counters, as `moat ctl stats` shows them. */
void moat_io_bridge_print(struct moat_io_bridge *b, FILE *f);

#endif
