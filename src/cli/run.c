/*
 * `moat run -c FILE [-s SOCKET] [--log FILE|-] [--pcap-log FILE]
 *           [--secret FILE] [--io auto|xdp|afpacket] [--xdp[=on|off|auto]]`:
 * filter live traffic as a transparent bridge between the interfaces of
 * the configuration's two zones, with the XDP fast path in front of them
 * when asked for (run_xdp_*() below, src/io/xdp.c).
 *
 * The CLI's part: load the configuration, draw or load the secret, create
 * the engine, open the logs and the bridge (src/io/bridge.c, the loop
 * itself), drop every capability but CAP_NET_RAW and CAP_NET_ADMIN, run
 * until SIGTERM/SIGINT and print the counters.  It also says how to
 * reload: on SIGHUP or `moat ctl reload` the loader thread (io_reload.h)
 * reads the file again with load_again(); if it has any error the old rules
 * stay and the errors are reported, else the bridge swaps it into the
 * engine between two batches and the old configuration is freed.
 *
 * Exit codes: 0 stopped cleanly, 1 error, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "moat/engine.h"
#include "moat/io_bridge.h"
#include "moat/io_eventlog.h"
#include "moat/io_reload.h"
#ifdef MOAT_HAVE_XDP
#include "moat/io_xdp.h"
#endif
#include "moat/rules.h"
#include "moat/syn.h"

struct run_state {
	const char *path;
	struct moat_config *cfg;     /* owned until the reloader takes it */
	struct moat_io_reload *reload; /* owns the configuration in force */
	struct moat_engine *engine;
	const char *ifname[2];       /* point into ifbuf */
	char ifbuf[2][MOAT_IFNAME_MAX];
	int zone[2];
};

static void usage(FILE *f)
{
	fprintf(f, "usage: moat run -c FILE [-s SOCKET] [--log FILE|-] "
		   "[--pcap-log FILE] [--secret FILE]\n"
		   "                [--shed-after MS] [--io auto|xdp|afpacket]\n"
		   "                [--spin-us US] [--xdp[=on|off|auto]]\n"
		   "  -c, --config FILE    the configuration (two zones with interfaces)\n"
		   "  -s, --socket PATH    control socket (default /run/moat.sock)\n"
		   "  -l, --log FILE|-     events as JSON lines (- for stdout)\n"
		   "  -p, --pcap-log FILE  frames of `log` rules as a pcap file\n"
		   "  -k, --secret FILE    32-byte cookie secret shared by gateways\n"
		   "      --shed-after MS  when frames wait this long in the ring, answer\n"
		   "                       SYNs only from sources with an earlier handshake\n"
		   "                       (default 250)\n"
		   "      --io BACKEND     xdp (AF_XDP, fails if it cannot attach), afpacket\n"
		   "                       (AF_PACKET rings) or auto: AF_XDP where it can\n"
		   "                       attach, else AF_PACKET and a line saying why\n"
		   "                       (default: options { io }, else auto)\n"
		   "      --spin-us US     after a frame, poll without sleeping this long\n"
		   "                       (default 200; 0: sleep at once)\n"
		   "      --xdp[=MODE]     the XDP fast path on both interfaces: SYNs the\n"
		   "                       engine answers with cookies are answered there\n"
		   "                       (on: or do not start; auto: where it loads;\n"
		   "                       off); default: options { xdp }, else off\n"
		   "      --passthrough    no engine: forward every frame (I/O tests)\n");
}

static void diags_to(const struct moat_diags *d, struct moat_io_buf *out)
{
	for (int i = 0; i < d->count; i++) {
		const struct moat_diag *e = &d->d[i];
		const char *sev = e->severity == MOAT_DIAG_ERROR ? "error" : "warning";

		if (e->line > 0)
			moat_io_buf_printf(out, "%s:%d:%d: %s: %s\n", e->file,
					   e->line, e->col, sev, e->msg);
		else
			moat_io_buf_printf(out, "%s: %s: %s\n", e->file, sev,
					   e->msg);
	}
	if (d->dropped)
		moat_io_buf_printf(out, "(%d more)\n", d->dropped);
}

static struct moat_config *load(const char *path, struct moat_io_buf *out)
{
	struct moat_diags *d = calloc(1, sizeof(*d));
	struct moat_config *c;

	if (!d) {
		moat_io_buf_printf(out, "out of memory\n");
		return NULL;
	}
	moat_diags_init(d);
	c = moat_config_load(path, d);
	diags_to(d, out);
	free(d);
	return c;
}

/*
 * The two zones moat bridges and their interfaces, or -1 with the reason
 * in @out: moat_config_bridge_ports decides, the same function `moat
 * check` asks, so what check accepts without a warning runs.
 */
static int bridge_ports(const struct moat_config *c, struct moat_bridge_ports *bp,
			struct moat_io_buf *out)
{
	struct moat_diags *d = calloc(1, sizeof(*d));
	int r;

	if (!d) {
		moat_io_buf_printf(out, "out of memory\n");
		return -1;
	}
	moat_diags_init(d);
	r = moat_config_bridge_ports(c, bp, d, MOAT_DIAG_ERROR);
	diags_to(d, out);
	free(d);
	return r < 0 ? -1 : 0;
}

static int find_ports(struct run_state *st, const struct moat_config *c,
		      struct moat_io_buf *out)
{
	struct moat_bridge_ports bp;

	if (bridge_ports(c, &bp, out) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		snprintf(st->ifbuf[i], sizeof(st->ifbuf[i]), "%s",
			 moat_config_zone(c, bp.zone[i])->ifname);
		st->ifname[i] = st->ifbuf[i];
		st->zone[i] = bp.zone[i];
	}
	return 0;
}

/*
 * On the loader thread: the file again, or NULL with the reasons.  Reads
 * only what never changes once the bridge runs (the path, the interfaces
 * and their zones), never the engine.
 */
static struct moat_config *load_again(void *arg, struct moat_io_buf *out)
{
	const struct run_state *st = arg;
	struct moat_config *c = load(st->path, out);
	struct moat_bridge_ports bp;

	if (!c)
		return NULL;
	if (bridge_ports(c, &bp, out) < 0) {
		moat_config_destroy(c);
		return NULL;
	}
	/* The sockets are open on the old interfaces: a new pairing needs a
	 * restart, and zone indices must keep their meaning for the flows. */
	for (int i = 0; i < 2; i++) {
		if (bp.zone[i] != st->zone[i] ||
		    strcmp(moat_config_zone(c, bp.zone[i])->ifname, st->ifname[i])) {
			moat_io_buf_printf(out, "%s: interface %s changed zone; "
					   "restart moat to apply\n",
					   st->path, st->ifname[i]);
			moat_config_destroy(c);
			return NULL;
		}
	}
	return c;
}

/*
 * After the sockets are open, keep only CAP_NET_RAW (send and receive on
 * the packet sockets), CAP_NET_ADMIN (promiscuous mode, ethtool, detaching
 * XDP) and, with XDP, CAP_BPF (its maps): drop
 * the rest from the bounding set (prctl) and from the effective, permitted
 * and inheritable sets (capset), without libcap.
 */
static int drop_capabilities(bool keep_bpf)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	uint32_t keep = (1u << CAP_NET_RAW) | (1u << CAP_NET_ADMIN);

	for (int cap = 0; cap < 64; cap++) {
		if (cap == CAP_NET_RAW || cap == CAP_NET_ADMIN ||
		    (keep_bpf && cap == CAP_BPF))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EINVAL)
			break;  /* past the kernel's last capability */
	}
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = keep;
	/* The XDP maps are written for as long as moat runs. */
	if (keep_bpf)
		d[1].effective = d[1].permitted = 1u << (CAP_BPF - 32);
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	return 0;
}

static void warn_offloads(const struct moat_io_port *p)
{
	if (!p->offloads)
		return;
	fprintf(stderr, "moat: warning: %s has%s%s%s on: the kernel hands over "
		"super-frames larger than the MTU, which cannot be forwarded "
		"(counted as oversize); run: ethtool -K %s gro off gso off tso off\n",
		p->ifname, p->offloads & MOAT_IO_OFF_GRO ? " GRO" : "",
		p->offloads & MOAT_IO_OFF_GSO ? " GSO" : "",
		p->offloads & MOAT_IO_OFF_TSO ? " TSO" : "", p->ifname);
}

struct run_args {
	const char *config, *socket, *log, *pcap_log, *secret;
	bool passthrough;
	long shed_after_ms;
	int io;                      /* enum moat_io_backend; -1: the config's */
	long spin_us;                /* -1: the default */
	int xdp;                     /* enum moat_xdp_mode, or -1: the file's */
};

static int parse_io(const char *s, int *out)
{
	enum moat_io_backend b;

	if (moat_io_backend_parse(s, &b) < 0) {
		fprintf(stderr, "moat run: --io takes auto, xdp or afpacket, "
			"not '%s'\n", s);
		return -1;
	}
	*out = (int)b;
	return 0;
}

/* --io, else `options { io }` (the same numbers, rules.h). */
static enum moat_io_backend io_backend(const struct run_args *a,
				       const struct moat_config *cfg)
{
	if (a->io >= 0)
		return (enum moat_io_backend)a->io;
	return (enum moat_io_backend)moat_config_options(cfg)->io;
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
	char *end;
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "log", required_argument, NULL, 'l' },
		{ "pcap-log", required_argument, NULL, 'p' },
		{ "secret", required_argument, NULL, 'k' },
		{ "passthrough", no_argument, NULL, 'P' },
		{ "shed-after", required_argument, NULL, 'S' },
		{ "io", required_argument, NULL, 'I' },
		{ "spin-us", required_argument, NULL, 'W' },
		{ "xdp", optional_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int o;

	memset(a, 0, sizeof(*a));
	a->socket = "/run/moat.sock";
	a->io = -1;
	a->spin_us = -1;
	a->xdp = -1;
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:s:l:p:k:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': a->config = optarg; break;
		case 's': a->socket = optarg; break;
		case 'l': a->log = optarg; break;
		case 'p': a->pcap_log = optarg; break;
		case 'k': a->secret = optarg; break;
		case 'P': a->passthrough = true; break;
		case 'S':
			a->shed_after_ms = strtol(optarg, &end, 10);
			if (*end || a->shed_after_ms < 1 ||
			    a->shed_after_ms > 60000) {
				fprintf(stderr, "moat run: --shed-after takes "
					"1 to 60000 milliseconds\n");
				return 2;
			}
			break;
		case 'W':
			a->spin_us = strtol(optarg, &end, 10);
			if (*end || a->spin_us < 0 || a->spin_us > 100000) {
				fprintf(stderr, "moat run: --spin-us takes 0 to "
					"100000 microseconds\n");
				return 2;
			}
			break;
		case 'I':
			if (parse_io(optarg, &a->io) < 0)
				return 2;
			break;
		case 'X':
			a->xdp = !optarg || !strcmp(optarg, "on") ? MOAT_XDP_ON
				 : !strcmp(optarg, "off")        ? MOAT_XDP_OFF
				 : !strcmp(optarg, "auto")       ? MOAT_XDP_AUTO
								 : -1;
			if (a->xdp < 0) {
				fprintf(stderr, "moat run: --xdp takes on, off "
					"or auto\n");
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!a->config || optind != argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

static int make_engine(struct run_state *st, const struct run_args *a)
{
	struct moat_engine_params par;
	int r;

	memset(&par, 0, sizeof(par));
	r = a->secret ? moat_syn_secret_load(a->secret, par.secret)
		      : moat_syn_secret_random(par.secret);
	if (r < 0) {
		fprintf(stderr, "moat run: secret %s: %s\n",
			a->secret ? a->secret : "(random)", strerror(-r));
		return -1;
	}
	if (a->passthrough)
		return 0;
	st->engine = moat_engine_create(st->cfg, &par);
	memset(&par, 0, sizeof(par));
	if (!st->engine) {
		fprintf(stderr, "moat run: engine: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static struct moat_io_eventlog *open_log(const struct run_state *st,
					 const struct run_args *a)
{
	const struct moat_options *o = moat_config_options(st->cfg);
	const char *json = a->log;
	char err[512];
	struct moat_io_eventlog *l;

	if (!json && o->log_file[0])
		json = o->log_file;
	l = moat_io_eventlog_open(json, a->pcap_log, err, sizeof(err));
	if (!l)
		fprintf(stderr, "moat run: log: %s\n", err);
	return l;
}

/* ---- the XDP fast path (src/io/xdp.c) --------------------------------- */

/* --xdp, else options { xdp }; none without an engine to follow. */
static int run_xdp_mode(const struct run_state *st, const struct run_args *a,
			const struct moat_config *cfg)
{
	if (!st->engine)
		return MOAT_XDP_OFF;
	return a->xdp >= 0 ? a->xdp : moat_config_options(cfg)->xdp;
}

#ifdef MOAT_HAVE_XDP
/* What the bridge's hooks need: the program, and the rules in force. */
static struct run_xdp_ctx {
	struct moat_io_xdp *x;
	const struct run_state *st;
	const struct moat_config *cfg;   /* the rules the maps reflect */
} run_xdp_ctx;

/* XDP follows the rules in force (reloads change them): with antispoof,
 * martian sources dropped and zones and bogons checked before answering;
 * the zones' networks and the bogons rewritten into its maps. */
static void run_xdp_follow_options(struct run_xdp_ctx *c)
{
	const struct moat_config *cfg = moat_io_reload_config(c->st->reload);
	uint32_t f = moat_io_xdp_flags(c->x) & ~(uint32_t)MOAT_XDP_F_ANTISPOOF;
	int r;

	if (!cfg || cfg == c->cfg)
		return;
	c->cfg = cfg;
	r = moat_io_xdp_set_rules(c->x, cfg);
	if (r < 0) {
		fprintf(stderr, "moat: warning: XDP answers no SYNs: the rules' "
			"addresses cannot be given to it: %s\n",
			r == -EAGAIN ? "the bogons set changes at run time"
				     : strerror(-r));
		return;
	}
	if (moat_config_options(cfg)->antispoof)
		f |= MOAT_XDP_F_ANTISPOOF;
	moat_io_xdp_set_flags(c->x, f);
}

static void run_xdp_tick(void *arg, struct moat_engine *e, uint64_t now_ns)
{
	struct run_xdp_ctx *c = arg;

	run_xdp_follow_options(c);
	moat_io_xdp_tick(c->x, e, now_ns);
}

static void run_xdp_counters(void *arg, struct moat_counters *c)
{
	moat_io_xdp_add_counters(((struct run_xdp_ctx *)arg)->x, c);
}

static void run_xdp_print(void *arg, struct moat_io_buf *out, bool prom)
{
	moat_io_xdp_print(((struct run_xdp_ctx *)arg)->x, out, prom);
}

/*
 * Load the program and attach it to both interfaces; the engine exports
 * its cookie decisions from now on.  NULL when it is not running: *@fatal
 * says whether moat must not start (mode on) or goes on without (auto).
 */
static struct moat_io_xdp *run_xdp_start(struct run_state *st, int mode,
					 bool *fatal)
{
	struct moat_io_xdp *x;
	char err[512], desc[128];
	int r = 0;

	*fatal = false;
	if (mode == MOAT_XDP_OFF)
		return NULL;
	x = moat_io_xdp_open(NULL, err, sizeof(err));
	for (int i = 0; x && r >= 0 && i < 2; i++) {
		r = moat_io_xdp_attach(x, st->ifname[i], st->zone[i], false,
				       err, sizeof(err));
		if (r == MOAT_IO_XDP_MODE_GENERIC)
			fprintf(stderr, "moat: warning: %s\n", err);
	}
	if (x && r >= 0) {
		/* The bridge's clock (CLOCK_MONOTONIC), the program's too. */
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		r = moat_io_xdp_push_keys(x, st->engine,
					  (uint64_t)ts.tv_sec * 1000000000u +
					  (uint64_t)ts.tv_nsec);
		if (r < 0)
			snprintf(err, sizeof(err), "XDP: keys: %s",
				 strerror(-r));
	}
	if (!x || r < 0) {
		moat_io_xdp_close(x);
		*fatal = mode == MOAT_XDP_ON;
		fprintf(stderr, "moat%s: %s%s\n", *fatal ? " run" : "", err,
			*fatal ? "" : "; going on without the XDP fast path");
		return NULL;
	}
	moat_engine_cookie_export(st->engine, true);
	run_xdp_ctx.x = x;
	run_xdp_ctx.st = st;
	run_xdp_follow_options(&run_xdp_ctx);
	fprintf(stderr, "moat: XDP fast path on %s\n",
		moat_io_xdp_describe(x, desc, sizeof(desc)));
	return x;
}

static void run_xdp_hooks(struct moat_io_xdp *x, struct moat_io_bridge_conf *bc)
{
	if (!x)
		return;
	bc->fast_tick = run_xdp_tick;
	bc->fast_counters = run_xdp_counters;
	bc->fast_print = run_xdp_print;
	bc->fast_arg = &run_xdp_ctx;
}

static void run_xdp_stop(struct moat_io_xdp *x)
{
	moat_io_xdp_close(x);
}

/*
 * With the program in front, AF_XDP ports take their frames from its
 * XSKMAP (libxdp's own program could not attach beside it): @fds, one
 * entry per port, filled here.
 */
static void run_xdp_share_map(struct moat_io_xdp *x, int fds[2],
			      struct moat_io_bridge_conf *bc)
{
	if (!x || bc->io == MOAT_IO_AFPACKET)
		return;
	fds[0] = fds[1] = moat_xdp_xsk_map_fd(x);
	if (fds[0] >= 0)
		bc->xsks_map_fd = fds;
}

/* The ports are AF_XDP sockets in its map: what the program does not
 * answer goes to them instead of the kernel. */
static int run_xdp_redirect(struct moat_io_xdp *x, struct moat_io_bridge *b)
{
	if (!x || moat_io_bridge_port(b, 0)->backend != MOAT_IO_AFXDP)
		return 0;
	return moat_io_xdp_set_flags(x, moat_io_xdp_flags(x) |
					MOAT_XDP_F_REDIRECT);
}
#else
struct moat_io_xdp;

static struct moat_io_xdp *run_xdp_start(struct run_state *st, int mode,
					 bool *fatal)
{
	(void)st;
	*fatal = mode == MOAT_XDP_ON;
	if (mode != MOAT_XDP_OFF)
		fprintf(stderr, "moat%s: this moat was built without the XDP "
			"fast path (needs clang and libbpf-dev)%s\n",
			*fatal ? " run" : "", *fatal ? "" : "; going on without");
	return NULL;
}

static void run_xdp_hooks(struct moat_io_xdp *x, struct moat_io_bridge_conf *bc)
{
	(void)x;
	(void)bc;
}

static void run_xdp_stop(struct moat_io_xdp *x)
{
	(void)x;
}

static void run_xdp_share_map(struct moat_io_xdp *x, int fds[2],
			      struct moat_io_bridge_conf *bc)
{
	(void)x;
	(void)fds;
	(void)bc;
}

static int run_xdp_redirect(struct moat_io_xdp *x, struct moat_io_bridge *b)
{
	(void)x;
	(void)b;
	return 0;
}
#endif

static int serve(struct run_state *st, const struct run_args *a,
		 struct moat_io_eventlog *log)
{
	struct moat_io_bridge_conf bc = {
		.ifname = { st->ifname[0], st->ifname[1] },
		.zone = { st->zone[0], st->zone[1] },
		.engine = st->engine,
		.ctl_path = a->socket,
		.log = log,
		.reload = st->reload,
		.shed_after_ns = (uint64_t)a->shed_after_ms * 1000000u,
		.io = io_backend(a, moat_io_reload_config(st->reload)),
		.spin_us = a->spin_us,
	};
	const struct moat_config *cfg = moat_io_reload_config(st->reload);
	struct moat_io_xdp *xdp;
	struct moat_io_bridge *b;
	int map_fds[2] = { -1, -1 };
	char err[512];
	bool fatal;
	int r;

	xdp = run_xdp_start(st, run_xdp_mode(st, a, cfg), &fatal);
	if (fatal)
		return 1;
	run_xdp_hooks(xdp, &bc);
	run_xdp_share_map(xdp, map_fds, &bc);
	b = moat_io_bridge_create(&bc, err, sizeof(err));
	if (!b) {
		fprintf(stderr, "moat run: %s\n", err);
		run_xdp_stop(xdp);
		return 1;
	}
	r = run_xdp_redirect(xdp, b);
	if (r < 0) {
		fprintf(stderr, "moat run: XDP: redirect to AF_XDP: %s\n",
			strerror(-r));
		moat_io_bridge_destroy(b);
		run_xdp_stop(xdp);
		return 1;
	}
	if (moat_io_bridge_note(b)[0])
		fprintf(stderr, "moat: %s\n", moat_io_bridge_note(b));
	warn_offloads(moat_io_bridge_port(b, 0));
	warn_offloads(moat_io_bridge_port(b, 1));
	r = drop_capabilities(xdp != NULL);
	if (r < 0)
		fprintf(stderr, "moat run: warning: capabilities kept: %s\n",
			strerror(-r));
	fprintf(stderr, "moat: bridging %s (zone %s) <-> %s (zone %s), io %s, "
		"control %s\n",
		st->ifname[0], moat_config_zone(cfg, st->zone[0])->name,
		st->ifname[1], moat_config_zone(cfg, st->zone[1])->name,
		moat_io_bridge_port(b, 0)->mode, a->socket);
	r = moat_io_bridge_run(b);
	moat_io_bridge_print(b, stdout);
	fflush(stdout);
	moat_io_bridge_destroy(b);
	run_xdp_stop(xdp);
	if (r < 0)
		fprintf(stderr, "moat run: %s\n", strerror(-r));
	return r < 0 ? 1 : 0;
}

int moat_cli_run(int argc, char **argv)
{
	struct run_state st = { 0 };
	struct moat_io_eventlog *log = NULL;
	struct run_args a;
	struct moat_io_buf msg;
	int r = parse_args(argc, argv, &a);

	if (r >= 0)
		return r;
	st.path = a.config;
	moat_io_buf_init(&msg);
	st.cfg = load(a.config, &msg);
	if (msg.p)
		fputs(msg.p, stderr);
	moat_io_buf_free(&msg);
	if (!st.cfg || find_ports(&st, st.cfg, &msg) < 0) {
		if (msg.p)
			fprintf(stderr, "moat run: %s", msg.p);
		r = 1;
		goto out;
	}
	r = 1;
	if (make_engine(&st, &a) < 0)
		goto out;
	log = open_log(&st, &a);
	if (!log)
		goto out;
	st.reload = moat_io_reload_create(st.cfg, st.path, load_again, &st);
	if (!st.reload) {
		fprintf(stderr, "moat run: reload thread: %s\n", strerror(errno));
		goto out;
	}
	st.cfg = NULL; /* the reloader's now */
	r = serve(&st, &a, log);
out:
	moat_io_eventlog_close(log);
	/* The engine borrows the configuration in force: it goes first. */
	moat_engine_destroy(st.engine);
	moat_io_reload_destroy(st.reload);
	moat_config_destroy(st.cfg);
	moat_io_buf_free(&msg);
	return r;
}
