/*
 * Fuzz target for the pcapng interface walker (src/io/pcapng_ifaces.c):
 * any bytes as a file; no crash, no leak, and every packet it maps names an
 * interface it read or none.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "moat/io_pcapng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct moat_io_pcapng_map m;
	char err[128];
	FILE *f;

	if (size == 0)
		return 0;
	f = fmemopen((void *)data, size, "rb");
	if (!f)
		return 0;
	if (moat_io_pcapng_map_read(f, &m, err, sizeof(err)) != 0) {
		for (uint32_t i = 0; i < m.packets; i++) {
			const char *n = moat_io_pcapng_map_name(&m, i);
			if (n && strlen(n) >= MOAT_IO_PCAPNG_NAME_MAX)
				__builtin_trap();
		}
	}
	moat_io_pcapng_map_free(&m);
	fclose(f);
	return 0;
}
