/*
 * What the files of src/conntrack share and nobody else sees: the table
 * itself, the lookup tuple, the timeout classes, and the helpers each file
 * provides to the others.
 *
 *   hash.c   keyed hash of a tuple, independent of its direction
 *   table.c  pool, buckets, lookup, insert, remove, eviction
 *   timer.c  timeout classes, the timer wheel, touch and expire
 *   tcp.c    the TCP state machine and sequence-window checks
 *   track.c  dispatch per protocol, UDP and ICMP, names and defaults
 */
#ifndef MOAT_CT_INTERNAL_H
#define MOAT_CT_INTERNAL_H

#include <stdint.h>

#include "moat/ct.h"

/*
 * Index 0 of the pool is never used, so 0 means "none" in every link.  A
 * list's first element has prev = LIST_TAG | list id and its last has
 * next = LIST_TAG | list id: unlinking finds the list without a field for
 * it (the wheel is lazy: an entry's slot is not a function of its expiry).
 */
enum {
	CT_NIL = 0,
	CT_LIST_TAG = 0x80000000u,
	CT_MAX_FLOWS = 0x7ffffff0u,
};

/* Timeout classes: one idle timeout each, and one eviction list each. */
enum ct_class {
	CT_C_OPENING,     /* SYN_SENT, SYN_RECV, SYNPROXY */
	CT_C_ESTABLISHED,
	CT_C_CLOSING,     /* FIN_WAIT, CLOSE_WAIT, LAST_ACK */
	CT_C_TIMEWAIT,    /* TIME_WAIT, CLOSED */
	CT_C_UDP_FIRST,
	CT_C_UDP_MULTIPLE,
	CT_C_ICMP,
	CT_C_OTHER,       /* any other protocol */
	CT_C_COUNT
};

/* Which of the entry's two doubly linked lists. */
enum ct_link { CT_L_WHEEL = 0, CT_L_CLASS = 1 };

struct ct_list {
	uint32_t head, tail;
};

/* The five-tuple of a packet, pointing into the packet view. */
struct ct_tuple {
	const struct moat_addr *src, *dst;
	uint16_t sport, dport;
	uint8_t proto;
};

struct moat_ct {
	struct moat_ct_params par;
	struct moat_ct_entry *pool;  /* cap + 1 entries; [0] unused */
	uint32_t *bucket;            /* hash chain heads, mask + 1 of them */
	uint32_t mask;
	unsigned shift;              /* 64 - log2(buckets): index = hash >> shift */
	uint32_t cap;
	uint32_t free_head;          /* free entries, chained by hnext */
	uint32_t count;
	uint32_t to_class[CT_C_COUNT];   /* timeouts in seconds */
	uint32_t by_state[MOAT_CT_STATE_COUNT];
	struct ct_list klass[CT_C_COUNT];
	/* The timer wheel: one slot per second, wheel_mask + 1 slots.  The
	 * hand is the next second expire() processes. */
	struct ct_list *wheel;       /* wheel_mask + 2: the last one holds
					the slot being drained */
	uint32_t wheel_mask;
	uint32_t hand;
	bool draining;               /* the hand's slot is half drained */
	uint64_t nh_key[6];          /* hash key, expanded from the seed */
	struct moat_ct_stats st;
	void (*free_hook)(struct moat_ct_entry *e, void *arg);
	void *free_hook_arg;
};

static inline uint32_t ct_index(const struct moat_ct *ct,
				const struct moat_ct_entry *e)
{
	return (uint32_t)(e - ct->pool);
}

static inline uint32_t ct_seconds(uint64_t now_ns)
{
	return (uint32_t)(now_ns / 1000000000u);
}

static inline uint32_t ct_bucket_of(const struct moat_ct *ct, uint64_t h)
{
	return (uint32_t)(h >> ct->shift);
}

/* hash.c */
void ct_hash_init(struct moat_ct *ct);
uint64_t ct_hash(const struct moat_ct *ct, const struct ct_tuple *t);
void ct_tuple_of_entry(const struct moat_ct_entry *e, struct ct_tuple *t);

/* timer.c */
enum ct_class ct_class_of(enum moat_ct_state s);
void ct_list_push(struct moat_ct *ct, struct ct_list *lists, enum ct_link l,
		  uint32_t id, uint32_t idx);
void ct_list_unlink(struct moat_ct *ct, struct ct_list *lists, enum ct_link l,
		    uint32_t idx);
void ct_timer_arm(struct moat_ct *ct, struct moat_ct_entry *e,
		  uint32_t now_s);
void ct_timer_start(struct moat_ct *ct, struct moat_ct_entry *e,
		    enum moat_ct_state st, uint32_t now_s);
void ct_timer_stop(struct moat_ct *ct, struct moat_ct_entry *e);
void ct_state_change(struct moat_ct *ct, struct moat_ct_entry *e,
		     enum moat_ct_state st);

/* tcp.c */
void ct_tcp_new(struct moat_ct_entry *e, const struct moat_pkt *p, bool loose);
enum moat_reason ct_tcp_track(struct moat_ct *ct, struct moat_ct_entry *e,
			      int dir, const struct moat_pkt *p,
			      uint32_t now_s);

/* table.c */
void ct_entry_free(struct moat_ct *ct, struct moat_ct_entry *e);

#endif
