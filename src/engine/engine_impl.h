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
	/* Sources with a handshake (known.c): a quarter of max-flows, at
	 * least 64 and at most 65536 (256 KiB). */
	MOAT_ENGINE_KNOWN_MIN = 64,
	MOAT_ENGINE_KNOWN_MAX = 1 << 16,
	/* Challenge ACKs (RFC 5961 section 7 asks for a throttle): this many
	 * a second on average, the budget of each second drawn between half
	 * and 1.5 times it (challenge.c says why); Linux's per-host limit
	 * after CVE-2016-5696 was the same 1000. */
	MOAT_ENGINE_CHALLENGE_RATE = 1000,
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
	enum moat_reason dhcp; /* sanity.c: DHCP let through antispoof, the
				  reason it drops with unless a rule passes
				  it; MOAT_R_NONE otherwise */
	uint32_t frag_dgram;   /* frag_glue.c: the datagram a first fragment
				  decides, 0 for none */
	uint32_t frag_reach;   /* ... and how far into it fragments reach */
	uint32_t frag_seq;     /* ... TCP: its SEQ as received */
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
	struct {                        /* challenge.c */
		uint64_t second_plus1;  /* the second `left` is for, + 1 */
		uint32_t left;          /* challenge ACKs left in it */
		uint64_t sent, limited; /* sent; not sent: over the budget */
		uint64_t unknown;       /* not sent: rcv.nxt not known */
	} challenge;

	struct moat_event events[MOAT_ENGINE_EVENT_RING];
	int ev_head, ev_count;
	uint64_t ev_lost;

	struct moat_known *known;           /* owned; known.c */
	bool shed;                          /* the I/O side is falling behind */
	struct moat_hijack *hijack;         /* owned; hijack.c */
	struct moat_srclimit *src;          /* owned; srclimit.c */
	struct moat_frag *frag;             /* owned; NULL: frag-max 0 */
	struct moat_frag_tcp *frag_tcp;     /* owned; frag_glue.c */
	struct {                            /* scrub.c */
		uint8_t id_key[16];         /* random-id: from the secret */
		uint64_t id_count;          /* packets given a new ID */
		uint64_t mss, ttl, id, reserved; /* packets changed, by option */
	} scrub;

	uint8_t secret[32];
	uint8_t mod_key[16];                /* modulate.c: from the secret */

	struct {                            /* cookie_export.c */
		bool on;
		bool lost;                  /* a record was lost: send `all` */
		int head, count;
		struct moat_engine_cookie_dst ring[MOAT_ENGINE_COOKIE_RING];
	} cx;
};

/* engine.c: decide the packet in flight: verdict and reason, both
 * counted (every packet lands in exactly one of each). */
void moat_engine_finish(struct moat_engine *e, struct moat_flight *fl,
			enum moat_verdict v, enum moat_reason r);

/*
 * engine.c: open the flow of the packet in flight for @rule (NULL: the
 * policy passed it): the per-source limits first, then a table entry in
 * @state (MOAT_CT_NONE: the state the packet itself opens, as
 * moat_ct_insert), its rule, zones and log flag, and the per-source
 * counts.  Every flow the engine creates goes through here.  NULL when
 * refused; the packet is then decided (dropped, with the reason).
 */
struct moat_ct_entry *moat_engine_flow_open(struct moat_engine *e,
					    struct moat_flight *fl,
					    const struct moat_rule *rule,
					    enum moat_ct_state state);

/*
 * sanity.c: martians, bogons and BCP 38 at the zone edge for the packet in
 * flight (when antispoof is on): MOAT_R_NONE or the reason to drop it.
 * DHCP without addresses (RFC 2131 4.1) gets by, with fl->dhcp set to the
 * reason to drop it with unless a rule passes it.
 */
enum moat_reason moat_engine_antispoof(struct moat_engine *e,
				       struct moat_flight *fl);

/*
 * events.c: a new event of @kind at @now_ns in the ring (the oldest goes
 * when it is full), zeroed, with no flow (in_zone -1); the caller fills
 * it.  moat_engine_event_flow() adds the packet in flight's flow key and
 * ingress zone.  Never fails, never formats.
 */
struct moat_event *moat_engine_event(struct moat_engine *e, uint64_t now_ns,
				     enum moat_event_kind kind);
struct moat_event *moat_engine_event_flow(struct moat_engine *e,
					  const struct moat_flight *fl,
					  enum moat_event_kind kind);

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

/* cookie_export.c: record the engine's cookie decisions (engine.h). */
void moat_engine_cookie_answered(struct moat_engine *e,
				 const struct moat_pkt *p);
void moat_engine_cookie_state(struct moat_engine *e,
			      const struct moat_addr *dst, uint16_t port);
void moat_engine_cookie_all_off(struct moat_engine *e);

/* limit.c */
bool moat_bucket_take(struct moat_bucket *b, uint32_t count,
		      uint64_t period_ns, uint64_t now_ns);

/*
 * hijack.c: detection of on-path hijacking and injection (doc/design.md):
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
void moat_engine_hijack_stats(const struct moat_engine *e,
			      struct moat_hijack_stats *out);
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
void moat_engine_src_stats(const struct moat_engine *e,
			   struct moat_src_stats *out);

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

/*
 * icmperr.c: an ICMP error and the flow it quotes.  related() finds the
 * flow (*@out, and *@dir the direction the quoted packet travelled) and
 * returns MOAT_R_STATE_MATCH when the error may pass, else the reason to
 * drop it with *@out NULL: ICMP_UNRELATED (no flow, or a quoted TCP SEQ
 * outside its window), ICMP_WRONG_DST (not sent to the quoted source),
 * ICMP_WRONG_ZONE (not from the zone of the quoted destination).
 * translate() rewrites the quote of a modulated or proxied TCP flow back
 * into the numbers its sender knows; true when the frame changed.
 */
enum moat_reason moat_engine_icmp_related(struct moat_engine *e,
					  struct moat_flight *fl,
					  struct moat_ct_entry **out, int *dir);
bool moat_engine_icmp_translate(struct moat_engine *e, struct moat_flight *fl,
				const struct moat_ct_entry *ent, int dir);

/*
 * challenge.c: the challenge ACK of RFC 5961 sections 3.2 and 4.2 for a
 * segment of @ent travelling in @dir that conntrack dropped as
 * tcp-rst-challenge or tcp-syn-in-window, sent back to its sender within
 * the engine's budget; counted (sent, limited, unknown) for the stats.
 */
void moat_engine_challenge_ack(struct moat_engine *e, struct moat_flight *fl,
			       const struct moat_ct_entry *ent, int dir);

/* modulate.c: derive the modulation key (create). */
void moat_engine_modulate_init(struct moat_engine *e);

/* reply.c: answers built from the packet in flight. */
void moat_engine_l2_reply(const struct moat_pkt *p, struct moat_l2 *l2);
bool moat_engine_reject(struct moat_engine *e, struct moat_flight *fl);

#endif
