/*
 * TCP tracking, table-driven: each scenario is a conversation between a
 * client and a server, one row per segment with the verdict and the flow
 * state expected after it.  Time is injected (dt seconds before a row).
 * The first row (and rows marked OP_INSERT) create the flow.
 */
#include "ct_test.h"

enum { F = MOAT_TCP_FIN, S = MOAT_TCP_SYN, R = MOAT_TCP_RST,
       P = MOAT_TCP_PSH, A = MOAT_TCP_ACK };

enum op {
	OP_TRACK = 0,
	OP_INSERT,   /* insert: the row is the ORIG packet of a new flow */
	OP_REUSE,    /* track returns TCP_NO_STATE; remove, insert anew */
};

enum { NO_WS = -1 };

#define CI 1000u        /* client ISN */
#define SI 7000000u     /* server ISN */

struct row {
	char who;            /* 'c' client, 's' server */
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t win, len;
	enum moat_reason want;
	enum moat_ct_state state; /* NONE: not checked */
	enum op op;
	int8_t ws;           /* window scale option on SYNs; 0 = none */
	uint32_t dt;
	uint32_t sack_l, sack_r; /* one SACK block when sack_r != 0 */
};

struct scenario {
	const char *name;
	bool v6, rst_exact_off, loose;
	const struct row *rows;
	size_t n;
};

#define M MOAT_R_STATE_MATCH
#define ROWS(...) (const struct row[]){ __VA_ARGS__ }, \
	sizeof((const struct row[]){ __VA_ARGS__ }) / sizeof(struct row)

/* The usual opening, reused by many scenarios. */
#define HANDSHAKE                                                          \
	{ 'c', S, CI, 0, 65535, 0, M, MOAT_CT_SYN_SENT, OP_INSERT },       \
	{ 's', S | A, SI, CI + 1, 65535, 0, M, MOAT_CT_SYN_RECV },         \
	{ 'c', A, CI + 1, SI + 1, 65535, 0, M, MOAT_CT_ESTABLISHED }

static const struct scenario scenarios[] = {
	{ "handshake, data both ways, FIN close", false, false, false, ROWS(
		HANDSHAKE,
		{ 'c', P | A, CI + 1, SI + 1, 65535, 100, M, MOAT_CT_ESTABLISHED },
		{ 's', P | A, SI + 1, CI + 101, 65535, 200, M, MOAT_CT_ESTABLISHED },
		{ 'c', A, CI + 101, SI + 201, 65535, 0, M, MOAT_CT_ESTABLISHED },
		{ 'c', F | A, CI + 101, SI + 201, 65535, 0, M, MOAT_CT_FIN_WAIT },
		{ 's', A, SI + 201, CI + 102, 65535, 0, M, MOAT_CT_CLOSE_WAIT },
		{ 's', P | A, SI + 201, CI + 102, 65535, 50, M, MOAT_CT_CLOSE_WAIT },
		{ 's', F | A, SI + 251, CI + 102, 65535, 0, M, MOAT_CT_LAST_ACK },
		{ 'c', A, CI + 102, SI + 252, 65535, 0, M, MOAT_CT_TIME_WAIT },
		/* the server missed the last ACK: its FIN again, the ACK again */
		{ 's', F | A, SI + 251, CI + 102, 65535, 0, M, MOAT_CT_TIME_WAIT },
		{ 'c', A, CI + 102, SI + 252, 65535, 0, M, MOAT_CT_TIME_WAIT },
		/* nothing new after a FIN */
		{ 'c', P | A, CI + 102, SI + 252, 65535, 10, MOAT_R_TCP_CLOSED },
		{ 's', P | A, SI + 252, CI + 102, 65535, 10, MOAT_R_TCP_CLOSED },
	) },
	{ "both FINs cross", false, false, false, ROWS(
		HANDSHAKE,
		{ 'c', F | A, CI + 1, SI + 1, 65535, 0, M, MOAT_CT_FIN_WAIT },
		{ 's', F | A, SI + 1, CI + 1, 65535, 0, M, MOAT_CT_LAST_ACK },
		{ 's', A, SI + 2, CI + 2, 65535, 0, M, MOAT_CT_LAST_ACK },
		{ 'c', A, CI + 2, SI + 2, 65535, 0, M, MOAT_CT_TIME_WAIT },
	) },
	{ "lost segment and resend", false, false, false, ROWS(
		HANDSHAKE,
		{ 'c', A, CI + 1, SI + 1, 65535, 1000, M },
		{ 'c', A, CI + 1001, SI + 1, 65535, 1000, M },  /* lost later */
		{ 'c', A, CI + 2001, SI + 1, 65535, 1000, M },
		{ 's', A, SI + 1, CI + 1001, 65535, 0, M, .sack_l = CI + 2001,
		  .sack_r = CI + 3001 },
		{ 'c', A, CI + 1001, SI + 1, 65535, 1000, M },  /* resend */
		{ 's', A, SI + 1, CI + 3001, 65535, 0, M },
		/* a spurious resend of data already acknowledged */
		{ 'c', A, CI + 1, SI + 1, 65535, 1000, M, MOAT_CT_ESTABLISHED },
	) },
	{ "reordering inside the window", false, false, false, ROWS(
		HANDSHAKE,
		{ 'c', A, CI + 1001, SI + 1, 65535, 1000, M },
		{ 'c', A, CI + 2001, SI + 1, 65535, 1000, M },
		{ 'c', A, CI + 1, SI + 1, 65535, 1000, M },
		{ 's', A, SI + 1, CI + 3001, 65535, 0, M, MOAT_CT_ESTABLISHED },
	) },
	{ "RST closes; nothing after", false, false, false, ROWS(
		HANDSHAKE,
		{ 's', A, SI + 1, CI + 1, 65535, 100, M },
		{ 's', R | A, SI + 101, CI + 1, 0, 0, M, MOAT_CT_CLOSED },
		{ 'c', A, CI + 1, SI + 101, 65535, 0, MOAT_R_TCP_CLOSED },
		{ 's', R, SI + 101, 0, 0, 0, MOAT_R_TCP_CLOSED },
	) },
	{ "RST answering the SYN", false, false, false, ROWS(
		{ 'c', S, CI, 0, 65535, 0, M, MOAT_CT_SYN_SENT, OP_INSERT },
		{ 's', R | A, 0, CI + 5, 0, 0, MOAT_R_TCP_RST_OUT_OF_WINDOW,
		  MOAT_CT_SYN_SENT },
		{ 's', R, 0, 0, 0, 0, MOAT_R_TCP_RST_OUT_OF_WINDOW },
		{ 's', R | A, 0, CI + 1, 0, 0, M, MOAT_CT_CLOSED },
	) },
	{ "attack: RST with a wrong SEQ (exact mode)", false, false, false, ROWS(
		HANDSHAKE,
		{ 's', A, SI + 1, CI + 1, 65535, 100, M },
		{ 's', R, SI + 1000000, 0, 0, 0, MOAT_R_TCP_RST_OUT_OF_WINDOW,
		  MOAT_CT_ESTABLISHED },
		{ 's', R, SI + 50, 0, 0, 0, MOAT_R_TCP_RST_CHALLENGE,
		  MOAT_CT_ESTABLISHED },
		{ 'c', R, CI + 2, 0, 0, 0, MOAT_R_TCP_RST_CHALLENGE,
		  MOAT_CT_ESTABLISHED },
		{ 'c', R, CI - 100000, 0, 0, 0, MOAT_R_TCP_RST_OUT_OF_WINDOW },
		{ 'c', R, CI + 1, 0, 0, 0, M, MOAT_CT_CLOSED },
	) },
	{ "RST at the receiver's highest ACK (data in flight)", false, false,
	  false, ROWS(
		HANDSHAKE,
		{ 'c', A, CI + 1, SI + 1, 65535, 100, M },
		{ 's', A, SI + 1, CI + 1, 65535, 0, M },
		{ 'c', R, CI + 50, 0, 0, 0, MOAT_R_TCP_RST_CHALLENGE },
		{ 'c', R, CI + 1, 0, 0, 0, M, MOAT_CT_CLOSED },
	) },
	{ "RST: only the highest ACK counts", false, false, false, ROWS(
		HANDSHAKE,
		{ 'c', A, CI + 1, SI + 1, 65535, 100, M },
		{ 's', A, SI + 1, CI + 1, 65535, 0, M },
		{ 's', A, SI + 1, CI + 101, 65535, 0, M },
		{ 's', A, SI + 1, CI + 51, 65535, 0, M },  /* reordered */
		{ 'c', A, CI + 101, SI + 1, 65535, 200, M },
		{ 'c', R, CI + 1, 0, 0, 0, MOAT_R_TCP_RST_CHALLENGE },
		{ 'c', R, CI + 51, 0, 0, 0, MOAT_R_TCP_RST_CHALLENGE },
		{ 'c', R, CI + 101, 0, 0, 0, M, MOAT_CT_CLOSED },
	) },
	{ "RST in window, not exact mode", false, true, false, ROWS(
		HANDSHAKE,
		{ 's', R, SI + 1000000, 0, 0, 0, MOAT_R_TCP_RST_OUT_OF_WINDOW },
		{ 's', R, SI + 50, 0, 0, 0, M, MOAT_CT_CLOSED },
	) },
	{ "attack: ACK of unsent data, too old", false, false, false, ROWS(
		HANDSHAKE,
		{ 's', A, SI + 1, CI + 1, 65535, 100, M },
		{ 'c', A, CI + 1, SI + 102, 65535, 0, MOAT_R_TCP_ACK_UNSENT },
		{ 'c', A, CI + 1, SI + 101, 65535, 0, M },
		{ 'c', A, CI + 1, SI - 70000, 65535, 0, MOAT_R_TCP_ACK_TOO_OLD },
		/* a SACK block beyond what the server sent */
		{ 'c', A, CI + 1, SI + 101, 65535, 0, MOAT_R_TCP_ACK_UNSENT,
		  .sack_l = SI + 101, .sack_r = SI + 300 },
		/* a packet without ACK after the handshake */
		{ 'c', P, CI + 1, 0, 65535, 10, MOAT_R_TCP_BAD_STATE },
		{ 'c', F, CI + 1, 0, 65535, 0, MOAT_R_TCP_BAD_STATE },
		{ 'c', 0, CI + 1, 0, 65535, 0, MOAT_R_TCP_BAD_STATE },
	) },
	{ "attack: data outside the window", false, false, false, ROWS(
		HANDSHAKE,
		/* the server allows 65535 bytes past CI + 1 */
		{ 'c', A, CI + 1 + 65535 - 100, SI + 1, 65535, 100, M },
		{ 'c', A, CI + 1 + 65535, SI + 1, 65535, 1,
		  MOAT_R_TCP_SEQ_OUT_OF_WINDOW },
		{ 'c', A, CI + 1 + 1000000, SI + 1, 65535, 100,
		  MOAT_R_TCP_SEQ_OUT_OF_WINDOW },
		/* older than the receiver's largest window */
		{ 'c', A, CI + 1 - 100000, SI + 1, 65535, 100,
		  MOAT_R_TCP_OUT_OF_WINDOW },
		/* a keepalive (SEQ one below) and a pure ACK pass */
		{ 'c', A, CI + 65535, SI + 1, 65535, 0, M },
		{ 'c', A, CI + 65535, SI + 1, 65535, 1, M, MOAT_CT_ESTABLISHED },
	) },
	{ "the window moves with the ACKs", false, false, false, ROWS(
		HANDSHAKE,
		{ 'c', A, CI + 1, SI + 1, 65535, 60000, M },
		{ 'c', A, CI + 60001, SI + 1, 65535, 10000,
		  MOAT_R_TCP_SEQ_OUT_OF_WINDOW },
		{ 's', A, SI + 1, CI + 60001, 65535, 0, M },
		{ 'c', A, CI + 60001, SI + 1, 65535, 10000, M },
		/* a zero window: one byte of probe still passes */
		{ 's', A, SI + 1, CI + 70001, 0, 0, M },
		{ 'c', A, CI + 70001, SI + 1, 65535, 1, M },
	) },
	{ "attack: SYN on an established flow", false, false, false, ROWS(
		HANDSHAKE,
		/* in the window: RFC 793 stacks would reset (RFC 5961 4) */
		{ 'c', S, CI + 5000, 0, 65535, 0, MOAT_R_TCP_SYN_IN_WINDOW,
		  MOAT_CT_ESTABLISHED },
		{ 's', S, SI + 5, 0, 65535, 0, MOAT_R_TCP_SYN_IN_WINDOW },
		{ 'c', S, CI + 1 - 65535, 0, 65535, 0,
		  MOAT_R_TCP_SYN_IN_WINDOW },
		/* outside it: the endpoint answers with an ACK; the flow
		 * stays as it was */
		{ 'c', S, CI + 1 + 65536, 0, 65535, 0, MOAT_R_TCP_SYN_REUSE,
		  MOAT_CT_ESTABLISHED },
		{ 's', S, SI - 3000000, 0, 65535, 0, MOAT_R_TCP_SYN_REUSE,
		  MOAT_CT_ESTABLISHED },
		{ 'c', A, CI + 1, SI + 1, 65535, 10, M, MOAT_CT_ESTABLISHED },
		/* the server's SYN-ACK again (the client's ACK was lost) */
		{ 's', S | A, SI, CI + 1, 65535, 0, M, MOAT_CT_ESTABLISHED },
		/* but not a SYN-ACK with a new ISN */
		{ 's', S | A, SI + 100, CI + 1, 65535, 0,
		  MOAT_R_TCP_SYN_IN_WINDOW },
	) },
	{ "handshake details", false, false, false, ROWS(
		{ 'c', S, CI, 0, 65535, 0, M, MOAT_CT_SYN_SENT, OP_INSERT },
		{ 'c', S, CI, 0, 65535, 0, M, MOAT_CT_SYN_SENT, .dt = 1 },
		/* the client speaks before any answer */
		{ 'c', A, CI + 1, 0, 65535, 10, MOAT_R_TCP_BAD_STATE },
		{ 'c', P | A, CI + 1, SI + 1, 65535, 10, MOAT_R_TCP_BAD_STATE },
		/* the server speaks before its SYN-ACK: impossible */
		{ 's', A, SI + 1, CI + 1, 65535, 0, MOAT_R_TCP_BAD_STATE },
		/* the client cannot SYN-ACK what nobody sent */
		{ 'c', S | A, CI, SI + 1, 65535, 0, MOAT_R_TCP_BAD_STATE },
		/* the SYN-ACK must acknowledge the SYN */
		{ 's', S | A, SI, CI + 7, 65535, 0, MOAT_R_TCP_ACK_UNSENT },
		{ 's', S | A, SI, CI + 1, 65535, 0, M, MOAT_CT_SYN_RECV },
		{ 's', S | A, SI, CI + 1, 65535, 0, M, MOAT_CT_SYN_RECV, .dt = 1 },
		/* a second SYN with another ISN from either side */
		{ 'c', S, CI + 500, 0, 65535, 0, MOAT_R_TCP_BAD_STATE },
		{ 's', S | A, SI + 500, CI + 1, 65535, 0, MOAT_R_TCP_BAD_STATE },
		{ 'c', S, CI, 0, 65535, 0, M, MOAT_CT_SYN_RECV },
		{ 'c', A, CI + 1, SI + 1, 65535, 0, M, MOAT_CT_ESTABLISHED },
	) },
	{ "a client restarts with a new ISN", false, false, false, ROWS(
		{ 'c', S, CI, 0, 65535, 0, M, MOAT_CT_SYN_SENT, OP_INSERT },
		{ 'c', S, CI + 100000, 0, 65535, 0, M, MOAT_CT_SYN_SENT },
		{ 's', S | A, SI, CI + 1, 65535, 0, MOAT_R_TCP_ACK_TOO_OLD },
		{ 's', S | A, SI, CI + 100001, 65535, 0, M, MOAT_CT_SYN_RECV },
	) },
	{ "simultaneous open", false, false, false, ROWS(
		{ 'c', S, CI, 0, 65535, 0, M, MOAT_CT_SYN_SENT, OP_INSERT },
		{ 's', S, SI, 0, 65535, 0, M, MOAT_CT_SYN_RECV },
		{ 'c', S | A, CI, SI + 1, 65535, 0, M, MOAT_CT_SYN_RECV },
		{ 's', S | A, SI, CI + 1, 65535, 0, M, MOAT_CT_ESTABLISHED },
		{ 'c', A, CI + 1, SI + 1, 65535, 10, M, MOAT_CT_ESTABLISHED },
		{ 's', A, SI + 1, CI + 11, 65535, 10, M, MOAT_CT_ESTABLISHED },
	) },
	{ "window scaling (both SYNs)", false, false, false, ROWS(
		{ 'c', S, CI, 0, 65535, 0, M, MOAT_CT_SYN_SENT, OP_INSERT, 7 },
		{ 's', S | A, SI, CI + 1, 1000, 0, M, MOAT_CT_SYN_RECV, .ws = 2 },
		/* 1000 << 7 = 128000 bytes for the server */
		{ 'c', A, CI + 1, SI + 1, 1000, 0, M, MOAT_CT_ESTABLISHED },
		{ 's', A, SI + 1, CI + 1, 1000, 60000, M },
		{ 's', A, SI + 60001, CI + 1, 1000, 60000, M },
		{ 's', A, SI + 120001, CI + 1, 1000, 8000, M },
		{ 's', A, SI + 128001, CI + 1, 1000, 1,
		  MOAT_R_TCP_SEQ_OUT_OF_WINDOW },
		/* the SYN-ACK's 1000 is not scaled; 1000 << 2 = 4000 since */
		{ 'c', A, CI + 1, SI + 128001, 1000, 4000, M },
		{ 'c', A, CI + 4001, SI + 128001, 1000, 1,
		  MOAT_R_TCP_SEQ_OUT_OF_WINDOW },
	) },
	{ "window scaling (one SYN only: ignored)", false, false, false, ROWS(
		{ 'c', S, CI, 0, 1000, 0, M, MOAT_CT_SYN_SENT, OP_INSERT, 7 },
		{ 's', S | A, SI, CI + 1, 65535, 0, M, MOAT_CT_SYN_RECV },
		{ 'c', A, CI + 1, SI + 1, 1000, 0, M, MOAT_CT_ESTABLISHED },
		{ 's', A, SI + 1, CI + 1, 1000, 1000, M },
		/* scaled by 7 it would pass */
		{ 's', A, SI + 1001, CI + 1, 1000, 1,
		  MOAT_R_TCP_SEQ_OUT_OF_WINDOW },
		{ 'c', A, CI + 1, SI + 1001, 2000, 0, M },
		{ 's', A, SI + 1001, CI + 1, 1000, 1000, M },
	) },
	{ "sequence numbers wrap", false, false, false, ROWS(
		{ 'c', S, 0xfffffff0u, 0, 65535, 0, M, MOAT_CT_SYN_SENT,
		  OP_INSERT },
		{ 's', S | A, 0xffffff00u, 0xfffffff1u, 65535, 0, M },
		{ 'c', A, 0xfffffff1u, 0xffffff01u, 65535, 0, M,
		  MOAT_CT_ESTABLISHED },
		{ 'c', A, 0xfffffff1u, 0xffffff01u, 65535, 1000, M },
		{ 's', A, 0xffffff01u, 0x3d9u, 65535, 1000, M },
		{ 'c', A, 0x3d9u, 0x2e9u, 65535, 0, M },
		{ 'c', A, 0x3d9u, 0x2eau, 65535, 0, MOAT_R_TCP_ACK_UNSENT },
	) },
	{ "time-wait reuse", false, false, false, ROWS(
		HANDSHAKE,
		{ 'c', F | A, CI + 1, SI + 1, 65535, 0, M, MOAT_CT_FIN_WAIT },
		{ 's', F | A, SI + 1, CI + 2, 65535, 0, M, MOAT_CT_LAST_ACK },
		{ 'c', A, CI + 2, SI + 2, 65535, 0, M, MOAT_CT_TIME_WAIT },
		/* an old ISN would land in the old connection */
		{ 'c', S, CI, 0, 65535, 0, MOAT_R_TCP_SYN_IN_WINDOW,
		  MOAT_CT_TIME_WAIT },
		/* a new one beyond the old end may reuse the tuple */
		{ 'c', S, CI + 64000, 0, 65535, 0, MOAT_R_TCP_NO_STATE,
		  MOAT_CT_SYN_SENT, OP_REUSE, .dt = 5 },
		{ 's', S | A, SI + 99, CI + 64001, 65535, 0, M,
		  MOAT_CT_SYN_RECV },
		{ 'c', A, CI + 64001, SI + 100, 65535, 0, M,
		  MOAT_CT_ESTABLISHED },
	) },
	/* RFC 9293 3.10.7.3 and RFC 5961 4: the client lost the connection
	 * (its RST was lost too) and opens a new one from the same port. */
	{ "a client reuses its port", false, false, false, ROWS(
		HANDSHAKE,
		{ 'c', P | A, CI + 1, SI + 1, 65535, 100, M },
		{ 's', P | A, SI + 1, CI + 101, 65535, 300, M },
		/* the new incarnation's SYN reaches the server ... */
		{ 'c', S, CI + 3000000, 0, 65535, 0, MOAT_R_TCP_SYN_REUSE,
		  MOAT_CT_ESTABLISHED, .dt = 30 },
		/* ... which answers with an ACK of the old connection ... */
		{ 's', A, SI + 301, CI + 101, 65535, 0, M,
		  MOAT_CT_ESTABLISHED },
		/* ... which the client's SYN-SENT stack answers with a RST at
		 * that ACK's number: exact, so both ends and moat forget it */
		{ 'c', R, CI + 101, 0, 0, 0, M, MOAT_CT_CLOSED },
		/* the client's SYN again (its retransmission) */
		{ 'c', S, CI + 3000000, 0, 65535, 0, MOAT_R_TCP_NO_STATE,
		  MOAT_CT_SYN_SENT, OP_REUSE, .dt = 1 },
		{ 's', S | A, SI + 777, CI + 3000001, 65535, 0, M,
		  MOAT_CT_SYN_RECV },
		{ 'c', A, CI + 3000001, SI + 778, 65535, 0, M,
		  MOAT_CT_ESTABLISHED },
	) },
	/* The same while the client's last data was lost: the server's ACK
	 * says so, and the RST at its number is the exact one. */
	{ "a client reuses its port, data lost", false, false, false, ROWS(
		HANDSHAKE,
		{ 'c', P | A, CI + 1, SI + 1, 65535, 100, M },
		{ 'c', S, CI + 3000000, 0, 65535, 0, MOAT_R_TCP_SYN_REUSE },
		{ 's', A, SI + 1, CI + 1, 65535, 0, M },
		{ 'c', R, CI + 50, 0, 0, 0, MOAT_R_TCP_RST_CHALLENGE },
		{ 'c', R, CI + 1, 0, 0, 0, M, MOAT_CT_CLOSED },
	) },
	/*
	 * (V) of the diagram: the server's ACKs were lost past moat; the
	 * client resends data far behind, all of it acknowledged.  Each
	 * 60000-byte segment is acknowledged before the next (the window is
	 * 65535), so after the third the first lies more than a window back.
	 */
	{ "retransmission of acknowledged data", false, false, false, ROWS(
		HANDSHAKE,
		{ 'c', A, CI + 1, SI + 1, 65535, 60000, M },
		{ 's', A, SI + 1, CI + 60001, 65535, 0, M },
		{ 'c', A, CI + 60001, SI + 1, 65535, 60000, M },
		{ 's', A, SI + 1, CI + 120001, 65535, 0, M },
		{ 'c', A, CI + 120001, SI + 1, 65535, 60000, M },
		{ 's', A, SI + 1, CI + 180001, 65535, 0, M },
		/* within (II) still: tracked as ever */
		{ 'c', A, CI + 120001, SI + 1, 65535, 60000, M },
		/* more than a window back, less than two: passes as is */
		{ 'c', A, CI + 1, SI + 1, 65535, 60000,
		  MOAT_R_TCP_STALE_RETRANSMIT, MOAT_CT_ESTABLISHED },
		/* its ACK is checked all the same */
		{ 'c', A, CI + 1, SI + 900, 65535, 60000,
		  MOAT_R_TCP_ACK_UNSENT },
		/* more than two windows back: dropped */
		{ 'c', A, CI + 1, SI + 1, 65535, 1000,
		  MOAT_R_TCP_OUT_OF_WINDOW },
		/* and nothing beyond the window, ever */
		{ 'c', A, CI + 180001 + 65535, SI + 1, 65535, 1,
		  MOAT_R_TCP_SEQ_OUT_OF_WINDOW },
		{ 'c', A, CI + 180001, SI + 1, 65535, 100, M },
	) },
	{ "reuse after RST, by the server", false, false, false, ROWS(
		HANDSHAKE,
		{ 'c', R | A, CI + 1, SI + 1, 0, 0, M, MOAT_CT_CLOSED },
		{ 's', S, 5, 0, 65535, 0, MOAT_R_TCP_NO_STATE, MOAT_CT_SYN_SENT,
		  OP_REUSE },
		{ 'c', S | A, 9, 6, 65535, 0, M, MOAT_CT_SYN_RECV },
		{ 's', A, 6, 10, 65535, 0, M, MOAT_CT_ESTABLISHED },
	) },
	{ "IPv6 flow", true, false, false, ROWS(
		HANDSHAKE,
		{ 'c', P | A, CI + 1, SI + 1, 65535, 1200, M },
		{ 's', P | A, SI + 1, CI + 1201, 65535, 1200, M },
		{ 's', R, SI + 77, 0, 0, 0, MOAT_R_TCP_RST_CHALLENGE },
		{ 'c', F | A, CI + 1201, SI + 1201, 65535, 0, M,
		  MOAT_CT_FIN_WAIT },
	) },
	{ "mid-stream pickup (loose)", false, false, true, ROWS(
		{ 'c', A, CI + 5000, SI + 7000, 512, 100, M, MOAT_CT_ESTABLISHED,
		  OP_INSERT },
		{ 's', A, SI + 7000, CI + 5100, 512, 100, M, MOAT_CT_ESTABLISHED },
		{ 'c', A, CI + 5100, SI + 7100, 512, 100, M },
		{ 'c', F | A, CI + 5200, SI + 7100, 512, 0, M, MOAT_CT_FIN_WAIT },
		/* learned, not enforced: only the FIN still binds */
		{ 'c', A, CI + 5201, SI + 7100, 512, 10, MOAT_R_TCP_CLOSED },
		{ 's', A, SI + 900000, CI + 5201, 512, 10, M },
		{ 's', R, SI + 99999, 0, 0, 0, M, MOAT_CT_CLOSED },
	) },
	{ "no pickup without SYN (strict)", false, false, false, ROWS(
		{ 'c', A, CI + 5000, SI + 7000, 512, 100, MOAT_R_TCP_NO_STATE,
		  MOAT_CT_NONE, OP_INSERT },
		{ 'c', S | A, CI, SI, 512, 0, MOAT_R_TCP_NO_STATE, MOAT_CT_NONE,
		  OP_INSERT },
		{ 'c', R, CI, 0, 0, 0, MOAT_R_TCP_NO_STATE, MOAT_CT_NONE,
		  OP_INSERT },
	) },
};

static void fill(struct moat_pkt *p, const struct scenario *sc,
		 const struct row *r)
{
	const char *c = sc->v6 ? "2001:db8:100::10" : "198.18.100.10";
	const char *s = sc->v6 ? "2001:db8:1::10" : "198.18.1.10";

	if (r->who == 'c')
		ct_pkt_tcp(p, c, s, 40000, 80, r->flags, r->seq, r->ack,
			   r->win, r->len);
	else
		ct_pkt_tcp(p, s, c, 80, 40000, r->flags, r->seq, r->ack,
			   r->win, r->len);
	if (r->ws) {
		p->opt.present |= MOAT_TCPOPT_WSCALE;
		p->opt.wscale = (uint8_t)r->ws;
	}
	if (r->sack_r) {
		p->opt.present |= MOAT_TCPOPT_SACK;
		p->opt.sack_count = 1;
		p->opt.sack[0][0] = r->sack_l;
		p->opt.sack[0][1] = r->sack_r;
	}
}

static void expect(const struct scenario *sc, size_t i, const char *what,
		   int got, int want, const char *(*name)(int))
{
	if (got == want)
		return;
	print_error("%s, row %zu: %s %s, expected %s\n", sc->name, i + 1, what,
		    name(got), name(want));
	fail();
}

static const char *reason_name(int r)
{
	return moat_reason_name((enum moat_reason)r);
}

static const char *state_name(int s)
{
	return moat_ct_state_name((enum moat_ct_state)s);
}

static struct moat_ct *table_for(const struct scenario *sc)
{
	struct moat_ct_params par;
	struct moat_ct *ct;

	moat_ct_params_default(&par);
	par.max_flows = 16;
	par.rst_exact = !sc->rst_exact_off;
	par.pickup_loose = sc->loose;
	par.seed[0] = 1;
	ct = moat_ct_create(&par);
	assert_non_null(ct);
	return ct;
}

/* Insert rows create the flow; @orig remembers who opened it. */
static struct moat_ct_entry *do_insert(struct moat_ct *ct,
				       const struct scenario *sc, size_t i,
				       const struct moat_pkt *p, uint64_t now,
				       char *orig)
{
	enum moat_reason why = MOAT_R_NONE;
	struct moat_ct_entry *e = moat_ct_insert(ct, p, now, &why);

	expect(sc, i, "insert", why, sc->rows[i].want, reason_name);
	if (e)
		*orig = sc->rows[i].who;
	return e;
}

static void run(const struct scenario *sc)
{
	struct moat_ct *ct = table_for(sc);
	struct moat_ct_entry *e = NULL;
	uint64_t now = SEC(1000);
	char orig = 'c';

	for (size_t i = 0; i < sc->n; i++) {
		const struct row *r = &sc->rows[i];
		struct moat_pkt p;
		int dir = -1;

		now += SEC(r->dt);
		fill(&p, sc, r);
		if (r->op == OP_INSERT) {
			e = do_insert(ct, sc, i, &p, now, &orig);
		} else {
			e = moat_ct_lookup(ct, &p, &dir);
			assert_non_null(e);
			expect(sc, i, "direction", dir,
			       r->who == orig ? MOAT_CT_ORIG : MOAT_CT_REPLY,
			       state_name);
			expect(sc, i, "track", moat_ct_track(ct, e, dir, &p, now),
			       r->want, reason_name);
			if (r->op == OP_REUSE) {
				assert_true(moat_ct_syn_reuses(e, dir, &p));
				moat_ct_remove(ct, e);
				assert_null(moat_ct_lookup(ct, &p, &dir));
				e = moat_ct_insert(ct, &p, now, NULL);
				assert_non_null(e);
				orig = r->who;
			}
		}
		if (r->state != MOAT_CT_NONE) {
			assert_non_null(e);
			expect(sc, i, "state", e->state, r->state, state_name);
		}
	}
	moat_ct_destroy(ct);
}

static void test_scenarios(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		run(&scenarios[i]);
}

/* A dropped packet changes nothing: the same good packet passes after. */
static void test_drop_changes_nothing(void **state)
{
	struct moat_ct *ct = table_for(&scenarios[0]);
	struct moat_ct_entry *e, before;
	struct moat_pkt p;
	int dir;

	(void)state;
	fill(&p, &scenarios[0], &(struct row){ 'c', S, CI, 0, 65535 });
	e = moat_ct_insert(ct, &p, SEC(1), NULL);
	fill(&p, &scenarios[0], &(struct row){ 's', S | A, SI, CI + 1, 65535 });
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_REPLY, &p, SEC(1)), M);
	fill(&p, &scenarios[0], &(struct row){ 'c', A, CI + 1, SI + 1, 65535 });
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_ORIG, &p, SEC(1)), M);
	before = *e;
	fill(&p, &scenarios[0],
	     &(struct row){ 'c', A, CI + 1, SI + 999, 65535, 10 });
	assert_ptr_equal(moat_ct_lookup(ct, &p, &dir), e);
	assert_int_equal(moat_ct_track(ct, e, dir, &p, SEC(1)),
			 MOAT_R_TCP_ACK_UNSENT);
	assert_memory_equal(&before, e, sizeof(before));
	moat_ct_destroy(ct);
}

/* (V) passes but changes nothing: no edge moves, no timeout is renewed. */
static void test_stale_changes_nothing(void **state)
{
	struct moat_ct *ct = table_for(&scenarios[0]);
	struct moat_ct_entry *e, before;
	struct moat_pkt p;
	uint32_t off = 1;

	(void)state;
	fill(&p, &scenarios[0], &(struct row){ 'c', S, CI, 0, 65535 });
	e = moat_ct_insert(ct, &p, SEC(1), NULL);
	fill(&p, &scenarios[0], &(struct row){ 's', S | A, SI, CI + 1, 65535 });
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_REPLY, &p, SEC(1)), M);
	for (int i = 0; i < 3; i++, off += 60000) {
		fill(&p, &scenarios[0], &(struct row){ 'c', A, CI + off,
						       SI + 1, 65535, 60000 });
		assert_int_equal(moat_ct_track(ct, e, MOAT_CT_ORIG, &p,
					       SEC(1)), M);
		fill(&p, &scenarios[0], &(struct row){ 's', A, SI + 1,
						       CI + off + 60000,
						       65535 });
		assert_int_equal(moat_ct_track(ct, e, MOAT_CT_REPLY, &p,
					       SEC(1)), M);
	}
	before = *e;
	fill(&p, &scenarios[0],
	     &(struct row){ 'c', A | F, CI + 1, SI + 1, 65535, 60000 });
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_ORIG, &p, SEC(500)),
			 MOAT_R_TCP_STALE_RETRANSMIT);
	assert_memory_equal(&before, e, sizeof(before));
	assert_true(moat_ct_passes(MOAT_R_TCP_STALE_RETRANSMIT));
	assert_true(moat_ct_passes(MOAT_R_TCP_SYN_REUSE));
	assert_false(moat_ct_passes(MOAT_R_TCP_SYN_IN_WINDOW));
	/* A SYN outside the window changes nothing either. */
	fill(&p, &scenarios[0], &(struct row){ 'c', S, CI - 2000000, 0 });
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_ORIG, &p, SEC(600)),
			 MOAT_R_TCP_SYN_REUSE);
	assert_memory_equal(&before, e, sizeof(before));
	moat_ct_destroy(ct);
}

/* The challenge ACK's numbers: the receiver's snd.nxt, its highest ACK
 * (never more: data in flight stays unacknowledged), its window. */
static void test_challenge_numbers(void **state)
{
	struct moat_ct *ct = table_for(&scenarios[0]);
	struct moat_ct_challenge c;
	struct moat_ct_entry *e;
	struct moat_pkt p;

	(void)state;
	fill(&p, &scenarios[0], &(struct row){ 'c', S, CI, 0, 1000, .ws = 3 });
	e = moat_ct_insert(ct, &p, SEC(1), NULL);
	/* nothing from the server yet: no rcv.nxt */
	assert_false(moat_ct_tcp_challenge(e, MOAT_CT_ORIG, &c));
	fill(&p, &scenarios[0],
	     &(struct row){ 's', S | A, SI, CI + 1, 2000, .ws = 2 });
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_REPLY, &p, SEC(1)), M);
	fill(&p, &scenarios[0], &(struct row){ 'c', A, CI + 1, SI + 1, 1000 });
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_ORIG, &p, SEC(1)), M);
	/* the client sends 500 bytes the server has not acknowledged */
	fill(&p, &scenarios[0],
	     &(struct row){ 'c', A, CI + 1, SI + 1, 1000, 500 });
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_ORIG, &p, SEC(1)), M);
	/* a RST from the client: the server would answer with its snd.nxt,
	 * its rcv.nxt (CI + 1, not CI + 501) and its window, 2000 bytes
	 * (the SYN-ACK's, never scaled) in its scale, 2 */
	assert_true(moat_ct_tcp_challenge(e, MOAT_CT_ORIG, &c));
	assert_int_equal(c.seq, SI + 1);
	assert_int_equal(c.ack, CI + 1);
	assert_int_equal(c.win, 2000 >> 2);
	/* the other way: the client acknowledged SI + 1, window 1000 << 3 */
	assert_true(moat_ct_tcp_challenge(e, MOAT_CT_REPLY, &c));
	assert_int_equal(c.seq, CI + 501);
	assert_int_equal(c.ack, SI + 1);
	assert_int_equal(c.win, 1000);
	/* translated: the client knows the server's numbers + 777 */
	e->seq_delta[MOAT_CT_REPLY] = 777;
	assert_true(moat_ct_tcp_challenge(e, MOAT_CT_ORIG, &c));
	assert_int_equal(c.seq, SI + 1 + 777);
	assert_int_equal(c.ack, CI + 1);
	moat_ct_destroy(ct);
}

/* ICMP errors about TCP: the quoted SEQ must lie in the window. */
static void test_icmp_seq_ok(void **state)
{
	struct moat_ct *ct = table_for(&scenarios[0]);
	struct moat_ct_entry *e;
	struct moat_pkt p;

	(void)state;
	fill(&p, &scenarios[0], &(struct row){ 'c', S, CI, 0, 65535 });
	e = moat_ct_insert(ct, &p, SEC(1), NULL);
	assert_true(moat_ct_icmp_seq_ok(e, MOAT_CT_ORIG, CI));
	assert_false(moat_ct_icmp_seq_ok(e, MOAT_CT_REPLY, SI));
	fill(&p, &scenarios[0], &(struct row){ 's', S | A, SI, CI + 1, 65535 });
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_REPLY, &p, SEC(1)), M);
	assert_true(moat_ct_icmp_seq_ok(e, MOAT_CT_REPLY, SI));
	assert_true(moat_ct_icmp_seq_ok(e, MOAT_CT_ORIG, CI + 1));
	assert_false(moat_ct_icmp_seq_ok(e, MOAT_CT_ORIG, CI + 3000000));
	assert_false(moat_ct_icmp_seq_ok(e, MOAT_CT_ORIG, CI - 3000000));
	/* through a translation of +1000 on the server's numbers */
	e->seq_delta[MOAT_CT_REPLY] = 1000;
	assert_true(moat_ct_icmp_seq_ok(e, MOAT_CT_REPLY, SI + 1000));
	moat_ct_destroy(ct);
}

/* With a translation, the ACKs towards the translated side are undone. */
static void test_seq_delta(void **state)
{
	struct moat_ct *ct = table_for(&scenarios[0]);
	struct moat_ct_entry *e;
	struct moat_pkt p;

	(void)state;
	fill(&p, &scenarios[0], &(struct row){ 'c', S, CI, 0, 65535 });
	e = moat_ct_insert(ct, &p, SEC(1), NULL);
	fill(&p, &scenarios[0], &(struct row){ 's', S | A, SI, CI + 1, 65535 });
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_REPLY, &p, SEC(1)), M);
	/* the client sees the server's numbers shifted by 500000 */
	e->seq_delta[MOAT_CT_REPLY] = 500000;
	fill(&p, &scenarios[0],
	     &(struct row){ 'c', A, CI + 1, SI + 500001, 65535 });
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_ORIG, &p, SEC(1)), M);
	assert_int_equal(e->state, MOAT_CT_ESTABLISHED);
	fill(&p, &scenarios[0], &(struct row){ 'c', A, CI + 1, SI + 1, 65535 });
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_ORIG, &p, SEC(1)),
			 MOAT_R_TCP_ACK_TOO_OLD);
	moat_ct_destroy(ct);
}

/* The SYN proxy's flows are not tracked here. */
static void test_synproxy_state(void **state)
{
	struct moat_ct *ct = table_for(&scenarios[0]);
	struct moat_ct_entry *e;
	struct moat_pkt p;
	uint32_t n[MOAT_CT_STATE_COUNT];

	(void)state;
	fill(&p, &scenarios[0], &(struct row){ 'c', A, CI + 1, SI + 1, 65535 });
	e = moat_ct_insert_as(ct, &p, MOAT_CT_SYNPROXY, SEC(1), NULL);
	assert_non_null(e);
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_ORIG, &p, SEC(1)),
			 MOAT_R_TCP_BAD_STATE);
	/* the handshake completed: client sent CI+1, server SI+1; both
	 * scale by 7; the client's ACK offered 512 << 7 */
	moat_ct_tcp_handover(e, MOAT_CT_ORIG, CI + 1, CI + 1 + 65535, 65535, 7);
	moat_ct_tcp_handover(e, MOAT_CT_REPLY, SI + 1, SI + 1 + (512 << 7),
			     512 << 7, 7);
	moat_ct_set_state(ct, e, MOAT_CT_ESTABLISHED, SEC(2));
	moat_ct_count_by_state(ct, n);
	assert_int_equal(n[MOAT_CT_ESTABLISHED], 1);
	assert_int_equal(n[MOAT_CT_SYNPROXY], 0);
	assert_int_equal(moat_ct_ttl(e, SEC(2)), 24 * 3600);
	/* tracked from here on, scaled windows included */
	fill(&p, &scenarios[0],
	     &(struct row){ 's', A, SI + 1, CI + 1, 512, 60000 });
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_REPLY, &p, SEC(3)), M);
	fill(&p, &scenarios[0],
	     &(struct row){ 's', A, SI + 60001, CI + 1, 512, 6000 });
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_REPLY, &p, SEC(3)),
			 MOAT_R_TCP_SEQ_OUT_OF_WINDOW);
	fill(&p, &scenarios[0],
	     &(struct row){ 'c', A, CI + 1, SI + 60001, 512, 100 });
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_ORIG, &p, SEC(3)), M);
	fill(&p, &scenarios[0],
	     &(struct row){ 'c', A, CI + 101, SI + 60002, 512, 0 });
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_ORIG, &p, SEC(3)),
			 MOAT_R_TCP_ACK_UNSENT);
	assert_int_equal(e->state, MOAT_CT_ESTABLISHED);
	moat_ct_destroy(ct);
}

/* The SYN proxy's way: an entry in SYNPROXY, then its own rebuilt SYN,
 * the server's SYN-ACK and its own ACK tracked like any packets. */
static void test_synproxy_replay(void **state)
{
	struct moat_ct *ct = table_for(&scenarios[0]);
	struct moat_ct_entry *e;
	struct moat_pkt p;

	(void)state;
	fill(&p, &scenarios[0], &(struct row){ 'c', A, CI + 1, SI + 1, 65535 });
	e = moat_ct_insert_as(ct, &p, MOAT_CT_SYNPROXY, SEC(1), NULL);
	assert_non_null(e);
	moat_ct_set_state(ct, e, MOAT_CT_SYN_SENT, SEC(1));
	fill(&p, &scenarios[0],
	     &(struct row){ 'c', S, CI, 0, 65535, .ws = 7 });
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_ORIG, &p, SEC(1)), M);
	fill(&p, &scenarios[0],
	     &(struct row){ 's', S | A, SI, CI + 1, 65535, .ws = 7 });
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_REPLY, &p, SEC(1)), M);
	fill(&p, &scenarios[0], &(struct row){ 'c', A, CI + 1, SI + 1, 512 });
	assert_int_equal(moat_ct_track(ct, e, MOAT_CT_ORIG, &p, SEC(1)), M);
	assert_int_equal(e->state, MOAT_CT_ESTABLISHED);
	assert_int_equal(e->peer[MOAT_CT_REPLY].maxend, SI + 1 + (512 << 7));
	moat_ct_destroy(ct);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_drop_changes_nothing),
		cmocka_unit_test(test_stale_changes_nothing),
		cmocka_unit_test(test_challenge_numbers),
		cmocka_unit_test(test_icmp_seq_ok),
		cmocka_unit_test(test_seq_delta),
		cmocka_unit_test(test_synproxy_state),
		cmocka_unit_test(test_synproxy_replay),
	};

	return cmocka_run_group_tests_name("conntrack-tcp", tests, NULL, NULL);
}
