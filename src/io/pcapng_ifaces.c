/*
 * A pcapng block walker that only wants interface names (pcapng spec,
 * draft-ietf-opsawg-pcapng: Section Header Block 0x0a0d0d0a, Interface
 * Description Block 1 with option if_name (2), Enhanced Packet Block 6 with
 * its interface ID first, Simple Packet Block 3 (always interface 0) and
 * the obsolete Packet Block 2 with a 16-bit interface ID).
 *
 * Every length comes from the file, so every one is checked: a block is at
 * least 12 bytes, a multiple of 4, and at most MAX_BLOCK; options must fit
 * their block.  Interface IDs are local to a section; the map numbers them
 * across sections.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "moat/io_pcapng.h"

enum {
	BT_SHB = 0x0a0d0d0a,
	BT_IDB = 1,
	BT_PB = 2,
	BT_SPB = 3,
	BT_EPB = 6,
	BYTE_ORDER_MAGIC = 0x1a2b3c4d,
	OPT_IF_NAME = 2,
	MAX_BLOCK = 16 * 1024 * 1024, /* larger than any sane packet block */
};

struct walker {
	FILE *f;
	bool swap;            /* the section is in the other byte order */
	uint32_t section_base; /* map index of the section's interface 0 */
	uint32_t section_ifaces;
	uint8_t *buf;         /* one block body */
	uint32_t cap;
};

static uint32_t rd32(const struct walker *w, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return w->swap ? __builtin_bswap32(v) : v;
}

static uint16_t rd16(const struct walker *w, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return w->swap ? __builtin_bswap16(v) : v;
}

static int fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "pcapng: %s", msg);
	return -EINVAL;
}

static int add_packet(struct moat_io_pcapng_map *m, uint32_t iface)
{
	if (m->packets == m->cap) {
		uint32_t want = m->cap ? m->cap * 2 : 1024;
		uint16_t *n = realloc(m->iface, (size_t)want * sizeof(*n));
		if (!n || want < m->cap)
			return -ENOMEM;
		m->iface = n;
		m->cap = want;
	}
	m->iface[m->packets++] = (uint16_t)(iface < m->ifaces ? iface :
					    UINT16_MAX);
	return 0;
}

/* An IDB's options: take if_name. */
static void read_idb(struct walker *w, struct moat_io_pcapng_map *m,
		     const uint8_t *body, uint32_t len)
{
	uint32_t off = 8; /* linktype, reserved, snaplen */
	char *name = m->name[m->ifaces];

	snprintf(name, MOAT_IO_PCAPNG_NAME_MAX, "if%u", w->section_ifaces);
	while (off + 4 <= len) {
		uint16_t code = rd16(w, body + off);
		uint16_t olen = rd16(w, body + off + 2);
		if (code == 0 || off + 4 + olen > len)
			break;
		if (code == OPT_IF_NAME) {
			uint32_t n = olen < MOAT_IO_PCAPNG_NAME_MAX - 1 ?
				     olen : MOAT_IO_PCAPNG_NAME_MAX - 1;
			memcpy(name, body + off + 4, n);
			name[n] = '\0';
		}
		off += 4 + ((olen + 3u) & ~3u);
	}
	m->ifaces++;
	w->section_ifaces++;
}

static int read_block(struct walker *w, struct moat_io_pcapng_map *m,
		      char *err, size_t errlen)
{
	uint8_t hdr[8];
	uint32_t type, total, blen;

	if (fread(hdr, 1, 8, w->f) != 8)
		return 0; /* the end */
	memcpy(&type, hdr, 4);
	if (type == BT_SHB) {
		uint8_t bom[4];
		uint32_t magic;
		if (fread(bom, 1, 4, w->f) != 4)
			return fail(err, errlen, "truncated section header");
		memcpy(&magic, bom, 4);
		if (magic == BYTE_ORDER_MAGIC)
			w->swap = false;
		else if (__builtin_bswap32(magic) == BYTE_ORDER_MAGIC)
			w->swap = true;
		else
			return fail(err, errlen, "bad byte-order magic");
		w->section_base = m->ifaces;
		w->section_ifaces = 0;
		total = rd32(w, hdr + 4);
		if (total < 28 || total % 4 || total > MAX_BLOCK)
			return fail(err, errlen, "bad section header length");
		return fseek(w->f, (long)total - 12, SEEK_CUR) == 0 ? 1 :
		       fail(err, errlen, "truncated section header");
	}
	type = rd32(w, hdr);
	total = rd32(w, hdr + 4);
	if (total < 12 || total % 4 || total > MAX_BLOCK)
		return fail(err, errlen, "bad block length");
	blen = total - 12;
	if (blen > w->cap) {
		uint8_t *n = realloc(w->buf, blen);
		if (!n)
			return -ENOMEM;
		w->buf = n;
		w->cap = blen;
	}
	if (fread(w->buf, 1, blen, w->f) != blen || fread(hdr, 1, 4, w->f) != 4)
		return fail(err, errlen, "truncated block");
	if (rd32(w, hdr) != total)
		return fail(err, errlen, "block lengths disagree");
	switch (type) {
	case BT_IDB:
		if (blen < 8)
			return fail(err, errlen, "short interface block");
		if (m->ifaces >= MOAT_IO_PCAPNG_IFACES_MAX)
			return fail(err, errlen, "too many interfaces");
		read_idb(w, m, w->buf, blen);
		break;
	case BT_EPB:
		if (blen < 20)
			return fail(err, errlen, "short packet block");
		if (add_packet(m, w->section_base + rd32(w, w->buf)) < 0)
			return -ENOMEM;
		break;
	case BT_PB:
		if (blen < 20)
			return fail(err, errlen, "short packet block");
		if (add_packet(m, w->section_base + rd16(w, w->buf)) < 0)
			return -ENOMEM;
		break;
	case BT_SPB:
		if (add_packet(m, w->section_base) < 0)
			return -ENOMEM;
		break;
	default:
		break;
	}
	return 1;
}

int moat_io_pcapng_map_read(FILE *f, struct moat_io_pcapng_map *m,
			    char *err, size_t errlen)
{
	struct walker w = { f, false, 0, 0, NULL, 0 };
	uint32_t first;
	int rc;

	memset(m, 0, sizeof(*m));
	if (fread(&first, 1, 4, f) != 4 || first != BT_SHB)
		return 0;
	rewind(f);
	while ((rc = read_block(&w, m, err, errlen)) == 1)
		;
	free(w.buf);
	return rc < 0 ? rc : 1;
}

void moat_io_pcapng_map_free(struct moat_io_pcapng_map *m)
{
	free(m->iface);
	m->iface = NULL;
	m->packets = m->cap = 0;
}

const char *moat_io_pcapng_map_name(const struct moat_io_pcapng_map *m,
				    uint32_t index)
{
	if (index >= m->packets || m->iface[index] >= m->ifaces)
		return NULL;
	return m->name[m->iface[index]];
}
