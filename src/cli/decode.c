/* `moat decode`: not built yet; its owner replaces this file. */
#include <stdio.h>

#include "cli/commands.h"

int moat_cli_decode(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "moat decode: not implemented yet\n");
	return 2;
}
