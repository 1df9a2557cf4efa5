/*
 * AF_XDP ports (io_afxdp.h): UMEM, fill, completion, RX and TX rings.
 *
 * The first and last step of the fast backend's packet path.  rx takes a
 * batch of descriptors from each socket's RX ring (every address and length
 * checked against the UMEM: the rings are shared memory), hands each frame
 * to the bridge, and gives back to the free pool the frames nobody took;
 * a forward to a port on the same UMEM puts the frame's own address in that
 * port's TX ring (the frame is "taken": it comes back through the
 * completion ring once sent).  The fill rings are topped up from the pool
 * after every batch.  Ring protocol: Documentation/networking/af_xdp.rst.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "moat/io_afxdp.h"
#include "moat/xdp_maps.h"

struct moat_io_xsk_umem {
	uint8_t *area;              /* frames * frame_size bytes, ours */
	size_t len;
	bool mapped;                /* munmap at the end (false in tests) */
	uint32_t frame_size, frames;
	struct xsk_umem *x;         /* NULL until the first socket */
	/* The rings xsk_umem__create makes; libxdp copies them into the
	 * first socket's own structures and keeps these for its cleanup. */
	struct xsk_ring_prod fill_save;
	struct xsk_ring_cons comp_save;
	bool zerocopy;              /* the first socket bound zero-copy */
	uint64_t *pool;             /* free frames (their base addresses) */
	uint32_t nfree;
	int refs;
};

/* One socket: one receive queue of the interface. */
struct xsk_queue {
	struct xsk_socket *xsk;     /* NULL in tests */
	int fd;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
};

struct moat_io_afxdp {
	struct moat_io_port port;   /* first: the generic part */
	struct moat_io_xsk_umem *umem;
	struct xsk_queue q[MOAT_IO_XSK_MAX_QUEUES];
	int nq, next_q;
	int epfd;                   /* several queues: one fd to poll */
	bool test;                  /* rings in caller memory, no socket */
	bool owned;
	/* libxdp's program, attached by us: detached at close if still the
	 * one on the interface. */
	bool own_prog;
	uint32_t prog_id;
	int map_fd;
	uint32_t map_key_base;
	/* TX descriptors reserved on q[0] but not yet submitted. */
	uint32_t tx_unsent, tx_unsent_bytes;
	/* Ring-delay bound (io_afxdp.h). */
	uint64_t drained_ns;
	bool was_empty;
};

#define XDP(p) ((struct moat_io_afxdp *)(p))

uint32_t moat_io_afxdp_frame_size(uint32_t mtu)
{
	uint32_t need = mtu + MOAT_IO_L2_OVERHEAD + MOAT_IO_XSK_HEADROOM;

	if (need <= 2048)
		return 2048;
	if (need <= 4096)
		return 4096;
	return 0;
}

/* ---- the UMEM and its free pool ------------------------------------------ */

static int umem_init(struct moat_io_xsk_umem *u, void *area, uint32_t frames,
		     uint32_t frame_size)
{
	u->area = area;
	u->len = (size_t)frames * frame_size;
	u->frames = frames;
	u->frame_size = frame_size;
	u->pool = calloc(frames, sizeof(*u->pool));
	if (!u->pool)
		return -ENOMEM;
	/* Pushed in reverse so frame 0 is handed out first. */
	for (uint32_t i = 0; i < frames; i++)
		u->pool[i] = (uint64_t)(frames - 1 - i) * frame_size;
	u->nfree = frames;
	u->refs = 1;
	return 0;
}

int moat_io_xsk_umem_create(struct moat_io_xsk_umem **out, uint32_t frames,
			    uint32_t frame_size)
{
	struct moat_io_xsk_umem *u = calloc(1, sizeof(*u));
	void *area;
	int r;

	*out = NULL;
	if (!u)
		return -ENOMEM;
	area = mmap(NULL, (size_t)frames * frame_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (area == MAP_FAILED) {
		r = -errno;
		free(u);
		return r;
	}
	r = umem_init(u, area, frames, frame_size);
	if (r < 0) {
		munmap(area, (size_t)frames * frame_size);
		free(u);
		return r;
	}
	u->mapped = true;
	*out = u;
	return 0;
}

void moat_io_xsk_umem_unref(struct moat_io_xsk_umem *u)
{
	if (!u || --u->refs > 0)
		return;
	if (u->x)
		xsk_umem__delete(u->x);
	if (u->mapped)
		munmap(u->area, u->len);
	free(u->pool);
	free(u);
}

uint32_t moat_io_xsk_umem_free(const struct moat_io_xsk_umem *u)
{
	return u->nfree;
}

static uint64_t frame_base(const struct moat_io_xsk_umem *u, uint64_t addr)
{
	return addr - addr % u->frame_size;
}

static void pool_put(struct moat_io_xsk_umem *u, uint64_t addr)
{
	/* A frame is in one place at a time, so the pool cannot overflow;
	 * the check keeps a confused kernel (or test) from writing past it. */
	if (u->nfree < u->frames)
		u->pool[u->nfree++] = frame_base(u, addr);
}

static bool pool_get(struct moat_io_xsk_umem *u, uint64_t *addr)
{
	if (u->nfree == 0)
		return false;
	*addr = u->pool[--u->nfree];
	return true;
}

/* A descriptor the kernel wrote: inside the UMEM and inside one frame. */
static bool desc_ok(const struct moat_io_xsk_umem *u, uint64_t addr,
		    uint32_t len)
{
	return addr < u->len && len > 0 &&
	       addr % u->frame_size + len <= u->frame_size;
}

/* ---- completions, fill, transmit ----------------------------------------- */

static void take_completions(struct moat_io_afxdp *a)
{
	for (int i = 0; i < a->nq; i++) {
		struct xsk_queue *q = &a->q[i];
		uint32_t idx, n = xsk_ring_cons__peek(&q->comp, MOAT_IO_XSK_RING,
						     &idx);

		for (uint32_t k = 0; k < n; k++)
			pool_put(a->umem, *xsk_ring_cons__comp_addr(&q->comp,
								    idx + k));
		if (n)
			xsk_ring_cons__release(&q->comp, n);
	}
}

/* Give the kernel empty frames to receive into, as many as the fill ring
 * takes and the pool has. */
static void refill(struct moat_io_afxdp *a)
{
	for (int i = 0; i < a->nq; i++) {
		struct xsk_queue *q = &a->q[i];
		uint32_t idx, n = xsk_prod_nb_free(&q->fill, MOAT_IO_XSK_RING);

		if (n > a->umem->nfree)
			n = a->umem->nfree;
		if (n == 0 || xsk_ring_prod__reserve(&q->fill, n, &idx) != n)
			continue;
		for (uint32_t k = 0; k < n; k++) {
			uint64_t addr = 0;

			pool_get(a->umem, &addr);
			*xsk_ring_prod__fill_addr(&q->fill, idx + k) = addr;
		}
		xsk_ring_prod__submit(&q->fill, n);
		if (!a->test && xsk_ring_prod__needs_wakeup(&q->fill))
			recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	}
}

static uint32_t tx_pending(const struct xsk_ring_prod *tx)
{
	return __atomic_load_n(tx->producer, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(tx->consumer, __ATOMIC_ACQUIRE);
}

/*
 * Ask the kernel to send what the TX ring holds.  In copy mode it sends at
 * most a slice per call (32 frames in the kernel's generic path) and says
 * EAGAIN; true then, so the loop comes back instead of sleeping.
 */
static bool kick(struct moat_io_afxdp *a)
{
	struct xsk_queue *q = &a->q[0];

	if (a->test || tx_pending(&q->tx) == 0)
		return false;
	if (!xsk_ring_prod__needs_wakeup(&q->tx))
		return false;   /* the driver is on it */
	a->port.tx.calls++;
	if (sendto(q->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
	    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS &&
	    errno != EINTR) {
		/* Down or gone: do not spin on it; the next flush retries. */
		a->port.tx.errors++;
		return false;
	}
	return tx_pending(&q->tx) != 0;
}

static void submit(struct moat_io_afxdp *a)
{
	if (!a->tx_unsent)
		return;
	xsk_ring_prod__submit(&a->q[0].tx, a->tx_unsent);
	a->port.tx.packets += a->tx_unsent;
	a->port.tx.bytes += a->tx_unsent_bytes;
	a->tx_unsent = a->tx_unsent_bytes = 0;
}

static bool afxdp_flush(struct moat_io_port *p)
{
	struct moat_io_afxdp *a = XDP(p);
	bool busy;

	submit(a);
	busy = kick(a);
	take_completions(a);
	return busy;
}

/* Put @addr (a frame of our UMEM) in the TX ring.  False if the ring stays
 * full after the kernel was asked to make room. */
static bool tx_put(struct moat_io_afxdp *a, uint64_t addr, uint32_t len)
{
	struct xsk_ring_prod *tx = &a->q[0].tx;
	struct xdp_desc *d;
	uint32_t idx;

	if (xsk_ring_prod__reserve(tx, 1, &idx) != 1) {
		afxdp_flush(&a->port);
		if (xsk_ring_prod__reserve(tx, 1, &idx) != 1)
			return false;
	}
	d = xsk_ring_prod__tx_desc(tx, idx);
	d->addr = addr;
	d->len = len;
	d->options = 0;
	a->tx_unsent++;
	a->tx_unsent_bytes += len;
	if (a->tx_unsent >= MOAT_IO_TX_BATCH)
		afxdp_flush(&a->port);
	return true;
}

/* A copy into a free frame of @out's UMEM (emitted frames, frames from
 * another UMEM). */
static void tx_copy(struct moat_io_afxdp *out, const uint8_t *data,
		    uint32_t len)
{
	uint64_t addr;

	if (len > out->umem->frame_size || !pool_get(out->umem, &addr)) {
		take_completions(out);
		if (len > out->umem->frame_size || !pool_get(out->umem, &addr)) {
			out->port.tx.errors++;
			return;
		}
	}
	memcpy(out->umem->area + addr, data, len);
	if (!tx_put(out, addr, len)) {
		pool_put(out->umem, addr);
		out->port.tx.errors++;
	}
}

static void afxdp_forward(struct moat_io_port *out, struct moat_io_port *in,
			  struct moat_io_rxframe *f)
{
	struct moat_io_afxdp *o = XDP(out);

	/* By reference when the frame lives in the UMEM @out sends from. */
	if (in->backend == MOAT_IO_AFXDP && !f->copied &&
	    XDP(in)->umem == o->umem) {
		if (tx_put(o, f->addr, f->caplen)) {
			f->taken = true;
			out->tx.zerocopy++;
		} else {
			out->tx.errors++;
		}
		return;
	}
	tx_copy(o, f->data, f->caplen);
}

static void afxdp_send(struct moat_io_port *out, const uint8_t *data,
		       uint32_t len)
{
	tx_copy(XDP(out), data, len);
}

/* ---- receiving ------------------------------------------------------------ */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void take_desc(struct moat_io_afxdp *a, const struct xdp_desc *d,
		      moat_io_rx_fn fn, void *arg)
{
	struct moat_io_port *p = &a->port;
	struct moat_io_rxframe f;

	if (!desc_ok(a->umem, d->addr, d->len)) {
		p->st.rx_bad++;
		if (d->addr < a->umem->len)
			pool_put(a->umem, d->addr);
		return;
	}
	p->st.rx_packets++;
	p->st.rx_bytes += d->len;
	memset(&f, 0, sizeof(f));
	f.data = a->umem->area + d->addr;
	f.caplen = f.wirelen = d->len;
	f.addr = d->addr;
	fn(arg, p, &f);
	if (!f.taken)
		pool_put(a->umem, d->addr);
}

static uint32_t rx_queue(struct moat_io_afxdp *a, struct xsk_queue *q,
			 moat_io_rx_fn fn, void *arg, uint32_t budget)
{
	uint32_t idx, n = xsk_ring_cons__peek(&q->rx, budget, &idx);

	for (uint32_t k = 0; k < n; k++)
		take_desc(a, xsk_ring_cons__rx_desc(&q->rx, idx + k), fn, arg);
	if (n)
		xsk_ring_cons__release(&q->rx, n);
	return n;
}

static uint32_t rx_waiting(struct moat_io_afxdp *a)
{
	uint32_t w = 0;

	for (int i = 0; i < a->nq; i++)
		w += __atomic_load_n(a->q[i].rx.producer, __ATOMIC_ACQUIRE) -
		     *a->q[i].rx.consumer;
	return w;
}

static void note_delay(struct moat_io_afxdp *a, uint32_t n, uint32_t budget)
{
	uint64_t now = a->test ? 0 : mono_ns();

	if (n > 0)
		moat_io_port_delay(&a->port, a->was_empty || now < a->drained_ns
					? 0 : now - a->drained_ns);
	a->was_empty = n == 0;
	if (n < budget)
		a->drained_ns = now;
}

static uint32_t afxdp_rx(struct moat_io_port *p, moat_io_rx_fn fn, void *arg,
			 struct moat_io_port *const *flush, int nflush,
			 uint32_t budget)
{
	struct moat_io_afxdp *a = XDP(p);
	uint32_t n = 0;

	if (budget > MOAT_IO_RX_BATCH)
		budget = MOAT_IO_RX_BATCH;
	/* Round robin over the queues, so one cannot starve the others. */
	for (int k = 0; k < a->nq && n < budget; k++) {
		struct xsk_queue *q = &a->q[(a->next_q + k) % a->nq];

		n += rx_queue(a, q, fn, arg, budget - n);
	}
	a->next_q = (a->next_q + 1) % a->nq;
	note_delay(a, n, budget);
	if (n == 0) {
		/* Frames sent meanwhile come back to the pool, and a fill
		 * ring left short by an empty pool is topped up. */
		take_completions(a);
		refill(a);
		return 0;
	}
	for (int i = 0; i < nflush; i++)
		moat_io_port_flush(flush[i]);
	refill(a);
	p->st.rx_batches++;
	p->st.ring_used = rx_waiting(a);
	return n;
}

static void afxdp_poll_stats(struct moat_io_port *p)
{
	struct moat_io_afxdp *a = XDP(p);
	uint64_t drops = 0;

	if (a->test)
		return;
	/* Cumulative in the kernel: the sum is the count. */
	for (int i = 0; i < a->nq; i++) {
		struct xdp_statistics s;
		socklen_t len = sizeof(s);

		memset(&s, 0, sizeof(s));
		if (getsockopt(a->q[i].fd, SOL_XDP, XDP_STATISTICS, &s, &len) == 0)
			drops += s.rx_dropped + s.rx_ring_full +
				 s.rx_fill_ring_empty_descs;
	}
	p->st.kernel_drops = drops;
}

/* Detach libxdp's program if the one on the interface is still ours. */
static void detach_prog(struct moat_io_afxdp *a)
{
	uint32_t id = 0;

	if (!a->own_prog)
		return;
	if (bpf_xdp_query_id(a->port.ifindex, XDP_FLAGS_DRV_MODE, &id) == 0 &&
	    id == a->prog_id)
		bpf_xdp_detach(a->port.ifindex, XDP_FLAGS_DRV_MODE, NULL);
	a->own_prog = false;
}

static void afxdp_close(struct moat_io_port *p)
{
	struct moat_io_afxdp *a = XDP(p);

	for (int i = 0; i < a->nq; i++)
		if (a->q[i].xsk)
			xsk_socket__delete(a->q[i].xsk);
	a->nq = 0;
	detach_prog(a);
	if (a->map_fd >= 0 && !a->test)
		close(a->map_fd);
	if (a->epfd >= 0)
		close(a->epfd);
	moat_io_xsk_umem_unref(a->umem);
	if (a->owned)
		free(a);
}

static const struct moat_io_port_ops afxdp_ops = {
	.rx = afxdp_rx, .forward = afxdp_forward, .send = afxdp_send,
	.flush = afxdp_flush, .poll_stats = afxdp_poll_stats,
	.close = afxdp_close,
};

/* ---- opening a port ------------------------------------------------------- */

/* Receive queues: ethtool's channel count, else one. */
static int rx_queues(const char *ifname)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), n = 1;

	if (fd < 0)
		return 1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ch;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0) {
		n = (int)(ch.rx_count > ch.combined_count ? ch.rx_count
							  : ch.combined_count);
		if (n < 1)
			n = 1;
	}
	close(fd);
	return n > MOAT_IO_XSK_MAX_QUEUES ? MOAT_IO_XSK_MAX_QUEUES : n;
}

/* The UMEM's first socket decides its mode; recreating the UMEM is how a
 * refused zero-copy bind is undone (libxdp unmaps its rings on failure). */
static int umem_register(struct moat_io_xsk_umem *u)
{
	struct xsk_umem_config uc = {
		.fill_size = MOAT_IO_XSK_RING,
		.comp_size = MOAT_IO_XSK_RING,
		.frame_size = u->frame_size,
		.frame_headroom = 0,
		.flags = 0,
	};

	if (u->x) {
		xsk_umem__delete(u->x);
		u->x = NULL;
	}
	return xsk_umem__create(&u->x, u->area, u->len, &u->fill_save,
				&u->comp_save, &uc);
}

static int socket_create(struct moat_io_afxdp *a, struct xsk_queue *q,
			 int queue, uint16_t bind_flags)
{
	struct xsk_socket_config sc = {
		.rx_size = MOAT_IO_XSK_RING,
		.tx_size = MOAT_IO_XSK_RING,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = XDP_FLAGS_DRV_MODE,
		.bind_flags = bind_flags,
	};

	return xsk_socket__create_shared(&q->xsk, a->port.ifname, (uint32_t)queue,
					 a->umem->x, &q->rx, &q->tx, &q->fill,
					 &q->comp, &sc);
}

/*
 * The socket of @queue.  The first socket on a UMEM tries zero-copy, then
 * copy mode (unless @copy_only); later ones share the UMEM and its mode
 * (the kernel refuses mode flags on a shared bind).
 */
static int open_queue(struct moat_io_afxdp *a, int queue, bool copy_only)
{
	struct moat_io_xsk_umem *u = a->umem;
	struct xsk_queue *q = &a->q[queue];
	int r;

	memset(q, 0, sizeof(*q));
	if (!u->x) {
		r = umem_register(u);
		if (r < 0)
			return r;
		r = copy_only ? -EOPNOTSUPP
			      : socket_create(a, q, queue, XDP_ZEROCOPY |
						    XDP_USE_NEED_WAKEUP);
		if (r == 0) {
			u->zerocopy = true;
		} else {
			r = umem_register(u);
			if (r == 0)
				r = socket_create(a, q, queue, XDP_COPY |
						  XDP_USE_NEED_WAKEUP);
		}
	} else {
		r = socket_create(a, q, queue, 0);
	}
	if (r < 0) {
		q->xsk = NULL;
		return r;
	}
	q->fd = xsk_socket__fd(q->xsk);
	return 0;
}

/* libxdp and libbpf narrate their fallbacks (no bpffs in a network
 * namespace: no dispatcher, a single program) on stderr; the result is
 * what counts, and moat reports it in its own words. */
static int quiet_xdp(enum libxdp_print_level l, const char *fmt, va_list ap)
{
	(void)l; (void)fmt; (void)ap;
	return 0;
}

static int quiet_bpf(enum libbpf_print_level l, const char *fmt, va_list ap)
{
	(void)l; (void)fmt; (void)ap;
	return 0;
}

/* libxdp's default program in native mode, unless a map was given. */
static int setup_prog(struct moat_io_afxdp *a, int map_fd)
{
	libxdp_print_fn_t old_xdp;
	libbpf_print_fn_t old_bpf;
	int r;

	if (map_fd >= 0) {
		a->map_fd = dup(map_fd);
		return a->map_fd < 0 ? -errno : 0;
	}
	old_xdp = libxdp_set_print(quiet_xdp);
	old_bpf = libbpf_set_print(quiet_bpf);
	r = xsk_setup_xdp_prog(a->port.ifindex, &a->map_fd);
	libxdp_set_print(old_xdp);
	libbpf_set_print(old_bpf);
	if (r < 0) {
		a->map_fd = -1;
		return r;
	}
	a->own_prog = true;
	if (bpf_xdp_query_id(a->port.ifindex, XDP_FLAGS_DRV_MODE, &a->prog_id))
		a->prog_id = 0;
	return 0;
}

static int poll_fd(struct moat_io_afxdp *a)
{
	if (a->nq == 1) {
		a->port.fd = a->q[0].fd;
		return 0;
	}
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->epfd < 0)
		return -errno;
	for (int i = 0; i < a->nq; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };

		if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->q[i].fd, &ev) < 0)
			return -errno;
	}
	a->port.fd = a->epfd;
	return 0;
}

static void init_common(struct moat_io_afxdp *a)
{
	a->port.ops = &afxdp_ops;
	a->port.backend = MOAT_IO_AFXDP;
	a->port.fd = -1;
	a->epfd = -1;
	a->map_fd = -1;
}

/* The XDP program redirects queue @i's frames through this entry. */
static int enter_map(struct moat_io_afxdp *a, int i)
{
	uint32_t key = a->map_key_base + (uint32_t)i;
	int fd = a->q[i].fd;

	return bpf_map_update_elem(a->map_fd, &key, &fd, 0) < 0 ? -errno : 0;
}

static int open_sockets(struct moat_io_afxdp *a, bool copy_only,
			const char **what)
{
	int want = rx_queues(a->port.ifname), r;

	/* moat's XDP program keeps room for so many queues an interface:
	 * frames of a queue without a socket would never reach moat. */
	*what = "xsks map";
	if (!a->own_prog && want > MOAT_XDP_XSKS_PER_PORT)
		return -E2BIG;

	for (int i = 0; i < want; i++) {
		*what = "AF_XDP socket";
		r = open_queue(a, i, copy_only);
		if (r < 0) {
			/* The driver may count queues we cannot bind to. */
			if (i > 0 && r == -EINVAL)
				break;
			return r;
		}
		a->nq = i + 1;
		*what = "xsks map";
		r = enter_map(a, i);
		if (r < 0)
			return r;
	}
	return 0;
}

int moat_io_afxdp_open(struct moat_io_port **out, const char *ifname,
		       const struct moat_io_afxdp_conf *c, const char **what)
{
	struct moat_io_afxdp *a = calloc(1, sizeof(*a));
	int fd, r;

	*out = NULL;
	*what = "memory";
	if (!a)
		return -ENOMEM;
	init_common(a);
	a->owned = true;
	a->map_key_base = c->map_key_base;
	*what = "interface";
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	r = fd < 0 ? -errno : moat_io_port_init(&a->port, ifname, fd);
	if (fd >= 0)
		close(fd);
	if (r < 0)
		goto fail;
	*what = "MTU";
	r = -EMSGSIZE;
	if (!moat_io_afxdp_frame_size(a->port.mtu))
		goto fail;
	/* Old kernels: no AF_XDP at all. */
	*what = "AF_XDP socket";
	fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	close(fd);
	*what = "UMEM";
	if (c->umem) {
		a->umem = c->umem;
		a->umem->refs++;
	} else {
		r = moat_io_xsk_umem_create(&a->umem, (uint32_t)rx_queues(ifname) *
					    MOAT_IO_XSK_FRAMES_PER_QUEUE,
					    moat_io_afxdp_frame_size(a->port.mtu));
		if (r < 0)
			goto fail;
	}
	r = -EMSGSIZE;
	if (a->umem->frame_size < moat_io_afxdp_frame_size(a->port.mtu))
		goto fail;
	*what = "XDP program";
	r = setup_prog(a, c->xsks_map_fd);
	if (r < 0)
		goto fail;
	r = open_sockets(a, c->copy_only, what);
	if (r < 0)
		goto fail;
	*what = "poll";
	r = poll_fd(a);
	if (r < 0)
		goto fail;
	refill(a);
	a->port.st.ring_size = (uint32_t)a->nq * MOAT_IO_XSK_RING;
	snprintf(a->port.mode, sizeof(a->port.mode), "xdp-%s",
		 a->umem->zerocopy ? "zerocopy" : "copy");
	*out = &a->port;
	return 0;
fail:
	afxdp_close(&a->port);
	return r;
}

static int open_pair_on(struct moat_io_port *out[2], const char *const ifname[2],
			const int map_fd[2], struct moat_io_xsk_umem *u,
			int *failed, char *err, size_t errlen)
{
	for (int i = 0; i < 2; i++) {
		/* Port i's sockets where moat's XDP program looks for them
		 * (moat/xdp_maps.h); libxdp's own program has a map each. */
		struct moat_io_afxdp_conf c = {
			.umem = u, .xsks_map_fd = map_fd[i],
			.map_key_base = map_fd[i] >= 0 ?
				(uint32_t)i * MOAT_XDP_XSKS_PER_PORT : 0,
		};
		const char *what;
		int r = moat_io_afxdp_open(&out[i], ifname[i], &c, &what);

		if (r < 0) {
			*failed = i;
			snprintf(err, errlen, "%s: %s: %s", ifname[i], what,
				 moat_io_afxdp_why(r, what));
			for (int k = 0; k < i; k++) {
				moat_io_port_close(out[k]);
				out[k] = NULL;
			}
			return r;
		}
	}
	return 0;
}

int moat_io_afxdp_open_pair(struct moat_io_port *out[2],
			    const char *const ifname[2], const int map_fd[2],
			    char *err, size_t errlen)
{
	struct moat_io_xsk_umem *u;
	uint32_t mtu[2] = { 1500, 1500 }, fs;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), r, failed = -1;

	out[0] = out[1] = NULL;
	for (int i = 0; i < 2 && fd >= 0; i++) {
		struct moat_io_port tmp;

		memset(&tmp, 0, sizeof(tmp));
		if (moat_io_port_init(&tmp, ifname[i], fd) == 0)
			mtu[i] = tmp.mtu;
	}
	if (fd >= 0)
		close(fd);
	fs = moat_io_afxdp_frame_size(mtu[0] > mtu[1] ? mtu[0] : mtu[1]);
	if (!fs)
		fs = 4096;   /* moat_io_afxdp_open says why it cannot */
	r = moat_io_xsk_umem_create(&u, (uint32_t)(rx_queues(ifname[0]) +
						   rx_queues(ifname[1])) *
				    MOAT_IO_XSK_FRAMES_PER_QUEUE, fs);
	if (r < 0) {
		snprintf(err, errlen, "UMEM: %s", strerror(-r));
		return r;
	}
	r = open_pair_on(out, ifname, map_fd, u, &failed, err, errlen);
	moat_io_xsk_umem_unref(u);
	/* The first port took the UMEM and the second could not share it
	 * (different zero-copy support, kernels before 5.10): one UMEM
	 * each, and forwards copy once. */
	if (failed == 1 && (r == -EINVAL || r == -EOPNOTSUPP))
		r = open_pair_on(out, ifname, map_fd, NULL, &failed, err,
				 errlen);
	return r;
}

const char *moat_io_afxdp_why(int err, const char *what)
{
	switch (-err) {
	case EAFNOSUPPORT:
	case ENOSYS:
	case ENOPROTOOPT:
		return "the kernel has no AF_XDP (Linux 5.4 or later with "
		       "CONFIG_XDP_SOCKETS)";
	case EPERM:
	case EACCES:
		return "no privilege (AF_XDP and XDP programs need "
		       "CAP_NET_ADMIN, CAP_NET_RAW and CAP_BPF or CAP_SYS_ADMIN)";
	case EOPNOTSUPP:
		return !strcmp(what, "XDP program")
			       ? "the driver has no native XDP support"
			       : "the driver does not support AF_XDP here";
	case EMSGSIZE:
		return "the MTU is too large for AF_XDP frames (at most 3822)";
	case EBUSY:
	case EEXIST:
		return "another XDP program is attached";
	case E2BIG:
		return "more receive queues than moat's XDP program has room "
		       "for (32 an interface)";
	}
	return strerror(-err);
}

/* ---- a port over plain memory (tests) ------------------------------------- */

/* Per ring: producer, consumer, flags (padded to 16 bytes), then entries
 * of 16 bytes (descriptors; addresses use half). */
static size_t test_ring_bytes(uint32_t n)
{
	return 16 + (size_t)n * sizeof(struct xdp_desc);
}

size_t moat_io_afxdp_mem_size(uint32_t ring_size)
{
	return 4 * test_ring_bytes(ring_size);
}

static uint8_t *test_ring(uint8_t *m, uint32_t n, uint32_t **prod,
			  uint32_t **cons, uint32_t **flags, uint32_t *mask,
			  uint32_t *size, void **ring)
{
	*prod = (uint32_t *)m;
	*cons = (uint32_t *)(m + 4);
	*flags = (uint32_t *)(m + 8);
	*mask = n - 1;
	*size = n;
	*ring = m + 16;
	return m + test_ring_bytes(n);
}

struct moat_io_port *moat_io_afxdp_open_mem(struct moat_io_xsk_umem *u,
					    void *mem, uint32_t ring_size,
					    uint32_t mtu,
					    struct moat_io_xsk_test_rings *t)
{
	struct moat_io_afxdp *a = calloc(1, sizeof(*a));
	struct xsk_queue *q;
	uint8_t *m = mem;

	if (!a)
		return NULL;
	init_common(a);
	a->owned = true;
	a->test = true;
	a->umem = u;
	u->refs++;
	a->nq = 1;
	q = &a->q[0];
	q->fd = -1;
	memset(mem, 0, moat_io_afxdp_mem_size(ring_size));
	m = test_ring(m, ring_size, &q->rx.producer, &q->rx.consumer,
		      &q->rx.flags, &q->rx.mask, &q->rx.size, &q->rx.ring);
	m = test_ring(m, ring_size, &q->tx.producer, &q->tx.consumer,
		      &q->tx.flags, &q->tx.mask, &q->tx.size, &q->tx.ring);
	m = test_ring(m, ring_size, &q->fill.producer, &q->fill.consumer,
		      &q->fill.flags, &q->fill.mask, &q->fill.size,
		      &q->fill.ring);
	test_ring(m, ring_size, &q->comp.producer, &q->comp.consumer,
		  &q->comp.flags, &q->comp.mask, &q->comp.size, &q->comp.ring);
	/* As libxdp sets them: a producer ring's cached consumer runs a
	 * ring ahead (xsk_prod_nb_free). */
	q->tx.cached_cons = ring_size;
	q->fill.cached_cons = ring_size;
	t->rx_prod = q->rx.producer;
	t->rx_cons = q->rx.consumer;
	t->tx_prod = q->tx.producer;
	t->tx_cons = q->tx.consumer;
	t->fill_prod = q->fill.producer;
	t->fill_cons = q->fill.consumer;
	t->comp_prod = q->comp.producer;
	t->comp_cons = q->comp.consumer;
	t->rx_desc = q->rx.ring;
	t->tx_desc = q->tx.ring;
	t->fill_addr = q->fill.ring;
	t->comp_addr = q->comp.ring;
	snprintf(a->port.ifname, sizeof(a->port.ifname), "mem");
	a->port.mtu = mtu;
	a->port.max_len = mtu + MOAT_IO_L2_OVERHEAD;
	a->port.st.ring_size = ring_size;
	snprintf(a->port.mode, sizeof(a->port.mode), "xdp-test");
	refill(a);
	return &a->port;
}
