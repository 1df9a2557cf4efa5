/*
 * `moat run`'s loop: the transparent bridge that drives the engine live.
 *
 *   out0 rx --frames--> engine(frame, zone of out0, now) --pass--> in0 tx
 *   in0  rx --frames--> engine(frame, zone of in0,  now) --pass--> out0 tx
 *                                 \--emitted frames--> tx of their zone
 *
 * The ports are AF_XDP sockets or AF_PACKET rings (io_port.h); nothing
 * here knows which.  Each loop turn takes up to MOAT_IO_RX_BUDGET batches
 * of MOAT_IO_RX_BATCH frames per port, sends the transmit queues after
 * each batch, ticks the engine when
 * MOAT_IO_TICK_NS has passed, drains the engine's events into the log,
 * serves the control socket, and sleeps in ppoll() only when both rings
 * were empty, at most MOAT_IO_POLL_MS, so the engine ticks even with no
 * traffic.  Signals are blocked except inside ppoll(), so a SIGHUP is
 * handled between two batches, never in the middle of one.
 *
 * A reload never stops the loop: SIGHUP and `moat ctl reload` only ask
 * the loader thread (io_reload.h) to read, check and compile the file; the
 * loop goes on forwarding, and once the loader is done (its eventfd is in
 * the poll set) swaps the new rules into the engine between two batches,
 * then answers every `ctl reload` that waited for that load.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "moat/io_afpacket.h"
#include "moat/io_afxdp.h"
#include "moat/io_bridge.h"
#include "moat/pkt.h"

struct moat_io_bridge {
	struct moat_io_port *ports[2];   /* owned */
	struct moat_io_port null_ports[2]; /* stand-ins until opened */
	char note[256];                  /* why auto fell back, or "" */
	int zone[2];
	struct moat_engine *engine;
	struct moat_io_eventlog *log;
	struct moat_io_ctl *ctl;
	struct moat_io_reload *reload;
	/* `ctl reload` clients waiting for load number gen; SIGHUP's. */
	struct { uint64_t ticket, gen; } waiter[2 * MOAT_IO_CTL_CLIENTS];
	int nwaiters;
	uint64_t hup_gen;

	uint64_t now;             /* CLOCK_MONOTONIC of the current batch */
	uint64_t last_tick;
	uint64_t ticks, reloads, reload_errors;
	uint64_t emit_no_port;    /* emitted into a zone with no interface */
	uint64_t passthrough;     /* frames passed without an engine */
	bool shed;                /* the engine is told to shed load */
	uint64_t shed_after_ns;
	uint64_t shed_on;         /* times shedding started */
	uint64_t spin_ns;         /* poll without sleeping this long after a frame */
	uint64_t last_frame;      /* CLOCK_MONOTONIC of the last batch with frames */
	struct moat_emit emit;
	struct moat_event events[MOAT_IO_EVENTS_BATCH];
	/* The fast path in front of the ports (conf), and the engine's
	 * counters with its own added, for stats. */
	void (*fast_tick)(void *arg, struct moat_engine *e, uint64_t now_ns);
	void (*fast_counters)(void *arg, struct moat_counters *c);
	void (*fast_print)(void *arg, struct moat_io_buf *out, bool prom);
	void *fast_arg;
	struct moat_counters with_fast;
};

static volatile sig_atomic_t got_stop, got_hup;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_stop = 1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- frames ------------------------------------------------------------ */

static struct moat_io_port *port_of_zone(struct moat_io_bridge *b, int zone)
{
	for (int i = 0; i < 2; i++)
		if (b->zone[i] == zone)
			return b->ports[i];
	return NULL;
}

static void send_emitted(struct moat_io_bridge *b)
{
	for (uint32_t i = 0; i < b->emit.count; i++) {
		const struct moat_emit_frame *ef = &b->emit.frames[i];
		struct moat_io_port *p = port_of_zone(b, ef->out_zone);

		if (!p || ef->len == 0) {
			b->emit_no_port++;
			continue;
		}
		moat_io_port_send(p, ef->data, ef->len);
	}
	moat_emit_reset(&b->emit);
}

/*
 * A frame a local sender left with a partial checksum (AF_PACKET's
 * TP_STATUS_CSUMNOTREADY: its tx checksum offload is on, and on a veth no
 * hardware will ever fill it in).  We are the "hardware" on its way out, so complete the checksums
 * before the engine checks them; the count stays in rx_csum_partial.
 */
static void complete_checksums(struct moat_io_rxframe *f)
{
	struct moat_pkt p;

	if (moat_pkt_decode(&p, f->data, f->caplen, f->wirelen,
			    MOAT_LINK_ETHERNET) == MOAT_R_NONE && p.ipv)
		moat_pkt_fill_checksums(&p);
}

static void on_frame(void *arg, struct moat_io_port *in,
		     struct moat_io_rxframe *f)
{
	struct moat_io_bridge *b = arg;
	int i = in == b->ports[0] ? 0 : 1;
	struct moat_io_port *out = b->ports[1 - i];
	struct moat_frame fr = {
		.data = f->data,
		.caplen = f->caplen,
		.wirelen = f->wirelen,
		.linktype = MOAT_LINK_ETHERNET,
		.zone = (int16_t)b->zone[i],
	};
	struct moat_result res;

	/* A frame the ring cut cannot be judged or sent whole: counted by
	 * the port layer (oversize or truncated), never seen by the engine. */
	if (f->caplen < f->wirelen) {
		moat_io_port_forward(out, in, f);
		return;
	}
	if (f->csum_partial)
		complete_checksums(f);
	if (!b->engine) {
		b->passthrough++;
		moat_io_port_forward(out, in, f);
		return;
	}
	moat_emit_reset(&b->emit);
	moat_engine_process(b->engine, &fr, b->now, &res, &b->emit);
	if (res.log)
		moat_io_eventlog_frame(b->log, fr.data, fr.caplen, fr.wirelen);
	/* A bridge: what passes leaves by the other side, as it came or as
	 * the engine rewrote it in place. */
	if (res.verdict == MOAT_VERDICT_PASS)
		moat_io_port_forward(out, in, f);
	send_emitted(b);
}

/*
 * Falling behind: the oldest frame of the batch just taken waited more
 * than SHED_ON_NS in the ring.  A queue of tens of milliseconds costs an
 * honest connection nothing, so shedding waits until frames are a quarter
 * of a second old: the ring (about a second deep at 200 kpps) is then
 * filling and the next step is losing frames blindly, honest ones among
 * them, and clients' SYN retransmissions (1 s) come close.  It ends below
 * a fifth of that, so the engine is not told twice per block when the
 * delay hovers near one value.
 */
enum { SHED_ON_NS = 250000000 };

static void watch_pressure(struct moat_io_bridge *b)
{
	uint64_t d = b->ports[0]->st.delay_last_ns;
	bool shed;

	if (b->ports[1]->st.delay_last_ns > d)
		d = b->ports[1]->st.delay_last_ns;
	shed = b->shed ? d > b->shed_after_ns / 5 : d > b->shed_after_ns;
	if (shed == b->shed || !b->engine)
		return;
	b->shed = shed;
	b->shed_on += shed;
	moat_engine_set_shed(b->engine, shed);
}

static uint32_t rx_all(struct moat_io_bridge *b)
{
	uint32_t got = 0;

	/* One batch at a time, so the engine's clock is read once per batch
	 * (64 frames: tens of microseconds of traffic). */
	for (int i = 0; i < 2; i++) {
		for (int k = 0; k < MOAT_IO_RX_BUDGET; k++) {
			uint32_t n;

			b->now = mono_ns();
			n = moat_io_port_rx(b->ports[i], on_frame, b, b->ports,
					    2, MOAT_IO_RX_BATCH);
			if (n == 0)
				break;
			got += n;
			watch_pressure(b);
		}
	}
	return got;
}

/* ---- housekeeping between batches -------------------------------------- */

static void drain_events(struct moat_io_bridge *b)
{
	int n;

	if (!b->engine)
		return;
	/* Bounded: a few batches per turn; the engine's ring keeps (and
	 * counts the loss of) the rest. */
	for (int round = 0; round < 4; round++) {
		n = moat_engine_events_drain(b->engine, b->events,
					     MOAT_IO_EVENTS_BATCH);
		for (int i = 0; i < n; i++) {
			struct moat_io_event_ctx ctx = {
				.cfg = moat_engine_config(b->engine),
			};
			/* The interface the packet came in on. */
			for (int k = 0; k < 2; k++)
				if (b->events[i].in_zone >= 0 &&
				    b->events[i].in_zone == b->zone[k])
					ctx.in_iface = b->ports[k]->ifname;
			moat_io_eventlog_event(b->log, &b->events[i], &ctx);
		}
		if (n < MOAT_IO_EVENTS_BATCH)
			break;
	}
}

static void tick(struct moat_io_bridge *b)
{
	b->now = mono_ns();
	if (b->now - b->last_tick < MOAT_IO_TICK_NS)
		return;
	b->last_tick = b->now;
	b->ticks++;
	if (b->engine) {
		moat_emit_reset(&b->emit);
		moat_engine_tick(b->engine, b->now, &b->emit);
		send_emitted(b);
		if (b->fast_tick)
			b->fast_tick(b->fast_arg, b->engine, b->now);
	}
	for (int i = 0; i < 2; i++) {
		moat_io_port_flush(b->ports[i]);
		moat_io_port_poll_stats(b->ports[i]);
	}
	drain_events(b);
	moat_io_eventlog_flush(b->log);
}

static void on_hup(struct moat_io_bridge *b)
{
	got_hup = 0;
	if (!b->reload) {
		b->reload_errors++;
		fprintf(stderr, "moat: SIGHUP: reload is not available\n");
		return;
	}
	b->hup_gen = moat_io_reload_request(b->reload);
}

/* `moat ctl reload`: the client waits for the load that starts after it. */
static int ask_reload(struct moat_io_bridge *b, uint64_t ticket,
		      struct moat_io_buf *out)
{
	int n = (int)(sizeof(b->waiter) / sizeof(b->waiter[0]));

	if (!b->reload || b->nwaiters == n) {
		moat_io_buf_printf(out, "%s\n", b->reload ?
				   "too many reloads waiting" :
				   "reload is not available");
		b->reload_errors++;
		return -1;
	}
	b->waiter[b->nwaiters].ticket = ticket;
	b->waiter[b->nwaiters].gen = moat_io_reload_request(b->reload);
	b->nwaiters++;
	return MOAT_IO_CTL_LATER;
}

static void answer_waiters(struct moat_io_bridge *b,
			   const struct moat_io_reload_done *d,
			   const char *text)
{
	int kept = 0;

	for (int i = 0; i < b->nwaiters; i++) {
		if (b->waiter[i].gen > d->gen) {
			b->waiter[kept++] = b->waiter[i];
			continue;
		}
		/* -ENOENT: that client hung up meanwhile; nobody to tell. */
		if (b->ctl)
			moat_io_ctl_answer(b->ctl, b->waiter[i].ticket,
					   d->result == 0 ? 0 : -1, text);
	}
	b->nwaiters = kept;
}

/* Between batches: a finished load goes in (or is refused), and everyone
 * who asked for it hears how it went. */
static void finish_reload(struct moat_io_bridge *b)
{
	struct moat_io_reload_done d;
	const char *text;

	if (!b->reload || !moat_io_reload_poll(b->reload, b->engine, &d))
		return;
	text = d.msg.p ? d.msg.p : "";
	if (d.result == 0)
		b->reloads++;
	else
		b->reload_errors++;
	moat_io_eventlog_note(b->log, d.result == 0 ? "reload" : "reload-failed",
			      text);
	answer_waiters(b, &d, text);
	if (b->hup_gen && b->hup_gen <= d.gen) {
		b->hup_gen = 0;
		if (d.result == 0)
			fprintf(stderr, "moat: SIGHUP: %s", text);
		else
			fprintf(stderr, "moat: SIGHUP: reload failed, old rules "
				"kept:\n%s", text);
	}
	moat_io_buf_free(&d.msg);
}

/* ---- control requests -------------------------------------------------- */

struct flows_query {
	struct moat_io_buf *out;
	const struct moat_io_ctl_req *req;
	const struct moat_config *cfg;
};

static void print_flow(const struct moat_flow *fl, void *arg)
{
	const struct flows_query *q = arg;

	if (!moat_io_flow_match(&q->req->flows, fl))
		return;
	if (q->req->json)
		moat_io_flow_json(q->out, fl, q->cfg);
	else
		moat_io_flow_text(q->out, fl);
}

static void stats_view(struct moat_io_bridge *b, struct moat_io_stats_view *v,
		       struct moat_counters *zero, struct moat_engine_stats *es)
{
	static const struct moat_io_port *pp[2];

	pp[0] = b->ports[0];
	pp[1] = b->ports[1];
	memset(v, 0, sizeof(*v));
	memset(zero, 0, sizeof(*zero));
	v->c = zero;
	if (b->engine) {
		v->c = moat_engine_counters(b->engine);
		if (b->fast_counters) {
			b->with_fast = *v->c;
			b->fast_counters(b->fast_arg, &b->with_fast);
			v->c = &b->with_fast;
		}
		/* A counter, not a walk: stats and metrics are scraped often,
		 * and walking a million flows would stall the packet loop. */
		v->flows = moat_engine_flow_count(b->engine);
		moat_engine_stats(b->engine, es);
		v->engine = es;
	} else {
		zero->packets = zero->passed = b->passthrough;
	}
	v->ports = pp;
	v->nports = 2;
	v->reloads = b->reloads;
	v->reload_errors = b->reload_errors;
	v->ticks = b->ticks;
}

static int handle_ctl(void *arg, const struct moat_io_ctl_req *req,
		      struct moat_io_buf *out)
{
	struct moat_io_bridge *b = arg;
	struct moat_io_stats_view v;
	struct moat_counters zero;
	static struct moat_engine_stats es; /* 64 destinations: off the stack */

	switch (req->cmd) {
	case MOAT_IO_CTL_STATS:
	case MOAT_IO_CTL_METRICS:
		stats_view(b, &v, &zero, &es);
		if (req->cmd == MOAT_IO_CTL_METRICS)
			moat_io_metrics_prom(out, &v);
		else if (req->json)
			moat_io_stats_json(out, &v);
		else
			moat_io_stats_text(out, &v);
		if (b->fast_print && !req->json)
			b->fast_print(b->fast_arg, out,
				      req->cmd == MOAT_IO_CTL_METRICS);
		return 0;
	case MOAT_IO_CTL_FLOWS:
		if (b->engine) {
			struct flows_query q = { out, req,
						 moat_engine_config(b->engine) };
			moat_engine_flows(b->engine, print_flow, &q,
					  MOAT_IO_FLOWS_MAX);
		}
		return 0;
	case MOAT_IO_CTL_RELOAD:
		return ask_reload(b, req->ticket, out);
	case MOAT_IO_CTL_SYNCOOKIES:
		if (!b->engine) {
			moat_io_buf_printf(out, "no engine\n");
			return -1;
		}
		moat_engine_set_syncookies(b->engine, req->mode);
		moat_io_eventlog_note(b->log, "syncookies",
				      req->mode == 1 ? "on" :
				      req->mode == 0 ? "off" : "auto");
		return 0;
	}
	return -1;
}

/* ---- life cycle -------------------------------------------------------- */

static int open_afpacket(struct moat_io_bridge *b,
			 const struct moat_io_bridge_conf *c, char *err,
			 size_t errlen)
{
	const char *what;

	for (int i = 0; i < 2; i++) {
		int r = moat_io_afpacket_open(&b->ports[i], c->ifname[i], &what);

		if (r < 0) {
			b->ports[i] = &b->null_ports[i];
			snprintf(err, errlen, "%s: %s: %s", c->ifname[i], what,
				 strerror(-r));
			return r;
		}
	}
	return 0;
}

/*
 * The backend asked for: AF_XDP, AF_PACKET, or auto: AF_XDP where it can
 * attach, else AF_PACKET with the reason in the note (moat run prints it).
 */
static int open_ports(struct moat_io_bridge *b,
		      const struct moat_io_bridge_conf *c, char *err,
		      size_t errlen)
{
	static const int no_map[2] = { -1, -1 };
	struct moat_io_port *xp[2];
	char why[200];
	int r;

	if (c->io == MOAT_IO_AFPACKET)
		return open_afpacket(b, c, err, errlen);
	r = moat_io_afxdp_open_pair(xp, c->ifname,
				    c->xsks_map_fd ? c->xsks_map_fd : no_map,
				    why, sizeof(why));
	if (r == 0) {
		b->ports[0] = xp[0];
		b->ports[1] = xp[1];
		return 0;
	}
	if (c->io == MOAT_IO_AFXDP) {
		snprintf(err, errlen, "--io xdp: AF_XDP cannot run: %s", why);
		return r;
	}
	snprintf(b->note, sizeof(b->note),
		 "AF_XDP cannot run (%s); using AF_PACKET", why);
	return open_afpacket(b, c, err, errlen);
}

struct moat_io_bridge *moat_io_bridge_create(const struct moat_io_bridge_conf *c,
					     char *err, size_t errlen)
{
	struct moat_io_bridge *b = calloc(1, sizeof(*b));

	if (!b) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (int i = 0; i < 2; i++) {
		moat_io_port_init_null(&b->null_ports[i], c->ifname[i], 1500);
		b->ports[i] = &b->null_ports[i];
	}
	if (open_ports(b, c, err, errlen) < 0)
		goto fail;
	for (int i = 0; i < 2; i++)
		b->zone[i] = c->zone[i];
	b->engine = c->engine;
	b->log = c->log;
	b->reload = c->reload;
	b->shed_after_ns = c->shed_after_ns ? c->shed_after_ns : SHED_ON_NS;
	b->spin_ns = c->spin_us < 0 ? MOAT_IO_SPIN_US * 1000u
				    : (uint64_t)c->spin_us * 1000u;
	b->fast_tick = c->fast_tick;
	b->fast_counters = c->fast_counters;
	b->fast_print = c->fast_print;
	b->fast_arg = c->fast_arg;
	if (c->ctl_path) {
		b->ctl = moat_io_ctl_open(c->ctl_path, handle_ctl, b);
		if (!b->ctl) {
			snprintf(err, errlen, "%s: %s", c->ctl_path,
				 strerror(errno));
			goto fail;
		}
	}
	return b;
fail:
	moat_io_bridge_destroy(b);
	return NULL;
}

void moat_io_bridge_destroy(struct moat_io_bridge *b)
{
	if (!b)
		return;
	moat_io_ctl_close(b->ctl);
	for (int i = 0; i < 2; i++)
		moat_io_port_close(b->ports[i]);
	free(b);
}

const struct moat_io_port *moat_io_bridge_port(const struct moat_io_bridge *b,
					       int i)
{
	return b->ports[i];
}

const char *moat_io_bridge_note(const struct moat_io_bridge *b)
{
	return b->note;
}

static int wait_for_work(struct moat_io_bridge *b, const sigset_t *open_mask,
			 bool busy)
{
	struct pollfd pfd[4 + MOAT_IO_CTL_CLIENTS];
	struct timespec to = { 0, busy ? 0 : MOAT_IO_POLL_MS * 1000000L };
	int n = 0, nctl, r;

	for (int i = 0; i < 2; i++)
		pfd[n++] = (struct pollfd){ .fd = b->ports[i]->fd, .events = POLLIN };
	/* A finished load wakes the loop at once. */
	if (b->reload)
		pfd[n++] = (struct pollfd){ .fd = moat_io_reload_fd(b->reload),
					    .events = POLLIN };
	nctl = n;
	if (b->ctl)
		n += moat_io_ctl_pollfds(b->ctl, pfd + n,
					 (int)(sizeof(pfd) / sizeof(pfd[0])) - n);
	r = ppoll(pfd, (nfds_t)n, &to, open_mask);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (r > 0 && b->ctl)
		moat_io_ctl_service(b->ctl, pfd + nctl, n - nctl);
	return 0;
}

/*
 * Idle latency: a frame that finds moat asleep in ppoll() waits for the
 * gateway core to wake up (an IPI, and in a VM a halted vCPU scheduled
 * again), on every crossing of a request and of its answer.  For spin_ns
 * after the last frame the loop polls without sleeping, so the next frame
 * of the same exchange is taken at once; then the core sleeps as before.
 * The cost: the core stays busy while traffic flows (--spin-us 0: never).
 */
static bool keep_polling(struct moat_io_bridge *b, bool got)
{
	if (!b->spin_ns)
		return false;
	if (got) {
		b->last_frame = b->now;
		return true;
	}
	return mono_ns() - b->last_frame < b->spin_ns;
}

int moat_io_bridge_run(struct moat_io_bridge *b)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, open_mask;
	bool busy = false;
	int r = 0;

	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &open_mask);
	sigdelset(&open_mask, SIGHUP);
	sigdelset(&open_mask, SIGTERM);
	sigdelset(&open_mask, SIGINT);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	b->last_tick = mono_ns();
	moat_io_eventlog_note(b->log, "start", "");
	while (!got_stop) {
		busy = rx_all(b) > 0;
		busy |= keep_polling(b, busy);
		/* Frames the kernel has not taken yet (an AF_XDP TX ring
		 * sent in slices): go round again instead of sleeping. */
		for (int i = 0; i < 2; i++)
			busy |= moat_io_port_flush(b->ports[i]);
		tick(b);
		if (got_hup)
			on_hup(b);
		finish_reload(b);
		r = wait_for_work(b, &open_mask, busy);
		if (r < 0)
			break;
	}
	for (int i = 0; i < 2; i++) {
		moat_io_port_flush(b->ports[i]);
		moat_io_port_poll_stats(b->ports[i]);
	}
	drain_events(b);
	moat_io_eventlog_note(b->log, "stop", "");
	moat_io_eventlog_flush(b->log);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	return r;
}

void moat_io_bridge_print(struct moat_io_bridge *b, FILE *f)
{
	struct moat_io_stats_view v;
	struct moat_counters zero;
	struct moat_io_buf out;
	static struct moat_engine_stats es; /* 64 destinations: off the stack */

	stats_view(b, &v, &zero, &es);
	moat_io_buf_init(&out);
	moat_io_stats_text(&out, &v);
	if (b->fast_print)
		b->fast_print(b->fast_arg, &out, false);
	fputs(out.p ? out.p : "", f);
	if (b->emit_no_port)
		fprintf(f, "emitted-without-port %llu\n",
			(unsigned long long)b->emit_no_port);
	moat_io_buf_free(&out);
}
