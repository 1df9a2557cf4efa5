/*
 * The engine: the packet's whole path as one pure function.
 *
 *   verdict, emitted frames = process(state, frame, ingress zone, now)
 *
 * It never reads a clock, never touches a socket, never allocates after
 * create: time comes in as @now_ns (any monotonic origin; replay uses the
 * capture's timestamps), keys come in through the parameters, and emitted
 * frames go into a caller-owned struct moat_emit.  Every I/O backend (pcap
 * replay, AF_PACKET, later AF_XDP and NFQUEUE) and every test drives this
 * same engine.
 *
 * Threading: one engine per core; calls on one engine are not concurrent.
 */
#ifndef MOAT_ENGINE_H
#define MOAT_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "moat/ct.h"
#include "moat/emit.h"
#include "moat/event.h"
#include "moat/frag.h"
#include "moat/reason.h"
#include "moat/syn.h"
#include "moat/syn_decide.h"

struct moat_config;
struct moat_engine;

/* The ingress zone is unknown: pick it from the source address, else default. */
enum { MOAT_ZONE_AUTO = -1 };

struct moat_engine_params {
	/* 32 random bytes for cookie keys, ISN modulation and hash seeds; the
	 * caller draws them (getrandom) or loads them from a shared key file,
	 * so that several gateways validate each other's cookies.  All zero is
	 * refused. */
	uint8_t secret[32];
};

struct moat_frame {
	uint8_t *data;      /* borrowed for one call; may be rewritten in place */
	uint32_t caplen;
	uint32_t wirelen;
	uint16_t linktype;  /* enum moat_linktype */
	int16_t zone;       /* ingress zone index, or MOAT_ZONE_AUTO */
};

struct moat_result {
	enum moat_verdict verdict;
	enum moat_reason reason;  /* why; MOAT_R_STATE_MATCH for tracked passes
				     (or TCP_SYN_REUSE, TCP_STALE_RETRANSMIT:
				     passed, the flow left as it was) */
	int rule;                 /* 1-based number of the deciding rule, or 0 */
	int16_t in_zone, out_zone;
	bool rewritten;           /* the frame was changed in place */
	bool log;                 /* a `log` rule matched: write it to the log */
};

/* Counters; every packet lands in exactly one verdict and one reason. */
struct moat_counters {
	uint64_t packets, passed, dropped, emitted;
	uint64_t reason[MOAT_R_COUNT];
};

/*
 * Create an engine for @cfg (borrowed: it must outlive the engine or be
 * replaced with moat_engine_reload first).  Allocates every table once.
 * Returns NULL and sets errno on failure.
 */
struct moat_engine *moat_engine_create(const struct moat_config *cfg,
				       const struct moat_engine_params *par);
void moat_engine_destroy(struct moat_engine *e); /* accepts NULL */

/*
 * Switch to the rules of @cfg between two packets; flows are kept and
 * table sizes stay as created.  All or nothing: 0, and the engine now
 * borrows @cfg, so the caller may free the old one; or -ENOMEM, and
 * nothing changed: the engine still borrows the old one and the caller
 * frees @cfg.  Control plane: allocates (before it changes anything) and
 * walks the flow table once.
 */
int moat_engine_reload(struct moat_engine *e, const struct moat_config *cfg);

/* The packet's path.  Fills @res and appends to @out. */
void moat_engine_process(struct moat_engine *e, struct moat_frame *f,
			 uint64_t now_ns, struct moat_result *res,
			 struct moat_emit *out);

/*
 * Up to MOAT_ENGINE_BURST frames at once, with the same verdicts as one
 * moat_engine_process() per frame in order: @res and @out are arrays of @n,
 * one per frame.  Faster with big flow tables: the flow lookups of the
 * burst overlap their memory misses.
 */
enum { MOAT_ENGINE_BURST = 32 };
void moat_engine_process_burst(struct moat_engine *e, struct moat_frame *f,
			       int n, uint64_t now_ns,
			       struct moat_result *res, struct moat_emit *out);

/*
 * Load shedding, set by the I/O side when it falls behind (its receive ring
 * holds frames older than it can accept) and cleared when it has caught up.
 * While set, a SYN that would be answered with a cookie is dropped at once
 * (reason syn-shed) unless its source has completed a handshake through
 * moat before: the clients known before a flood keep priority, and the
 * flood's cost per packet falls to a lookup.
 */
void moat_engine_set_shed(struct moat_engine *e, bool shed);

/*
 * Explain the next moat_engine_process() call: every check the packet goes
 * through and why it ends where it does, one line each, into @buf (@len
 * bytes, NUL-terminated, truncated when full).  Costs nothing when not
 * asked for.  For `moat replay --explain N`.
 */
void moat_engine_explain_next(struct moat_engine *e, char *buf,
			      unsigned long len);

/*
 * Advance time without a packet: expire flows, retransmit SYN-ACKs from the
 * cookie retransmit table, switch syncookie modes back.  Call at least ten
 * times a second in live mode.
 */
void moat_engine_tick(struct moat_engine *e, uint64_t now_ns,
		      struct moat_emit *out);

const struct moat_counters *moat_engine_counters(const struct moat_engine *e);

/*
 * Syncookie mode forced at run time (moat ctl syncookies on|off|auto):
 * @mode is an enum moat_syncookies_mode (moat/syncookies.h).  It holds
 * until the next call, across reloads: an administrator who forced cookies
 * during an attack does not want a configuration change to undo it.
 */
void moat_engine_set_syncookies(struct moat_engine *e, int mode);

/*
 * Events for the log: rule matches with `log`, mode switches, table full,
 * alerts (moat/event.h: typed data, no text).  The engine keeps a bounded
 * ring and overwrites the oldest (and counts the loss); the I/O side
 * drains it into @buf and formats (src/io/event_json.c).
 */
int moat_engine_events_drain(struct moat_engine *e, struct moat_event *buf,
			     int max);

/*
 * Flows for `moat ctl flows`: @fn is called with each live flow, as data
 * (the I/O side filters and formats them), up to @max; returns how many.
 * Control plane: walks the table.
 */
struct moat_flow {
	struct moat_flow_key key;   /* as the flow's first packet carried it;
				       ICMP echo: the identifier in both ports */
	uint8_t state;              /* enum moat_ct_state */
	uint16_t rule;              /* the rule that created it; 0: policy */
	int8_t zone[2];             /* ingress zone per direction; -1 */
	bool synproxy, modulate;
	uint32_t expires_in;        /* seconds before it times out */
};
int moat_engine_flows(const struct moat_engine *e,
		      void (*fn)(const struct moat_flow *fl, void *arg),
		      void *arg, int max);

/* The configuration in force (borrowed from the caller: see create and
 * reload), for the names of zones and sets. */
const struct moat_config *moat_engine_config(const struct moat_engine *e);

/* How many flows the table holds now (cheap: a counter). */
unsigned long moat_engine_flow_count(const struct moat_engine *e);

/* Counters of the modules behind the engine, for `moat ctl stats`. */
struct moat_hijack_stats {
	uint64_t injection, ack_storm, ttl_jump, blocked, rst_sent;
	uint32_t seg_slots, flow_slots;
	uint64_t bytes;
};
struct moat_src_stats {
	uint32_t nodes, capacity, overload_active;
	uint64_t overloads, address_trust, table_full, bytes;
};
enum { MOAT_ENGINE_STATS_SYN_MAX = 64 };
struct moat_engine_stats {
	uint32_t flows, capacity;
	struct moat_ct_stats ct;
	uint32_t by_state[MOAT_CT_STATE_COUNT];
	uint64_t events_lost, mode_switches, synack_retransmits;
	uint64_t server_timeouts, emit_full;
	int syncookies;             /* enum moat_syncookies_mode in force */
	struct moat_hijack_stats hijack;
	struct { uint64_t sent, limited, unknown; } challenge;
	struct moat_src_stats sources;
	struct moat_frag_stats frag;
	struct { uint64_t mss, ttl, id, reserved; } scrub; /* packets changed */
	uint32_t nsyn;              /* protected destinations, at most _MAX */
	struct moat_syn_mode_view syn[MOAT_ENGINE_STATS_SYN_MAX];
};

/* Fill @st: flows by state, table use, SYN proxy mode per destination,
 * alerts.  Control plane: counts the table by state. */
void moat_engine_stats(const struct moat_engine *e,
		       struct moat_engine_stats *st);

/*
 * The engine's cookie decisions, for a fast path in front of it that
 * answers SYNs itself (the XDP program, src/io/xdp.c), so that it answers
 * exactly the destinations the engine would and as the engine would.
 * Off until asked for; then the engine records, in a bounded ring:
 *
 *   cookies 1  it answered a SYN to @key with a cookie SYN-ACK carrying
 *              the server's learned options below (only once the server
 *              is learned: until then the engine's probes must reach it);
 *   cookies 0  @key went back to state mode (the detector's hysteresis);
 *   all 1      every destination left cookie mode (the mode was forced,
 *              the rules were reloaded, or records were lost).
 *
 * A full ring drops new `cookies 1` records (the next SYN repeats them)
 * and turns a lost `cookies 0` into `all`: no stale decision survives.
 */
struct moat_engine_cookie_dst {
	struct moat_syn_dst_key key;
	uint8_t cookies;
	uint8_t all;
	uint16_t mss;          /* the server's MSS, as the SYN-ACK carries it */
	uint8_t wscale;        /* the server's window scale, or 0xf */
	uint8_t sack_ok, ts_ok, ecn_ok; /* the server's */
};
enum { MOAT_ENGINE_COOKIE_RING = 64 };
void moat_engine_cookie_export(struct moat_engine *e, bool on);
int moat_engine_cookie_dsts_drain(struct moat_engine *e,
				  struct moat_engine_cookie_dst *out, int max);
/*
 * @n SYNs to @key answered by the fast path since the last call: counted
 * by the flood detector as if the engine had seen them, so that `auto`
 * keeps the destination in cookie mode while the flood lasts.
 */
void moat_engine_cookie_syns(struct moat_engine *e,
			     const struct moat_syn_dst_key *key, uint32_t n,
			     uint64_t now_ns);
/*
 * A cookie SYN-ACK the fast path sent (@frame, Ethernet, @len bytes, out
 * of zone @zone, the zone its SYN came from) at @now_ns: remembered in
 * the SYN proxy's lossy retransmit table as if the engine had sent it, so
 * a lost final ACK is recovered the same way.  Returns 0 when recorded, 1
 * when its final ACK came first (the flow exists: nothing to resend), or
 * -EINVAL for a frame that is not a SYN-ACK.
 */
int moat_engine_cookie_synack_sent(struct moat_engine *e, const uint8_t *frame,
				   uint32_t len, int zone, uint64_t now_ns);

/*
 * The SipHash key of cookie key epoch @epoch and what the fast path's
 * SYN-ACKs need besides (its TSval offset, counters per epoch): control
 * plane, leaves the engine's own key slots alone.
 */
void moat_engine_cookie_key(const struct moat_engine *e, uint64_t epoch,
			    uint8_t key[16], uint32_t *ts_offset,
			    uint32_t *epoch_counters);

#endif
