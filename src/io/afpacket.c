/*
 * AF_PACKET ports: TPACKET_V3 receive rings and sendmmsg transmit batches.
 *
 * The first and last step of the live packet path.  The kernel fills ring
 * blocks with frames and flips each block's status to TP_STATUS_USER; we
 * walk the block (every offset bounds-checked: the ring is shared memory),
 * hand each frame to the bridge's callback, flush the transmit batches that
 * may point into the block, and give the block back.  See
 * Documentation/networking/packet_mmap.rst for the ring protocol.
 */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "moat/io_afpacket.h"

/* ---- walking one block --------------------------------------------------- */

int moat_io_block_begin(struct moat_io_block_iter *it, void *block,
			uint32_t size)
{
	const struct tpacket_block_desc *bd = block;
	uint32_t first;

	memset(it, 0, sizeof(*it));
	it->block = block;
	it->size = size;
	if (size < sizeof(*bd))
		return -1;
	first = bd->hdr.bh1.offset_to_first_pkt;
	it->left = bd->hdr.bh1.num_pkts;
	if (it->left == 0)
		return 0;
	if (first < sizeof(*bd) || first >= size) {
		it->bad = it->left;
		it->left = 0;
		return -1;
	}
	it->off = first;
	return (int)it->left;
}

/* The rest of the block cannot be trusted: count it and stop. */
static bool give_up(struct moat_io_block_iter *it)
{
	it->bad += it->left;
	it->left = 0;
	return false;
}

bool moat_io_block_next(struct moat_io_block_iter *it,
			struct moat_io_rxframe *f)
{
	const struct tpacket3_hdr *h;
	uint64_t end;

	if (it->left == 0)
		return false;
	if ((uint64_t)it->off + sizeof(*h) > it->size)
		return give_up(it);
	h = (const struct tpacket3_hdr *)(it->block + it->off);
	end = (uint64_t)it->off + h->tp_mac + h->tp_snaplen;
	if (h->tp_mac < sizeof(*h) || end > it->size)
		return give_up(it);

	f->data = it->block + it->off + h->tp_mac;
	f->caplen = h->tp_snaplen;
	f->wirelen = h->tp_len;
	f->status = h->tp_status;
	f->vlan_tci = h->hv1.tp_vlan_tci;
	f->vlan_tpid = h->hv1.tp_vlan_tpid;
	f->ts_sec = h->tp_sec;
	f->ts_nsec = h->tp_nsec;
	f->copied = false;

	it->left--;
	if (it->left > 0) {
		/* Each next offset must move forward inside the block, so
		 * the walk ends after at most num_pkts steps either way. */
		uint64_t next = (uint64_t)it->off + h->tp_next_offset;

		if (h->tp_next_offset == 0 || next >= it->size)
			give_up(it);
		else
			it->off = (uint32_t)next;
	}
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
	if (len > q->max_len) {
		q->st.oversize++;
		return;
	}
	if (q->n == MOAT_IO_TX_BATCH)
		moat_io_txq_flush(q);
	txq_push(q, data, len);
}

void moat_io_txq_add_copy(struct moat_io_txq *q, const uint8_t *data,
			  uint32_t len)
{
	if (len > q->max_len || len > MOAT_EMIT_FRAME_MAX) {
		q->st.oversize++;
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

		q->st.calls++;
		if (r < 0) {
			if (errno == EINTR && eintr++ < 3)
				continue;
			q->st.errors++;
			sent++;
			continue;
		}
		for (int i = 0; i < r; i++)
			q->st.bytes += q->iov[sent + i].iov_len;
		q->st.packets += (uint64_t)r;
		sent += (uint32_t)r;
	}
	q->n = 0;
}

/* ---- opening a port ------------------------------------------------------ */

static int set_int(int fd, int opt, int val)
{
	return setsockopt(fd, SOL_PACKET, opt, &val, sizeof(val)) < 0 ? -errno : 0;
}

static int ifreq_ioctl(int fd, const char *ifname, unsigned long req,
		       struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	return ioctl(fd, req, ifr) < 0 ? -errno : 0;
}

static bool ethtool_get(int fd, const char *ifname, uint32_t cmd)
{
	struct ethtool_value ev = { .cmd = cmd };
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		return false;
	return ev.data != 0;
}

static void read_link(struct moat_io_port *p)
{
	struct ifreq ifr;

	p->mtu = 1500;
	if (ifreq_ioctl(p->fd, p->ifname, SIOCGIFMTU, &ifr) == 0)
		p->mtu = (uint32_t)ifr.ifr_mtu;
	p->offloads = 0;
	if (ethtool_get(p->fd, p->ifname, ETHTOOL_GGRO))
		p->offloads |= MOAT_IO_OFF_GRO;
	if (ethtool_get(p->fd, p->ifname, ETHTOOL_GGSO))
		p->offloads |= MOAT_IO_OFF_GSO;
	if (ethtool_get(p->fd, p->ifname, ETHTOOL_GTSO))
		p->offloads |= MOAT_IO_OFF_TSO;
	p->tx.max_len = p->mtu + MOAT_IO_L2_OVERHEAD;
}

static int setup_ring(struct moat_io_port *p)
{
	struct tpacket_req3 req = {
		.tp_block_size = MOAT_IO_BLOCK_SIZE,
		.tp_block_nr = MOAT_IO_BLOCK_COUNT,
		.tp_frame_size = MOAT_IO_FRAME_SIZE,
		.tp_frame_nr = (MOAT_IO_BLOCK_SIZE / MOAT_IO_FRAME_SIZE) *
			       MOAT_IO_BLOCK_COUNT,
		.tp_retire_blk_tov = MOAT_IO_BLOCK_TIMEOUT_MS,
	};
	int r = set_int(p->fd, PACKET_VERSION, TPACKET_V3);

	if (r < 0)
		return r;
	if (setsockopt(p->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0)
		return -errno;
	p->block_size = req.tp_block_size;
	p->block_count = req.tp_block_nr;
	p->ring_len = (size_t)p->block_size * p->block_count;
	p->ring = mmap(NULL, p->ring_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_LOCKED | MAP_POPULATE, p->fd, 0);
	if (p->ring == MAP_FAILED) {
		/* MAP_LOCKED may exceed RLIMIT_MEMLOCK: try without. */
		p->ring = mmap(NULL, p->ring_len, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_POPULATE, p->fd, 0);
		if (p->ring == MAP_FAILED) {
			p->ring = NULL;
			return -errno;
		}
	}
	p->ring_mapped = true;
	return 0;
}

static int bind_port(struct moat_io_port *p)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = p->ifindex,
	};
	struct packet_mreq mr = {
		.mr_ifindex = p->ifindex,
		.mr_type = PACKET_MR_PROMISC,
	};

	if (bind(p->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -errno;
	if (setsockopt(p->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
		       sizeof(mr)) < 0)
		return -errno;
	return 0;
}

int moat_io_port_open(struct moat_io_port *p, const char *ifname,
		      const char **what)
{
	int r;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	*what = "interface";
	p->ifindex = (int)if_nametoindex(ifname);
	if (p->ifindex == 0)
		return -ENODEV;
	/* Protocol 0: the socket receives nothing until bind() names the
	 * interface, so no other interface's frame lands in the ring. */
	*what = "socket";
	p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		return -errno;
	p->tx.fd = p->fd;
	*what = "rx ring";
	r = setup_ring(p);
	if (r < 0)
		goto fail;
	/* Our own transmissions must not come back into our ring. */
	*what = "PACKET_IGNORE_OUTGOING";
	r = set_int(p->fd, PACKET_IGNORE_OUTGOING, 1);
	if (r < 0)
		goto fail;
	/* Best effort: skipping the qdisc saves a lock per frame. */
	set_int(p->fd, PACKET_QDISC_BYPASS, 1);
	*what = "bind/promisc";
	r = bind_port(p);
	if (r < 0)
		goto fail;
	read_link(p);
	return 0;
fail:
	moat_io_port_close(p);
	return r;
}

void moat_io_port_close(struct moat_io_port *p)
{
	if (p->ring && p->ring_mapped)
		munmap(p->ring, p->ring_len);
	p->ring = NULL;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

void moat_io_port_init_mem(struct moat_io_port *p, void *ring, uint32_t size,
			   uint32_t count, int tx_fd, uint32_t mtu)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->ifname, sizeof(p->ifname), "mem");
	p->fd = -1;
	p->ring = ring;
	p->block_size = size;
	p->block_count = count;
	p->ring_len = (size_t)size * count;
	p->mtu = mtu;
	p->tx.fd = tx_fd;
	p->tx.max_len = mtu + MOAT_IO_L2_OVERHEAD;
}

/* ---- receiving ----------------------------------------------------------- */

/*
 * Put a VLAN tag the kernel moved into the metadata back between the MAC
 * addresses and the EtherType (IEEE 802.1Q), in the port's scratch buffer.
 * False if the frame is too short or would not fit: it is then counted
 * truncated and not forwarded, since it cannot be sent as it was.
 */
static bool restore_vlan(struct moat_io_port *p, struct moat_io_rxframe *f)
{
	uint16_t tpid = (f->status & TP_STATUS_VLAN_TPID_VALID) && f->vlan_tpid
				? f->vlan_tpid : 0x8100;
	uint8_t *d = p->scratch;

	if (f->caplen < 14 || f->caplen + 4 > sizeof(p->scratch))
		return false;
	memcpy(d, f->data, 12);
	d[12] = (uint8_t)(tpid >> 8);
	d[13] = (uint8_t)tpid;
	d[14] = (uint8_t)(f->vlan_tci >> 8);
	d[15] = (uint8_t)f->vlan_tci;
	memcpy(d + 16, f->data + 12, f->caplen - 12);
	f->data = d;
	f->caplen += 4;
	f->wirelen += 4;
	f->copied = true;
	p->st.rx_vlan++;
	return true;
}

/* The age of a block's oldest frame.  The kernel stamps frames with
 * CLOCK_REALTIME (nanoseconds in TPACKET_V3); a clock step shows up as
 * one outlier in a statistic, never in a verdict. */
static void ring_delay(struct moat_io_port *p, const struct moat_io_rxframe *f)
{
	struct timespec now;
	int64_t d;

	if (f->ts_sec == 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	d = ((int64_t)now.tv_sec - f->ts_sec) * 1000000000 +
	    ((int64_t)now.tv_nsec - f->ts_nsec);
	if (d < 0)
		return;
	p->st.delay_sum_ns += (uint64_t)d;
	p->st.delay_last_ns = (uint64_t)d;
	p->st.delay_blocks++;
	if ((uint64_t)d > p->st.delay_max_ns)
		p->st.delay_max_ns = (uint64_t)d;
}

static void walk_block(struct moat_io_port *p, struct tpacket_block_desc *bd,
		       moat_io_rx_fn fn, void *arg)
{
	struct moat_io_block_iter it;
	struct moat_io_rxframe f;

	bool first = true;

	p->st.rx_blocks++;
	moat_io_block_begin(&it, bd, p->block_size);
	while (moat_io_block_next(&it, &f)) {
		if (first)
			ring_delay(p, &f);
		first = false;
		p->st.rx_packets++;
		p->st.rx_bytes += f.wirelen;
		if (f.status & TP_STATUS_CSUMNOTREADY)
			p->st.rx_csum_partial++;
		if ((f.status & TP_STATUS_VLAN_VALID) && f.caplen == f.wirelen &&
		    !restore_vlan(p, &f)) {
			p->st.rx_truncated++;
			continue;
		}
		if (f.caplen < f.wirelen) {
			/* Never silent: counted, and not forwarded cut. */
			p->st.rx_truncated++;
			continue;
		}
		fn(arg, p, &f);
	}
	p->st.rx_bad += it.bad;
}

uint32_t moat_io_port_rx(struct moat_io_port *p, moat_io_rx_fn fn, void *arg,
			 struct moat_io_port *const *flush, int nflush,
			 uint32_t budget)
{
	uint64_t before = p->st.rx_packets;

	for (uint32_t b = 0; b < budget; b++) {
		struct tpacket_block_desc *bd =
			(void *)(p->ring + (size_t)p->cur * p->block_size);

		if (!(__atomic_load_n(&bd->hdr.bh1.block_status,
				      __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			break;
		walk_block(p, bd, fn, arg);
		/* Queued frames may point into this block: send them
		 * before the kernel may overwrite it. */
		for (int i = 0; i < nflush; i++)
			moat_io_txq_flush(&flush[i]->tx);
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL,
				 __ATOMIC_RELEASE);
		p->cur = (p->cur + 1) % p->block_count;
	}
	return (uint32_t)(p->st.rx_packets - before);
}

void moat_io_port_poll_stats(struct moat_io_port *p)
{
	struct tpacket_stats_v3 ts;
	socklen_t len = sizeof(ts);

	if (p->fd < 0)
		return;
	/* Reading the statistics resets them in the kernel: accumulate. */
	if (getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &ts, &len) == 0)
		p->st.kernel_drops += ts.tp_drops;
}
