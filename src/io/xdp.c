/*
 * The XDP fast path's loader: the object, its attachments and its maps
 * (moat/io_xdp.h draws how the engine's state flows into them).
 *
 * Control plane, on the bridge's thread between batches: the engine is
 * never called concurrently.  The program reads the maps while this
 * writes them, so the order matters where a torn read would answer
 * wrongly: the key of an epoch is written one epoch ahead into the slot
 * the program is not using (moat/xdp_maps.h), and a destination's entry
 * is written whole by one update.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "moat/cookie_core.h"
#include "moat/io_xdp.h"
#include "moat/syn_proxy.h"

struct xdp_port {
	char ifname[IF_NAMESIZE];
	int ifindex;
	uint32_t flags;                 /* XDP_FLAGS_*_MODE it is attached in */
	int zone;                       /* the engine's zone of the interface */
};

struct moat_io_xdp {
	struct bpf_object *obj;         /* owned */
	int prog_fd;
	int cfg_fd, keys_fd, dsts_fd, stats_fd, xsks_fd, srcs_fd, ports_fd;
	struct { int ifindex, zone; } zport[MOAT_XDP_PORTS_MAX];
	int nzports;
	bool rules_ok;                  /* moat_srcs and moat_ports are true */
	struct ring_buffer *synacks;    /* owned; moat_synacks */
	struct moat_engine *rb_engine;  /* for the ring's callback */
	uint64_t rb_now;
	int rb_unknown_zone, rb_count;
	int ncpus;
	struct moat_xdp_config cfg;     /* as last written */
	uint64_t pushed_epoch;          /* keys pushed for it and the next */
	bool pushed;
	struct xdp_port port[MOAT_IO_XDP_PORTS];
	int nports;
};

static const char *default_path(char *buf, size_t len)
{
	const char *env = getenv("MOAT_XDP_OBJECT");

	if (env && *env)
		return env;
	if (access(MOAT_XDP_OBJECT_INSTALLED, R_OK) == 0)
		return MOAT_XDP_OBJECT_INSTALLED;
	snprintf(buf, len, "%s", MOAT_XDP_OBJECT_BUILD);
	return buf;
}

static int map_fd(struct moat_io_xdp *x, const char *name, char *err,
		  size_t errlen)
{
	int fd = bpf_object__find_map_fd_by_name(x->obj, name);

	if (fd < 0)
		snprintf(err, errlen, "XDP object has no map %s", name);
	return fd;
}

static int write_cfg(struct moat_io_xdp *x)
{
	uint32_t zero = 0;

	if (bpf_map_update_elem(x->cfg_fd, &zero, &x->cfg, BPF_ANY) < 0)
		return -errno;
	return 0;
}

/* One record of moat_synacks: into the engine's retransmit table. */
static int on_synack(void *ctx, void *data, size_t size)
{
	struct moat_io_xdp *x = ctx;
	const struct moat_xdp_synack *r = data;
	int zone = x->rb_unknown_zone;

	if (size < sizeof(*r) || r->len > sizeof(r->frame))
		return 0;
	for (int i = 0; i < x->nports; i++)
		if (x->port[i].ifindex == (int)r->ifindex)
			zone = x->port[i].zone;
	if (zone < 0)
		return 0;
	if (moat_engine_cookie_synack_sent(x->rb_engine, r->frame, r->len,
					   zone, x->rb_now) == 0)
		x->rb_count++;
	return 0;
}

int moat_io_xdp_consume_synacks(struct moat_io_xdp *x, struct moat_engine *e,
				uint64_t now_ns, int unknown_zone)
{
	x->rb_engine = e;
	x->rb_now = now_ns;
	x->rb_unknown_zone = unknown_zone;
	x->rb_count = 0;
	ring_buffer__consume(x->synacks);
	x->rb_engine = NULL;
	return x->rb_count;
}

struct moat_io_xdp *moat_io_xdp_open(const char *path, char *err,
				     size_t errlen)
{
	struct moat_io_xdp *x = calloc(1, sizeof(*x));
	struct bpf_program *prog;
	char buf[512];
	int r;

	if (!x) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!path)
		path = default_path(buf, sizeof(buf));
	libbpf_set_print(NULL);
	x->obj = bpf_object__open_file(path, NULL);
	if (!x->obj) {
		snprintf(err, errlen, "XDP object %s: %s", path,
			 strerror(errno));
		goto fail;
	}
	r = bpf_object__load(x->obj);
	if (r < 0) {
		snprintf(err, errlen, "XDP object %s: cannot load: %s%s", path,
			 strerror(-r),
			 -r == EPERM ? " (needs root or CAP_BPF)" : "");
		goto fail;
	}
	prog = bpf_object__find_program_by_name(x->obj, "moat_xdp");
	x->prog_fd = prog ? bpf_program__fd(prog) : -1;
	if (x->prog_fd < 0) {
		snprintf(err, errlen, "XDP object %s has no program moat_xdp",
			 path);
		goto fail;
	}
	if ((x->cfg_fd = map_fd(x, "moat_cfg", err, errlen)) < 0 ||
	    (x->keys_fd = map_fd(x, "moat_keys", err, errlen)) < 0 ||
	    (x->dsts_fd = map_fd(x, "moat_dsts", err, errlen)) < 0 ||
	    (x->stats_fd = map_fd(x, "moat_stats", err, errlen)) < 0 ||
	    (x->xsks_fd = map_fd(x, "xsks_map", err, errlen)) < 0 ||
	    (x->srcs_fd = map_fd(x, "moat_srcs", err, errlen)) < 0 ||
	    (x->ports_fd = map_fd(x, "moat_ports", err, errlen)) < 0)
		goto fail;
	x->ncpus = libbpf_num_possible_cpus();
	if (x->ncpus <= 0) {
		snprintf(err, errlen, "cannot count CPUs: %s",
			 strerror(-x->ncpus));
		goto fail;
	}
	x->synacks = ring_buffer__new(map_fd(x, "moat_synacks", err, errlen),
				      on_synack, x, NULL);
	if (!x->synacks) {
		snprintf(err, errlen, "XDP ring moat_synacks: %s",
			 strerror(errno));
		goto fail;
	}
	x->cfg.flags = MOAT_XDP_F_COOKIES | MOAT_XDP_F_RTX;
	x->cfg.synack_win_segs = MOAT_SYN_HOLD_PER_FLOW;
	r = write_cfg(x);
	if (r < 0) {
		snprintf(err, errlen, "XDP config map: %s", strerror(-r));
		goto fail;
	}
	return x;
fail:
	moat_io_xdp_close(x);
	return NULL;
}

void moat_io_xdp_close(struct moat_io_xdp *x)
{
	if (!x)
		return;
	for (int i = 0; i < x->nports; i++)
		bpf_xdp_detach(x->port[i].ifindex, x->port[i].flags, NULL);
	ring_buffer__free(x->synacks);
	bpf_object__close(x->obj);
	free(x);
}

int moat_io_xdp_attach(struct moat_io_xdp *x, const char *ifname, int zone,
		       bool native_only, char *err, size_t errlen)
{
	uint32_t base = XDP_FLAGS_UPDATE_IF_NOEXIST;
	struct xdp_port *p;
	int ifindex, r;

	err[0] = 0;
	if (x->nports == MOAT_IO_XDP_PORTS) {
		snprintf(err, errlen, "XDP: at most %d interfaces",
			 MOAT_IO_XDP_PORTS);
		return -ENOSPC;
	}
	ifindex = (int)if_nametoindex(ifname);
	if (ifindex == 0) {
		r = -errno;
		snprintf(err, errlen, "XDP: %s: %s", ifname, strerror(-r));
		return r;
	}
	p = &x->port[x->nports];
	r = bpf_xdp_attach(ifindex, x->prog_fd, base | XDP_FLAGS_DRV_MODE,
			   NULL);
	if (r == 0) {
		p->flags = XDP_FLAGS_DRV_MODE;
	} else if (r == -EBUSY || r == -EEXIST) {
		snprintf(err, errlen, "XDP: %s already runs an XDP program "
			 "(ip link set dev %s xdp off)", ifname, ifname);
		return r;
	} else if (native_only) {
		snprintf(err, errlen, "XDP: %s: native mode: %s", ifname,
			 strerror(-r));
		return r;
	} else {
		int native = r;

		r = bpf_xdp_attach(ifindex, x->prog_fd,
				   base | XDP_FLAGS_SKB_MODE, NULL);
		if (r < 0) {
			snprintf(err, errlen, "XDP: %s: cannot attach: native "
				 "%s, generic %s", ifname, strerror(-native),
				 strerror(-r));
			return r;
		}
		p->flags = XDP_FLAGS_SKB_MODE;
		snprintf(err, errlen, "XDP: %s: the driver has no native XDP "
			 "(%s): generic mode, slower", ifname,
			 strerror(-native));
	}
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	p->ifindex = ifindex;
	p->zone = zone;
	moat_io_xdp_add_port(x, ifindex, zone);
	x->nports++;
	return p->flags == XDP_FLAGS_DRV_MODE ? MOAT_IO_XDP_MODE_NATIVE
					      : MOAT_IO_XDP_MODE_GENERIC;
}

int moat_io_xdp_add_port(struct moat_io_xdp *x, int ifindex, int zone)
{
	if (x->nzports == MOAT_XDP_PORTS_MAX)
		return -ENOSPC;
	x->zport[x->nzports].ifindex = ifindex;
	x->zport[x->nzports].zone = zone;
	x->nzports++;
	return 0;
}

struct src_fill {
	int fd;
	uint8_t table;
};

static int put_src(void *arg, const struct moat_addr *a, int len, int val)
{
	struct src_fill *f = arg;
	struct moat_xdp_src_key k;
	struct moat_xdp_src_val v = { .zone = val };

	memset(&k, 0, sizeof(k));
	k.table = f->table;
	memcpy(k.addr, a->b, sizeof(k.addr));
	k.prefixlen = 8u + (uint32_t)len + (a->family == MOAT_AF_INET ? 96u : 0);
	if (bpf_map_update_elem(f->fd, &k, &v, BPF_ANY) < 0)
		return -errno;
	return 0;
}

static int clear_map(int fd, size_t key_size)
{
	uint8_t k[64];

	if (key_size > sizeof(k))
		return -EINVAL;
	while (bpf_map_get_next_key(fd, NULL, k) == 0)
		if (bpf_map_delete_elem(fd, k) < 0 && errno != ENOENT)
			return -errno;
	return 0;
}

int moat_io_xdp_set_rules(struct moat_io_xdp *x, const struct moat_config *cfg)
{
	const struct moat_options *o = moat_config_options(cfg);
	struct src_fill zones = { x->srcs_fd, MOAT_XDP_SRC_ZONES };
	struct src_fill bogons = { x->srcs_fd, MOAT_XDP_SRC_BOGONS };
	uint32_t flags = x->cfg.flags;
	int r;

	/* No answers while the maps are half written. */
	x->rules_ok = false;
	r = moat_io_xdp_set_flags(x, flags & ~(uint32_t)MOAT_XDP_F_COOKIES);
	if (r == 0)
		r = clear_map(x->srcs_fd, sizeof(struct moat_xdp_src_key));
	if (r == 0)
		r = clear_map(x->ports_fd, sizeof(uint32_t));
	if (r == 0)
		r = moat_config_zone_walk_prefixes(cfg, put_src, &zones);
	if (r == 0 && o->bogon_set >= 0)
		r = moat_set_walk_prefixes(moat_config_set(cfg, o->bogon_set),
					   put_src, &bogons);
	for (int i = 0; r == 0 && i < x->nzports; i++) {
		const struct moat_zone *z = moat_config_zone(cfg,
							     x->zport[i].zone);
		struct moat_xdp_port p = {
			.zone = x->zport[i].zone,
			.has_networks = z && z->has_networks,
			.xsk_base = (uint32_t)i * MOAT_XDP_XSKS_PER_PORT,
		};
		uint32_t ifindex = (uint32_t)x->zport[i].ifindex;

		if (bpf_map_update_elem(x->ports_fd, &ifindex, &p, BPF_ANY) < 0)
			r = -errno;
	}
	if (r < 0)
		return r;
	x->rules_ok = true;
	return moat_io_xdp_set_flags(x, flags);
}

int moat_io_xdp_set_flags(struct moat_io_xdp *x, uint32_t flags)
{
	if (x->cfg.flags == flags)
		return 0;
	x->cfg.flags = flags;
	return write_cfg(x);
}

uint32_t moat_io_xdp_flags(const struct moat_io_xdp *x)
{
	return x->cfg.flags;
}

int moat_io_xdp_set_clock_offset(struct moat_io_xdp *x, int64_t offset_ns)
{
	x->cfg.clock_offset_ns = offset_ns;
	return write_cfg(x);
}

static int push_key(struct moat_io_xdp *x, const struct moat_engine *e,
		    uint64_t epoch)
{
	struct moat_xdp_key k;
	uint32_t slot = (uint32_t)(epoch & 1), ts_offset, per_epoch;
	int r = 0;

	memset(&k, 0, sizeof(k));
	moat_engine_cookie_key(e, epoch, k.key, &ts_offset, &per_epoch);
	k.epoch = epoch;
	k.valid = 1;
	if (bpf_map_update_elem(x->keys_fd, &slot, &k, BPF_ANY) < 0)
		r = -errno;
	memset(&k, 0, sizeof(k));
	return r;
}

int moat_io_xdp_push_keys(struct moat_io_xdp *x, const struct moat_engine *e,
			  uint64_t now_ns)
{
	uint8_t key[MOAT_XDP_KEY_LEN];
	uint32_t ts_offset, per_epoch;
	uint64_t epoch;
	int r;

	/* Epoch 0's key only for the two numbers that come with it. */
	moat_engine_cookie_key(e, 0, key, &ts_offset, &per_epoch);
	memset(key, 0, sizeof(key));
	if (per_epoch == 0)
		return -EINVAL;
	epoch = moat_cookie_counter(now_ns) / per_epoch;
	if (x->pushed && x->pushed_epoch == epoch)
		return 0;
	/* The configuration first: a key is used only with its epoch
	 * length, and the slot of the epoch in use is the one rewritten
	 * last (with the bytes it already holds, after the first time). */
	if (x->cfg.ts_offset != ts_offset || x->cfg.epoch_counters != per_epoch) {
		x->cfg.ts_offset = ts_offset;
		x->cfg.epoch_counters = per_epoch;
		r = write_cfg(x);
		if (r < 0)
			return r;
	}
	r = push_key(x, e, epoch + 1);
	if (r == 0)
		r = push_key(x, e, epoch);
	if (r < 0)
		return r;
	x->pushed = true;
	x->pushed_epoch = epoch;
	return 0;
}

int moat_io_xdp_set_dst(struct moat_io_xdp *x,
			const struct moat_syn_dst_key *k,
			const struct moat_xdp_dst *v)
{
	struct moat_xdp_dst val, old;

	if (!v) {
		if (bpf_map_delete_elem(x->dsts_fd, k) < 0 && errno != ENOENT)
			return -errno;
		return 0;
	}
	val = *v;
	val.pad = 0;
	/* Keep the count of an entry already there for the detector. */
	if (bpf_map_lookup_elem(x->dsts_fd, k, &old) < 0)
		old.syns = 0;
	val.syns = old.syns;
	if (bpf_map_update_elem(x->dsts_fd, k, &val, BPF_ANY) < 0)
		return -errno;
	return 0;
}

int moat_io_xdp_clear_dsts(struct moat_io_xdp *x)
{
	struct moat_syn_dst_key k;

	/* Deleting the first key each time: the walk never loses its place. */
	while (bpf_map_get_next_key(x->dsts_fd, NULL, &k) == 0)
		if (bpf_map_delete_elem(x->dsts_fd, &k) < 0 && errno != ENOENT)
			return -errno;
	return 0;
}

static void dst_of(const struct moat_engine_cookie_dst *d,
		   struct moat_xdp_dst *v)
{
	memset(v, 0, sizeof(*v));
	v->mss = d->mss;
	v->wscale = d->wscale;
	v->flags = (uint8_t)((d->sack_ok ? MOAT_XDP_DST_SACK : 0) |
			     (d->ts_ok ? MOAT_XDP_DST_TS : 0) |
			     (d->ecn_ok ? MOAT_XDP_DST_ECN : 0));
}

int moat_io_xdp_mirror(struct moat_io_xdp *x, struct moat_engine *e)
{
	struct moat_engine_cookie_dst d[MOAT_ENGINE_COOKIE_RING];
	struct moat_xdp_dst v;
	int n, applied = 0;

	while ((n = moat_engine_cookie_dsts_drain(e, d, MOAT_ENGINE_COOKIE_RING))
	       > 0) {
		for (int i = 0; i < n; i++) {
			if (d[i].all) {
				moat_io_xdp_clear_dsts(x);
			} else if (d[i].cookies) {
				dst_of(&d[i], &v);
				moat_io_xdp_set_dst(x, &d[i].key, &v);
			} else {
				moat_io_xdp_set_dst(x, &d[i].key, NULL);
			}
			applied++;
		}
	}
	return applied;
}

void moat_io_xdp_feed_syns(struct moat_io_xdp *x, struct moat_engine *e,
			   uint64_t now_ns)
{
	struct moat_syn_dst_key k, *prev = NULL, cur;
	struct moat_xdp_dst v;
	uint64_t n;

	/* Read and reset each count: an increment between the two is lost,
	 * which a rate estimate can afford.  Bounded by the map's size. */
	for (int i = 0; i < MOAT_XDP_DSTS_MAX &&
			bpf_map_get_next_key(x->dsts_fd, prev, &k) == 0; i++) {
		cur = k;
		prev = &cur;
		if (bpf_map_lookup_elem(x->dsts_fd, &k, &v) < 0 || v.syns == 0)
			continue;
		n = v.syns;
		v.syns = 0;
		bpf_map_update_elem(x->dsts_fd, &k, &v, BPF_EXIST);
		moat_engine_cookie_syns(e, &k, n > UINT32_MAX ? UINT32_MAX
							     : (uint32_t)n,
					now_ns);
	}
}

void moat_io_xdp_tick(struct moat_io_xdp *x, struct moat_engine *e,
		      uint64_t now_ns)
{
	if (!e)
		return;
	moat_io_xdp_push_keys(x, e, now_ns);
	moat_io_xdp_feed_syns(x, e, now_ns);
	/* After the counts: a switch back to state mode they prevent must
	 * not be applied from stale counts. */
	moat_io_xdp_mirror(x, e);
	moat_io_xdp_consume_synacks(x, e, now_ns, -1);
}

int moat_io_xdp_counters(struct moat_io_xdp *x,
			 uint64_t out[MOAT_XDP_ST_COUNT])
{
	uint64_t *per = calloc((size_t)x->ncpus, sizeof(*per));

	if (!per)
		return -ENOMEM;
	for (uint32_t i = 0; i < MOAT_XDP_ST_COUNT; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(x->stats_fd, &i, per) < 0)
			continue;
		for (int c = 0; c < x->ncpus; c++)
			out[i] += per[c];
	}
	free(per);
	return 0;
}

void moat_io_xdp_add_counters(struct moat_io_xdp *x, struct moat_counters *c)
{
	uint64_t n[MOAT_XDP_ST_COUNT];

	if (moat_io_xdp_counters(x, n) < 0)
		return;
	/* Every packet that ended in XDP ended with a drop verdict and its
	 * reason, as the engine counts a SYN it answers with a cookie;
	 * those passed on are counted by the engine when they reach it. */
	for (int r = 1; r < MOAT_R_COUNT; r++) {
		c->reason[r] += n[r];
		c->packets += n[r];
		c->dropped += n[r];
	}
	c->emitted += n[MOAT_R_SYN_COOKIE_SENT];
}

static const struct {
	unsigned stat;
	const char *name;
} stat_names[] = {
	{ MOAT_R_SYN_COOKIE_SENT, "cookies-sent" },
	{ MOAT_R_MARTIAN_SRC, "martian-src" },
	{ MOAT_XDP_ST_PASS, "passed-on" },
	{ MOAT_XDP_ST_PASS_NOT_SYN, "not-syn" },
	{ MOAT_XDP_ST_PASS_SHAPE, "shape" },
	{ MOAT_XDP_ST_PASS_DST, "not-cookie-mode" },
	{ MOAT_XDP_ST_PASS_CHECK, "for-the-engine" },
	{ MOAT_XDP_ST_PASS_NO_KEY, "no-key" },
	{ MOAT_XDP_ST_TX_FAIL, "tx-fail" },
	{ MOAT_XDP_ST_REDIRECT, "redirected" },
	{ MOAT_XDP_ST_RTX_LOST, "rtx-lost" },
};

void moat_io_xdp_print(struct moat_io_xdp *x, struct moat_io_buf *out,
		       bool prom)
{
	uint64_t n[MOAT_XDP_ST_COUNT];
	unsigned i;

	if (moat_io_xdp_counters(x, n) < 0)
		return;
	if (!prom)
		moat_io_buf_printf(out, "xdp");
	for (i = 0; i < sizeof(stat_names) / sizeof(stat_names[0]); i++) {
		unsigned long long v = (unsigned long long)n[stat_names[i].stat];

		if (prom)
			moat_io_buf_printf(out, "moat_xdp_total{counter=\"%s\"} "
					   "%llu\n", stat_names[i].name, v);
		else
			moat_io_buf_printf(out, " %s %llu", stat_names[i].name,
					   v);
	}
	if (!prom)
		moat_io_buf_printf(out, "\n");
}

int moat_xdp_xsk_map_fd(const struct moat_io_xdp *x)
{
	return x ? x->xsks_fd : -1;
}

int moat_io_xdp_prog_fd(const struct moat_io_xdp *x)
{
	return x ? x->prog_fd : -1;
}

const char *moat_io_xdp_describe(const struct moat_io_xdp *x, char *buf,
				 size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (int i = 0; i < x->nports && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s (%s)",
					i ? ", " : "", x->port[i].ifname,
					x->port[i].flags == XDP_FLAGS_DRV_MODE
						? "native" : "generic");
	return buf;
}
