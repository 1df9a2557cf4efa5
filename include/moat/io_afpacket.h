/*
 * AF_PACKET ports: TPACKET_V2 receive rings and batched sendmmsg transmit.
 *
 * The fallback backend of `moat run` (io_port.h), for interfaces where
 * AF_XDP cannot attach.  A port owns one interface's PF_PACKET socket with
 * a TPACKET_V2 receive ring: an array of fixed-size frame slots, mmap'ed,
 * each with its own status word.  The kernel hands every frame over the
 * moment it is written and wakes the poller; TPACKET_V3 instead hands
 * whole blocks over when they are full or when a timer fires (at best one
 * jiffy), and that timer was the idle latency of every frame crossing a
 * quiet gateway.  V2 costs a slot per frame whatever its size, so the ring
 * is deep in frames, not bytes: MOAT_IO_RING_BYTES / slot size.
 *
 * Transmit is a queue of frames for one sendmmsg(2) per batch.  Why not a
 * TX_RING: inside a network namespace the socket buffer limits are
 * read-only and TX_RING flushing fails there with EAGAIN (trafgen in the
 * lab); sendmmsg batches just as well and needs no second mapping.
 *
 * Ownership: a slot belongs to user space from the moment its status says
 * TP_STATUS_USER until the rx call that took it returns; frames forwarded
 * by reference point into it, so the rx call sends every transmit queue
 * that may hold such pointers before it gives the slots back.
 */
#ifndef MOAT_IO_AFPACKET_H
#define MOAT_IO_AFPACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "moat/emit.h"
#include "moat/io_port.h"

enum {
	/* 16384 slots of 2 KiB at a 1500-byte MTU.  A slot holds one frame,
	 * so the ring's depth in time is its slots over the rate moat
	 * drains them: 330 ms at 50k frames a second, past the 250 ms after
	 * which the bridge sheds load (io_bridge.h). */
	MOAT_IO_RING_BYTES = 32 << 20,
	MOAT_IO_RING_BLOCK = 1 << 17,   /* slots never straddle a block */
	MOAT_IO_SLOT_MIN = 2048,
	/* Slot room before the frame: the tpacket2_hdr, the sockaddr_ll the
	 * kernel puts after it, alignment (packet_mmap.rst). */
	MOAT_IO_SLOT_HEADROOM = 128,
};

/* The slot size for an MTU: the smallest power of two that holds an
 * MTU-sized frame with its tag and headers, at least MOAT_IO_SLOT_MIN.
 * Only super-frames (GRO/TSO) are cut, and cut frames are counted. */
uint32_t moat_io_afpacket_slot_size(uint32_t mtu);

/* One slot as the kernel described it, every field checked. */
struct moat_io_v2_frame {
	uint8_t *data;
	uint32_t caplen, wirelen;
	uint32_t status;              /* TP_STATUS_* */
	uint16_t vlan_tci, vlan_tpid; /* when status has TP_STATUS_VLAN_VALID */
	uint32_t ts_sec, ts_nsec;     /* kernel receive time, CLOCK_REALTIME */
};

/*
 * Read the tpacket2_hdr at @slot (@size bytes).  False if its offsets point
 * outside the slot or claim more bytes than the wire had: the ring is
 * shared memory, nothing in it is followed unchecked.
 */
bool moat_io_v2_frame(uint8_t *slot, uint32_t size, struct moat_io_v2_frame *f);

/* The transmit queue of one port: a batch of frames for one sendmmsg. */
struct moat_io_txq {
	int fd;                     /* borrowed from the port */
	uint32_t n;
	struct moat_io_tx_stats *st; /* the port's */
	struct mmsghdr msg[MOAT_IO_TX_BATCH];
	struct iovec iov[MOAT_IO_TX_BATCH];
	uint8_t stage[MOAT_IO_TX_BATCH][MOAT_EMIT_FRAME_MAX];
};

/* Queue a frame by reference: @data must stay valid until the next flush. */
void moat_io_txq_add(struct moat_io_txq *q, uint8_t *data, uint32_t len);
/* Queue a copy (at most MOAT_EMIT_FRAME_MAX bytes, else counted oversize). */
void moat_io_txq_add_copy(struct moat_io_txq *q, const uint8_t *data,
			  uint32_t len);
/* Send everything queued; frames the kernel refuses are counted. */
void moat_io_txq_flush(struct moat_io_txq *q);

struct moat_io_afpacket {
	struct moat_io_port port;   /* first: the generic part */
	uint8_t *ring;              /* slot_count * slot_size bytes */
	size_t ring_len;
	bool ring_mapped;           /* munmap on close (false in tests) */
	bool owned;                 /* free on close (false in tests) */
	uint32_t slot_size, slot_count, cur;
	struct moat_io_txq txq;
	/* The kernel strips a VLAN tag into the frame's metadata; the tag is
	 * put back here so the engine and the other side see the frame as it
	 * was on the wire. */
	uint8_t scratch[MOAT_EMIT_FRAME_MAX + 4];
};

/*
 * Open @ifname: PF_PACKET socket bound to it, TPACKET_V2 RX ring,
 * promiscuous, PACKET_IGNORE_OUTGOING, qdisc bypass.  Reads the MTU and
 * the GRO/GSO/TSO state.  Returns 0 and the port in @out, or a negative
 * errno with the step that failed in @what.
 */
int moat_io_afpacket_open(struct moat_io_port **out, const char *ifname,
			  const char **what);

/*
 * For tests: a port over caller memory (@ring of @count slots of @size
 * bytes) that transmits on @tx_fd (any socket that takes datagrams).
 * moat_io_port_close() on it frees nothing.
 */
void moat_io_afpacket_init_mem(struct moat_io_afpacket *a, void *ring,
			       uint32_t size, uint32_t count, int tx_fd,
			       uint32_t mtu);

#endif
