/*
 * Addresses as the whole core sees them.
 *
 * IPv4 and IPv6 share one 16-byte representation so that flow keys, rule
 * tables and sets need one code path: an IPv4 address is stored as the
 * IPv4-mapped IPv6 address ::ffff:a.b.c.d (RFC 4291 section 2.5.5.2) and
 * @family says which it really is.  Bytes are in network order, exactly as
 * on the wire.
 */
#ifndef MOAT_ADDR_H
#define MOAT_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum moat_family {
	MOAT_AF_NONE = 0,
	MOAT_AF_INET = 4,
	MOAT_AF_INET6 = 6,
};

struct moat_addr {
	uint8_t b[16]; /* network order; IPv4 as ::ffff:a.b.c.d */
	uint8_t family; /* enum moat_family */
};

static inline void moat_addr_from_v4(struct moat_addr *a, const uint8_t v4[4])
{
	memset(a->b, 0, 10);
	a->b[10] = 0xff;
	a->b[11] = 0xff;
	memcpy(a->b + 12, v4, 4);
	a->family = MOAT_AF_INET;
}

static inline void moat_addr_from_v6(struct moat_addr *a, const uint8_t v6[16])
{
	memcpy(a->b, v6, 16);
	a->family = MOAT_AF_INET6;
}

static inline bool moat_addr_eq(const struct moat_addr *a,
				const struct moat_addr *b)
{
	return a->family == b->family && memcmp(a->b, b->b, 16) == 0;
}

/* Pointer to the 4 wire bytes of an IPv4 address. */
static inline const uint8_t *moat_addr_v4(const struct moat_addr *a)
{
	return a->b + 12;
}

/*
 * Parse "198.18.1.10" or "2001:db8::1" into @a.  Returns 0 or -EINVAL.
 * Format @a into @buf (at least MOAT_ADDR_STRLEN bytes); returns @buf.
 */
enum { MOAT_ADDR_STRLEN = 46 };
int moat_addr_parse(struct moat_addr *a, const char *s);
char *moat_addr_format(const struct moat_addr *a, char *buf, size_t len);

#endif
