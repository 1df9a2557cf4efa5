/*
 * The fragment step of the packet's path, between sanity and the flows:
 *
 *   not a fragment ............ on to flows and rules
 *   first fragment (offset 0) . on to flows and rules like a whole packet
 *                               (it holds the whole transport header:
 *                               decode refused it as frag-tiny if not,
 *                               RFC 1858 3.1, RFC 7112); its verdict is
 *                               then recorded for its datagram, and on a
 *                               pass the fragments held for it go out
 *   later fragment ............ its datagram's verdict: frag-first-passed
 *                               (forwarded unchanged) or a drop with the
 *                               reason src/frag gives (frag-first-dropped,
 *                               frag-overlap, frag-too-many, ...); before
 *                               its first fragment came: frag-held
 *
 * An IPv6 atomic fragment (a fragment header with offset 0 and M clear)
 * never gets here: decode treats it as the whole packet it is (RFC 6946
 * section 4), so it shares no state with other fragments.  With
 * `frag-max 0` there is no table and every fragment is dropped with
 * `fragment`, as before moat reassembled.
 *
 * A held fragment is counted once, when it arrives, as a drop (frag-held:
 * the input frame is not forwarded then); if its first fragment passes it
 * leaves later as an emitted copy, counted in `emitted` and the table's
 * `released`.  doc/fragments.md has the whole picture.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <sodium.h>

#include "engine/frag_glue.h"
#include "moat/frag.h"

enum { NS_PER_SEC = 1000000000 };

static void frag_params(const struct moat_engine *e,
			struct moat_frag_params *fp)
{
	memset(fp, 0, sizeof(*fp));
	fp->slots = e->opt.frag_max;
	fp->timeout_ns = (uint64_t)e->opt.frag_timeout * NS_PER_SEC;
	/* A seed of its own, derived: the secret may be shared. */
	crypto_generichash(fp->seed, sizeof(fp->seed),
			   (const uint8_t *)"moat frag seed", 14, e->secret,
			   sizeof(e->secret));
}

int moat_engine_frag_create(struct moat_engine *e)
{
	struct moat_frag_params fp;

	e->frag = NULL;
	if (e->opt.frag_max == 0)
		return 0;
	frag_params(e, &fp);
	e->frag = moat_frag_create(&fp);
	return e->frag ? 0 : -ENOMEM;
}

void moat_engine_frag_destroy(struct moat_engine *e)
{
	moat_frag_destroy(e->frag);
	e->frag = NULL;
}

void moat_engine_frag_reload(struct moat_engine *e)
{
	if (e->frag)
		moat_frag_set_timeout(e->frag, (uint64_t)e->opt.frag_timeout *
					       NS_PER_SEC);
}

bool moat_engine_frag_in(struct moat_engine *e, struct moat_flight *fl)
{
	struct moat_frag_verdict v;
	struct moat_pkt *p = &fl->p;

	fl->frag_dgram = 0;
	if (!(p->frag & MOAT_FRAG_IS))
		return true;
	if (!e->frag) {
		moat_engine_say(e, "fragment: no reassembly (frag-max 0)");
		moat_engine_finish(e, fl, MOAT_VERDICT_DROP, MOAT_R_FRAGMENT);
		return false;
	}
	moat_frag_add(e->frag, p, fl->now, &v);
	if (v.action == MOAT_FRAG_DECIDE) {
		moat_engine_say(e, "fragment: first of datagram id %" PRIu32
				", decided as a whole packet", p->frag_id);
		fl->frag_dgram = v.datagram;
		return true;
	}
	fl->res->rule = v.rule;
	if (v.action == MOAT_FRAG_PASS) {
		moat_engine_say(e, "fragment: offset %u follows its first "
				"fragment (rule %d)", p->frag_off, v.rule);
		fl->res->log = v.log;
		moat_engine_finish(e, fl, MOAT_VERDICT_PASS, v.reason);
		return false;
	}
	moat_engine_say(e, "fragment: offset %u: %s", p->frag_off,
			moat_reason_name(v.reason));
	moat_engine_finish(e, fl, MOAT_VERDICT_DROP, v.reason);
	return false;
}

void moat_engine_frag_decided(struct moat_engine *e, struct moat_flight *fl)
{
	struct moat_frag_decision d;
	uint32_t sent;

	if (!fl->frag_dgram)
		return;
	d.pass = fl->res->verdict == MOAT_VERDICT_PASS;
	d.rule = fl->res->rule;
	d.log = fl->res->log;
	d.out_zone = fl->res->out_zone;
	sent = moat_frag_decide(e->frag, fl->frag_dgram, &d, fl->out);
	fl->frag_dgram = 0;
	e->cnt.emitted += sent;
	if (sent)
		moat_engine_say(e, "fragment: %u held fragment(s) released",
				sent);
}

void moat_engine_frag_tick(struct moat_engine *e, uint64_t now_ns,
			   struct moat_emit *out)
{
	if (e->frag)
		e->cnt.emitted += moat_frag_tick(e->frag, now_ns, out);
}

int moat_engine_frag_stats_json(const struct moat_engine *e, char *buf,
				unsigned long len)
{
	struct moat_frag_stats st = { 0 };
	int n;

	if (e->frag)
		moat_frag_get_stats(e->frag, &st);
	n = snprintf(buf, len,
		     "{\"datagrams\":%" PRIu32 ",\"capacity\":%" PRIu32
		     ",\"slots\":%" PRIu32 ",\"held\":%" PRIu32
		     ",\"released\":%" PRIu64 ",\"held_lost\":%" PRIu64
		     ",\"timed_out\":%" PRIu64 ",\"evicted\":%" PRIu64
		     ",\"completed\":%" PRIu64 ",\"bytes\":%" PRIu64 "}",
		     st.datagrams, st.datagram_capacity, st.slots, st.held,
		     st.released, st.held_lost, st.timed_out, st.evicted,
		     st.completed, st.bytes);
	if (n < 0 || (unsigned long)n >= len)
		return -1;
	return n;
}
