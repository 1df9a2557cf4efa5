/*
 * Text forms of addresses, for the configuration parser and the printers.
 * Control plane only: the packet path never formats or parses text.
 */
#include <arpa/inet.h>
#include <errno.h>

#include "moat/addr.h"

int moat_addr_parse(struct moat_addr *a, const char *s)
{
	uint8_t buf[16];

	if (inet_pton(AF_INET, s, buf) == 1) {
		moat_addr_from_v4(a, buf);
		return 0;
	}
	if (inet_pton(AF_INET6, s, buf) == 1) {
		moat_addr_from_v6(a, buf);
		return 0;
	}
	return -EINVAL;
}

char *moat_addr_format(const struct moat_addr *a, char *buf, size_t len)
{
	const char *ok = NULL;

	if (a->family == MOAT_AF_INET)
		ok = inet_ntop(AF_INET, moat_addr_v4(a), buf, (socklen_t)len);
	else if (a->family == MOAT_AF_INET6)
		ok = inet_ntop(AF_INET6, a->b, buf, (socklen_t)len);
	if (!ok && len > 1) {
		buf[0] = '?';
		buf[1] = '\0';
	} else if (!ok && len == 1) {
		buf[0] = '\0';
	}
	return buf;
}
