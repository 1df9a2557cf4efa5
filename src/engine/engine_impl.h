/*
 * The engine's private state and the stages of the packet's path, shared by
 * the files of src/engine.  Nothing outside src/engine includes this.
 */
#ifndef MOAT_ENGINE_IMPL_H
#define MOAT_ENGINE_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "moat/ct.h"
#include "moat/engine.h"
#include "moat/pkt.h"
#include "moat/rules.h"
#include "moat/syn.h"

enum {
	MOAT_ENGINE_EVENT_RING = 256,
	/* Answers to `reject` rules: at most this many per second in all, so
	 * a reject rule cannot be turned into a reflector (as pf and the
	 * kernel's icmp_ratelimit do). */
	MOAT_ENGINE_REJECT_RATE = 100,
	MOAT_ENGINE_EXPIRE_BUDGET = 4096, /* flows expired per tick at most */
	MOAT_ENGINE_KNOWN_SLOTS = 1 << 16, /* sources with a handshake: 256 KiB */
};

/* A token bucket over injected time: @count events per @period_ns. */
struct moat_bucket {
	uint64_t last_ns;
	uint64_t tokens;  /* in units of period_ns / count, scaled */
};

/* The packet in flight: the view and where it came from and goes to. */
struct moat_flight {
	struct moat_pkt p;
	struct moat_frame *f;
	uint64_t now;
	struct moat_result *res;
	struct moat_emit *out;
};

struct moat_engine {
	const struct moat_config *cfg;      /* borrowed; swapped by reload */
	struct moat_options opt;            /* copy of cfg's options */
	int syncookies_forced;              /* -1, or enum moat_syncookies_mode */
	struct moat_ct *ct;                 /* owned */
	struct moat_syn *syn;               /* owned; NULL when not built */

	struct moat_bucket *rule_limit;     /* owned; one per rule */
	int rule_limit_count;
	struct moat_bucket reject_limit;

	struct moat_counters cnt;
	uint64_t now;                       /* of the call in progress */
	char *explain;                      /* borrowed; NULL: not explaining */
	unsigned long explain_len, explain_off;
	uint64_t mode_switches;
	uint64_t syn_server_timeouts;   /* handshakes the server never answered */
	uint64_t synack_retransmits;    /* cookie SYN-ACKs sent again */
	uint64_t emit_full;             /* answers not sent: emit buffer full */

	struct moat_event events[MOAT_ENGINE_EVENT_RING];
	int ev_head, ev_count;
	uint64_t ev_lost;

	struct moat_known *known;           /* owned; known.c */
	bool shed;                          /* the I/O side is falling behind */
	struct moat_hijack *hijack;         /* owned; hijack.c */
	struct moat_srclimit *src;          /* owned; srclimit.c */

	uint8_t secret[32];
	uint8_t mod_key[16];                /* modulate.c: from the secret */
};

/* engine.c: decide the packet in flight: verdict and reason, both
 * counted (every packet lands in exactly one of each). */
void moat_engine_finish(struct moat_engine *e, struct moat_flight *fl,
			enum moat_verdict v, enum moat_reason r);

/* sanity.c */
enum moat_reason moat_engine_check_martians(const struct moat_pkt *p);
enum moat_reason moat_engine_check_zone(const struct moat_config *cfg,
					const struct moat_pkt *p, int in_zone);

/* events.c */
void moat_engine_event(struct moat_engine *e, uint64_t now_ns,
		       const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* events.c: one line of the explanation of the packet in flight, if one
 * was asked for (moat_engine_explain_next).  The macro tests that first,
 * so an unexplained packet does not even evaluate the arguments. */
void moat_engine_say_line(struct moat_engine *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define moat_engine_say(e, ...)                                                \
	do {                                                                   \
		if ((e)->explain)                                              \
			moat_engine_say_line((e), __VA_ARGS__);                \
	} while (0)

/* limit.c */
bool moat_bucket_take(struct moat_bucket *b, uint32_t count,
		      uint64_t period_ns, uint64_t now_ns);

/*
 * hijack.c: detection of on-path hijacking and injection (DESIGN.md):
 * in-window segments that rewrite bytes already seen, ACK storms, TTL
 * jumps.  check() runs on every packet of a tracked TCP flow after
 * conntrack judged it (@track is its reason, pass or drop) and returns
 * MOAT_R_HIJACK_BLOCKED when the flow must be closed, else MOAT_R_NONE.
 */
struct moat_hijack;
int moat_engine_hijack_create(struct moat_engine *e);
void moat_engine_hijack_destroy(struct moat_engine *e);
enum moat_reason moat_engine_hijack_check(struct moat_engine *e,
					  struct moat_flight *fl,
					  struct moat_ct_entry *ent, int dir,
					  enum moat_reason track);
/* Alerts so far, and the memory of the fingerprint tables. */
struct moat_hijack_stats {
	uint64_t injection, ack_storm, ttl_jump, blocked, rst_sent;
	uint32_t seg_slots, flow_slots;
	uint64_t bytes;
};
void moat_engine_hijack_stats(const struct moat_engine *e,
			      struct moat_hijack_stats *out);
int moat_engine_hijack_stats_json(const struct moat_engine *e, char *buf,
				  unsigned long len);
/* Reset flagged flows on both sides (MOAT_R_HIJACK_BLOCKED) instead of
 * only alerting: `options { detect hijack block }`, set at create and
 * reload. */
void moat_engine_hijack_set_block(struct moat_engine *e, bool block);

/*
 * srclimit.c: max-conn, max-src-conn, max-src-rate and overload (pf's
 * source tracking).  admit() runs before a passing rule creates a flow;
 * created() and freed() keep the counts; tick() expires overload entries.
 */
struct moat_srclimit;
int moat_engine_src_create(struct moat_engine *e);
void moat_engine_src_destroy(struct moat_engine *e);
/* Reload in two steps: prepare allocates what @cfg needs (0, or -ENOMEM
 * with nothing changed); reload, which cannot fail, then takes it and
 * recounts the flows alive under e->cfg, already the new configuration. */
int moat_engine_src_reload_prepare(const struct moat_engine *e,
				   const struct moat_config *cfg,
				   uint32_t **ruleconn);
void moat_engine_src_reload(struct moat_engine *e, uint32_t *ruleconn);
enum moat_reason moat_engine_src_admit(struct moat_engine *e,
				       struct moat_flight *fl,
				       const struct moat_rule *rule);
void moat_engine_src_created(struct moat_engine *e, struct moat_ct_entry *ent,
			     const struct moat_rule *rule);
void moat_engine_src_freed(struct moat_engine *e, struct moat_ct_entry *ent);
void moat_engine_src_tick(struct moat_engine *e, uint64_t now_ns);
/* Source nodes in use, overload entries, address-trust connections. */
struct moat_src_stats {
	uint32_t nodes, capacity, overload_active;
	uint64_t overloads, address_trust, table_full, bytes;
};
void moat_engine_src_stats(const struct moat_engine *e,
			   struct moat_src_stats *out);
int moat_engine_src_stats_json(const struct moat_engine *e, char *buf,
			       unsigned long len);

/*
 * known.c: sources that completed a handshake, who keep priority while the
 * gateway sheds load (moat_engine_set_shed).
 */
struct moat_known;
int moat_engine_known_create(struct moat_engine *e);
void moat_engine_known_destroy(struct moat_engine *e);
void moat_engine_known_add(struct moat_engine *e, const struct moat_addr *a);
bool moat_engine_known_has(const struct moat_engine *e,
			   const struct moat_addr *a);

/* modulate.c: derive the modulation key (create). */
void moat_engine_modulate_init(struct moat_engine *e);

/* reply.c: answers built from the packet in flight. */
void moat_engine_l2_reply(const struct moat_pkt *p, struct moat_l2 *l2);
bool moat_engine_reject(struct moat_engine *e, struct moat_flight *fl);

#endif
