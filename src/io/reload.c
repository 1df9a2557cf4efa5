/*
 * The reload handoff of include/moat/io_reload.h: a loader thread and one
 * job slot shared with the packet loop, passed back and forth by its
 * phase.  Each phase has one owner, and only the owner moves it on:
 *
 *   IDLE --loop: start()--> LOADING --loader: load()--> LOADED
 *     ^                                                   |
 *     +--loader: destroy the retired config-- RETIRING <--+ loop: poll()
 *                                                          swaps, retires
 *
 * The owner writes the slot's fields and then the phase (release); the
 * other side reads the phase (acquire) before it reads the fields, so the
 * slot is never read and written at once.  The eventfds only wake: the
 * loader sleeps in read() on `wake` (and so costs nothing between
 * reloads), the loop polls `done` with its rings.
 *
 * The loader runs with every signal blocked (SIGHUP and SIGTERM are the
 * loop's, taken in its ppoll()) and at a lower priority than the loop, so
 * on a busy core compiling yields to forwarding.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "moat/io_reload.h"

enum phase { IDLE = 0, LOADING, LOADED, RETIRING };

/* How much nicer than the loop the loader runs (setpriority(2)). */
enum { LOADER_NICE = 10 };

struct moat_io_reload {
	pthread_t thread;
	int wake_fd, done_fd;
	moat_io_reload_fn load;
	void *arg;
	const char *name;
	atomic_int phase;          /* enum phase */
	atomic_bool stop;

	/* The job slot: owned by whoever the phase says. */
	struct moat_config *loaded;   /* LOADED: the new config, or NULL */
	struct moat_io_buf msg;       /* LOADED: the loader's words */
	uint64_t load_ns;
	struct moat_config *retired;  /* RETIRING: to free */

	/* The loop's own. */
	struct moat_config *cfg;      /* in force; owned */
	uint64_t started;             /* number of the last load started */
	bool pending;                 /* a request came after it started */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void wake(int fd)
{
	uint64_t one = 1;

	/* Nonblocking; it only fails when the counter is about to
	 * overflow, and then the other side has a wake-up pending anyway. */
	if (write(fd, &one, sizeof(one)) < 0)
		return;
}

/* Reset the wake-up count; the phase says what happened. */
static void drain(int fd)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0)
		return; /* EAGAIN: nothing was pending */
}

static void set_phase(struct moat_io_reload *r, enum phase p)
{
	atomic_store_explicit(&r->phase, p, memory_order_release);
}

static enum phase get_phase(const struct moat_io_reload *r)
{
	return (enum phase)atomic_load_explicit(
		(atomic_int *)&r->phase, memory_order_acquire);
}

/* ---- the loader thread ------------------------------------------------- */

static void do_load(struct moat_io_reload *r)
{
	uint64_t t0 = mono_ns();

	moat_io_buf_init(&r->msg);
	r->loaded = r->load(r->arg, &r->msg);
	r->load_ns = mono_ns() - t0;
	set_phase(r, LOADED);
	wake(r->done_fd);
}

static void do_retire(struct moat_io_reload *r)
{
	moat_config_destroy(r->retired);
	r->retired = NULL;
	set_phase(r, IDLE);
	wake(r->done_fd);
}

static void *loader_main(void *arg)
{
	struct moat_io_reload *r = arg;
	uint64_t n;

	/* Linux: a thread's nice value is its own.  Best effort. */
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), LOADER_NICE);
	while (!atomic_load(&r->stop)) {
		if (read(r->wake_fd, &n, sizeof(n)) < 0 && errno != EINTR)
			break;
		/* Both may be due after one wake-up; each is handled once,
		 * since the handler moves the phase on. */
		if (get_phase(r) == RETIRING)
			do_retire(r);
		if (get_phase(r) == LOADING)
			do_load(r);
	}
	return NULL;
}

/* ---- life cycle --------------------------------------------------------- */

static int start_thread(struct moat_io_reload *r)
{
	sigset_t all, old;
	int e;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&r->thread, NULL, loader_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -e;
}

struct moat_io_reload *moat_io_reload_create(struct moat_config *cfg,
					     const char *name,
					     moat_io_reload_fn load, void *arg)
{
	struct moat_io_reload *r = calloc(1, sizeof(*r));
	int e = ENOMEM;

	if (!r)
		goto fail;
	r->wake_fd = r->done_fd = -1;
	r->wake_fd = eventfd(0, EFD_CLOEXEC);
	r->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->wake_fd < 0 || r->done_fd < 0) {
		e = errno;
		goto fail;
	}
	r->load = load;
	r->arg = arg;
	r->name = name;
	atomic_init(&r->phase, IDLE);
	atomic_init(&r->stop, false);
	e = -start_thread(r);
	if (e)
		goto fail;
	r->cfg = cfg;
	return r;
fail:
	if (r) {
		if (r->wake_fd >= 0)
			close(r->wake_fd);
		if (r->done_fd >= 0)
			close(r->done_fd);
		free(r);
	}
	errno = e;
	return NULL;
}

void moat_io_reload_destroy(struct moat_io_reload *r)
{
	if (!r)
		return;
	atomic_store(&r->stop, true);
	wake(r->wake_fd);
	pthread_join(r->thread, NULL);
	/* The thread is gone: whatever the phase, the slot is ours. */
	if (get_phase(r) == LOADED) {
		moat_config_destroy(r->loaded);
		moat_io_buf_free(&r->msg);
	}
	moat_config_destroy(r->retired);
	moat_config_destroy(r->cfg);
	close(r->wake_fd);
	close(r->done_fd);
	free(r);
}

const struct moat_config *moat_io_reload_config(const struct moat_io_reload *r)
{
	return r->cfg;
}

int moat_io_reload_fd(const struct moat_io_reload *r)
{
	return r->done_fd;
}

/* ---- the loop's side ---------------------------------------------------- */

static void start(struct moat_io_reload *r)
{
	r->started++;
	r->pending = false;
	set_phase(r, LOADING);
	wake(r->wake_fd);
}

uint64_t moat_io_reload_request(struct moat_io_reload *r)
{
	if (get_phase(r) == IDLE && !r->pending) {
		start(r);
		return r->started;
	}
	r->pending = true;
	return r->started + 1;
}

/* The loaded configuration goes in force, or is refused; either way one
 * configuration is handed back to the loader to free. */
static void swap(struct moat_io_reload *r, struct moat_engine *engine,
		 struct moat_io_reload_done *done)
{
	struct moat_config *c = r->loaded;
	uint64_t t0 = mono_ns();
	int e = 0;

	r->loaded = NULL;
	if (!c) {
		moat_io_buf_printf(&done->msg, "%s: not loaded; the old rules "
				   "stay\n", r->name);
		done->result = -EINVAL;
		return;
	}
	if (engine)
		e = moat_engine_reload(engine, c);
	done->swap_ns = mono_ns() - t0;
	if (e < 0) {
		moat_io_buf_printf(&done->msg, "%s: the engine could not take "
				   "the new rules: %s; the old rules stay\n",
				   r->name, strerror(-e));
		done->result = e;
		r->retired = c;
		return;
	}
	moat_io_buf_printf(&done->msg, "%s: reloaded, %d rules (loaded in "
			   "%.1f ms beside the packet loop, swapped in %.3f "
			   "ms)\n", r->name, moat_config_rule_count(c),
			   (double)done->load_ns / 1e6,
			   (double)done->swap_ns / 1e6);
	r->retired = r->cfg;
	r->cfg = c;
}

bool moat_io_reload_poll(struct moat_io_reload *r, struct moat_engine *engine,
			 struct moat_io_reload_done *done)
{
	enum phase p;

	/* First the count, then the phase: a wake-up that comes between the
	 * two is left for the next poll. */
	drain(r->done_fd);
	p = get_phase(r);
	if (p == IDLE && r->pending)
		start(r);
	if (p != LOADED)
		return false;
	memset(done, 0, sizeof(*done));
	done->gen = r->started;
	done->load_ns = r->load_ns;
	done->msg = r->msg;             /* the loader's words, now ours */
	moat_io_buf_init(&r->msg);
	swap(r, engine, done);
	if (r->retired) {
		set_phase(r, RETIRING);
		wake(r->wake_fd);
	} else {
		set_phase(r, IDLE);
		if (r->pending)
			start(r);
	}
	return true;
}
