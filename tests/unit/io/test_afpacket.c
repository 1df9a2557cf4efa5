/*
 * The AF_PACKET ring code without a kernel ring: synthetic TPACKET_V2
 * slots in plain memory, read one by one (good slots and corrupt ones),
 * and the pass-through path (ring -> callback -> sendmmsg batch) with a
 * datagram socketpair standing in for the other interface; the slots go
 * back to the kernel only after the batch that points into them is sent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/if_packet.h>

#include "moat/io_afpacket.h"

enum { SLOT = 2048, MAC = 82 };

/* Slot @i of @ring holds a frame of @len bytes, all i+1, owned by user
 * space (as the kernel leaves it). */
static void put_frame(uint8_t *ring, int i, uint32_t len, uint32_t wirelen)
{
	uint8_t *slot = ring + (size_t)i * SLOT;
	struct tpacket2_hdr *h = (void *)slot;

	memset(slot, 0, SLOT);
	h->tp_mac = MAC;
	h->tp_net = MAC + 14;
	h->tp_snaplen = len;
	h->tp_len = wirelen;
	h->tp_sec = 0;
	memset(slot + MAC, i + 1, len);
	h->tp_status = TP_STATUS_USER;
}

static uint32_t status_of(const uint8_t *ring, int i)
{
	return ((const struct tpacket2_hdr *)(ring + (size_t)i * SLOT))->tp_status;
}

static void slot_size_follows_mtu(void **state)
{
	(void)state;
	assert_int_equal(moat_io_afpacket_slot_size(1500), 2048);
	assert_int_equal(moat_io_afpacket_slot_size(576), 2048);
	/* 1900 + 18 + 128 > 2048 */
	assert_int_equal(moat_io_afpacket_slot_size(1903), 4096);
	assert_int_equal(moat_io_afpacket_slot_size(9000), 16384);
	/* never more than a ring block */
	assert_int_equal(moat_io_afpacket_slot_size(1u << 20), MOAT_IO_RING_BLOCK);
}

static void good_slot(void **state)
{
	(void)state;
	uint8_t *ring = calloc(1, SLOT);
	struct moat_io_v2_frame f;

	put_frame(ring, 0, 1514, 1514);
	assert_true(moat_io_v2_frame(ring, SLOT, &f));
	assert_ptr_equal(f.data, ring + MAC);
	assert_int_equal(f.caplen, 1514);
	assert_int_equal(f.wirelen, 1514);
	assert_true(f.status & TP_STATUS_USER);
	free(ring);
}

/* Each row damages one field; the slot must be refused, never read past. */
struct corrupt_row {
	const char *name;
	uint16_t mac;
	uint32_t snaplen, len;
	uint32_t size;
};

static const struct corrupt_row corrupt_rows[] = {
	{ "mac inside the header", 4, 60, 60, SLOT },
	{ "mac past the slot", SLOT, 0, 0, SLOT },
	{ "snaplen past the slot", MAC, SLOT, SLOT, SLOT },
	{ "snaplen larger than the wire", MAC, 100, 60, SLOT },
	{ "slot smaller than a header", MAC, 0, 0, 8 },
};

static void corrupt_slots(void **state)
{
	(void)state;
	uint8_t *ring = calloc(1, SLOT);

	for (size_t r = 0; r < sizeof(corrupt_rows) / sizeof(corrupt_rows[0]);
	     r++) {
		const struct corrupt_row *row = &corrupt_rows[r];
		struct tpacket2_hdr *h = (void *)ring;
		struct moat_io_v2_frame f;

		put_frame(ring, 0, 60, 60);
		h->tp_mac = row->mac;
		h->tp_snaplen = row->snaplen;
		h->tp_len = row->len;
		if (moat_io_v2_frame(ring, row->size, &f))
			fail_msg("%s: accepted", row->name);
	}
	free(ring);
}

/* A port over @n slots and one that sends on a socketpair. */
struct pair {
	uint8_t *ring;
	struct moat_io_afpacket *in, *out;
	int sv[2];
};

static void pair_open(struct pair *p, int n)
{
	p->ring = calloc((size_t)n, SLOT);
	p->in = calloc(1, sizeof(*p->in));
	p->out = calloc(1, sizeof(*p->out));
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, p->sv), 0);
	moat_io_afpacket_init_mem(p->in, p->ring, SLOT, (uint32_t)n, -1, 1500);
	moat_io_afpacket_init_mem(p->out, NULL, 0, 0, p->sv[0], 1500);
}

static void pair_close(struct pair *p)
{
	moat_io_port_close(&p->in->port);
	moat_io_port_close(&p->out->port);
	close(p->sv[0]);
	close(p->sv[1]);
	free(p->in);
	free(p->out);
	free(p->ring);
}

/* The callback checks that no slot it is handed is back with the kernel
 * before the batch is sent. */
struct fwd {
	struct moat_io_port *out;
	const uint8_t *ring;
	int calls;
};

static void forward_all(void *arg, struct moat_io_port *in,
			struct moat_io_rxframe *f)
{
	struct fwd *w = arg;

	w->calls++;
	moat_io_port_forward(w->out, in, f);
}

static void passthrough(void **state)
{
	(void)state;
	struct pair p;
	uint8_t buf[2048];

	pair_open(&p, 4);
	put_frame(p.ring, 0, 60, 60);
	put_frame(p.ring, 1, 1514, 1514);
	put_frame(p.ring, 2, 98, 98);
	/* slot 3 is still the kernel's */
	struct fwd w = { &p.out->port, p.ring, 0 };
	struct moat_io_port *const flush[1] = { &p.out->port };

	assert_int_equal(moat_io_port_rx(&p.in->port, forward_all, &w, flush, 1,
					 MOAT_IO_RX_BATCH), 3);
	assert_int_equal(w.calls, 3);
	assert_int_equal(p.in->cur, 3);
	assert_int_equal(p.in->port.st.rx_batches, 1);
	assert_int_equal(p.out->port.tx.packets, 3);
	assert_int_equal(p.out->txq.n, 0);
	for (int i = 0; i < 3; i++) {
		uint32_t want = i == 0 ? 60 : i == 1 ? 1514 : 98;

		assert_int_equal(recv(p.sv[1], buf, sizeof(buf), MSG_DONTWAIT),
				 want);
		assert_int_equal(buf[0], i + 1);
		assert_int_equal(buf[want - 1], i + 1);
		assert_int_equal(status_of(p.ring, i), TP_STATUS_KERNEL);
	}
	/* Nothing more until the kernel fills slot 3; then the ring wraps. */
	assert_int_equal(moat_io_port_rx(&p.in->port, forward_all, &w, flush, 1,
					 MOAT_IO_RX_BATCH), 0);
	put_frame(p.ring, 3, 70, 70);
	put_frame(p.ring, 0, 80, 80);
	assert_int_equal(moat_io_port_rx(&p.in->port, forward_all, &w, flush, 1,
					 MOAT_IO_RX_BATCH), 2);
	assert_int_equal(p.in->cur, 1);
	assert_int_equal(recv(p.sv[1], buf, sizeof(buf), MSG_DONTWAIT), 70);
	assert_int_equal(recv(p.sv[1], buf, sizeof(buf), MSG_DONTWAIT), 80);
	pair_close(&p);
}

/* A budget smaller than what waits: the rest stays for the next call, and
 * the port says how much is still waiting. */
static void budget_and_backlog(void **state)
{
	(void)state;
	enum { N = 128 };
	struct pair p;

	pair_open(&p, N);
	for (int i = 0; i < 96; i++)
		put_frame(p.ring, i, 60, 60);
	struct fwd w = { &p.out->port, p.ring, 0 };
	struct moat_io_port *const flush[1] = { &p.out->port };

	assert_int_equal(moat_io_port_rx(&p.in->port, forward_all, &w, flush, 1,
					 16), 16);
	/* 80 wait: the bisection finds it to 1/64 of the ring (2 slots). */
	assert_in_range(p.in->port.st.ring_used, 78, 80);
	assert_int_equal(moat_io_port_rx(&p.in->port, forward_all, &w, flush, 1,
					 1000), MOAT_IO_RX_BATCH);
	assert_int_equal(moat_io_port_rx(&p.in->port, forward_all, &w, flush, 1,
					 1000), 16);
	assert_int_equal(p.in->port.st.ring_used, 0);
	assert_int_equal(p.out->port.tx.packets, 96);
	pair_close(&p);
}

/* A corrupt slot is counted and given back; the frames around it pass. */
static void bad_slot_counted(void **state)
{
	(void)state;
	struct pair p;

	pair_open(&p, 4);
	put_frame(p.ring, 0, 60, 60);
	put_frame(p.ring, 1, 60, 60);
	put_frame(p.ring, 2, 60, 60);
	((struct tpacket2_hdr *)(p.ring + SLOT))->tp_mac = 2;
	struct fwd w = { &p.out->port, p.ring, 0 };
	struct moat_io_port *const flush[1] = { &p.out->port };

	assert_int_equal(moat_io_port_rx(&p.in->port, forward_all, &w, flush, 1,
					 8), 3);
	assert_int_equal(w.calls, 2);
	assert_int_equal(p.in->port.st.rx_bad, 1);
	assert_int_equal(status_of(p.ring, 1), TP_STATUS_KERNEL);
	pair_close(&p);
}

/* A super-frame cut by its slot is never sent: oversize at the port it
 * would leave by; a frame cut below the MTU is truncated where it came in;
 * a whole frame longer than the MTU is oversize too. */
static void cut_and_oversize(void **state)
{
	(void)state;
	struct pair p;
	uint8_t buf[2048];

	pair_open(&p, 4);
	put_frame(p.ring, 0, 1900, 65000);   /* GRO super-frame, cut */
	put_frame(p.ring, 1, 1000, 1200);    /* cut, fits the MTU */
	put_frame(p.ring, 2, 1600, 1600);    /* whole, longer than 1518 */
	put_frame(p.ring, 3, 60, 60);
	struct fwd w = { &p.out->port, p.ring, 0 };
	struct moat_io_port *const flush[1] = { &p.out->port };

	assert_int_equal(moat_io_port_rx(&p.in->port, forward_all, &w, flush, 1,
					 8), 4);
	assert_int_equal(p.out->port.tx.oversize, 2);
	assert_int_equal(p.in->port.st.rx_truncated, 1);
	assert_int_equal(p.out->port.tx.packets, 1);
	assert_int_equal(recv(p.sv[1], buf, sizeof(buf), MSG_DONTWAIT), 60);
	pair_close(&p);
}

/* A port whose flush checks that the slots it was handed are still user
 * space's: the rx call must send before it gives them back. */
struct spy {
	struct moat_io_port port;
	const uint8_t *ring;
	int slots, flushes;
	bool owned_at_flush;
};

static uint32_t spy_rx(struct moat_io_port *p, moat_io_rx_fn fn, void *arg,
		       struct moat_io_port *const *flush, int nflush,
		       uint32_t budget)
{
	(void)p; (void)fn; (void)arg; (void)flush; (void)nflush; (void)budget;
	return 0;
}

static void spy_forward(struct moat_io_port *out, struct moat_io_port *in,
			struct moat_io_rxframe *f)
{
	(void)out; (void)in; (void)f;
}

static void spy_send(struct moat_io_port *out, const uint8_t *d, uint32_t n)
{
	(void)out; (void)d; (void)n;
}

static bool spy_flush(struct moat_io_port *p)
{
	struct spy *s = (struct spy *)p;

	s->flushes++;
	s->owned_at_flush = true;
	for (int i = 0; i < s->slots; i++)
		if (!(status_of(s->ring, i) & TP_STATUS_USER))
			s->owned_at_flush = false;
	return false;
}

static void spy_poll(struct moat_io_port *p)
{
	(void)p;
}

static const struct moat_io_port_ops spy_ops = {
	.rx = spy_rx, .forward = spy_forward, .send = spy_send,
	.flush = spy_flush, .poll_stats = spy_poll, .close = spy_poll,
};

static void flush_before_release(void **state)
{
	(void)state;
	struct pair p;
	struct spy s;

	pair_open(&p, 4);
	memset(&s, 0, sizeof(s));
	moat_io_port_init_null(&s.port, "spy", 1500);
	s.port.ops = &spy_ops;
	s.ring = p.ring;
	s.slots = 3;
	for (int i = 0; i < 3; i++)
		put_frame(p.ring, i, 60, 60);
	struct fwd w = { &s.port, p.ring, 0 };
	struct moat_io_port *const flush[1] = { &s.port };

	assert_int_equal(moat_io_port_rx(&p.in->port, forward_all, &w, flush, 1,
					 8), 3);
	assert_int_equal(s.flushes, 1);
	assert_true(s.owned_at_flush);
	for (int i = 0; i < 3; i++)
		assert_int_equal(status_of(p.ring, i), TP_STATUS_KERNEL);
	pair_close(&p);
}

/* More frames than one batch: the queue flushes itself when full. */
static void batch_overflow(void **state)
{
	(void)state;
	struct pair p;
	uint8_t frame[64];
	int n = MOAT_IO_TX_BATCH * 2 + 5;

	pair_open(&p, 1);
	memset(frame, 7, sizeof(frame));
	for (int i = 0; i < n; i++)
		moat_io_port_send(&p.out->port, frame, sizeof(frame));
	moat_io_port_flush(&p.out->port);
	assert_int_equal(p.out->port.tx.packets, n);
	assert_int_equal(p.out->port.tx.calls, 3);
	pair_close(&p);
}

/* A frame whose VLAN tag the kernel moved into the metadata leaves with
 * the tag back in place (802.1Q: after the MAC addresses). */
static void vlan_restored(void **state)
{
	(void)state;
	struct pair p;
	uint8_t buf[128];

	pair_open(&p, 2);
	put_frame(p.ring, 0, 60, 60);
	put_frame(p.ring, 1, 60, 60);
	struct tpacket2_hdr *h = (void *)p.ring;
	h->tp_status |= TP_STATUS_VLAN_VALID;
	h->tp_vlan_tci = 100;
	struct fwd w = { &p.out->port, p.ring, 0 };
	struct moat_io_port *const flush[1] = { &p.out->port };

	assert_int_equal(moat_io_port_rx(&p.in->port, forward_all, &w, flush, 1,
					 8), 2);
	assert_int_equal(p.in->port.st.rx_vlan, 1);
	assert_int_equal(recv(p.sv[1], buf, sizeof(buf), 0), 64);
	assert_int_equal(buf[11], 1);
	assert_int_equal(buf[12], 0x81);
	assert_int_equal(buf[13], 0x00);
	assert_int_equal(buf[14], 0);
	assert_int_equal(buf[15], 100);
	assert_int_equal(buf[16], 1);
	assert_int_equal(recv(p.sv[1], buf, sizeof(buf), 0), 60);
	assert_int_equal(buf[12], 2);
	pair_close(&p);
}

/* A partial checksum is flagged for the bridge to complete, and counted. */
static void csum_partial_flagged(void **state)
{
	(void)state;
	struct pair p;

	pair_open(&p, 1);
	put_frame(p.ring, 0, 60, 60);
	((struct tpacket2_hdr *)p.ring)->tp_status |= TP_STATUS_CSUMNOTREADY;
	struct fwd w = { &p.out->port, p.ring, 0 };
	struct moat_io_port *const flush[1] = { &p.out->port };

	assert_int_equal(moat_io_port_rx(&p.in->port, forward_all, &w, flush, 1,
					 8), 1);
	assert_int_equal(p.in->port.st.rx_csum_partial, 1);
	pair_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(slot_size_follows_mtu),
		cmocka_unit_test(good_slot),
		cmocka_unit_test(corrupt_slots),
		cmocka_unit_test(passthrough),
		cmocka_unit_test(budget_and_backlog),
		cmocka_unit_test(bad_slot_counted),
		cmocka_unit_test(flush_before_release),
		cmocka_unit_test(cut_and_oversize),
		cmocka_unit_test(batch_overflow),
		cmocka_unit_test(vlan_restored),
		cmocka_unit_test(csum_partial_flagged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
