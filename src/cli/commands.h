/*
 * The subcommands of `moat`.  Each takes the arguments after its name
 * (argv[0] is the subcommand) and returns the process exit code.  Only the
 * CLI prints and chooses exit codes; the library it drives never does.
 */
#ifndef MOAT_CLI_COMMANDS_H
#define MOAT_CLI_COMMANDS_H

int moat_cli_decode(int argc, char **argv);
int moat_cli_check(int argc, char **argv);
int moat_cli_replay(int argc, char **argv);
int moat_cli_run(int argc, char **argv);
int moat_cli_ctl(int argc, char **argv);

#endif
