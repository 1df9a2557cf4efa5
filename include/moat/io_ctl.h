/*
 * The control socket of `moat run` and what it says: the request parser,
 * the non-blocking UNIX socket server, and the formatters for counters
 * (text, JSON, Prometheus).
 *
 * Off the packet's path: the run loop polls the listening socket and the
 * clients together with the rings and serves them between two batches, so
 * a slow or stuck client never blocks a frame.  Control plane: it may
 * allocate.
 *
 * Protocol (SOCK_STREAM): the client sends one line,
 *     stats [--json] | flows [TERM VALUE...] [--json] | reload |
 *     syncookies on|off|auto | metrics
 * and reads until end of file.  The reply's first line is `ok` or `error`;
 * the rest is the body (the counters, the flows, the reload errors...).
 */
#ifndef MOAT_IO_CTL_H
#define MOAT_IO_CTL_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moat/engine.h"
#include "moat/io_flows.h"
#include "moat/io_port.h"

/* ---- a growing text buffer (control plane) ---------------------------- */

struct moat_io_buf {
	char *p;        /* NUL-terminated; owned */
	size_t len, cap;
	bool failed;    /* an allocation failed: the text is cut */
};

void moat_io_buf_init(struct moat_io_buf *b);
void moat_io_buf_free(struct moat_io_buf *b);
void moat_io_buf_printf(struct moat_io_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- requests ---------------------------------------------------------- */

enum moat_io_ctl_cmd {
	MOAT_IO_CTL_STATS = 0,
	MOAT_IO_CTL_FLOWS,
	MOAT_IO_CTL_RELOAD,
	MOAT_IO_CTL_SYNCOOKIES,
	MOAT_IO_CTL_METRICS,
};

enum { MOAT_IO_CTL_LINE_MAX = 256 };

struct moat_io_ctl_req {
	enum moat_io_ctl_cmd cmd;
	int mode;       /* SYNCOOKIES: enum moat_syncookies_mode */
	bool json;      /* STATS --json, FLOWS --json */
	/* FLOWS TERM VALUE...: only the flows every term matches
	 * (moat/io_flows.h: src, dst, host, port, sport, dport, proto,
	 * state). */
	struct moat_io_flow_filter flows;
	uint64_t ticket;  /* set by the server: who asked (moat_io_ctl_answer) */
};

/* Parse one request line (without its newline).  0, or -EINVAL with a
 * message in @err. */
int moat_io_ctl_parse(const char *line, struct moat_io_ctl_req *req,
		      char *err, size_t errlen);

/* ---- the server -------------------------------------------------------- */

/* Answer @req into @out; return 0 (`ok`) or -1 (`error`), or
 * MOAT_IO_CTL_LATER: the answer comes later, through moat_io_ctl_answer()
 * with req->ticket (a reload), and the client waits for it. */
typedef int (*moat_io_ctl_handler)(void *arg, const struct moat_io_ctl_req *req,
				   struct moat_io_buf *out);
enum { MOAT_IO_CTL_LATER = 1 };

struct moat_io_ctl;

/* Listen on @path (mode 0600; a stale socket file is replaced).
 * NULL with errno set on failure. */
struct moat_io_ctl *moat_io_ctl_open(const char *path, moat_io_ctl_handler fn,
				     void *arg);
/* Unlinks the socket file; accepts NULL. */
void moat_io_ctl_close(struct moat_io_ctl *c);

enum { MOAT_IO_CTL_CLIENTS = 8 };

/* Fill up to 1 + MOAT_IO_CTL_CLIENTS poll entries; returns how many. */
int moat_io_ctl_pollfds(struct moat_io_ctl *c, struct pollfd *pfd, int max);
/* Serve whatever the poll found ready in those entries; never blocks. */
void moat_io_ctl_service(struct moat_io_ctl *c, const struct pollfd *pfd,
			 int n);
/* The answer to a request its handler put off: @ok 0 or -1 as the
 * handler's, @body the text.  -ENOENT when that client is gone (it hung
 * up, or was evicted). */
int moat_io_ctl_answer(struct moat_io_ctl *c, uint64_t ticket, int ok,
		       const char *body);

/* ---- counters ---------------------------------------------------------- */

/* What `stats` and `metrics` show, gathered by the run loop. */
struct moat_io_stats_view {
	const struct moat_counters *c;
	uint64_t flows;
	const struct moat_io_port *const *ports;
	int nports;
	const struct moat_engine_stats *engine; /* or NULL: no engine */
	uint64_t reloads, reload_errors, ticks;
};

void moat_io_stats_text(struct moat_io_buf *b, const struct moat_io_stats_view *v);
void moat_io_stats_json(struct moat_io_buf *b, const struct moat_io_stats_view *v);
/* Prometheus text exposition format 0.0.4. */
void moat_io_metrics_prom(struct moat_io_buf *b,
			  const struct moat_io_stats_view *v);

#endif
