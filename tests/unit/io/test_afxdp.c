/*
 * The AF_XDP ring code without a kernel: two ports over one UMEM with their
 * four rings in plain memory; the test plays the kernel (takes fill
 * entries, writes RX descriptors, consumes TX descriptors, returns them
 * through the completion ring).  A forwarded frame must leave by its own
 * address (no copy), come back to the pool once completed, and every frame
 * must be in exactly one place at a time.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/if_xdp.h>

#include "moat/io_afxdp.h"

enum { RING = 8, FRAMES = 32, FSIZE = 2048 };

struct rig {
	struct moat_io_xsk_umem *u;
	struct moat_io_port *p[2];
	struct moat_io_xsk_test_rings r[2];
	void *mem[2];
	uint8_t *area;      /* the UMEM, found through a received frame */
	int mode;           /* what the callback does: 0 forward, 1 drop */
};

static int setup(void **state)
{
	struct rig *g = calloc(1, sizeof(*g));

	assert_non_null(g);
	assert_int_equal(moat_io_xsk_umem_create(&g->u, FRAMES, FSIZE), 0);
	for (int i = 0; i < 2; i++) {
		g->mem[i] = calloc(1, moat_io_afxdp_mem_size(RING));
		g->p[i] = moat_io_afxdp_open_mem(g->u, g->mem[i], RING, 1500,
						 &g->r[i]);
		assert_non_null(g->p[i]);
	}
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	struct rig *g = *state;

	for (int i = 0; i < 2; i++) {
		moat_io_port_close(g->p[i]);
		free(g->mem[i]);
	}
	moat_io_xsk_umem_unref(g->u);
	free(g);
	return 0;
}

/* The kernel receives a frame of @len bytes (all @byte) on port @i into
 * the next fill entry; returns its address. */
static uint64_t kernel_rx(struct rig *g, int i, uint32_t len, uint8_t byte,
			  uint8_t *area)
{
	struct moat_io_xsk_test_rings *r = &g->r[i];
	struct xdp_desc *d = r->rx_desc;
	uint64_t addr;

	assert_true(*r->fill_prod != *r->fill_cons);
	addr = r->fill_addr[*r->fill_cons % RING] + MOAT_IO_XSK_HEADROOM;
	(*r->fill_cons)++;
	if (area)
		memset(area + addr, byte, len);
	d[*r->rx_prod % RING] = (struct xdp_desc){ .addr = addr, .len = len };
	(*r->rx_prod)++;
	return addr;
}

/* The kernel sends everything in port @i's TX ring and completes it. */
static uint32_t kernel_tx(struct rig *g, int i, uint64_t *addrs)
{
	struct moat_io_xsk_test_rings *r = &g->r[i];
	const struct xdp_desc *d = r->tx_desc;
	uint32_t n = 0;

	while (*r->tx_cons != *r->tx_prod) {
		uint64_t a = d[*r->tx_cons % RING].addr;

		if (addrs)
			addrs[n] = a;
		n++;
		(*r->tx_cons)++;
		r->comp_addr[*r->comp_prod % RING] = a;
		(*r->comp_prod)++;
	}
	return n;
}

static void on_frame(void *arg, struct moat_io_port *in,
		     struct moat_io_rxframe *f)
{
	struct rig *g = arg;

	g->area = f->data - f->addr;
	if (g->mode == 0)
		moat_io_port_forward(in == g->p[0] ? g->p[1] : g->p[0], in, f);
}

static uint32_t rx(struct rig *g, int i)
{
	return moat_io_port_rx(g->p[i], on_frame, g, g->p, 2, MOAT_IO_RX_BATCH);
}

static void fill_rings_stocked(void **state)
{
	struct rig *g = *state;

	/* Each fill ring full, the rest of the UMEM in the pool. */
	for (int i = 0; i < 2; i++)
		assert_int_equal(*g->r[i].fill_prod - *g->r[i].fill_cons, RING);
	assert_int_equal(moat_io_xsk_umem_free(g->u), FRAMES - 2 * RING);
}

static void forward_by_address(void **state)
{
	struct rig *g = *state;
	uint64_t sent[RING];
	uint64_t a;

	/* The first frame teaches the test where the UMEM is. */
	a = kernel_rx(g, 0, 60, 0, NULL);
	assert_int_equal(rx(g, 0), 1);
	assert_non_null(g->area);
	assert_int_equal(kernel_tx(g, 1, sent), 1);
	assert_true(sent[0] == a);

	a = kernel_rx(g, 0, 100, 0xab, g->area);
	assert_int_equal(rx(g, 0), 1);
	/* The rx call flushed port 1: its TX ring holds the frame's own
	 * address, the bytes as received. */
	assert_int_equal(kernel_tx(g, 1, sent), 1);
	assert_true(sent[0] == a);
	assert_int_equal(g->area[sent[0] + 99], 0xab);
	assert_int_equal(g->p[1]->tx.zerocopy, 2);
	assert_int_equal(g->p[1]->tx.packets, 2);
	assert_int_equal(g->p[0]->st.rx_packets, 2);
	/* The fill ring was topped up from the pool after each batch, and
	 * the completions bring the frames back: nothing lost. */
	assert_int_equal(*g->r[0].fill_prod - *g->r[0].fill_cons, RING);
	moat_io_port_flush(g->p[1]);
	assert_int_equal(moat_io_xsk_umem_free(g->u), FRAMES - 2 * RING);
}

static void dropped_frames_return(void **state)
{
	struct rig *g = *state;

	g->mode = 1;
	for (int k = 0; k < 5; k++)
		kernel_rx(g, 1, 64, 1, NULL);
	assert_int_equal(rx(g, 1), 5);
	assert_int_equal(kernel_tx(g, 0, NULL), 0);
	assert_int_equal(*g->r[1].fill_prod - *g->r[1].fill_cons, RING);
	assert_int_equal(moat_io_xsk_umem_free(g->u), FRAMES - 2 * RING);
}

static void bad_descriptor_counted(void **state)
{
	struct rig *g = *state;
	struct moat_io_xsk_test_rings *r = &g->r[0];
	struct xdp_desc *d = r->rx_desc;

	/* Beyond the UMEM, and across a frame's end. */
	d[*r->rx_prod % RING] = (struct xdp_desc){ .addr = (uint64_t)FRAMES * FSIZE,
						   .len = 60 };
	(*r->rx_prod)++;
	d[*r->rx_prod % RING] = (struct xdp_desc){ .addr = FSIZE - 10, .len = 60 };
	(*r->rx_prod)++;
	assert_int_equal(rx(g, 0), 2);
	assert_int_equal(g->p[0]->st.rx_bad, 2);
	assert_int_equal(g->p[0]->st.rx_packets, 0);
	assert_int_equal(kernel_tx(g, 1, NULL), 0);
}

static void send_copies(void **state)
{
	struct rig *g = *state;
	uint8_t frame[200];
	uint64_t sent[RING];

	kernel_rx(g, 0, 60, 0, NULL);
	assert_int_equal(rx(g, 0), 1);
	kernel_tx(g, 1, NULL);
	memset(frame, 0x5a, sizeof(frame));
	moat_io_port_send(g->p[1], frame, sizeof(frame));
	/* One frame refilled port 0's fill ring, one holds the copy; the
	 * forwarded one waits in port 1's completion ring. */
	assert_int_equal(moat_io_xsk_umem_free(g->u), FRAMES - 2 * RING - 2);
	moat_io_port_flush(g->p[1]);
	assert_int_equal(kernel_tx(g, 1, sent), 1);
	assert_memory_equal(g->area + sent[0], frame, sizeof(frame));
	moat_io_port_flush(g->p[1]);
	assert_int_equal(moat_io_xsk_umem_free(g->u), FRAMES - 2 * RING);
	/* Longer than the MTU allows: counted, not sent. */
	moat_io_port_send(g->p[1], frame, 1600);
	assert_int_equal(g->p[1]->tx.oversize, 1);
}

static void full_tx_ring_counts(void **state)
{
	struct rig *g = *state;
	uint8_t frame[64] = { 0 };

	/* Nobody consumes port 1's TX ring: RING frames fit, then errors,
	 * and the frames refused go back to the pool. */
	for (int k = 0; k < RING + 3; k++)
		moat_io_port_send(g->p[1], frame, sizeof(frame));
	assert_int_equal(g->p[1]->tx.errors, 3);
	assert_int_equal(moat_io_xsk_umem_free(g->u), FRAMES - 3 * RING);
	moat_io_port_flush(g->p[1]);
	assert_int_equal(kernel_tx(g, 1, NULL), RING);
	moat_io_port_flush(g->p[1]);
	assert_int_equal(moat_io_xsk_umem_free(g->u), FRAMES - 2 * RING);
}

static void frame_size_follows_mtu(void **state)
{
	(void)state;
	assert_int_equal(moat_io_afxdp_frame_size(1500), 2048);
	assert_int_equal(moat_io_afxdp_frame_size(1774), 2048);
	assert_int_equal(moat_io_afxdp_frame_size(1775), 4096);
	assert_int_equal(moat_io_afxdp_frame_size(3822), 4096);
	assert_int_equal(moat_io_afxdp_frame_size(9000), 0);
}

static void reasons_in_words(void **state)
{
	(void)state;
	assert_non_null(strstr(moat_io_afxdp_why(-EOPNOTSUPP, "XDP program"),
			       "no native XDP"));
	assert_non_null(strstr(moat_io_afxdp_why(-EPERM, "AF_XDP socket"),
			       "no privilege"));
	assert_non_null(strstr(moat_io_afxdp_why(-EAFNOSUPPORT, "AF_XDP socket"),
			       "kernel has no AF_XDP"));
	assert_non_null(strstr(moat_io_afxdp_why(-EMSGSIZE, "MTU"), "MTU"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fill_rings_stocked, setup, teardown),
		cmocka_unit_test_setup_teardown(forward_by_address, setup, teardown),
		cmocka_unit_test_setup_teardown(dropped_frames_return, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_descriptor_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(send_copies, setup, teardown),
		cmocka_unit_test_setup_teardown(full_tx_ring_counts, setup, teardown),
		cmocka_unit_test(frame_size_follows_mtu),
		cmocka_unit_test(reasons_in_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
