/* `moat run`: not built yet; its owner replaces this file. */
#include <stdio.h>

#include "cli/commands.h"

int moat_cli_run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "moat run: not implemented yet\n");
	return 2;
}
