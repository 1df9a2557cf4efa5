/*
 * The SYN proxy: the handshake with the client on the server's behalf, then
 * the handshake with the server, then sequence translation for the rest of
 * the flow.  The building blocks (cookies, keys, translation, the tables)
 * are in moat/syn.h; this is the state machine the engine drives.
 *
 * On the packet's path (see doc/synproxy.md for the whole story):
 *
 *   rules pass a SYN with `synproxy`:
 *       moat_syn_decide()       -- the one decision (moat/syn_decide.h):
 *         TRACK, PROBE          the SYN goes to the server as any SYN:
 *                               the engine opens the flow, then
 *         moat_syn_half_open_start()  counts it half-open
 *         COOKIE                moat_syn_answer_syn(): cookie SYN-ACK;
 *                               drop the SYN
 *         SHED                  drop the SYN (syn-shed)
 *   no flow, an ACK towards a `synproxy` destination:
 *       moat_syn_check_ack()    -- a valid cookie?  else drop (reason)
 *       moat_ct_insert_as(.., MOAT_CT_SYNPROXY, ..)
 *       moat_syn_open_server()  -- SYN to the server, hold data; drop
 *   a flow in MOAT_CT_SYNPROXY (do not call moat_ct_track on it):
 *       moat_syn_segment()      -- client data held, server SYN-ACK
 *                                  completes (flow ESTABLISHED with
 *                                  MOAT_CT_F_SYNPROXY), server RST aborts
 *   a flow with MOAT_CT_F_SYNPROXY (or modulated):
 *       moat_ct_track() on the packet as received, then
 *       moat_syn_translate_flow() rewrites it in place
 *   every passed packet of a tracked flow, after moat_ct_track():
 *       moat_syn_tracked()      -- learns the server's options from the
 *                                  SYN-ACK of a counted handshake, ends
 *                                  the count when it completes or resets
 *   a flow leaves the table (conntrack's free hook):
 *       moat_syn_flow_gone()
 *   the engine's tick:
 *       moat_syn_tick()          -- SYN-ACK retransmits, server timeouts,
 *                                  key rotation, mode switches back
 *
 * Ownership: struct moat_syn is the engine's, one per engine (per core),
 * allocated once by moat_syn_create(); nothing allocates afterwards.  The
 * proxy's per-flow state lives in the conntrack entry (seq_delta, ts_delta,
 * wscale_fix) and, during the handshake only, in a slot of the proxy's
 * fixed pool named by entry->aux (slot + 1; 0 = none).
 */
#ifndef MOAT_SYN_PROXY_H
#define MOAT_SYN_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "moat/ct.h"
#include "moat/emit.h"
#include "moat/pkt.h"
#include "moat/reason.h"
#include "moat/syn.h"
#include "moat/syn_decide.h"

enum {
	MOAT_SYN_HOLD_PER_FLOW = 4,    /* client segments held per handshake */
	MOAT_SYN_SERVER_RTX_MS = 1000, /* SYN to the server sent again */
	MOAT_SYN_SERVER_TIMEOUT_MS = 3000, /* then the client gets a RST */
	MOAT_SYN_TICK_EVENTS = 16,
};

/*
 * The tables' sizes: a size left 0 follows @max_flows, the size of the
 * flow table the proxy serves (moat_syn_params_size() says how), so that a
 * small engine is cheap to create.
 */
struct moat_syn_params {
	uint8_t secret[MOAT_SYN_SECRET_LEN]; /* all zero is refused */
	uint32_t key_epoch_counters; /* 0: MOAT_SYN_KEY_EPOCH_COUNTERS */
	uint32_t max_flows;          /* 0: MOAT_DEFAULT_MAX_FLOWS */
	uint32_t rtx_slots;          /* cookie SYN-ACKs to resend */
	uint32_t backend_slots;      /* servers whose options are learned */
	uint32_t mode_slots;         /* destinations the detector watches */
	uint32_t flows;              /* handshakes with servers at once */
	uint32_t holds;              /* held segments in all */
	struct moat_syn_mode_params mode; /* the detector's thresholds */
};

/*
 * Fill the sizes of @par left 0 from @par->max_flows (0: the default
 * max-flows): the retransmit table a quarter of the flow table, servers
 * and handshakes with them 1/64, detector slots 1/256, each at least 16
 * and at most what the default max-flows gives (65536, 4096, 4096,
 * 1024), so that tables beyond it do not grow the proxy's bytes per
 * flow.  moat_syn_create() calls it; it is public so that a caller can
 * see the sizes it will get.
 */
void moat_syn_params_size(struct moat_syn_params *par);

struct moat_syn;

/* Allocate everything.  NULL and errno (EINVAL: zero secret) on failure. */
struct moat_syn *moat_syn_create(const struct moat_syn_params *par);
void moat_syn_destroy(struct moat_syn *s); /* accepts NULL */

/* The detector's thresholds at run time (reload).  The mode in force is
 * not here: it is asked with every SYN (struct moat_syn_question). */
void moat_syn_set_mode(struct moat_syn *s,
		       const struct moat_syn_mode_params *mode);

/* The tables, for stats and tests. */
struct moat_syn_keys *moat_syn_keys(struct moat_syn *s);
struct moat_syn_rtx *moat_syn_rtx(struct moat_syn *s);
struct moat_syn_backend *moat_syn_backends(struct moat_syn *s);
struct moat_syn_modes *moat_syn_modes(struct moat_syn *s);
uint32_t moat_syn_flows_active(const struct moat_syn *s);
uint32_t moat_syn_holds_free(const struct moat_syn *s);

/*
 * The one decision for a SYN @p (no ACK, no RST) that a `synproxy` rule
 * passed, at @now_ns, for the question @q (the mode in force, shedding,
 * the source known): counts the SYN in its destination's detector record
 * and applies the hysteresis (a switch fills *@ev and sets *@switched),
 * reads whether the server's options are still to be learned, and returns
 * moat_syn_decision() over that state; a PROBE is recorded as sent.  The
 * SYN is counted whatever the mode, so the detector knows the destination
 * when `auto` comes back into force.
 */
enum moat_syn_decision moat_syn_decide(struct moat_syn *s,
				       const struct moat_pkt *p,
				       const struct moat_syn_question *q,
				       uint64_t now_ns,
				       struct moat_syn_mode_event *ev,
				       bool *switched);

/*
 * Half-open accounting.  start(): flow @e was just opened for a SYN that
 * moat_syn_decide() answered TRACK or PROBE: count it half-open for its
 * destination (MOAT_CT_F_HALFOPEN; once).  tracked(): a packet @p of @e
 * travelling in @dir passed moat_ct_track(): learn from a counted flow's
 * server SYN-ACK, and end the count once @e left SYN_SENT / SYN_RECV.
 * gone(): @e leaves the table: end its count.  Each may switch the
 * destination's mode, reported as by moat_syn_decide().
 */
void moat_syn_half_open_start(struct moat_syn *s, struct moat_ct_entry *e,
			      uint64_t now_ns, struct moat_syn_mode_event *ev,
			      bool *switched);
void moat_syn_tracked(struct moat_syn *s, struct moat_ct_entry *e, int dir,
		      const struct moat_pkt *p, uint64_t now_ns,
		      struct moat_syn_mode_event *ev, bool *switched);
void moat_syn_flow_gone(struct moat_syn *s, struct moat_ct_entry *e,
			uint64_t now_ns, struct moat_syn_mode_event *ev,
			bool *switched);

/* A SYN-ACK of a server behind a `synproxy` rule (tests; the engine's
 * go through moat_syn_tracked()). */
void moat_syn_learn(struct moat_syn *s, const struct moat_pkt *p,
		    uint64_t now_ns);

/*
 * Answer the client's SYN @p (arrived from zone @in_zone) with a cookie
 * SYN-ACK appended to @out (leaving into @in_zone): link addresses swapped
 * from @p's frame, VLAN tags kept, a real non-zero window, MSS, window
 * scale, SACK-permitted and timestamps as the server behind (learned) will
 * honour them.  Records it for retransmission.  Returns
 * MOAT_R_SYN_COOKIE_SENT (drop the SYN) or MOAT_R_EMIT_FULL.
 */
enum moat_reason moat_syn_answer_syn(struct moat_syn *s,
				     const struct moat_pkt *p, int in_zone,
				     uint64_t now_ns, struct moat_emit *out);

/*
 * Is @p (an ACK without SYN or RST, no flow) the final ACK of one of our
 * cookie handshakes?  MOAT_R_NONE and *@c filled (ISN, MSS, window scale,
 * SACK, timestamps, ECN as the client's SYN offered them, as far as the
 * cookie could carry them); else MOAT_R_SYN_COOKIE_BAD or _STALE (drop).
 * Clears the SYN-ACK's retransmit entry.
 */
enum moat_reason moat_syn_check_ack(struct moat_syn *s,
				    const struct moat_pkt *p, uint64_t now_ns,
				    struct moat_syn_client *c);

/*
 * @e: a flow just created with moat_ct_insert_as(ct, @p, MOAT_CT_SYNPROXY)
 * for the final ACK @p validated into @c.  Sends the SYN to the server
 * (the client's ISN and options, its TSval) into @out_zone, holds @p's
 * data.  Returns MOAT_R_SYN_PROXY_HELD (data held) or
 * MOAT_R_SYN_PROXY_CONSUMED; the engine drops @p either way.  On
 * MOAT_R_SYN_PROXY_HOLD_FULL (no handshake slot or hold buffer) or
 * MOAT_R_EMIT_FULL the flow is removed again: the client retransmits.
 */
enum moat_reason moat_syn_open_server(struct moat_syn *s, struct moat_ct *ct,
				      struct moat_ct_entry *e,
				      const struct moat_pkt *p,
				      const struct moat_syn_client *c,
				      int in_zone, int out_zone,
				      uint64_t now_ns, struct moat_emit *out);

/*
 * A packet @p of flow @e in MOAT_CT_SYNPROXY travelling in @dir
 * (ORIG: client to server).  The engine drops @p and counts the reason:
 *   client data or FIN     SYN_PROXY_HELD, or SYN_PROXY_HOLD_FULL
 *   client pure ACK        SYN_PROXY_CONSUMED (a retransmitted final ACK)
 *   client RST             SYN_PROXY_CONSUMED; the flow is removed
 *   server SYN-ACK         SYN_PROXY_CONSUMED: ACK to the server, held
 *                          data released translated, the flow becomes
 *                          ESTABLISHED with MOAT_CT_F_SYNPROXY
 *   server RST             SYN_PROXY_SERVER_RST: RST to the client, the
 *                          flow is removed
 *   anything else          TCP_BAD_STATE
 * After a removal @e must not be used.
 */
enum moat_reason moat_syn_segment(struct moat_syn *s, struct moat_ct *ct,
				  struct moat_ct_entry *e, int dir,
				  struct moat_pkt *p, uint64_t now_ns,
				  struct moat_emit *out);

/*
 * The rewrite of a packet travelling in @dir of flow @e, from its deltas:
 * SEQ += seq_delta[dir], ACK and SACK -= seq_delta[!dir], TSval +=
 * ts_delta[dir], TSecr -= ts_delta[!dir]; in REPLY packets the window is
 * rescaled by wscale_fix: window << (low nibble: the shift the server
 * uses) >> (high nibble: the shift the client was told); 0 = none.
 */
void moat_syn_flow_xlate(const struct moat_ct_entry *e, int dir,
			 struct moat_syn_xlate *x);

/* moat_syn_flow_xlate + moat_syn_translate; true when @p was rewritten. */
bool moat_syn_translate_flow(const struct moat_ct_entry *e, int dir,
			     struct moat_pkt *p);

struct moat_syn_tick_report {
	uint32_t synack_rtx;       /* cookie SYN-ACKs sent again */
	uint32_t syn_rtx;          /* SYNs to servers sent again */
	uint32_t server_timeouts;  /* count each as MOAT_R_SYN_PROXY_SERVER_RST */
	uint32_t deferred;         /* emit full: left for the next tick */
	uint32_t mode_events;
	struct moat_syn_mode_event ev[MOAT_SYN_TICK_EVENTS];
};

/*
 * Advance time: derive the next key when its epoch starts, retransmit due
 * cookie SYN-ACKs and SYNs to silent servers, give up on servers silent
 * for MOAT_SYN_SERVER_TIMEOUT_MS (RST to the client, flow removed), switch
 * quiet destinations back to state mode.  Emits as much as @out holds and
 * leaves the rest for the next tick.
 */
void moat_syn_tick(struct moat_syn *s, struct moat_ct *ct, uint64_t now_ns,
		   struct moat_emit *out, struct moat_syn_tick_report *rep);

#endif
