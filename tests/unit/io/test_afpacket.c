/*
 * The AF_PACKET ring code without a kernel ring: synthetic TPACKET_V3
 * blocks in plain memory, walked frame by frame (good blocks and corrupt
 * ones), and the pass-through path (ring -> callback -> sendmmsg batch)
 * with a datagram socketpair standing in for the other interface.
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

enum { BLK = 4096, HDR_ALIGN = 16 };

static uint32_t align16(uint32_t v)
{
	return (v + HDR_ALIGN - 1) & ~(uint32_t)(HDR_ALIGN - 1);
}

/* Lay out @n frames of the given lengths as the kernel would; the frame
 * bytes are i+1 repeated.  Returns the offsets of the frame headers. */
static void build_block(uint8_t *blk, int n, const uint32_t *lens,
			uint32_t *offs)
{
	struct tpacket_block_desc *bd = (void *)blk;
	uint32_t off = align16(sizeof(*bd));

	memset(blk, 0, BLK);
	bd->version = TPACKET_V3;
	bd->hdr.bh1.num_pkts = (uint32_t)n;
	bd->hdr.bh1.offset_to_first_pkt = off;
	bd->hdr.bh1.block_status = TP_STATUS_USER;
	for (int i = 0; i < n; i++) {
		struct tpacket3_hdr *h = (void *)(blk + off);
		uint32_t mac = align16(sizeof(*h)) + 2;
		uint32_t next = align16(mac + lens[i]);

		offs[i] = off;
		h->tp_mac = (uint16_t)mac;
		h->tp_snaplen = lens[i];
		h->tp_len = lens[i];
		h->tp_status = TP_STATUS_USER;
		h->tp_next_offset = i + 1 < n ? next : 0;
		memset(blk + off + mac, i + 1, lens[i]);
		off += next;
	}
}

static void walk_good_block(void **state)
{
	(void)state;
	uint8_t *blk = calloc(1, BLK);
	uint32_t lens[3] = { 60, 1514, 98 }, offs[3];
	struct moat_io_block_iter it;
	struct moat_io_rxframe f;
	int i = 0;

	build_block(blk, 3, lens, offs);
	assert_int_equal(moat_io_block_begin(&it, blk, BLK), 3);
	while (moat_io_block_next(&it, &f)) {
		assert_true(i < 3);
		assert_int_equal(f.caplen, lens[i]);
		assert_int_equal(f.data[0], i + 1);
		assert_int_equal(f.data[f.caplen - 1], i + 1);
		i++;
	}
	assert_int_equal(i, 3);
	assert_int_equal(it.bad, 0);
	free(blk);
}

/* Each row corrupts one field; the walk must stop inside the block and
 * count what it skipped. */
struct corrupt_row {
	const char *name;
	int frame;          /* which frame header to damage, -1 = block */
	int field;          /* 0 next_offset, 1 snaplen, 2 mac, 3 first */
	uint32_t value;
	int expect_frames;
	uint32_t expect_bad;
};

static const struct corrupt_row corrupt_rows[] = {
	{ "next offset past the end", 0, 0, BLK, 1, 2 },
	{ "next offset zero too early", 1, 0, 0, 2, 1 },
	{ "snaplen past the end", 1, 1, BLK, 1, 2 },
	{ "mac inside the header", 2, 2, 4, 2, 1 },
	{ "first offset past the end", -1, 3, BLK + 8, 0, 3 },
	{ "first offset inside the descriptor", -1, 3, 8, 0, 3 },
};

static void walk_corrupt_blocks(void **state)
{
	(void)state;
	uint8_t *blk = calloc(1, BLK);

	for (size_t r = 0; r < sizeof(corrupt_rows) / sizeof(corrupt_rows[0]);
	     r++) {
		const struct corrupt_row *row = &corrupt_rows[r];
		uint32_t lens[3] = { 60, 200, 98 }, offs[3];
		struct moat_io_block_iter it;
		struct moat_io_rxframe f;
		int frames = 0;

		build_block(blk, 3, lens, offs);
		if (row->frame < 0) {
			struct tpacket_block_desc *bd = (void *)blk;

			bd->hdr.bh1.offset_to_first_pkt = row->value;
		} else {
			struct tpacket3_hdr *h = (void *)(blk + offs[row->frame]);

			if (row->field == 0)
				h->tp_next_offset = row->value;
			else if (row->field == 1)
				h->tp_snaplen = row->value;
			else
				h->tp_mac = (uint16_t)row->value;
		}
		moat_io_block_begin(&it, blk, BLK);
		while (moat_io_block_next(&it, &f)) {
			assert_true(f.data >= blk);
			assert_true(f.data + f.caplen <= blk + BLK);
			frames++;
		}
		if (frames != row->expect_frames || it.bad != row->expect_bad)
			fail_msg("%s: %d frames, %u bad", row->name, frames,
				 it.bad);
	}
	free(blk);
}

static void empty_block(void **state)
{
	(void)state;
	uint8_t *blk = calloc(1, BLK);
	uint32_t offs[1];
	struct moat_io_block_iter it;
	struct moat_io_rxframe f;

	build_block(blk, 0, NULL, offs);
	assert_int_equal(moat_io_block_begin(&it, blk, BLK), 0);
	assert_false(moat_io_block_next(&it, &f));
	assert_int_equal(moat_io_block_begin(&it, blk, 8), -1);
	free(blk);
}

/* The pass-through path: every frame of every user-owned block is queued
 * by reference and must arrive on the other side byte for byte; the
 * blocks go back to the kernel; an oversize frame is counted, not sent. */
static void forward_all(void *arg, struct moat_io_port *in,
			struct moat_io_rxframe *f)
{
	struct moat_io_port *out = arg;

	(void)in;
	if (f->copied)
		moat_io_txq_add_copy(&out->tx, f->data, f->caplen);
	else
		moat_io_txq_add(&out->tx, f->data, f->caplen);
}

static void passthrough(void **state)
{
	(void)state;
	enum { NBLK = 4 };
	uint8_t *ring = calloc(NBLK, BLK);
	struct moat_io_port *in = calloc(1, sizeof(*in));
	struct moat_io_port *out = calloc(1, sizeof(*out));
	uint32_t lens[3] = { 60, 1514, 1600 }, offs[3];
	int sv[2];
	uint8_t buf[2048];

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	moat_io_port_init_mem(in, ring, BLK, NBLK, -1, 1500);
	moat_io_port_init_mem(out, NULL, 0, 0, sv[0], 1500);
	/* Two blocks ready, the third still the kernel's. */
	build_block(ring, 3, lens, offs);
	build_block(ring + BLK, 1, lens, offs);
	struct moat_io_port *const flush[1] = { out };

	assert_int_equal(moat_io_port_rx(in, forward_all, out, flush, 1, 8), 4);
	assert_int_equal(in->cur, 2);
	assert_int_equal(out->tx.st.packets, 3);
	assert_int_equal(out->tx.st.oversize, 1);
	assert_int_equal(out->tx.n, 0);
	for (int i = 0; i < 3; i++) {
		uint32_t want = i == 2 ? 60 : lens[i];
		ssize_t got = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT);

		assert_int_equal(got, want);
		assert_int_equal(buf[0], i == 2 ? 1 : i + 1);
	}
	for (int b = 0; b < 2; b++) {
		struct tpacket_block_desc *bd = (void *)(ring + b * BLK);

		assert_int_equal(bd->hdr.bh1.block_status, TP_STATUS_KERNEL);
	}
	/* Nothing more until the kernel hands over block 2. */
	assert_int_equal(moat_io_port_rx(in, forward_all, out, flush, 1, 8), 0);
	close(sv[0]);
	close(sv[1]);
	free(in);
	free(out);
	free(ring);
}

/* More frames than one batch: the queue flushes itself when full. */
static void batch_overflow(void **state)
{
	(void)state;
	struct moat_io_port *out = calloc(1, sizeof(*out));
	uint8_t frame[64];
	int sv[2];
	int n = MOAT_IO_TX_BATCH * 2 + 5;

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	moat_io_port_init_mem(out, NULL, 0, 0, sv[0], 1500);
	memset(frame, 7, sizeof(frame));
	for (int i = 0; i < n; i++)
		moat_io_txq_add_copy(&out->tx, frame, sizeof(frame));
	moat_io_txq_flush(&out->tx);
	assert_int_equal(out->tx.st.packets, n);
	assert_int_equal(out->tx.st.calls, 3);
	close(sv[0]);
	close(sv[1]);
	free(out);
}

/* A frame whose VLAN tag the kernel moved into the metadata leaves with
 * the tag back in place (802.1Q: after the MAC addresses). */
static void vlan_restored(void **state)
{
	(void)state;
	uint8_t *ring = calloc(2, BLK);
	struct moat_io_port *in = calloc(1, sizeof(*in));
	struct moat_io_port *out = calloc(1, sizeof(*out));
	uint32_t lens[2] = { 60, 60 }, offs[2];
	uint8_t buf[128];
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	moat_io_port_init_mem(in, ring, BLK, 2, -1, 1500);
	moat_io_port_init_mem(out, NULL, 0, 0, sv[0], 1500);
	build_block(ring, 2, lens, offs);
	struct tpacket3_hdr *h = (void *)(ring + offs[0]);
	h->tp_status |= TP_STATUS_VLAN_VALID;
	h->hv1.tp_vlan_tci = 100;
	struct moat_io_port *const flush[1] = { out };

	assert_int_equal(moat_io_port_rx(in, forward_all, out, flush, 1, 1), 2);
	assert_int_equal(in->st.rx_vlan, 1);
	assert_int_equal(recv(sv[1], buf, sizeof(buf), 0), 64);
	assert_int_equal(buf[11], 1);
	assert_int_equal(buf[12], 0x81);
	assert_int_equal(buf[13], 0x00);
	assert_int_equal(buf[14], 0);
	assert_int_equal(buf[15], 100);
	assert_int_equal(buf[16], 1);
	assert_int_equal(recv(sv[1], buf, sizeof(buf), 0), 60);
	assert_int_equal(buf[12], 2);
	close(sv[0]);
	close(sv[1]);
	free(in);
	free(out);
	free(ring);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(walk_good_block),
		cmocka_unit_test(walk_corrupt_blocks),
		cmocka_unit_test(empty_block),
		cmocka_unit_test(passthrough),
		cmocka_unit_test(batch_overflow),
		cmocka_unit_test(vlan_restored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
