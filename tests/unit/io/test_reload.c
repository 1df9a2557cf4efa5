/*
 * The reload handoff (src/io/reload.c) with a real engine and a load
 * function the test holds back at a gate: while a load runs the loop's
 * poll returns at once and the engine keeps the old rules; once the load
 * is done the poll swaps it in; the configuration replaced is freed by
 * the loader thread, after the swap; a failed load, or an engine that runs
 * out of memory taking the new rules, changes nothing; requests made while
 * a load runs are answered together by one more load.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../engine/harness.h"
#include "moat/io_reload.h"

#include "../alloc_count.h"

#define ZONES                                                                  \
	"zone outside { interface out0; default }\n"                          \
	"zone inside { interface in0; networks 198.18.1.0/24 }\n"

static const char *const old_conf =
	ZONES "options { policy drop\n syncookies off }\n"
	"pass from outside to 198.18.1.10 tcp port 80\n";
static const char *const new_conf =
	ZONES "options { policy drop\n syncookies off }\n"
	"pass from outside to 198.18.1.10 tcp port 80\n"
	"pass from outside to 198.18.1.10 tcp port 22\n"
	"pass from outside to 198.18.1.10 tcp port 443\n";

/* ---- who frees which configuration, on which thread -------------------- */

void __real_moat_config_destroy(struct moat_config *c);
void __wrap_moat_config_destroy(struct moat_config *c);

static pthread_mutex_t freed_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	const struct moat_config *c;
	pthread_t by;
} freed[64];
static int nfreed;

void __wrap_moat_config_destroy(struct moat_config *c)
{
	pthread_mutex_lock(&freed_mu);
	if (c && nfreed < 64) {
		freed[nfreed].c = c;
		freed[nfreed].by = pthread_self();
		nfreed++;
	}
	pthread_mutex_unlock(&freed_mu);
	__real_moat_config_destroy(c);
}

/* Was @c freed, and by @by? */
static bool freed_by(const struct moat_config *c, pthread_t by)
{
	bool yes = false;

	pthread_mutex_lock(&freed_mu);
	for (int i = 0; i < nfreed; i++)
		if (freed[i].c == c && pthread_equal(freed[i].by, by))
			yes = true;
	pthread_mutex_unlock(&freed_mu);
	return yes;
}

static bool freed_at_all(const struct moat_config *c)
{
	bool yes = false;

	pthread_mutex_lock(&freed_mu);
	for (int i = 0; i < nfreed; i++)
		yes |= freed[i].c == c;
	pthread_mutex_unlock(&freed_mu);
	return yes;
}

/* ---- a load the test holds back ------------------------------------------ */

struct loader {
	int gate[2];              /* each load waits for one byte */
	atomic_int loads;
	const char *text;         /* NULL: the file is broken */
	pthread_t thread;
};

static struct moat_config *gated_load(void *arg, struct moat_io_buf *out)
{
	struct loader *l = arg;
	struct moat_diags d;
	char c;

	l->thread = pthread_self();
	atomic_fetch_add(&l->loads, 1);
	if (read(l->gate[0], &c, 1) != 1)
		return NULL;
	if (!l->text) {
		moat_io_buf_printf(out, "test.conf:3:9: error: bad port\n");
		return NULL;
	}
	return moat_config_parse_string("test.conf", l->text, &d);
}

static void open_gate(struct loader *l)
{
	assert_int_equal(write(l->gate[1], "x", 1), 1);
}

static void wait_done(struct moat_io_reload *r)
{
	struct pollfd p = { .fd = moat_io_reload_fd(r), .events = POLLIN };

	assert_int_equal(poll(&p, 1, 10000), 1);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct fixture {
	struct harness h;
	struct loader l;
	struct moat_io_reload *r;
	const struct moat_config *old;
};

static void setup(struct fixture *f, const char *text)
{
	memset(f, 0, sizeof(*f));
	h_start(&f->h, old_conf);
	assert_int_equal(pipe(f->l.gate), 0);
	f->l.text = text;
	f->old = f->h.cfg;
	f->r = moat_io_reload_create(f->h.cfg, "test.conf", gated_load, &f->l);
	assert_non_null(f->r);
	f->h.cfg = NULL; /* the reloader's now */
}

static void teardown(struct fixture *f)
{
	moat_engine_destroy(f->h.eng); /* the engine first: it borrows */
	moat_io_reload_destroy(f->r);
	close(f->l.gate[0]);
	close(f->l.gate[1]);
}

static const struct moat_result *syn(struct fixture *f, uint16_t sport,
				     uint16_t dport)
{
	struct seg s = { "198.18.100.10", "198.18.1.10", sport, dport, 1000, 0,
			 MOAT_TCP_SYN, 0, 0, 0, NULL };

	return h_tcp(&f->h, 0, &s);
}

static void assert_old_rules(struct fixture *f, uint16_t sport)
{
	assert_verdict(syn(f, sport, 22), MOAT_VERDICT_DROP, MOAT_R_POLICY_DROP);
	assert_verdict(syn(f, sport, 80), MOAT_VERDICT_PASS, MOAT_R_RULE_PASS);
}

/* ---- the tests ---------------------------------------------------------- */

static void swap_between_batches(void **state)
{
	struct moat_io_reload_done d;
	struct fixture f;
	uint64_t worst = 0;

	(void)state;
	setup(&f, new_conf);
	assert_int_equal(moat_io_reload_request(f.r), 1);
	/* The load is held at the gate: the loop goes on, never waiting. */
	for (int i = 0; i < 200; i++) {
		uint64_t t0 = mono_ns();

		assert_false(moat_io_reload_poll(f.r, f.h.eng, &d));
		if (mono_ns() - t0 > worst)
			worst = mono_ns() - t0;
		assert_old_rules(&f, (uint16_t)(1000 + i));
	}
	assert_true(worst < 20 * 1000 * 1000u);
	assert_ptr_equal(moat_io_reload_config(f.r), f.old);
	open_gate(&f.l);
	wait_done(f.r);
	assert_true(moat_io_reload_poll(f.r, f.h.eng, &d));
	assert_int_equal(d.gen, 1);
	assert_int_equal(d.result, 0);
	assert_non_null(strstr(d.msg.p, "test.conf: reloaded, 3 rules"));
	moat_io_buf_free(&d.msg);
	assert_ptr_not_equal(moat_io_reload_config(f.r), f.old);
	assert_verdict(syn(&f, 2000, 22), MOAT_VERDICT_PASS, MOAT_R_RULE_PASS);
	/* The old one is the loader's to free, after the swap. */
	wait_done(f.r);
	assert_false(moat_io_reload_poll(f.r, f.h.eng, &d));
	assert_true(freed_by(f.old, f.l.thread));
	assert_false(pthread_equal(f.l.thread, pthread_self()));
	assert_int_equal(atomic_load(&f.l.loads), 1);
	teardown(&f);
}

static void failed_load_changes_nothing(void **state)
{
	struct moat_io_reload_done d;
	struct fixture f;
	int before;

	(void)state;
	setup(&f, NULL);
	before = nfreed;
	moat_io_reload_request(f.r);
	open_gate(&f.l);
	wait_done(f.r);
	assert_true(moat_io_reload_poll(f.r, f.h.eng, &d));
	assert_int_equal(d.result, -EINVAL);
	assert_non_null(strstr(d.msg.p, "test.conf:3:9: error: bad port"));
	assert_non_null(strstr(d.msg.p, "not loaded; the old rules stay"));
	moat_io_buf_free(&d.msg);
	assert_ptr_equal(moat_io_reload_config(f.r), f.old);
	assert_int_equal(nfreed, before);
	assert_old_rules(&f, 3000);
	/* And the next reload may come. */
	f.l.text = new_conf;
	assert_int_equal(moat_io_reload_request(f.r), 2);
	open_gate(&f.l);
	wait_done(f.r);
	assert_true(moat_io_reload_poll(f.r, f.h.eng, &d));
	assert_int_equal(d.result, 0);
	moat_io_buf_free(&d.msg);
	teardown(&f);
}

/* The engine cannot take the new rules (its first allocation fails): the
 * old ones stay, and the new configuration is what the loader frees. */
static void engine_out_of_memory_changes_nothing(void **state)
{
	struct moat_io_reload_done d;
	const struct moat_config *fresh = NULL;
	struct fixture f;

	(void)state;
	setup(&f, new_conf);
	moat_io_reload_request(f.r);
	open_gate(&f.l);
	wait_done(f.r);
	/* The loader sleeps now; only the loop allocates. */
	test_alloc_fail_in = 1;
	assert_true(moat_io_reload_poll(f.r, f.h.eng, &d));
	assert_int_equal(test_alloc_fail_in, 0);
	assert_int_equal(d.result, -ENOMEM);
	assert_non_null(strstr(d.msg.p, "could not take the new rules"));
	moat_io_buf_free(&d.msg);
	assert_ptr_equal(moat_io_reload_config(f.r), f.old);
	wait_done(f.r);
	assert_false(moat_io_reload_poll(f.r, f.h.eng, &d));
	pthread_mutex_lock(&freed_mu);
	if (nfreed > 0 && pthread_equal(freed[nfreed - 1].by, f.l.thread))
		fresh = freed[nfreed - 1].c;
	pthread_mutex_unlock(&freed_mu);
	assert_non_null(fresh);
	assert_ptr_not_equal(fresh, f.old);
	assert_false(freed_at_all(f.old));
	assert_old_rules(&f, 4000);
	teardown(&f);
}

static void requests_while_loading_share_the_next_load(void **state)
{
	struct moat_io_reload_done d;
	struct fixture f;

	(void)state;
	setup(&f, new_conf);
	assert_int_equal(moat_io_reload_request(f.r), 1);
	/* The file may change after load 1 read it: these wait for load 2. */
	assert_int_equal(moat_io_reload_request(f.r), 2);
	assert_int_equal(moat_io_reload_request(f.r), 2);
	open_gate(&f.l);
	wait_done(f.r);
	assert_true(moat_io_reload_poll(f.r, f.h.eng, &d));
	assert_int_equal(d.gen, 1);
	moat_io_buf_free(&d.msg);
	/* Load 2 starts once the loader has freed what load 1 replaced. */
	wait_done(f.r);
	assert_false(moat_io_reload_poll(f.r, f.h.eng, &d));
	open_gate(&f.l);
	wait_done(f.r);
	assert_true(moat_io_reload_poll(f.r, f.h.eng, &d));
	assert_int_equal(d.gen, 2);
	assert_int_equal(d.result, 0);
	moat_io_buf_free(&d.msg);
	assert_int_equal(atomic_load(&f.l.loads), 2);
	teardown(&f);
}

/* Stopping while a load runs waits for it and frees what it made. */
static void destroy_during_a_load(void **state)
{
	struct fixture f;

	(void)state;
	setup(&f, new_conf);
	moat_io_reload_request(f.r);
	open_gate(&f.l);
	teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(swap_between_batches),
		cmocka_unit_test(failed_load_changes_nothing),
		cmocka_unit_test(engine_out_of_memory_changes_nothing),
		cmocka_unit_test(requests_while_loading_share_the_next_load),
		cmocka_unit_test(destroy_during_a_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
