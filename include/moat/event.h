/*
 * What the engine tells the log: events as data.
 *
 * The engine is pure and never formats; an event is a kind, the flow key
 * of the packet that raised it (when there is one), the time and a few
 * typed fields.  The engine keeps them in a fixed ring (events.c) that the
 * I/O side drains between batches; src/io/event_json.c turns them into the
 * one JSON schema that `moat run --log` and `moat replay --events` share.
 */
#ifndef MOAT_EVENT_H
#define MOAT_EVENT_H

#include <stdint.h>

#include "moat/addr.h"
#include "moat/reason.h"

/* The flow a packet belongs to, as that packet carried it. */
struct moat_flow_key {
	struct moat_addr src, dst;  /* family MOAT_AF_NONE: no flow */
	uint16_t sport, dport;      /* TCP, UDP, SCTP; 0 otherwise */
	uint8_t proto;              /* IP protocol number */
	uint8_t icmp_type, icmp_code; /* ICMP and ICMPv6 */
};

enum moat_event_kind {
	MOAT_EV_RULE = 0,        /* a `log` rule matched: rule */
	MOAT_EV_TABLE_FULL,      /* the flow table refused a flow */
	MOAT_EV_SYNCOOKIES,      /* a destination switched mode: syn */
	MOAT_EV_HIJACK,          /* an on-path attack suspected: hijack */
	MOAT_EV_OVERLOAD,        /* a source put into its overload set */
	MOAT_EV_OVERLOAD_EXPIRED,/* ... and taken out again */
	MOAT_EV_ADDRESS_TRUST,   /* address-trust login from outside: trust */
	MOAT_EV_KIND_COUNT
};

enum moat_event_hijack_kind {
	MOAT_EV_HIJACK_INJECTION = 0, /* bytes at a SEQ rewritten */
	MOAT_EV_HIJACK_ACK_STORM,     /* both sides ACK what was never sent */
	MOAT_EV_HIJACK_TTL_JUMP,      /* a side's TTL changed mid-flow */
};

enum moat_event_action {
	MOAT_EV_ACTION_PASS = 0,
	MOAT_EV_ACTION_BLOCK,
	MOAT_EV_ACTION_REJECT,
};

struct moat_event {
	uint64_t time_ns;          /* the engine's time (replay: the capture's) */
	uint8_t kind;              /* enum moat_event_kind */
	int16_t in_zone;           /* ingress zone of the packet, or -1 */
	struct moat_flow_key key;  /* the packet's flow; family NONE: none */
	union {
		struct {
			int32_t number, line;
			uint8_t action;    /* enum moat_event_action */
		} rule;
		struct {
			uint8_t cookies;   /* 1: now cookies, 0: now state */
			uint32_t half_open, syn_rate;
		} syn;                     /* key.dst and key.dport: the service */
		struct {
			uint8_t kind;      /* enum moat_event_hijack_kind */
			uint8_t dir;       /* enum moat_ct_dir of the packet */
			uint32_t seq, ack;
			uint32_t len_seen, len_new;  /* injection */
			uint32_t hash_seen, hash_new;
			uint32_t acks_orig, acks_reply; /* ACK storm */
			uint32_t window_ms;
			uint8_t ttl_first, ttl_now;  /* TTL jump */
			uint32_t len;
		} hijack;
		struct {
			int16_t set;       /* index of the configuration's set */
			int32_t rule;
			uint16_t limit;    /* enum moat_reason that tripped */
			uint32_t expire;   /* seconds; 0: never */
		} overload;                /* key.src: the source */
		struct {
			const char *service; /* static: "rlogin", "rsh", "x11" */
			int32_t rule;
		} trust;
	} u;
};

/* The stable name of a kind ("hijack"); "?" out of range. */
const char *moat_event_kind_name(enum moat_event_kind k);
const char *moat_event_hijack_name(enum moat_event_hijack_kind k);
const char *moat_event_action_name(enum moat_event_action a);

#endif
