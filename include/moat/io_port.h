/*
 * A port: one interface of the bridge, whatever carries its frames.
 *
 * The first and last step of the live packet path.  `moat run` opens two
 * ports with one backend (AF_PACKET TPACKET_V2 rings, io_afpacket.h, or
 * AF_XDP sockets over one shared UMEM, io_afxdp.h); the bridge
 * (io_bridge.h) only sees this interface: take a batch of received frames
 * (rx), hand each to the engine, queue those that pass on the other port
 * (forward: by reference where the backend allows), queue emitted frames
 * (send: always a copy), and send the queues (flush).
 *
 * Ownership: a received frame belongs to its port until the rx call that
 * delivered it returns.  A forward by reference either hands the buffer to
 * the other port for good (AF_XDP: f->taken) or points at it until that
 * port's next flush, which the rx call performs, through @flush, before it
 * gives the frame back to the kernel (AF_PACKET).
 *
 * Counters live in the generic part, so `moat ctl stats`, metrics and the
 * pressure watch read them the same way for every backend.
 */
#ifndef MOAT_IO_PORT_H
#define MOAT_IO_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum moat_io_backend {
	MOAT_IO_AUTO = 0,        /* AF_XDP when it can attach, else AF_PACKET */
	MOAT_IO_AFPACKET = 1,
	MOAT_IO_AFXDP = 2,
};

enum {
	/* The Ethernet header plus one VLAN tag on top of the MTU. */
	MOAT_IO_L2_OVERHEAD = 18,
	/* Frames taken per rx call: the engine's clock is read once per
	 * batch, and the transmit queues are sent after each. */
	MOAT_IO_RX_BATCH = 64,
	/* rx calls per port per loop turn, so one busy port cannot starve
	 * the other or the control socket. */
	MOAT_IO_RX_BUDGET = 8,
	/* Frames per transmit batch (one sendmmsg, one TX ring submit). */
	MOAT_IO_TX_BATCH = 64,
};

/* One received frame, borrowed from the port for one rx callback. */
struct moat_io_rxframe {
	uint8_t *data;
	uint32_t caplen;    /* bytes at @data */
	uint32_t wirelen;   /* bytes on the wire: more than caplen if cut */
	bool csum_partial;  /* the sender left the L4 checksum to "hardware" */
	bool copied;        /* @data is the port's scratch buffer, reused by
			     * the next frame: forward copies it */
	bool taken;         /* set by a forward that took the buffer itself */
	uint64_t addr;      /* AF_XDP: the frame's offset in the UMEM */
};

struct moat_io_tx_stats {
	uint64_t packets, bytes;  /* handed to the kernel */
	uint64_t errors;          /* refused: kernel error, ring full, no buffer */
	uint64_t oversize;        /* longer than MTU + L2 header: cannot be sent */
	uint64_t calls;           /* system calls that sent (sendmmsg, kicks) */
	uint64_t zerocopy;        /* forwarded without a copy in user space */
};

struct moat_io_port_stats {
	uint64_t rx_packets, rx_bytes, rx_batches;
	uint64_t rx_bad;          /* frames whose ring entry was inconsistent */
	uint64_t rx_truncated;    /* caplen < wirelen: cannot be forwarded */
	uint64_t rx_csum_partial; /* partial checksums: offload still on */
	uint64_t kernel_drops;    /* the kernel found the ring full */
	uint64_t rx_vlan;         /* VLAN tags put back from the metadata */
	/* How long frames waited in the ring before moat took them: the
	 * oldest frame of each batch (io_afpacket.h, io_afxdp.h say how
	 * each backend knows). */
	uint64_t delay_sum_ns, delay_batches, delay_max_ns;
	uint64_t delay_last_ns;   /* age of the last batch's oldest frame */
	uint32_t ring_size;       /* receive ring entries */
	uint32_t ring_used;       /* entries waiting after the last batch */
};

/* Super-frame offloads found on at start (bit set = on). */
enum moat_io_offload { MOAT_IO_OFF_GRO = 1, MOAT_IO_OFF_GSO = 2,
		       MOAT_IO_OFF_TSO = 4 };

struct moat_io_port;

/* Called for each received frame; may forward it or send on any port. */
typedef void (*moat_io_rx_fn)(void *arg, struct moat_io_port *in,
			      struct moat_io_rxframe *f);

/* What a backend provides.  Lengths are checked against the MTU before
 * forward and send are called (moat_io_port_forward/_send below). */
struct moat_io_port_ops {
	uint32_t (*rx)(struct moat_io_port *p, moat_io_rx_fn fn, void *arg,
		       struct moat_io_port *const *flush, int nflush,
		       uint32_t budget);
	void (*forward)(struct moat_io_port *out, struct moat_io_port *in,
			struct moat_io_rxframe *f);
	void (*send)(struct moat_io_port *out, const uint8_t *data,
		     uint32_t len);
	/* Send what is queued; true if frames are still waiting for the
	 * kernel (the loop must not sleep then). */
	bool (*flush)(struct moat_io_port *p);
	void (*poll_stats)(struct moat_io_port *p);
	void (*close)(struct moat_io_port *p);   /* frees the port */
};

struct moat_io_port {
	const struct moat_io_port_ops *ops;
	enum moat_io_backend backend;
	char ifname[16];
	char mode[32];            /* "afpacket-v2", "xdp-copy", "xdp-zerocopy" */
	int ifindex;
	int fd;                   /* what the loop polls for POLLIN */
	uint32_t mtu;
	uint32_t max_len;         /* mtu + MOAT_IO_L2_OVERHEAD */
	unsigned offloads;        /* enum moat_io_offload bits */
	struct moat_io_port_stats st;
	struct moat_io_tx_stats tx;
};

/* Take up to @budget frames (at most MOAT_IO_RX_BATCH per batch), call @fn
 * for each, flush the @nflush ports in @flush, give the frames back.
 * Returns the number of ring entries taken. */
static inline uint32_t moat_io_port_rx(struct moat_io_port *p, moat_io_rx_fn fn,
				       void *arg,
				       struct moat_io_port *const *flush,
				       int nflush, uint32_t budget)
{
	return p->ops->rx(p, fn, arg, flush, nflush, budget);
}

/*
 * Queue @f, received on @in, on @out as its first f->caplen bytes are now.
 * A frame longer than @out's MTU allows is counted oversize there; one the
 * ring cut short (caplen < wirelen) is never sent: oversize at @out if it
 * was too long for @out anyway (a super-frame), else truncated at @in.
 */
void moat_io_port_forward(struct moat_io_port *out, struct moat_io_port *in,
			  struct moat_io_rxframe *f);

/* Queue a copy of @data (emitted frames, whose buffer is reused). */
void moat_io_port_send(struct moat_io_port *out, const uint8_t *data,
		       uint32_t len);

static inline bool moat_io_port_flush(struct moat_io_port *p)
{
	return p->ops->flush(p);
}

/* Refresh the kernel's counters (control plane). */
static inline void moat_io_port_poll_stats(struct moat_io_port *p)
{
	p->ops->poll_stats(p);
}

/* Accepts NULL. */
void moat_io_port_close(struct moat_io_port *p);

/* The parts every backend fills the same way: name, index, MTU, offloads
 * (SIOCGIFMTU, SIOCETHTOOL through @fd, any socket).  0 or -errno. */
int moat_io_port_init(struct moat_io_port *p, const char *ifname, int fd);

/* Record the age of a batch's oldest frame (delay statistics). */
void moat_io_port_delay(struct moat_io_port *p, uint64_t age_ns);

/* A port that forwards nowhere, for tests and for the bridge's stats of a
 * port that failed to open: every op is a no-op. */
void moat_io_port_init_null(struct moat_io_port *p, const char *ifname,
			    uint32_t mtu);

/* "afpacket", "xdp", "auto"; NULL for a value out of range. */
const char *moat_io_backend_name(enum moat_io_backend b);
/* 0 and the backend, or -EINVAL. */
int moat_io_backend_parse(const char *s, enum moat_io_backend *out);

#endif
