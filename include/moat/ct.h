/*
 * Connection tracking: the flow table and the TCP/UDP/ICMP state machines
 * with sequence-window checks.
 *
 * On the packet's path conntrack comes right after decode and antispoof:
 * moat_ct_lookup() finds the flow of a packet from either direction; a hit
 * goes to moat_ct_track() (state machine + window check, timeout refresh);
 * a miss goes to the rules, and a passing rule calls moat_ct_insert().
 * ICMP errors find the flow of the packet they quote with
 * moat_ct_lookup_inner().  moat_ct_expire() runs from the engine's tick.
 *
 * TCP tracking follows Guido van Rooij, "Real Stateful TCP Packet
 * Filtering in IP Filter" (2000), as OpenBSD pf (pf_tcp_track_full) and
 * Linux nf_conntrack (tcp_in_window) implement it: per side the highest
 * sequence end sent, the highest end the other side allowed, and the
 * largest window it advertised.
 *
 * Memory: everything is allocated by moat_ct_create(), once.  The packet
 * path never allocates; when the pool is full, insert evicts half-open and
 * then closing flows, and refuses (counted) before touching established
 * ones.
 *
 * Sequence spaces: the peer[] numbers of side d are in the space of the
 * packets side d sends, as they arrive (before any rewrite).  With
 * sequence translation (seq_delta), ACKs travelling towards d are
 * translated back before they are compared.  So call moat_ct_track() on the
 * packet as received, before the engine rewrites it.
 *
 * Threading: one table per engine (per core); no locking.
 */
#ifndef MOAT_CT_H
#define MOAT_CT_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moat/addr.h"
#include "moat/pkt.h"
#include "moat/reason.h"

/* ORIG is the direction of the packet that created the flow. */
enum moat_ct_dir { MOAT_CT_ORIG = 0, MOAT_CT_REPLY = 1 };

/*
 * Flow states as seen from the middle (the names of Linux conntrack's TCP
 * states, which describe the pair of endpoints, not one of them):
 *
 *   SYN_SENT     ORIG sent a SYN, nothing back yet
 *   SYN_RECV     REPLY answered with a SYN-ACK (or a SYN: simultaneous
 *                open); the handshake is not complete
 *   ESTABLISHED  both SYNs acknowledged
 *   FIN_WAIT     one side sent a FIN, not yet acknowledged
 *   CLOSE_WAIT   that FIN was acknowledged; the other side still sends
 *   LAST_ACK     both sides sent a FIN, the last not yet acknowledged
 *   TIME_WAIT    both FINs acknowledged (kept 2*MSL for retransmissions)
 *   CLOSED       a RST was accepted
 *   SYNPROXY     the SYN proxy owns the handshake (track() refuses)
 *   UDP_FIRST    UDP, no reply yet      UDP_MULTIPLE  UDP, replied
 *   ICMP         ICMP/ICMPv6 echo, keyed by identifier
 *   OTHER        any other protocol, keyed by addresses and protocol
 */
enum moat_ct_state {
	MOAT_CT_NONE = 0, /* a free entry */
	MOAT_CT_SYN_SENT,
	MOAT_CT_SYN_RECV,
	MOAT_CT_ESTABLISHED,
	MOAT_CT_FIN_WAIT,
	MOAT_CT_CLOSE_WAIT,
	MOAT_CT_LAST_ACK,
	MOAT_CT_TIME_WAIT,
	MOAT_CT_CLOSED,
	MOAT_CT_SYNPROXY,
	MOAT_CT_UDP_FIRST,
	MOAT_CT_UDP_MULTIPLE,
	MOAT_CT_ICMP,
	MOAT_CT_OTHER,
	MOAT_CT_STATE_COUNT
};

/* Stable lower-case name ("established"); "?" when out of range. */
const char *moat_ct_state_name(enum moat_ct_state s);

/* Idle timeouts in seconds, per state class. */
struct moat_ct_timeouts {
	uint32_t tcp_opening;     /* SYN_SENT, SYN_RECV, SYNPROXY */
	uint32_t tcp_established;
	uint32_t tcp_closing;     /* FIN_WAIT, CLOSE_WAIT, LAST_ACK */
	uint32_t tcp_timewait;    /* TIME_WAIT, CLOSED */
	uint32_t udp_first;
	uint32_t udp_multiple;
	uint32_t icmp;
	uint32_t other;           /* OTHER: any other protocol, both ways */
};

struct moat_ct_params {
	uint32_t max_flows;       /* pool size, fixed at create (>= 1) */
	struct moat_ct_timeouts to;
	bool pickup_loose;        /* accept mid-stream TCP (no SYN) as new flows */
	bool rst_exact;           /* RFC 5961 section 3.2: RST only at rcv.nxt */
	uint8_t seed[16];         /* hash key; draw at random */
};

/*
 * The defaults of moat.conf(5)'s options (moat/defaults.h: max-flows, the
 * timeouts, pickup, rst-check), so that a table made without a
 * configuration behaves as the engine's with an empty one.  The seed is
 * left zero: set it.
 */
void moat_ct_params_default(struct moat_ct_params *p);

/* struct moat_ct_peer.flags */
enum moat_ct_peer_flag {
	MOAT_CT_PEER_SEEN = 1 << 0,   /* a packet from this side was tracked */
	MOAT_CT_PEER_WSCALE = 1 << 1, /* its SYN carried window scale */
	MOAT_CT_PEER_TS = 1 << 2,     /* its SYN carried timestamps */
	MOAT_CT_PEER_SACK = 1 << 3,   /* its SYN carried SACK-permitted */
};

/* One side of a TCP flow, in the sequence space of the packets it sends. */
struct moat_ct_peer {
	uint32_t end;     /* highest SEQ+len(+SYN,+FIN) sent (pf's seqlo) */
	uint32_t maxend;  /* highest end the other side allowed: its
			     ACK + window (pf's seqhi) */
	uint32_t maxwin;  /* largest window this side advertised, scaled */
	uint8_t wscale;   /* shift for its windows; 0 unless both SYNs had
			     the option (RFC 7323 section 2.2) */
	uint8_t state;    /* conntrack private: this side's progress */
	uint8_t flags;    /* enum moat_ct_peer_flag */
	uint8_t ttl;      /* first TTL / hop limit seen from this side */
};

/* struct moat_ct_entry.flags: the engine and the SYN proxy set most. */
enum moat_ct_flag {
	MOAT_CT_F_SYNPROXY = 1 << 0,   /* synproxy: translation active */
	MOAT_CT_F_MODULATE = 1 << 1,   /* engine: sequence modulation */
	MOAT_CT_F_LOG = 1 << 2,        /* engine: created by a `log` rule */
	MOAT_CT_F_HIJACK = 1 << 3,     /* engine: hijack suspected */
	MOAT_CT_F_LOOSE = 1 << 4,      /* ct: picked up mid-stream, windows
					  learned but not enforced */
	MOAT_CT_F_TTL_CHANGED = 1 << 5,/* ct: a side's TTL differed from its
					  first one (a hint for hijacks) */
	MOAT_CT_F_SRC_COUNTED = 1 << 7,/* engine: counted by the per-source
					  and per-rule connection limits */
	MOAT_CT_F_HALFOPEN = 1 << 6,   /* synproxy (decide.c): counted as
					  a half-open handshake of a
					  protected destination */
};

/*
 * A flow.  Owner: the table (moat_ct_create's pool); callers borrow it until
 * the next insert/remove/expire on the same table.  Fields marked "ct" are
 * private to conntrack; the others may be read by anyone and written by the
 * module named.  Two cache lines: a lookup reads only the first.
 */
struct moat_ct_entry {
	/* The key, as the ORIG packet carried it. */
	_Alignas(64) struct moat_addr addr[2]; /* [0] ORIG src, [1] ORIG dst */
	uint16_t port[2];         /* host order; ICMP echo: id in both */
	uint8_t proto;            /* enum moat_ipproto or any other */
	uint8_t state;            /* enum moat_ct_state; change it only with
				     moat_ct_set_state() */
	uint32_t hnext;           /* ct: next in the hash chain (index) */
	uint32_t expire;          /* ct: second at which it times out */
	uint32_t link[2][2];      /* ct: [timer wheel, class list][prev, next] */

	struct moat_ct_peer peer[2]; /* indexed by enum moat_ct_dir */
	uint32_t seq_delta[2];    /* synproxy: added to SEQ of packets sent in
				     direction d (subtracted from ACK/SACK of
				     the other direction) */
	uint32_t ts_delta[2];     /* synproxy: the same for TSval / TSecr */
	uint32_t aux;             /* synproxy/engine: index into their pools */
	uint16_t rule;            /* engine: the rule number that created it */
	int8_t zone[2];           /* engine: ingress zone per direction; -1 */
	uint8_t flags;            /* enum moat_ct_flag */
	uint8_t wscale_fix;       /* synproxy: window rescale client/server */
	uint16_t ack_gap[2];      /* ct: peer[d].end minus the highest ACK
				     the other side sent for it (its last
				     known rcv.nxt); 0xffff: unknown */
	uint8_t spare[2];
};
static_assert(sizeof(struct moat_ct_entry) == 128,
	      "a flow is two cache lines");
static_assert(offsetof(struct moat_ct_entry, peer) == 64,
	      "the key and index share the first cache line");

struct moat_ct;

/*
 * Create a table of @p->max_flows flows (1 to 2^31 - 16) with power-of-two
 * hash buckets and a timer wheel.  All memory is allocated (and touched)
 * here; big tables ask for transparent huge pages.  Returns NULL with errno
 * EINVAL or ENOMEM on failure.
 */
struct moat_ct *moat_ct_create(const struct moat_ct_params *p);
void moat_ct_destroy(struct moat_ct *ct); /* accepts NULL */

/* Reload: timeouts and flags only; max_flows and seed are kept.  New
 * timeouts apply to a flow at its next packet. */
void moat_ct_set_params(struct moat_ct *ct, const struct moat_ct_params *p);

/*
 * The flow of @p (from either direction), with *@dir set to the direction
 * @p travels, or NULL.  ICMP errors are not flows: see lookup_inner.
 */
struct moat_ct_entry *moat_ct_lookup(struct moat_ct *ct,
				     const struct moat_pkt *p, int *dir);

/*
 * The same for @n packets at once: hashes all, prefetches the buckets,
 * then the entries (both lines: track reads the second), then compares, so
 * that DRAM misses overlap.  @out[i] and @dirs[i] receive each result.
 * Any @n; works in chunks of MOAT_CT_BURST.  Read-only: the results stay
 * valid until the next insert, remove or expire.
 */
enum { MOAT_CT_BURST = 32 };
void moat_ct_lookup_burst(struct moat_ct *ct, const struct moat_pkt *const *p,
			  int n, struct moat_ct_entry **out, int *dirs);

/*
 * For an ICMP/ICMPv6 error: the flow of the packet it quotes
 * (@p->inner), with *@dir = the direction the quoted packet travelled.
 * NULL when nothing was quoted or no flow matches.
 */
struct moat_ct_entry *moat_ct_lookup_inner(struct moat_ct *ct,
					   const struct moat_pkt *p, int *dir);

/* For a TCP flow: does a quoted SEQ sent in direction @dir lie in the
 * window of that direction (an ICMP error about a packet we let pass)? */
bool moat_ct_icmp_seq_ok(const struct moat_ct_entry *e, int dir,
			 uint32_t seq);

/*
 * The challenge ACK (RFC 5961 sections 3.2 and 4.2) the receiver of a
 * segment travelling in @dir would send back: <SEQ=SND.NXT><ACK=RCV.NXT>
 * with its window, as the sender knows those numbers (SEQ translated by the
 * flow's delta).  rcv.nxt is the receiver's highest ACK, never more.  False
 * when it is not known (no ACK yet, or more than 64 KiB in flight since).
 */
struct moat_ct_challenge {
	uint32_t seq, ack;
	uint16_t win;
};
bool moat_ct_tcp_challenge(const struct moat_ct_entry *e, int dir,
			   struct moat_ct_challenge *c);

/*
 * A new flow; @p is its ORIG packet and is tracked as its first packet.
 * TCP needs a SYN without ACK, unless pickup_loose (then any non-RST
 * segment starts an ESTABLISHED, MOAT_CT_F_LOOSE flow whose windows are
 * learned but not enforced, RSTs included, as Linux's be_liberal; only
 * "nothing after a FIN" still binds); ICMP needs an echo
 * request.  When the pool is full, the oldest flow of the first non-empty
 * class in the order half-open TCP, unreplied UDP, ICMP, TIME_WAIT/CLOSED,
 * closing is evicted (counted); established and replied UDP flows never
 * are (other protocols go right after unreplied UDP).  Returns NULL with
 * *@why = MOAT_R_STATE_TABLE_FULL, TCP_NO_STATE
 * (not a SYN), ICMP_REPLY_UNMATCHED (an echo reply) or ICMP_UNRELATED (an
 * ICMP error or other ICMP message).  The caller must have checked that no
 * flow exists (moat_ct_lookup).  rule, zone, aux: the caller fills them.
 */
struct moat_ct_entry *moat_ct_insert(struct moat_ct *ct,
				     const struct moat_pkt *p,
				     uint64_t now_ns, enum moat_reason *why);

/*
 * For the SYN proxy: a flow in @state keyed by @p (ORIG) without tracking
 * @p; peer[] and the deltas are zero and the caller fills them.  Same
 * eviction and failure as moat_ct_insert.
 */
struct moat_ct_entry *moat_ct_insert_as(struct moat_ct *ct,
					const struct moat_pkt *p,
					enum moat_ct_state state,
					uint64_t now_ns,
					enum moat_reason *why);

/*
 * Track one packet of an existing flow travelling in @dir: state machine,
 * window checks, timeout refresh.  Returns MOAT_R_STATE_MATCH when it may
 * pass, else the drop reason:
 *   TCP_SEQ_OUT_OF_WINDOW  data beyond what the receiver allowed
 *   TCP_OUT_OF_WINDOW      data older than the receiver's largest window
 *   TCP_ACK_UNSENT         ACK (or a SACK edge) of data never sent
 *   TCP_ACK_TOO_OLD        ACK further back than a window
 *   TCP_RST_OUT_OF_WINDOW  RST outside the window
 *   TCP_RST_CHALLENGE      rst_exact: in window but not at rcv.nxt (RFC
 *                          5961 section 3.2; the endpoint would challenge);
 *                          rcv.nxt is either the sender's end or the
 *                          receiver's highest ACK (data may be in flight)
 *   TCP_SYN_IN_WINDOW      SYN on a synchronized flow, inside the window
 *                          (RFC 5961 section 4; answer it with
 *                          moat_ct_tcp_challenge's ACK), or a SYN-ACK with
 *                          a new ISN
 *   TCP_BAD_STATE          flags impossible in this state, or a SYNPROXY
 *                          flow (those packets belong to the SYN proxy)
 *   TCP_CLOSED             after a RST, or new data after a side's FIN
 *   TCP_NO_STATE           a SYN that reuses the tuple of a flow in
 *                          TIME_WAIT/CLOSED (see moat_ct_syn_reuses): the
 *                          caller removes @e and handles @p as new
 *   ICMP_REPLY_UNMATCHED   echo reply in the ORIG direction
 *   ICMP_UNRELATED         other ICMP messages on an echo flow
 * and two passes that leave the flow as it was (moat_ct_passes):
 *   TCP_SYN_REUSE          SYN on a synchronized flow, outside the window:
 *                          maybe a new incarnation; the endpoint answers it
 *                          (RFC 5961 section 4.2, RFC 9293 3.10.7.3)
 *   TCP_STALE_RETRANSMIT   data already acknowledged, up to a window older
 *                          than the window allows (a lost ACK's resend)
 * A dropped packet changes nothing in the flow.
 */
enum moat_reason moat_ct_track(struct moat_ct *ct, struct moat_ct_entry *e,
			       int dir, const struct moat_pkt *p,
			       uint64_t now_ns);

/* Does moat_ct_track()'s answer @r let the packet pass? */
static inline bool moat_ct_passes(enum moat_reason r)
{
	return r == MOAT_R_STATE_MATCH || r == MOAT_R_TCP_SYN_REUSE ||
	       r == MOAT_R_TCP_STALE_RETRANSMIT;
}

/*
 * True when @p (travelling in @dir) is a SYN that may replace @e: @e is
 * CLOSED, or TIME_WAIT with @p's ISN beyond the old end of that side (RFC
 * 1122 section 4.2.2.13, as Linux and pf accept it).
 */
bool moat_ct_syn_reuses(const struct moat_ct_entry *e, int dir,
			const struct moat_pkt *p);

/*
 * For the SYN proxy handing a completed handshake over to tracking: side
 * @dir has sent everything below @end (its next SEQ), the other side allows
 * it up to @maxend (that side's ACK + window), its largest window is
 * @maxwin (scaled) and its window scale @wscale, or -1 when its SYN had
 * none.  Numbers in @dir's own space (before translation).  Marks the side
 * seen and established; then call moat_ct_set_state(ESTABLISHED).
 */
void moat_ct_tcp_handover(struct moat_ct_entry *e, int dir, uint32_t end,
			  uint32_t maxend, uint32_t maxwin, int wscale);

/*
 * A TCP segment judged by its first fragment goes on in later ones
 * (virtual reassembly: src/engine/frag_glue.c).  Side @dir has now sent
 * everything below @end (its own space), so its end moves forward (and
 * the receiver's ACK of the whole segment is not "unsent"), but never
 * past what the other side's window allowed.
 */
void moat_ct_tcp_sent_to(struct moat_ct_entry *e, int dir, uint32_t end);

/* Change state (counters, timeout class) and re-arm the timeout. */
void moat_ct_set_state(struct moat_ct *ct, struct moat_ct_entry *e,
		       enum moat_ct_state state, uint64_t now_ns);

void moat_ct_remove(struct moat_ct *ct, struct moat_ct_entry *e);

/*
 * Call @fn for every flow just before it leaves the table, whatever the
 * cause (remove, expiry, eviction), so that owners of per-flow resources
 * outside the table (the hybrid SYN proxy's half-open counts) can release
 * them.  @fn must not insert or remove flows.  NULL unsets.
 */
void moat_ct_set_free_hook(struct moat_ct *ct,
			   void (*fn)(struct moat_ct_entry *e, void *arg),
			   void *arg);

/* Re-arm the timeout for its state. */
void moat_ct_touch(struct moat_ct *ct, struct moat_ct_entry *e,
		   uint64_t now_ns);

/* Remove at most @budget flows whose timeout passed; returns how many.
 * Work is bounded by a small multiple of @budget. */
int moat_ct_expire(struct moat_ct *ct, uint64_t now_ns, int budget);

uint32_t moat_ct_count(const struct moat_ct *ct);
uint32_t moat_ct_capacity(const struct moat_ct *ct);
void moat_ct_count_by_state(const struct moat_ct *ct,
			    uint32_t out[MOAT_CT_STATE_COUNT]);

/* Calls @fn for each live flow; stops when @fn returns non-zero.  @fn may
 * remove the entry it is given (and no other). */
void moat_ct_foreach(struct moat_ct *ct,
		     int (*fn)(struct moat_ct_entry *e, void *arg), void *arg);

struct moat_ct_stats {
	uint64_t inserted, removed, expired;
	uint64_t evicted_halfopen, evicted_other, refused_full;
};
void moat_ct_get_stats(const struct moat_ct *ct, struct moat_ct_stats *out);

/* The tuple as a packet travelling in @dir carries it. */
void moat_ct_entry_addrs(const struct moat_ct_entry *e, int dir,
			 struct moat_addr *src, struct moat_addr *dst,
			 uint16_t *sport, uint16_t *dport);

/* Seconds left before @e times out at @now_ns (0 when due). */
uint32_t moat_ct_ttl(const struct moat_ct_entry *e, uint64_t now_ns);

#endif
