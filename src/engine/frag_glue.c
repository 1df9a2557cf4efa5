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
 *
 * A TCP segment in fragments: conntrack judged it by its first fragment,
 * whose bytes are only the start of the segment, so the receiver's ACK of
 * the whole would look like an ACK of data never sent.  For each passed
 * TCP datagram the glue remembers (by the datagram's handle) the ports,
 * SEQ and header length of its first fragment, and as its fragments pass
 * it tells conntrack how far the segment now reaches
 * (moat_ct_tcp_sent_to).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "engine/frag_glue.h"
#include "moat/frag.h"

enum { NS_PER_SEC = 1000000000 };

/* What a passed TCP datagram's later fragments need of its first. */
struct moat_frag_tcp {
	uint32_t seq;        /* as received, the sender's own space */
	uint16_t sport, dport;
	uint16_t hlen;       /* bytes of the fragmentable part before the
				segment's data: IPv6 extension headers
				after the fragment header, the TCP header */
	uint8_t fin;         /* the segment ends with a FIN */
	bool tcp;            /* set at each decision of the handle */
};

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
	/* Handles run from 1 to the pool's size. */
	e->frag_tcp = calloc((size_t)e->opt.frag_max + 1,
			     sizeof(*e->frag_tcp));
	return e->frag && e->frag_tcp ? 0 : -ENOMEM;
}

void moat_engine_frag_destroy(struct moat_engine *e)
{
	moat_frag_destroy(e->frag);
	e->frag = NULL;
	free(e->frag_tcp);
	e->frag_tcp = NULL;
}

/* The segment of @t reaches byte @reach of its datagram's fragmentable
 * part: tell the flow of @p (a fragment of it) so. */
static void tcp_reach(struct moat_engine *e, const struct moat_pkt *p,
		      const struct moat_frag_tcp *t, uint32_t reach)
{
	struct moat_ct_entry *ent;
	struct moat_pkt q;
	int dir;

	if (!t->tcp || reach <= t->hlen)
		return;
	q = *p;
	q.proto = MOAT_IPPROTO_TCP;
	q.sport = t->sport;
	q.dport = t->dport;
	ent = moat_ct_lookup(e->ct, &q, &dir);
	if (ent)
		moat_ct_tcp_sent_to(ent, dir, t->seq + (reach - t->hlen) +
					      t->fin);
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
		fl->frag_reach = v.reach;
		fl->frag_seq = p->seq;
		return true;
	}
	fl->res->rule = v.rule;
	if (v.action == MOAT_FRAG_PASS) {
		if (p->proto == MOAT_IPPROTO_TCP)
			tcp_reach(e, p, &e->frag_tcp[v.datagram], v.reach);
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

/* A first fragment decided: what its TCP datagram's rest will need. */
static void remember_tcp(struct moat_engine *e, struct moat_flight *fl)
{
	const struct moat_pkt *p = &fl->p;
	struct moat_frag_tcp *t = &e->frag_tcp[fl->frag_dgram];

	t->tcp = fl->res->verdict == MOAT_VERDICT_PASS &&
		 p->proto == MOAT_IPPROTO_TCP && (p->have & MOAT_PKT_HAVE_L4);
	if (!t->tcp)
		return;
	t->seq = fl->frag_seq;
	t->sport = p->sport;
	t->dport = p->dport;
	t->hlen = (uint16_t)(p->l4_off - p->frag_data_off + p->tcp_hlen);
	t->fin = (p->tcp_flags & MOAT_TCP_FIN) ? 1 : 0;
	/* Held fragments reach further than the first: they leave now. */
	tcp_reach(e, p, t, fl->frag_reach);
}

void moat_engine_frag_decided(struct moat_engine *e, struct moat_flight *fl)
{
	struct moat_frag_decision d;
	uint32_t sent, from;

	if (!fl->frag_dgram)
		return;
	d.pass = fl->res->verdict == MOAT_VERDICT_PASS;
	d.rule = fl->res->rule;
	d.log = fl->res->log;
	d.out_zone = fl->res->out_zone;
	remember_tcp(e, fl);
	from = fl->out->count;
	sent = moat_frag_decide(e->frag, fl->frag_dgram, &d, fl->out);
	moat_engine_scrub_released(e, fl->out, from);
	fl->frag_dgram = 0;
	e->cnt.emitted += sent;
	if (sent)
		moat_engine_say(e, "fragment: %u held fragment(s) released",
				sent);
}

void moat_engine_frag_tick(struct moat_engine *e, uint64_t now_ns,
			   struct moat_emit *out)
{
	uint32_t from = out->count;

	if (!e->frag)
		return;
	e->cnt.emitted += moat_frag_tick(e->frag, now_ns, out);
	moat_engine_scrub_released(e, out, from);
}

void moat_engine_frag_get_stats(const struct moat_engine *e,
				struct moat_frag_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (e->frag)
		moat_frag_get_stats(e->frag, st);
}
