/*
 * `moat check -c FILE [--json] [--print] [--bridge]`: load a configuration
 * the way `moat run` and `moat replay` would, and say what is wrong with it.
 * A configuration `moat run` cannot bridge (moat_config_bridge_ports: not
 * exactly two zones with an interface) is still valid for replay: a
 * warning, or with --bridge an error.
 *
 * Exit codes: 0 valid (warnings allowed), 1 invalid, 2 usage.  Diagnostics
 * go to stderr as FILE:LINE:COL: error|warning: message; --json prints one
 * JSON object on stdout instead; --print writes the compiled, normalised
 * configuration (to stdout, or as "compiled" in the JSON).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "moat/rules.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: moat check -c FILE [--json] [--print] [--bridge]\n"
		   "  -c, --config FILE  the configuration to check\n"
		   "  -j, --json         one JSON object on stdout\n"
		   "  -p, --print        print the compiled configuration\n"
		   "  -b, --bridge       what `moat run` cannot bridge is an error,\n"
		   "                     not a warning\n");
}

static void print_diag(const struct moat_diag *e)
{
	const char *sev = e->severity == MOAT_DIAG_ERROR ? "error" : "warning";

	if (e->line > 0)
		fprintf(stderr, "%s:%d:%d: %s: %s\n", e->file, e->line, e->col, sev,
			e->msg);
	else
		fprintf(stderr, "%s: %s: %s\n", e->file, sev, e->msg);
}

static json_t *diag_list(const struct moat_diags *d, int severity)
{
	json_t *a = json_array();

	for (int i = 0; i < d->count; i++) {
		const struct moat_diag *e = &d->d[i];

		if (e->severity != severity)
			continue;
		json_array_append_new(a, json_pack("{s:s, s:i, s:i, s:s}",
						   "file", e->file, "line", e->line,
						   "col", e->col, "message", e->msg));
	}
	return a;
}

static char *compiled_text(const struct moat_config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	moat_config_print(c, f);
	fclose(f);
	return buf;
}

static int report_json(const struct moat_config *c, const struct moat_diags *d,
		       bool print)
{
	json_t *o = json_object();
	bool valid = c && d->errors == 0;
	char *s;

	json_object_set_new(o, "valid", json_boolean(valid));
	json_object_set_new(o, "errors", diag_list(d, MOAT_DIAG_ERROR));
	json_object_set_new(o, "warnings", diag_list(d, MOAT_DIAG_WARNING));
	json_object_set_new(o, "error_count", json_integer(d->errors));
	json_object_set_new(o, "warning_count", json_integer(d->warnings));
	json_object_set_new(o, "rules",
			    json_integer(c ? moat_config_rule_count(c) : 0));
	json_object_set_new(o, "bridge", json_boolean(c &&
			    moat_config_bridge_ports(c, NULL, NULL, 0) == 0));
	if (print && valid) {
		char *text = compiled_text(c);

		json_object_set_new(o, "compiled", json_string(text ? text : ""));
		free(text);
	}
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(o);
	return valid ? 0 : 1;
}

static int report_text(const char *path, const struct moat_config *c,
		       const struct moat_diags *d, bool print)
{
	for (int i = 0; i < d->count; i++)
		print_diag(&d->d[i]);
	if (d->dropped)
		fprintf(stderr, "%s: %d more diagnostics not shown\n", path,
			d->dropped);
	if (!c || d->errors) {
		fprintf(stderr, "%s: invalid: %d error%s, %d warning%s\n", path,
			d->errors, d->errors == 1 ? "" : "s", d->warnings,
			d->warnings == 1 ? "" : "s");
		return 1;
	}
	if (print)
		moat_config_print(c, stdout);
	else
		printf("%s: valid: %d rules, %d zones, %d sets, %d warning%s\n", path,
		       moat_config_rule_count(c), moat_config_zone_count(c),
		       moat_config_set_count(c), d->warnings,
		       d->warnings == 1 ? "" : "s");
	return 0;
}

int moat_cli_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "print", no_argument, NULL, 'p' },
		{ "bridge", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct moat_diags *d;
	struct moat_config *c;
	const char *path = NULL;
	bool json = false, print = false, bridge = false;
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:jpbh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'j': json = true; break;
		case 'p': print = true; break;
		case 'b': bridge = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!path && optind < argc)
		path = argv[optind++];
	if (!path || optind < argc) {
		usage(stderr);
		return 2;
	}
	d = malloc(sizeof(*d));
	if (!d)
		return 1;
	c = moat_config_load(path, d);
	if (c)
		moat_config_bridge_ports(c, NULL, d, bridge ? MOAT_DIAG_ERROR :
					 MOAT_DIAG_WARNING);
	rc = json ? report_json(c, d, print) : report_text(path, c, d, print);
	moat_config_destroy(c);
	free(d);
	return rc;
}
