/*
 * Golden files: each tests/golden/rules/NAME.conf is loaded and its printed
 * compiled form (or, when invalid, its diagnostics) compared byte for byte
 * with NAME.expected.  The diagnostics are those `moat check` gives: the
 * loader's, then whether `moat run` can bridge it (a warning).  A difference fails the test and shows a diff; the
 * expected file is never rewritten by the test.  To accept a change, copy
 * the NAME.actual file the failing run leaves in the build directory.
 * Each valid file's printed form must also load and print the same again.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "moat/rules.h"

static const char *golden_dir;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static char *render(const char *path)
{
	struct moat_diags *d = malloc(sizeof(*d));
	struct moat_config *c = moat_config_load(path, d);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (c) {
		moat_config_print(c, f);
		moat_config_bridge_ports(c, NULL, d, MOAT_DIAG_WARNING);
	}
	for (int i = 0; i < d->count; i++) {
		const char *base = strrchr(d->d[i].file, '/');

		fprintf(f, "%s:%d:%d: %s: %s\n", base ? base + 1 : d->d[i].file,
			d->d[i].line, d->d[i].col,
			d->d[i].severity == MOAT_DIAG_ERROR ? "error" : "warning",
			d->d[i].msg);
	}
	if (!c)
		fprintf(f, "invalid\n");
	fclose(f);
	moat_config_destroy(c);
	free(d);
	return buf;
}

static int check_one(const char *name)
{
	char conf[1024], exp[1024], act[1024], cmd[3200], stem[256];
	char *want, *got;
	int bad;
	FILE *f;

	snprintf(stem, sizeof(stem), "%s", name);
	stem[strlen(stem) - 5] = '\0'; /* drop ".conf" */
	snprintf(conf, sizeof(conf), "%s/%s", golden_dir, name);
	snprintf(exp, sizeof(exp), "%s/%s.expected", golden_dir, stem);
	snprintf(act, sizeof(act), "%s.actual", stem);
	want = slurp(exp);
	got = render(conf);
	bad = !want || !got || strcmp(want, got);
	if (bad) {
		f = fopen(act, "w");
		if (f) {
			fputs(got ? got : "", f);
			fclose(f);
		}
		fprintf(stderr, "golden mismatch for %s (actual output in %s):\n",
			name, act);
		snprintf(cmd, sizeof(cmd), "diff -u '%s' '%s' >&2", exp, act);
		if (system(cmd) < 0)
			fprintf(stderr, "diff failed\n");
	}
	free(want);
	free(got);
	return bad;
}

/* The printed form is a configuration that prints the same again. */
static int check_roundtrip(const char *name)
{
	char conf[1024];
	struct moat_diags *d = malloc(sizeof(*d));
	struct moat_config *c;
	char *one = NULL, *two = NULL;
	size_t len = 0;
	FILE *f;
	int bad = 0;

	snprintf(conf, sizeof(conf), "%s/%s", golden_dir, name);
	c = moat_config_load(conf, d);
	if (!c)
		goto out; /* an invalid file has no printed form */
	f = open_memstream(&one, &len);
	moat_config_print(c, f);
	fclose(f);
	moat_config_destroy(c);
	c = moat_config_parse_string("printed", one, d);
	if (!c) {
		fprintf(stderr, "%s: printed form does not load: %d:%d %s\n", name,
			d->d[0].line, d->d[0].col, d->d[0].msg);
		bad = 1;
		goto out;
	}
	f = open_memstream(&two, &len);
	moat_config_print(c, f);
	fclose(f);
	if (strcmp(one, two)) {
		fprintf(stderr, "%s: printed form prints differently:\n%s\n---\n%s\n",
			name, one, two);
		bad = 1;
	}
out:
	moat_config_destroy(c);
	free(one);
	free(two);
	free(d);
	return bad;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_golden(void **state)
{
	DIR *dir = opendir(golden_dir);
	struct dirent *e;
	char *names[256];
	int n = 0, bad = 0;

	(void)state;
	assert_non_null(dir);
	while ((e = readdir(dir)) && n < 256) {
		size_t l = strlen(e->d_name);

		if (l > 5 && !strcmp(e->d_name + l - 5, ".conf"))
			names[n++] = strdup(e->d_name);
	}
	closedir(dir);
	qsort(names, (size_t)n, sizeof(*names), cmp_names);
	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		bad += check_one(names[i]);
		bad += check_roundtrip(names[i]);
		free(names[i]);
	}
	assert_int_equal(bad, 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: test_rules_golden DIR\n");
		return 2;
	}
	golden_dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
