/*
 * AF_PACKET ports: TPACKET_V2 receive rings and sendmmsg transmit batches.
 *
 * The fallback backend's first and last step of the live packet path.  The
 * kernel writes each frame into the next slot of the ring and flips that
 * slot's status to TP_STATUS_USER; we take up to a batch of consecutive
 * user-owned slots (every offset bounds-checked: the ring is shared
 * memory), hand each frame to the bridge's callback, send the transmit
 * batches that may point into the slots, and give the slots back in order.
 * See Documentation/networking/packet_mmap.rst for the ring protocol.
 */
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "moat/io_afpacket.h"

#define AFP(p) ((struct moat_io_afpacket *)(p))

uint32_t moat_io_afpacket_slot_size(uint32_t mtu)
{
	uint32_t need = mtu + MOAT_IO_L2_OVERHEAD + MOAT_IO_SLOT_HEADROOM;
	uint32_t s = MOAT_IO_SLOT_MIN;

	while (s < need && s < MOAT_IO_RING_BLOCK)
		s <<= 1;
	return s;
}

/* ---- one slot ------------------------------------------------------------ */

bool moat_io_v2_frame(uint8_t *slot, uint32_t size, struct moat_io_v2_frame *f)
{
	const struct tpacket2_hdr *h = (const struct tpacket2_hdr *)slot;

	if (size < sizeof(*h))
		return false;
	if (h->tp_mac < sizeof(*h) || h->tp_mac >= size ||
	    (uint64_t)h->tp_mac + h->tp_snaplen > size ||
	    h->tp_snaplen > h->tp_len)
		return false;
	f->data = slot + h->tp_mac;
	f->caplen = h->tp_snaplen;
	f->wirelen = h->tp_len;
	f->status = h->tp_status;
	f->vlan_tci = h->tp_vlan_tci;
	f->vlan_tpid = h->tp_vlan_tpid;
	f->ts_sec = h->tp_sec;
	f->ts_nsec = h->tp_nsec;
	return true;
}

/* ---- transmit batches ---------------------------------------------------- */

static void txq_push(struct moat_io_txq *q, uint8_t *data, uint32_t len)
{
	struct mmsghdr *m = &q->msg[q->n];

	q->iov[q->n].iov_base = data;
	q->iov[q->n].iov_len = len;
	memset(m, 0, sizeof(*m));
	m->msg_hdr.msg_iov = &q->iov[q->n];
	m->msg_hdr.msg_iovlen = 1;
	q->n++;
}

void moat_io_txq_add(struct moat_io_txq *q, uint8_t *data, uint32_t len)
{
	if (q->n == MOAT_IO_TX_BATCH)
		moat_io_txq_flush(q);
	txq_push(q, data, len);
}

void moat_io_txq_add_copy(struct moat_io_txq *q, const uint8_t *data,
			  uint32_t len)
{
	if (len > MOAT_EMIT_FRAME_MAX) {
		q->st->oversize++;
		return;
	}
	if (q->n == MOAT_IO_TX_BATCH)
		moat_io_txq_flush(q);
	memcpy(q->stage[q->n], data, len);
	txq_push(q, q->stage[q->n], len);
}

void moat_io_txq_flush(struct moat_io_txq *q)
{
	uint32_t sent = 0;
	int eintr = 0;

	/* Each turn sends at least one frame or skips (and counts) the one
	 * the kernel refused, so this ends after at most n turns (plus a few
	 * interrupted calls). */
	while (sent < q->n) {
		int r = sendmmsg(q->fd, q->msg + sent, q->n - sent, MSG_DONTWAIT);

		q->st->calls++;
		if (r < 0) {
			if (errno == EINTR && eintr++ < 3)
				continue;
			q->st->errors++;
			sent++;
			continue;
		}
		for (int i = 0; i < r; i++)
			q->st->bytes += q->iov[sent + i].iov_len;
		q->st->packets += (uint64_t)r;
		sent += (uint32_t)r;
	}
	q->n = 0;
}

/* ---- receiving ----------------------------------------------------------- */

/*
 * Put a VLAN tag the kernel moved into the metadata back between the MAC
 * addresses and the EtherType (IEEE 802.1Q), in the port's scratch buffer.
 * False if the frame is too short or would not fit: it is then counted
 * truncated and not forwarded, since it cannot be sent as it was.
 */
static bool restore_vlan(struct moat_io_afpacket *a,
			 const struct moat_io_v2_frame *v,
			 struct moat_io_rxframe *f)
{
	uint16_t tpid = (v->status & TP_STATUS_VLAN_TPID_VALID) && v->vlan_tpid
				? v->vlan_tpid : 0x8100;
	uint8_t *d = a->scratch;

	if (f->caplen < 14 || f->caplen + 4 > sizeof(a->scratch))
		return false;
	memcpy(d, f->data, 12);
	d[12] = (uint8_t)(tpid >> 8);
	d[13] = (uint8_t)tpid;
	d[14] = (uint8_t)(v->vlan_tci >> 8);
	d[15] = (uint8_t)v->vlan_tci;
	memcpy(d + 16, f->data + 12, f->caplen - 12);
	f->data = d;
	f->caplen += 4;
	f->wirelen += 4;
	f->copied = true;
	a->port.st.rx_vlan++;
	return true;
}

/* The age of a batch's oldest frame.  The kernel stamps frames with
 * CLOCK_REALTIME (nanoseconds in TPACKET_V2); a clock step shows up as
 * one outlier in a statistic, never in a verdict. */
static void ring_delay(struct moat_io_port *p, const struct moat_io_v2_frame *v)
{
	struct timespec now;
	int64_t d;

	if (v->ts_sec == 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	d = ((int64_t)now.tv_sec - v->ts_sec) * 1000000000 +
	    ((int64_t)now.tv_nsec - v->ts_nsec);
	if (d >= 0)
		moat_io_port_delay(p, (uint64_t)d);
}

static void take_slot(struct moat_io_afpacket *a, uint8_t *slot, bool first,
		      moat_io_rx_fn fn, void *arg)
{
	struct moat_io_port *p = &a->port;
	struct moat_io_v2_frame v;
	struct moat_io_rxframe f;

	if (!moat_io_v2_frame(slot, a->slot_size, &v)) {
		p->st.rx_bad++;
		return;
	}
	if (first)
		ring_delay(p, &v);
	p->st.rx_packets++;
	p->st.rx_bytes += v.wirelen;
	memset(&f, 0, sizeof(f));
	f.data = v.data;
	f.caplen = v.caplen;
	f.wirelen = v.wirelen;
	f.csum_partial = (v.status & TP_STATUS_CSUMNOTREADY) != 0;
	if (f.csum_partial)
		p->st.rx_csum_partial++;
	if ((v.status & TP_STATUS_VLAN_VALID) && f.caplen == f.wirelen &&
	    !restore_vlan(a, &v, &f)) {
		p->st.rx_truncated++;
		return;
	}
	/* A frame cut by the slot still goes to the callback: only the
	 * bridge knows by which port it would have left (io_port.h). */
	fn(arg, p, &f);
}

static uint32_t slot_status(const uint8_t *slot)
{
	const struct tpacket2_hdr *h = (const struct tpacket2_hdr *)slot;

	return __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
}

static uint8_t *slot_at(struct moat_io_afpacket *a, uint32_t i)
{
	return a->ring + (size_t)i * a->slot_size;
}

/*
 * Slots still waiting after a batch.  The kernel fills slots in order and
 * we give them back in order, so the slots ours from @cur on form one run:
 * a bisection finds its end with a handful of loads (to 1/64 of the ring).
 */
static uint32_t ring_waiting(struct moat_io_afpacket *a)
{
	uint32_t lo = 0, hi = 64;   /* in 64ths of the ring */

	while (lo < hi) {
		uint32_t mid = (lo + hi + 1) / 2;
		uint32_t k = (uint32_t)((uint64_t)a->slot_count * mid / 64);

		if (k == 0 ||
		    (slot_status(slot_at(a, (a->cur + k - 1) % a->slot_count)) &
		     TP_STATUS_USER))
			lo = mid;
		else
			hi = mid - 1;
	}
	return (uint32_t)((uint64_t)a->slot_count * lo / 64);
}

static uint32_t afp_rx(struct moat_io_port *p, moat_io_rx_fn fn, void *arg,
		       struct moat_io_port *const *flush, int nflush,
		       uint32_t budget)
{
	struct moat_io_afpacket *a = AFP(p);
	uint32_t start = a->cur, n = 0;

	if (budget > MOAT_IO_RX_BATCH)
		budget = MOAT_IO_RX_BATCH;
	while (n < budget && n < a->slot_count) {
		uint8_t *slot = slot_at(a, (start + n) % a->slot_count);

		if (!(slot_status(slot) & TP_STATUS_USER))
			break;
		take_slot(a, slot, n == 0, fn, arg);
		n++;
	}
	if (n == 0)
		return 0;
	/* Queued frames may point into these slots: send them before the
	 * kernel may overwrite them. */
	for (int i = 0; i < nflush; i++)
		moat_io_port_flush(flush[i]);
	for (uint32_t i = 0; i < n; i++) {
		struct tpacket2_hdr *h =
			(void *)slot_at(a, (start + i) % a->slot_count);

		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL,
				 __ATOMIC_RELEASE);
	}
	a->cur = (start + n) % a->slot_count;
	p->st.rx_batches++;
	/* A short batch emptied the ring; a full one may have left more. */
	p->st.ring_used = n == budget ? ring_waiting(a) : 0;
	return n;
}

static void afp_forward(struct moat_io_port *out, struct moat_io_port *in,
			struct moat_io_rxframe *f)
{
	(void)in;
	/* By reference into the ring, or by copy when the frame is in the
	 * receiving port's scratch buffer, which the next frame reuses. */
	if (f->copied)
		moat_io_txq_add_copy(&AFP(out)->txq, f->data, f->caplen);
	else
		moat_io_txq_add(&AFP(out)->txq, f->data, f->caplen);
}

static void afp_send(struct moat_io_port *out, const uint8_t *data,
		     uint32_t len)
{
	moat_io_txq_add_copy(&AFP(out)->txq, data, len);
}

static bool afp_flush(struct moat_io_port *p)
{
	moat_io_txq_flush(&AFP(p)->txq);
	return false;
}

static void afp_poll_stats(struct moat_io_port *p)
{
	struct tpacket_stats ts;
	socklen_t len = sizeof(ts);

	if (p->fd < 0)
		return;
	/* Reading the statistics resets them in the kernel: accumulate. */
	if (getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &ts, &len) == 0)
		p->st.kernel_drops += ts.tp_drops;
}

static void afp_close(struct moat_io_port *p)
{
	struct moat_io_afpacket *a = AFP(p);

	if (a->ring && a->ring_mapped)
		munmap(a->ring, a->ring_len);
	a->ring = NULL;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (a->owned)
		free(a);
}

static const struct moat_io_port_ops afp_ops = {
	.rx = afp_rx, .forward = afp_forward, .send = afp_send,
	.flush = afp_flush, .poll_stats = afp_poll_stats, .close = afp_close,
};

/* ---- opening a port ------------------------------------------------------ */

static int set_int(int fd, int opt, int val)
{
	return setsockopt(fd, SOL_PACKET, opt, &val, sizeof(val)) < 0 ? -errno : 0;
}

static int setup_ring(struct moat_io_afpacket *a)
{
	uint32_t slot = moat_io_afpacket_slot_size(a->port.mtu);
	uint32_t block = slot > MOAT_IO_RING_BLOCK ? slot : MOAT_IO_RING_BLOCK;
	struct tpacket_req req = {
		.tp_block_size = block,
		.tp_block_nr = MOAT_IO_RING_BYTES / block,
		.tp_frame_size = slot,
		.tp_frame_nr = (block / slot) * (MOAT_IO_RING_BYTES / block),
	};
	int r = set_int(a->port.fd, PACKET_VERSION, TPACKET_V2);

	if (r < 0)
		return r;
	if (setsockopt(a->port.fd, SOL_PACKET, PACKET_RX_RING, &req,
		       sizeof(req)) < 0)
		return -errno;
	a->slot_size = slot;
	a->slot_count = req.tp_frame_nr;
	a->port.st.ring_size = a->slot_count;
	a->ring_len = (size_t)req.tp_block_size * req.tp_block_nr;
	a->ring = mmap(NULL, a->ring_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_LOCKED | MAP_POPULATE, a->port.fd, 0);
	if (a->ring == MAP_FAILED) {
		/* MAP_LOCKED may exceed RLIMIT_MEMLOCK: try without. */
		a->ring = mmap(NULL, a->ring_len, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_POPULATE, a->port.fd, 0);
		if (a->ring == MAP_FAILED) {
			a->ring = NULL;
			return -errno;
		}
	}
	a->ring_mapped = true;
	return 0;
}

static int bind_port(struct moat_io_afpacket *a)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = a->port.ifindex,
	};
	struct packet_mreq mr = {
		.mr_ifindex = a->port.ifindex,
		.mr_type = PACKET_MR_PROMISC,
	};

	if (bind(a->port.fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -errno;
	if (setsockopt(a->port.fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
		       sizeof(mr)) < 0)
		return -errno;
	return 0;
}

static void init_common(struct moat_io_afpacket *a)
{
	a->port.ops = &afp_ops;
	a->port.backend = MOAT_IO_AFPACKET;
	snprintf(a->port.mode, sizeof(a->port.mode), "afpacket-v2");
	a->txq.st = &a->port.tx;
}

int moat_io_afpacket_open(struct moat_io_port **out, const char *ifname,
			  const char **what)
{
	struct moat_io_afpacket *a = calloc(1, sizeof(*a));
	int r;

	*out = NULL;
	*what = "memory";
	if (!a)
		return -ENOMEM;
	init_common(a);
	a->owned = true;
	/* Protocol 0: the socket receives nothing until bind() names the
	 * interface, so no other interface's frame lands in the ring. */
	*what = "socket";
	a->port.fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (a->port.fd < 0) {
		r = -errno;
		free(a);
		return r;
	}
	a->txq.fd = a->port.fd;
	*what = "interface";
	r = moat_io_port_init(&a->port, ifname, a->port.fd);
	if (r < 0)
		goto fail;
	*what = "rx ring";
	r = setup_ring(a);
	if (r < 0)
		goto fail;
	/* Our own transmissions must not come back into our ring. */
	*what = "PACKET_IGNORE_OUTGOING";
	r = set_int(a->port.fd, PACKET_IGNORE_OUTGOING, 1);
	if (r < 0)
		goto fail;
	/* Best effort: skipping the qdisc saves a lock per frame. */
	set_int(a->port.fd, PACKET_QDISC_BYPASS, 1);
	*what = "bind/promisc";
	r = bind_port(a);
	if (r < 0)
		goto fail;
	*out = &a->port;
	return 0;
fail:
	afp_close(&a->port);
	return r;
}

void moat_io_afpacket_init_mem(struct moat_io_afpacket *a, void *ring,
			       uint32_t size, uint32_t count, int tx_fd,
			       uint32_t mtu)
{
	memset(a, 0, sizeof(*a));
	init_common(a);
	snprintf(a->port.ifname, sizeof(a->port.ifname), "mem");
	a->port.fd = -1;
	a->ring = ring;
	a->slot_size = size;
	a->slot_count = count;
	a->port.st.ring_size = count;
	a->ring_len = (size_t)size * count;
	a->port.mtu = mtu;
	a->port.max_len = mtu + MOAT_IO_L2_OVERHEAD;
	a->txq.fd = tx_fd;
}
