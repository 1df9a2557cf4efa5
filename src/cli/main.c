/*
 * `moat`: the command line.  Picks the subcommand and hands it the rest of
 * the arguments; everything else lives in one file per subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "check", moat_cli_check, "check -c FILE [--json]         validate a configuration" },
	{ "decode", moat_cli_decode, "decode FILE                    print every packet of a capture" },
	{ "replay", moat_cli_replay, "replay -c FILE IN.pcap [...]   run the engine over a capture" },
	{ "run", moat_cli_run, "run -c FILE                    filter live traffic between the zones" },
	{ "ctl", moat_cli_ctl, "ctl [-s SOCK] CMD              talk to a running moat" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: moat COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].summary);
	fprintf(f, "\n'moat COMMAND --help' describes each; man moat(8), moat.conf(5).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("moat 0.1.0\n");
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "moat: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
