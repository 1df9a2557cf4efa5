/*
 * Reloads off the packet path.  Reading, checking and compiling a
 * configuration takes long with big rule sets (about a second for 50,000
 * rules), so a loader thread of its own does it while the packet loop
 * goes on forwarding; the loop only swaps the finished configuration into
 * the engine between two batches, and the loader frees the one replaced
 * once the engine no longer borrows it.
 *
 *   packet loop (owns the engine)         loader thread
 *   request() ----------- wake ---------> load(): read, check, compile
 *   ... forwarding, never waiting ...     phase = LOADED
 *   poll(): fd readable  <---- done -----
 *     moat_engine_reload() between batches
 *     the old config (or, refused, the new one)
 *                         ------ wake --> moat_config_destroy()
 *                                         phase = IDLE
 *
 * No lock: one job slot whose phase (an atomic, with release and acquire
 * ordering) says which side owns it, and two eventfds that wake the other
 * side.  Requests made while a load runs are answered by the next load
 * (which starts when this one is done), since the file may have changed
 * after the running load read it.
 *
 * Control plane.  Everything but the load function runs on the thread of
 * the packet loop and never blocks.
 */
#ifndef MOAT_IO_RELOAD_H
#define MOAT_IO_RELOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "moat/engine.h"
#include "moat/io_ctl.h"
#include "moat/rules.h"

/*
 * Runs on the loader thread: read, check and compile the configuration
 * again and return it, writing warnings to @out; or NULL, with the reasons
 * in @out.  It must not touch the engine or anything the loop uses.
 */
typedef struct moat_config *(*moat_io_reload_fn)(void *arg,
						  struct moat_io_buf *out);

struct moat_io_reload;

/*
 * Start the loader thread.  @cfg, the configuration in force (the one the
 * engine borrows), passes to the reloader, which frees it when a reload
 * replaces it or at destroy.  @name (borrowed) names the configuration in
 * messages.  NULL with errno set on failure (@cfg is then still the
 * caller's).
 */
struct moat_io_reload *moat_io_reload_create(struct moat_config *cfg,
					     const char *name,
					     moat_io_reload_fn load, void *arg);
/* Waits for a load in progress, stops the thread, frees every
 * configuration it holds.  Destroy the engine first.  Accepts NULL. */
void moat_io_reload_destroy(struct moat_io_reload *r);

/* The configuration in force. */
const struct moat_config *moat_io_reload_config(const struct moat_io_reload *r);

/* Ask for a reload.  Returns the number of the load that will answer it
 * (moat_io_reload_done.gen reaches it).  Never blocks. */
uint64_t moat_io_reload_request(struct moat_io_reload *r);

/* Readable when the loader has something for moat_io_reload_poll(). */
int moat_io_reload_fd(const struct moat_io_reload *r);

struct moat_io_reload_done {
	uint64_t gen;          /* requests up to this number are answered */
	int result;            /* 0 swapped in; -EINVAL not loaded (errors
				  in msg); -ENOMEM the engine could not
				  take it; the old rules stay either way */
	uint64_t load_ns;      /* reading, checking, compiling (loader) */
	uint64_t swap_ns;      /* moat_engine_reload (the packet loop) */
	struct moat_io_buf msg; /* what to say; the caller frees it */
};

/*
 * Between two batches: when a load has finished, swap it into @engine
 * (NULL: no engine, only the configuration in force changes), fill @done
 * and return true; else false.  Also starts a load asked for while the
 * previous one ran.  Never blocks; the swap itself allocates a little and
 * walks the flow table once (moat_engine_reload).
 */
bool moat_io_reload_poll(struct moat_io_reload *r, struct moat_engine *engine,
			 struct moat_io_reload_done *done);

#endif
