/*
 * The SYN proxy's building blocks: SYN cookies and their keys, sequence
 * translation, the lossy SYN-ACK retransmit table, backend option learning
 * and the hybrid-mode detector.  The proxy's state machine on top of the
 * connection tracker is in moat/syn_proxy.h.
 *
 * On the packet's path these sit after the rules stage: a SYN that a
 * `synproxy` rule passes is answered here (with a cookie when the decision
 * of moat/syn_decide.h says so), the client's final ACK is validated
 * here, and every later segment of a proxied or modulated flow has its TCP
 * numbers rewritten by moat_syn_translate().
 *
 * Everything here is a pure function of its inputs plus tables sized at
 * create time: time enters as nanoseconds (any origin, but gateways that
 * share a secret must share the origin: wall-clock time), keys are derived
 * from the engine's secret, nothing allocates after create.
 */
#ifndef MOAT_SYN_H
#define MOAT_SYN_H

#include <stdbool.h>
#include <stdint.h>

#include "moat/addr.h"
#include "moat/pkt.h"
#include "moat/reason.h"
#include "moat/syn_decide.h"

/* ---- cookies (src/synproxy/cookie.c) ----------------------------------- */

enum {
	MOAT_SYN_SECRET_LEN = 32,
	MOAT_SYN_KEY_LEN = 16,         /* SipHash-2-4 key */
	MOAT_SYN_MSS_TABLE = 4,        /* entries per family; 2 bits in the ISN */
	MOAT_SYN_WSCALE_NONE = 0xf,    /* "no window scaling" in 4 bits */
	MOAT_SYN_TS_OPT_BITS = 6,      /* low TSval bits that carry options */
	MOAT_SYN_KEY_EPOCH_COUNTERS = 64, /* default: new key every 64 counters
					      (68 minutes) */
};

/* The cookie counter advances every 64 s, as Linux's (syncookies.c). */
#define MOAT_SYN_COUNTER_NS (64ull * 1000000000ull)

/* A flow's four-tuple as the client's SYN carried it: src is the client. */
struct moat_syn_tuple {
	struct moat_addr src, dst; /* same family */
	uint16_t sport, dport;     /* host order */
};

/*
 * What a cookie handshake remembers of the client's SYN: the MSS (rounded
 * down to the table) in the ISN; window scale, SACK-permitted and ECN in the
 * low bits of our TSval when the client offered timestamps.
 */
struct moat_syn_client {
	uint32_t isn;       /* the client's ISN (SEQ of its SYN) */
	uint16_t mss;
	uint8_t wscale;     /* 0..14, or MOAT_SYN_WSCALE_NONE */
	bool sack_ok;
	bool ts_ok;
	bool ecn_ok;        /* SYN carried ECE|CWR (RFC 3168 section 6.1.1) */
	uint32_t tsval;     /* the client's TSval (of the segment decoded) */
	uint32_t tsecr;     /* our TSval it echoes (final ACK) */
	uint8_t our_wscale; /* the window scale our SYN-ACK announced to the
			       client, or MOAT_SYN_WSCALE_NONE */
};

/*
 * The key ring: the secret and the derived SipHash keys of the two key
 * epochs a valid cookie can belong to.  A key epoch spans @epoch_counters
 * cookie counters; its key is KDF(secret, epoch), so every gateway holding
 * the same secret derives the same key at the same time and rotation needs
 * no coordination.  Caller-owned storage; filled by moat_syn_keys_init().
 */
struct moat_syn_key_slot {
	uint64_t epoch;
	bool valid;
	uint8_t key[MOAT_SYN_KEY_LEN];
};

struct moat_syn_keys {
	uint8_t secret[MOAT_SYN_SECRET_LEN];
	uint32_t epoch_counters;
	uint32_t ts_offset;            /* hides our clock in TSval; from secret */
	uint8_t hash_seed[MOAT_SYN_KEY_LEN]; /* table hashing; from secret */
	struct moat_syn_key_slot slot[2];
	uint64_t last_counter;         /* the counter asked for last ... */
	int last_slot;                 /* ... and its slot, or -1 */
};

/*
 * Control plane.  Initialise @k from @secret (copied); @epoch_counters 0
 * means MOAT_SYN_KEY_EPOCH_COUNTERS.  Returns 0, or -EINVAL for an all-zero
 * secret.  Derives nothing yet: keys are derived on first use of an epoch.
 */
int moat_syn_keys_init(struct moat_syn_keys *k,
		       const uint8_t secret[MOAT_SYN_SECRET_LEN],
		       uint32_t epoch_counters);

/* Wipe @k (the secret and keys). */
void moat_syn_keys_fini(struct moat_syn_keys *k);

/*
 * The key for cookie counter @counter.  Derives it (one BLAKE2b, about a
 * microsecond) the first time its epoch is needed and keeps it in the slot
 * of the oldest epoch; only the epochs of the current and the previous
 * counter are ever asked for, so this happens once per rotation.  Call
 * moat_syn_keys_advance() from the tick to take that cost off the packet.
 */
const uint8_t *moat_syn_keys_get(struct moat_syn_keys *k, uint64_t counter);
void moat_syn_keys_advance(struct moat_syn_keys *k, uint64_t now_ns);

/*
 * Control plane: the key of key epoch @epoch (counter / epoch_counters)
 * into @out, without touching @k's slots: what the XDP fast path is given
 * (src/io/xdp.c), the key moat_syn_keys_get() returns for that epoch.
 */
void moat_syn_keys_derive(const struct moat_syn_keys *k, uint64_t epoch,
			  uint8_t out[MOAT_SYN_KEY_LEN]);

/* Control plane, for the CLI: 32 bytes from getrandom(); 0 or -errno. */
int moat_syn_secret_random(uint8_t out[MOAT_SYN_SECRET_LEN]);

/*
 * Control plane, for the CLI: load a shared secret file: 64 hex digits
 * (surrounding whitespace allowed) or exactly 32 raw bytes.  Refuses a file
 * readable or writable by group or others (-EPERM), not a regular file
 * (-EINVAL), anything else (-EINVAL), an all-zero secret (-EINVAL).
 */
int moat_syn_secret_load(const char *path, uint8_t out[MOAT_SYN_SECRET_LEN]);

/* The cookie counter at @now_ns. */
static inline uint64_t moat_syn_counter(uint64_t now_ns)
{
	return now_ns / MOAT_SYN_COUNTER_NS;
}

/* The MSS table of @family (MOAT_AF_INET or MOAT_AF_INET6), ascending. */
const uint16_t *moat_syn_mss_table(int family);

/* Index of the largest table MSS <= @mss (0 when @mss is smaller). */
unsigned moat_syn_mss_index(int family, uint16_t mss);

/*
 * The cookie ISN for a SYN on @t with @client_isn and @mss (rounded down to
 * the table) at @now_ns.  Deterministic: the same SYN within the same
 * counter gets the same cookie.
 */
uint32_t moat_syn_cookie_make(struct moat_syn_keys *k,
			      const struct moat_syn_tuple *t,
			      uint32_t client_isn, uint16_t mss,
			      uint64_t now_ns);

/*
 * Check a final ACK on @t: @cookie is its ACK - 1, @client_isn its SEQ - 1.
 * Returns MOAT_R_NONE and sets *@mss to the remembered MSS; or
 * MOAT_R_SYN_COOKIE_STALE when the cookie's counter bits are neither the
 * current nor the previous counter; or MOAT_R_SYN_COOKIE_BAD when the MAC
 * does not match.
 */
enum moat_reason moat_syn_cookie_check(struct moat_syn_keys *k,
				       const struct moat_syn_tuple *t,
				       uint32_t client_isn, uint32_t cookie,
				       uint64_t now_ns, uint16_t *mss);

/*
 * Our TS clock (RFC 7323 section 5.4: 1 ms ticks) at @now_ns, with the
 * low MOAT_SYN_TS_OPT_BITS replaced by @c's wscale, SACK and ECN bits the
 * way Linux's cookie_init_timestamp() does, never ahead of the clock.
 */
uint32_t moat_syn_ts_encode(const struct moat_syn_keys *k, uint64_t now_ns,
			    const struct moat_syn_client *c);

/* Recover wscale, SACK and ECN from the TSecr of a final ACK into @c. */
void moat_syn_ts_decode(uint32_t tsecr, struct moat_syn_client *c);

/* ---- sequence translation (src/synproxy/translate.c) ------------------- */

/*
 * One direction's rewrite: each delta is added (mod 2^32) to its field.
 * SEQ gets @seq; ACK and every SACK edge get @ack (SACK blocks name the
 * peer's sequence space, as ACK does); TSval gets @tsval, TSecr @tsecr.
 * The window becomes min(65535, win << win_shl >> win_shr), never 0 unless
 * it was 0, except on SYN segments, whose window is never scaled (RFC 7323
 * section 2.2).
 */
struct moat_syn_xlate {
	uint32_t seq, ack, tsval, tsecr;
	uint8_t win_shl, win_shr;
};

/*
 * Rewrite the TCP segment of @p (decoded view of a frame the caller may
 * write) per @x, updating the TCP checksum incrementally (RFC 1624) and the
 * view's fields to match.  Returns true when anything changed.  Options the
 * view did not find are not touched.
 */
bool moat_syn_translate(struct moat_pkt *p, const struct moat_syn_xlate *x);

/* The window rescale alone, exposed for tests and the engine's checks. */
uint16_t moat_syn_rescale_window(uint16_t win, uint8_t shl, uint8_t shr);

/* ---- the lossy SYN-ACK retransmit table (src/synproxy/retransmit.c) ---- */

enum {
	MOAT_SYN_RTX_FIRST_MS = 1000,  /* first retransmit: 1 s after sending */
	MOAT_SYN_RTX_SECOND_MS = 3000, /* second and last: 3 s after sending */
};

/*
 * What rebuilding a cookie SYN-ACK needs.  The link header is the one of
 * the SYN-ACK (already swapped), so a retransmit is the same frame.
 */
struct moat_syn_rtx_entry {
	struct moat_syn_tuple t;   /* as the client's SYN carried it */
	struct moat_syn_client c;  /* the client's ISN and offered options */
	uint32_t cookie;           /* our ISN */
	uint8_t flags;             /* of the SYN-ACK: SYN|ACK, maybe ECE */
	uint16_t win;
	struct moat_tcp_opts opt;  /* the SYN-ACK's options as sent */
	struct moat_l2 l2;
	uint16_t linktype;
	int16_t zone;              /* the zone the SYN-ACK leaves into */
	uint64_t first_ns;         /* when the first SYN-ACK left */
	uint8_t sent;              /* retransmits done: 0, 1 or 2 */
	bool used;
};

struct moat_syn_rtx;

/* @slots is rounded up to a power of two.  NULL and errno on failure. */
struct moat_syn_rtx *moat_syn_rtx_create(uint32_t slots,
					 const uint8_t seed[MOAT_SYN_KEY_LEN]);
void moat_syn_rtx_destroy(struct moat_syn_rtx *r);

/*
 * Remember a SYN-ACK just sent (copied).  Overwrites whatever sat in the
 * slot, so a flood never grows the table; a SYN retransmitted by the
 * client (same tuple and ISN) keeps the original schedule.
 */
void moat_syn_rtx_record(struct moat_syn_rtx *r,
			 const struct moat_syn_rtx_entry *e);

/* Forget the SYN-ACK of @t (its final ACK arrived).  True if one was there. */
bool moat_syn_rtx_clear(struct moat_syn_rtx *r, const struct moat_syn_tuple *t);

/* The live entry for @t, or NULL (tests, `moat ctl`). */
const struct moat_syn_rtx_entry *
moat_syn_rtx_find(const struct moat_syn_rtx *r, const struct moat_syn_tuple *t);

/*
 * Copy up to @max entries due at @now_ns into @out and advance their
 * schedule (an entry leaves after its second retransmit).  Resumes the
 * scan where the last call stopped and looks at most at every slot once,
 * so a tick whose emit buffer is full continues on the next.  Returns how
 * many were copied.
 */
uint32_t moat_syn_rtx_due(struct moat_syn_rtx *r, uint64_t now_ns,
			  struct moat_syn_rtx_entry *out, uint32_t max);

uint32_t moat_syn_rtx_count(const struct moat_syn_rtx *r); /* live entries */

/* ---- backend option learning (src/synproxy/backend.c) ------------------ */

/* What a server (address, port) said in its SYN-ACKs. */
struct moat_syn_backend_opts {
	uint16_t mss;
	uint8_t wscale;     /* 0..14, or MOAT_SYN_WSCALE_NONE */
	bool sack_ok;
	bool ts_ok;
	bool ecn_ok;        /* SYN-ACK had ECE without CWR (RFC 3168 6.1.1) */
	bool known;         /* false: the safe defaults */
};

enum {
	/* RFC 9293 section 3.7.1 / RFC 8200 section 5: the MSS every host
	 * must accept, used until a server's SYN-ACK tells us better. */
	MOAT_SYN_DEFAULT_MSS4 = 536,
	MOAT_SYN_DEFAULT_MSS6 = 1220,
};

struct moat_syn_backend;

struct moat_syn_backend *moat_syn_backend_create(uint32_t slots,
					const uint8_t seed[MOAT_SYN_KEY_LEN]);
void moat_syn_backend_destroy(struct moat_syn_backend *b);

/*
 * Learn from a SYN-ACK (@p, decoded; SYN and ACK set) sent by the server
 * p->src:p->sport.  Overwrites the slot of another server on collision.
 */
void moat_syn_backend_learn(struct moat_syn_backend *b,
			    const struct moat_pkt *p, uint64_t now_ns);

/*
 * A SYN in cookie mode for server @addr:@port that moat knows nothing of
 * should go to the server as in state mode (at most once per
 * MOAT_SYN_PROBE_NS per server), so that its SYN-ACK teaches the table.
 * Without it a server only ever proxied would never be learned: the
 * proxied SYN carries only what the cookie could, and the cookie carries
 * nothing beyond the MSS until the server is known to do timestamps.
 *
 * probe_due() only reads (an input of moat_syn_decision()); probe_sent()
 * records that a SYN went, and claims the server's slot unless another
 * server's learned options live there.
 */
#define MOAT_SYN_PROBE_NS 1000000000ull
bool moat_syn_backend_probe_due(const struct moat_syn_backend *b,
				const struct moat_addr *addr, uint16_t port,
				uint64_t now_ns);
void moat_syn_backend_probe_sent(struct moat_syn_backend *b,
				 const struct moat_addr *addr, uint16_t port,
				 uint64_t now_ns);

/* What to answer for server @addr:@port: learned, else safe defaults
 * (MSS 536 or 1220, no window scaling, no SACK, no timestamps, no ECN). */
void moat_syn_backend_get(const struct moat_syn_backend *b,
			  const struct moat_addr *addr, uint16_t port,
			  struct moat_syn_backend_opts *out);

/* ---- hybrid mode detector (src/synproxy/mode.c) ------------------------ */

/*
 * Per destination: flooded or not, with hysteresis.  It always watches;
 * which mode is in force (moat/syncookies.h) is an input of the decision
 * (moat/syn_decide.h), not of the detector.  Its records are struct
 * moat_syn_dst_state.
 */
struct moat_syn_mode_params {
	uint32_t half_open;      /* switch to cookies at this many */
	uint32_t rate;           /* ... or at this many SYN/s */
	uint32_t quiet_s;        /* back after this long under half of both */
};

/*
 * The options' defaults (moat/defaults.h: syncookies-threshold,
 * syncookies-rate, syncookies-quiet).  A field left 0 in the params given
 * to moat_syn_mode_create() or moat_syn_mode_set() takes its default.
 */
void moat_syn_mode_params_default(struct moat_syn_mode_params *p);

/* A destination switched mode; the engine logs and counts it. */
struct moat_syn_mode_event {
	struct moat_addr dst;
	uint16_t port;
	bool cookies;            /* true: now answering with cookies */
	uint32_t half_open;      /* at the switch */
	uint32_t rate;           /* SYN/s at the switch */
	uint64_t time_ns;
};

struct moat_syn_modes;

struct moat_syn_modes *moat_syn_mode_create(uint32_t slots,
					   const struct moat_syn_mode_params *par,
					   const uint8_t seed[MOAT_SYN_KEY_LEN]);
void moat_syn_mode_destroy(struct moat_syn_modes *m);

/* Change the thresholds at run time (reload). */
void moat_syn_mode_set(struct moat_syn_modes *m,
		       const struct moat_syn_mode_params *par);

/*
 * Count a SYN to protected @dst:@port at @now_ns (a new destination takes
 * the oldest way of its set) and apply the hysteresis.  Returns the
 * destination's record, valid until the next call on @m.  When this SYN
 * switched the destination into cookie mode, fills *@ev and sets
 * *@switched.
 */
const struct moat_syn_dst_state *
moat_syn_mode_syn(struct moat_syn_modes *m, const struct moat_addr *dst,
		  uint16_t port, uint64_t now_ns,
		  struct moat_syn_mode_event *ev, bool *switched);

/*
 * @n SYNs to @dst:@port that a fast path in front of the engine answered
 * (XDP): counted as moat_syn_mode_syn() counts one, with the same
 * reporting, so the hysteresis sees the flood it no longer receives.
 */
void moat_syn_mode_syns(struct moat_syn_modes *m, const struct moat_addr *dst,
			uint16_t port, uint32_t n, uint64_t now_ns,
			struct moat_syn_mode_event *ev, bool *switched);

/*
 * Half-open handshakes to @dst:@port changed by @delta (+1 when a SYN
 * passed to the server, -1 when it completed or expired).  May switch the
 * destination into cookies (same reporting as moat_syn_mode_syn()).
 */
void moat_syn_mode_half_open(struct moat_syn_modes *m,
			     const struct moat_addr *dst, uint16_t port,
			     int delta, uint64_t now_ns,
			     struct moat_syn_mode_event *ev, bool *switched);

/*
 * From the tick: switch destinations that have been quiet long enough back
 * to state mode.  Writes up to @max events to @ev; returns how many.
 */
uint32_t moat_syn_mode_tick(struct moat_syn_modes *m, uint64_t now_ns,
			    struct moat_syn_mode_event *ev, uint32_t max);

/* The destinations the detector watches, for `moat ctl stats`: up to
 * @max into @out; returns how many.  Control plane (walks the table). */
struct moat_syn_mode_view {
	struct moat_addr dst;
	uint16_t port;
	bool cookies;
	uint32_t half_open;
	uint32_t rate;           /* SYNs in the last full second */
};
uint32_t moat_syn_mode_list(const struct moat_syn_modes *m,
			    struct moat_syn_mode_view *out, uint32_t max);

/* The record of @dst:@port, or NULL (never seen, or evicted). */
const struct moat_syn_dst_state *
moat_syn_mode_find(const struct moat_syn_modes *m, const struct moat_addr *dst,
		   uint16_t port);

/* Whether the detector has @dst:@port flooded now (tests, stats). */
bool moat_syn_mode_cookies(const struct moat_syn_modes *m,
			   const struct moat_addr *dst, uint16_t port);

#endif
