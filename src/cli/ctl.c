/* `moat ctl`: not built yet; its owner replaces this file. */
#include <stdio.h>

#include "cli/commands.h"

int moat_cli_ctl(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "moat ctl: not implemented yet\n");
	return 2;
}
