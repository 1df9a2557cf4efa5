/*
 * AF_PACKET ports: the live backend's receive rings and batched transmit.
 *
 * On the packet's path this is the very first and the very last step of
 * `moat run`: a port owns one interface's PF_PACKET socket with a TPACKET_V3
 * receive ring (mmap'ed, the kernel fills whole blocks of frames and hands
 * each block over at once) and a transmit queue that sends with sendmmsg(2),
 * one system call per batch.  The bridge (io_bridge.h) hands every received
 * frame to the engine and queues those that pass on the other port.
 *
 * Why sendmmsg and not a TX_RING: inside a network namespace the socket
 * buffer limits are read-only and TX_RING flushing fails there with EAGAIN
 * (LAB-NOTES.md, trafgen); sendmmsg batches just as well for our frame
 * rates and needs no second mapping.
 *
 * Ownership: a block belongs to user space from the moment its status says
 * TP_STATUS_USER until moat_io_port_rx() gives it back; frames queued for
 * transmit may point into it (zero copy), so every transmit queue that may
 * hold such pointers is flushed before the block is returned.
 */
#ifndef MOAT_IO_AFPACKET_H
#define MOAT_IO_AFPACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "moat/emit.h"

enum {
	/* The ring's depth in time is what matters: a block is handed over
	 * full or after MOAT_IO_BLOCK_TIMEOUT_MS, so at moderate rates each
	 * block carries only a millisecond of traffic.  Measured in the lab:
	 * 64 blocks (64 ms at 50 kpps) overflowed whenever moat lost its CPU
	 * for a moment.  256 blocks of 128 KiB (32 MiB per port) hold at
	 * least 256 ms at any rate up to about 250 kpps of SYNs, and a block
	 * still fits a 64 KiB super-frame whole, so it is counted oversize
	 * rather than truncated. */
	MOAT_IO_BLOCK_SIZE = 1 << 17,
	MOAT_IO_BLOCK_COUNT = 256,
	MOAT_IO_FRAME_SIZE = 2048,
	/* A block is handed over when full or after this many ms, so a
	 * lone SYN waits at most this long in the ring. */
	MOAT_IO_BLOCK_TIMEOUT_MS = 1,
	/* Frames per sendmmsg call. */
	MOAT_IO_TX_BATCH = 64,
	/* Blocks taken per port per loop turn, so one busy port cannot
	 * starve the other or the control socket. */
	MOAT_IO_RX_BUDGET = 8,
	/* The Ethernet header plus one VLAN tag on top of the MTU. */
	MOAT_IO_L2_OVERHEAD = 18,
};

/* One received frame, borrowed from a ring block. */
struct moat_io_rxframe {
	uint8_t *data;
	uint32_t caplen;
	uint32_t wirelen;
	uint32_t status;   /* TP_STATUS_* of the frame (CSUMNOTREADY, VLAN...) */
	uint16_t vlan_tci, vlan_tpid; /* when status has TP_STATUS_VLAN_VALID */
	uint32_t ts_sec, ts_nsec;     /* kernel receive time, CLOCK_REALTIME */
	bool copied;       /* data is the port's scratch buffer (VLAN tag put
			    * back): queue it with moat_io_txq_add_copy */
};

/*
 * Walks the frames of one TPACKET_V3 block.  Every offset the kernel wrote
 * is checked against the block size before it is followed, and the walk
 * stops after the block's num_pkts frames, so a corrupt block can cost at
 * most one block's worth of bad frames, never a read outside it.
 */
struct moat_io_block_iter {
	uint8_t *block;
	uint32_t size;
	uint32_t left;     /* frames still to visit */
	uint32_t off;      /* offset of the next frame header, 0 = none */
	uint32_t bad;      /* frames skipped because their offsets were wrong */
};

/* Returns the number of frames the block claims, or -1 if its header is bad. */
int moat_io_block_begin(struct moat_io_block_iter *it, void *block,
			uint32_t size);
bool moat_io_block_next(struct moat_io_block_iter *it,
			struct moat_io_rxframe *f);

struct moat_io_txq_stats {
	uint64_t packets, bytes;
	uint64_t errors;     /* frames sendmmsg did not take */
	uint64_t oversize;   /* longer than MTU + L2 header: cannot be sent */
	uint64_t calls;      /* sendmmsg system calls */
};

/* The transmit queue of one port: a batch of frames for one sendmmsg. */
struct moat_io_txq {
	int fd;                 /* borrowed from the port */
	uint32_t max_len;       /* MTU + MOAT_IO_L2_OVERHEAD */
	uint32_t n;
	struct moat_io_txq_stats st;
	struct mmsghdr msg[MOAT_IO_TX_BATCH];
	struct iovec iov[MOAT_IO_TX_BATCH];
	uint8_t stage[MOAT_IO_TX_BATCH][MOAT_EMIT_FRAME_MAX];
};

/* Queue a frame by reference: @data must stay valid until the next flush. */
void moat_io_txq_add(struct moat_io_txq *q, uint8_t *data, uint32_t len);
/* Queue a copy of a frame (emitted frames, whose buffer is reused). */
void moat_io_txq_add_copy(struct moat_io_txq *q, const uint8_t *data,
			  uint32_t len);
/* Send everything queued; frames the kernel refuses are counted. */
void moat_io_txq_flush(struct moat_io_txq *q);

struct moat_io_port_stats {
	uint64_t rx_packets, rx_bytes, rx_blocks;
	uint64_t rx_bad;          /* frames with offsets outside their block */
	uint64_t rx_truncated;    /* caplen < wirelen: cannot be forwarded */
	uint64_t rx_csum_partial; /* TP_STATUS_CSUMNOTREADY: offload still on */
	uint64_t kernel_drops;    /* ring full (PACKET_STATISTICS tp_drops) */
	uint64_t rx_vlan;         /* VLAN tags put back from the metadata */
	/* How long frames waited in the ring: from the kernel's receive
	 * timestamp of a block's first (oldest) frame to moat taking it. */
	uint64_t delay_sum_ns, delay_blocks, delay_max_ns;
	uint64_t delay_last_ns;   /* age of the last block's oldest frame */
};

/* Super-frame offloads found on at start (bit set = on). */
enum moat_io_offload { MOAT_IO_OFF_GRO = 1, MOAT_IO_OFF_GSO = 2,
		       MOAT_IO_OFF_TSO = 4 };

struct moat_io_port {
	char ifname[16];
	int ifindex;
	int fd;
	uint32_t mtu;
	unsigned offloads;        /* enum moat_io_offload bits */
	uint8_t *ring;            /* block_count * block_size bytes */
	size_t ring_len;
	bool ring_mapped;         /* munmap on close (false in tests) */
	uint32_t block_size, block_count, cur;
	struct moat_io_port_stats st;
	struct moat_io_txq tx;
	/* The kernel strips a VLAN tag into the frame's metadata; the tag is
	 * put back here so the engine and the other side see the frame as it
	 * was on the wire. */
	uint8_t scratch[MOAT_EMIT_FRAME_MAX];
};

/*
 * Open @ifname: PF_PACKET socket bound to it, TPACKET_V3 RX ring,
 * promiscuous, PACKET_IGNORE_OUTGOING, qdisc bypass.  Reads the MTU and
 * the GRO/GSO/TSO state (SIOCETHTOOL).  @p is caller storage (it is large:
 * keep it off the stack).  Returns 0 or a negative errno; @what names the
 * step that failed.
 */
int moat_io_port_open(struct moat_io_port *p, const char *ifname,
		      const char **what);
void moat_io_port_close(struct moat_io_port *p);

/*
 * For tests: a port over caller memory (@ring of @count blocks of @size)
 * that transmits on @tx_fd (any socket that takes datagrams).
 */
void moat_io_port_init_mem(struct moat_io_port *p, void *ring, uint32_t size,
			   uint32_t count, int tx_fd, uint32_t mtu);

/* Called for each received frame; may queue it on any port's tx queue. */
typedef void (*moat_io_rx_fn)(void *arg, struct moat_io_port *in,
			      struct moat_io_rxframe *f);

/*
 * Take up to @budget blocks the kernel has filled, call @fn for every frame,
 * flush the @nflush transmit queues in @flush (those @fn may have queued
 * frames of this port on), and give each block back.  Returns the number
 * of frames seen.
 */
uint32_t moat_io_port_rx(struct moat_io_port *p, moat_io_rx_fn fn, void *arg,
			 struct moat_io_port *const *flush, int nflush,
			 uint32_t budget);

/* Refresh st.kernel_drops from the socket (control plane). */
void moat_io_port_poll_stats(struct moat_io_port *p);

#endif
