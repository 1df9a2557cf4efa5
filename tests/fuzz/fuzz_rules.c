/*
 * Fuzz target for the configuration parser: any bytes go through
 * moat_config_parse_string(); a configuration that loads is printed and
 * asked to match a few packets, then destroyed.  Invariants: no crash, no
 * leak (LeakSanitizer), no undefined behaviour, and "NULL exactly when an
 * error was reported".
 *
 * Built for libFuzzer with -Dfuzz=true (clang).  With -DMOAT_FUZZ_STANDALONE
 * it has a plain main() that replays the files named on the command line,
 * so the corpus runs as an ordinary test without libFuzzer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moat/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const struct moat_config *c)
{
	static FILE *sink;
	struct moat_pkt p;
	static const uint8_t protos[] = { MOAT_IPPROTO_TCP, MOAT_IPPROTO_UDP,
					  MOAT_IPPROTO_ICMP, MOAT_IPPROTO_ICMPV6 };

	if (!sink)
		sink = fopen("/dev/null", "w");
	if (sink)
		moat_config_print(c, sink);
	memset(&p, 0, sizeof(p));
	for (int i = 0; i < 8; i++) {
		uint8_t a[16] = { 198, 18, 1, (uint8_t)(i * 37) };

		p.ipv = i & 1 ? 6 : 4;
		if (p.ipv == 4) {
			moat_addr_from_v4(&p.src, a);
			moat_addr_from_v4(&p.dst, a);
		} else {
			moat_addr_from_v6(&p.src, a);
			moat_addr_from_v6(&p.dst, a);
		}
		p.proto = protos[i % 4];
		p.dport = (uint16_t)(i * 8191);
		p.sport = 53;
		p.tcp_flags = MOAT_TCP_SYN;
		p.icmp_type = (uint8_t)(i * 17);
		(void)moat_rules_match(c, &p, i % 3 - 1, (i + 1) % 3 - 1);
		(void)moat_config_zone_by_addr(c, &p.src);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct moat_diags d;
	struct moat_config *c;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	c = moat_config_parse_string("fuzz.conf", text, &d);
	if ((c == NULL) != (d.errors > 0))
		abort();
	if (c)
		exercise(c);
	moat_config_destroy(c);
	free(text);
	return 0;
}

#ifdef MOAT_FUZZ_STANDALONE
int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *buf;
		long n;

		if (!f) {
			perror(argv[i]);
			return 1;
		}
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		fseek(f, 0, SEEK_SET);
		buf = malloc((size_t)n + 1);
		if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
			fclose(f);
			free(buf);
			return 1;
		}
		fclose(f);
		LLVMFuzzerTestOneInput(buf, (size_t)n);
		free(buf);
	}
	return 0;
}
#endif
