/*
 * AF_XDP ports: the fast backend of `moat run` (io_port.h).
 *
 * An XDP program on the interface redirects frames into AF_XDP sockets
 * (one per receive queue of the interface, through an XSKMAP); each socket
 * has four rings over one UMEM, a region of fixed-size frames in our
 * memory:
 *
 *            fill (we give empty frames)  --> kernel writes a frame
 *   kernel   rx   (frames received)       --> moat: engine, then...
 *            tx   (frames to send)        <-- forward: the same frame
 *            comp (frames sent, reusable) --> back to the free pool
 *
 * Both ports of the bridge share one UMEM, so a frame received on one side
 * is sent on the other by putting its address in the other port's TX ring:
 * no copy in user space (tx.zerocopy counts them).  On a NIC whose driver
 * has AF_XDP zero-copy, no copy at all; elsewhere (veth) the kernel copies
 * once on the way in and once on the way out ("xdp-copy" mode).  Emitted
 * frames are copied into a free frame.  Where the two interfaces cannot
 * share a UMEM, each port has its own and a forward is one copy.
 *
 * need_wakeup: the kernel says in each ring's flags whether it needs a
 * system call to go on (a sendto() to transmit, a recvfrom() to use new
 * fill entries); without it a zero-copy driver works with no system call.
 *
 * Ring delay: AF_XDP descriptors carry no timestamp.  A batch's oldest
 * frame arrived after the ring was last seen drained (a short batch), so
 * that time bounds its age; after a call that found the ring empty (the
 * loop may have slept since) a batch counts as fresh.  Under overload the
 * ring never drains and the bound grows, which is what the bridge's load
 * shedding watches (io_bridge.h).
 *
 * The XDP program: a port takes the fd of an XSKMAP some program on the
 * interface already redirects through (moat's own XDP program, key = a
 * base plus the queue number), or, given -1, has libxdp load its default
 * program (redirect every frame of a queue with a socket) in native (driver)
 * mode and detaches it at close.  Generic (skb) XDP is not used: it would
 * be slower than AF_PACKET, which is the fallback.
 */
#ifndef MOAT_IO_AFXDP_H
#define MOAT_IO_AFXDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moat/io_port.h"

enum {
	/* Descriptors in each of the four rings of a socket (powers of two). */
	MOAT_IO_XSK_RING = 2048,
	/* UMEM frames per socket: a full fill ring plus as many in the rx
	 * and tx rings and the free pool. */
	MOAT_IO_XSK_FRAMES_PER_QUEUE = 2 * MOAT_IO_XSK_RING,
	/* Sockets (receive queues) per port. */
	MOAT_IO_XSK_MAX_QUEUES = 16,
	/* The kernel puts received frames this far into their UMEM frame in
	 * copy mode (XDP_PACKET_HEADROOM). */
	MOAT_IO_XSK_HEADROOM = 256,
};

/* The frame size for an MTU: 2048 or 4096 bytes; 0 if an MTU-sized frame
 * with its tag does not fit a 4096-byte frame past the headroom (AF_XDP
 * without multi-buffer frames cannot carry it). */
uint32_t moat_io_afxdp_frame_size(uint32_t mtu);

/* A UMEM shared by ports: memory, the free frame pool, the mode its first
 * socket chose.  Reference-counted: each port holds one. */
struct moat_io_xsk_umem;

/* @frames frames of @frame_size bytes.  0 or -errno. */
int moat_io_xsk_umem_create(struct moat_io_xsk_umem **out, uint32_t frames,
			    uint32_t frame_size);
/* Drops the caller's reference (accepts NULL). */
void moat_io_xsk_umem_unref(struct moat_io_xsk_umem *u);

struct moat_io_afxdp_conf {
	struct moat_io_xsk_umem *umem;  /* borrowed; NULL: one of its own */
	int xsks_map_fd;                /* -1: libxdp's default program */
	uint32_t map_key_base;          /* socket of queue q at key base + q */
	bool copy_only;                 /* never ask for zero-copy */
};

/*
 * Open @ifname: attach libxdp's program if asked, one socket per receive
 * queue, fill rings stocked, the sockets entered in the XSKMAP.  Returns 0
 * and the port in @out, or a negative errno with the step that failed in
 * @what (moat_io_afxdp_why turns the pair into words).
 */
int moat_io_afxdp_open(struct moat_io_port **out, const char *ifname,
		       const struct moat_io_afxdp_conf *c, const char **what);

/*
 * Both ports of the bridge on one shared UMEM (falling back to a UMEM per
 * port where the interfaces cannot share one).  @map_fd[i] as
 * xsks_map_fd above.  0, or -errno with a one-line reason in @err.
 */
int moat_io_afxdp_open_pair(struct moat_io_port *out[2],
			    const char *const ifname[2], const int map_fd[2],
			    char *err, size_t errlen);

/* Why AF_XDP cannot run, in words: "the driver has no native XDP",
 * "no privilege", "the kernel has no AF_XDP", ... */
const char *moat_io_afxdp_why(int err, const char *what);

/* ---- for tests: a port over plain memory ------------------------------ */

/*
 * Rings in caller memory stand in for the kernel's: @mem holds a producer
 * and a consumer word, flags and @ring_size descriptors for each of the
 * four rings (moat_io_afxdp_mem_size bytes).  The port transmits nothing
 * (no socket): tests read its TX ring and write its RX and completion
 * rings as the kernel would.  moat_io_port_close() frees nothing.
 */
struct moat_io_xsk_test_rings {
	uint32_t *rx_prod, *rx_cons, *tx_prod, *tx_cons;
	uint32_t *fill_prod, *fill_cons, *comp_prod, *comp_cons;
	void *rx_desc, *tx_desc;        /* struct xdp_desc [ring_size] */
	uint64_t *fill_addr, *comp_addr;
};
size_t moat_io_afxdp_mem_size(uint32_t ring_size);
struct moat_io_port *moat_io_afxdp_open_mem(struct moat_io_xsk_umem *u,
					    void *mem, uint32_t ring_size,
					    uint32_t mtu,
					    struct moat_io_xsk_test_rings *r);
/* Frames in the UMEM's free pool. */
uint32_t moat_io_xsk_umem_free(const struct moat_io_xsk_umem *u);

#endif
