/*
 * Shared by proxy.c, decide.c, frames.c and hold.c only: the proxy's
 * object, the per-handshake slot, the hold pool, and the frame builders.
 */
#ifndef MOAT_SYN_PROXY_INTERNAL_H
#define MOAT_SYN_PROXY_INTERNAL_H

#include "internal.h"
#include "moat/syn_proxy.h"

enum { SYN_NIL = UINT32_MAX };

/* One held client segment: the whole frame as it arrived. */
struct syn_hold {
	uint32_t next;           /* next held of the flow, or free list */
	uint16_t len;
	uint16_t linktype;
	uint8_t data[MOAT_EMIT_FRAME_MAX];
};

/*
 * A handshake with a server in progress (ct state MOAT_CT_SYNPROXY).  Lives
 * from moat_syn_open_server() until the server answers or the tick gives up.
 */
struct syn_flow {
	struct moat_ct_entry *e;  /* borrowed; checked before each use */
	struct moat_syn_tuple t;  /* client to server */
	struct moat_syn_client c;
	uint32_t cookie;          /* our ISN towards the client */
	uint32_t client_next;     /* the client's next SEQ (held data included) */
	uint16_t client_win;      /* window field of the client's last ACK */
	struct moat_l2 l2;        /* client to server, as its frames came */
	uint16_t linktype;
	int16_t zone_client, zone_server;
	uint64_t start_ns;
	uint8_t syns;             /* SYNs sent to the server */
	uint8_t held;
	uint32_t hold_head, hold_tail;
	uint32_t next_free;
	bool used;
};

struct moat_syn {
	struct moat_syn_keys keys;
	struct moat_syn_rtx *rtx;
	struct moat_syn_backend *backend;
	struct moat_syn_modes *modes;
	uint32_t nflows, flows_active, flow_free;
	struct syn_flow *flows;   /* owned; nflows */
	uint32_t nholds, holds_free, hold_free;
	struct syn_hold *holds;   /* owned; nholds */
};

/* frames.c */
void syn_l2_of(const struct moat_pkt *p, bool swap, struct moat_l2 *l2);
void syn_l2_swap(const struct moat_l2 *in, struct moat_l2 *out);
enum moat_reason syn_emit_tcp(struct moat_emit *out, int linktype,
			      const struct moat_l2 *l2, int zone,
			      const struct moat_tcp_spec *spec);
enum moat_reason syn_emit_synack(struct moat_emit *out,
				 const struct moat_syn_rtx_entry *r);
void syn_server_syn_spec(const struct syn_flow *f, struct moat_tcp_spec *out);
enum moat_reason syn_emit_server_syn(struct moat_emit *out,
				     const struct syn_flow *f);
enum moat_reason syn_emit_client_rst(struct moat_emit *out,
				     const struct syn_flow *f);

/* hold.c */
bool syn_hold_add(struct moat_syn *s, struct syn_flow *f,
		  const struct moat_pkt *p);
void syn_hold_free_all(struct moat_syn *s, struct syn_flow *f);
uint32_t syn_hold_release(struct moat_syn *s, struct moat_ct *ct,
			  struct syn_flow *f, struct moat_ct_entry *e,
			  uint64_t now_ns, struct moat_emit *out);

#endif
