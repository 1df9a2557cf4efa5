/*
 * Verdicts and the one list of reasons.
 *
 * Every packet the engine sees ends with a verdict and, for every drop (and
 * for a few notable passes), a reason from this single list.  The data plane
 * has no error codes: setting a reason bumps its counter, so every drop is
 * accounted for.  The names are stable: tests, `moat replay --trace`, the JSON
 * summaries and `moat ctl stats` print them, and scripts match on them.
 *
 * Modules own their own section of the list; add new reasons at the end of a
 * section, never rename one.
 *
 * Each reason also says, once, which class of outcome it is, and every
 * consumer (the engine's verdict, `moat ctl stats`, the Prometheus families
 * moat_passes_total / moat_drops_total / moat_answers_total, replay's
 * summaries) reads that class from here rather than keeping a list of its
 * own:
 *   PASS    the packet goes on towards its destination;
 *   DROP    it is refused: not forwarded (a reject's RST or ICMP, a
 *           hijacked flow's RSTs, are courtesy, the packet is still refused);
 *   ANSWER  not forwarded and not refused either: moat speaks the protocol
 *           in the endpoint's place (a cookie SYN-ACK, an RFC 5961
 *           challenge ACK, the SYN proxy's own handshake) or keeps the
 *           packet to send it later itself (held data, held fragments).
 * A reason whose verdict depended on configuration would belong to two
 * classes, so it is two reasons (non-ip, non-ip-drop).
 */
#ifndef MOAT_REASON_H
#define MOAT_REASON_H

enum moat_verdict {
	MOAT_VERDICT_PASS = 0,
	MOAT_VERDICT_DROP = 1,
};

/* The class of a reason: see above. */
enum moat_reason_class {
	MOAT_CLASS_PASS = 0,
	MOAT_CLASS_DROP = 1,
	MOAT_CLASS_ANSWER = 2,
	MOAT_CLASS_COUNT
};

/* X(IDENTIFIER, "stable-name", CLASS) */
#define MOAT_REASONS(X)                                                        \
	X(NONE, "none", PASS)                                                  \
	/* decode (src/pkt): the frame cannot be trusted */                    \
	X(TRUNCATED, "truncated", DROP)                                        \
	X(L2_UNKNOWN_LINKTYPE, "l2-unknown-linktype", DROP)                    \
	X(L2_BAD_HEADER, "l2-bad-header", DROP)                                \
	X(L2_VLAN_TOO_DEEP, "l2-vlan-too-deep", DROP)                          \
	X(IP_BAD_VERSION, "ip-bad-version", DROP)                              \
	X(IP4_BAD_IHL, "ip4-bad-ihl", DROP)                                    \
	X(IP4_BAD_TOTLEN, "ip4-bad-totlen", DROP)                              \
	X(IP4_BAD_OPTIONS, "ip4-bad-options", DROP)                            \
	X(IP4_BAD_FRAG, "ip4-bad-frag", DROP)                                  \
	X(IP4_BAD_CHECKSUM, "ip4-bad-checksum", DROP)                          \
	X(IP6_BAD_PLEN, "ip6-bad-plen", DROP)                                  \
	X(IP6_BAD_EXTHDR, "ip6-bad-exthdr", DROP)                              \
	X(IP6_EXTHDR_CHAIN, "ip6-exthdr-chain", DROP)                          \
	X(IP6_BAD_FRAG, "ip6-bad-frag", DROP)                                  \
	X(TCP_BAD_DOFF, "tcp-bad-doff", DROP)                                  \
	X(TCP_BAD_OPTION, "tcp-bad-option", DROP)                              \
	X(TCP_BAD_FLAGS, "tcp-bad-flags", DROP)                                \
	X(TCP_BAD_PORT, "tcp-bad-port", DROP)                                  \
	X(UDP_BAD_LEN, "udp-bad-len", DROP)                                    \
	X(UDP_BAD_PORT, "udp-bad-port", DROP)                                  \
	X(ICMP_BAD_HEADER, "icmp-bad-header", DROP)                            \
	X(L4_BAD_CHECKSUM, "l4-bad-checksum", DROP)                            \
	X(FRAGMENT, "fragment", DROP)                                          \
	/* fragments (src/frag; frag-tiny and frag-too-big found by decode) */ \
	X(FRAG_TINY, "frag-tiny", DROP)                                        \
	X(FRAG_TOO_BIG, "frag-too-big", DROP)                                  \
	X(FRAG_HELD, "frag-held", ANSWER)                                      \
	X(FRAG_FIRST_PASSED, "frag-first-passed", PASS)                        \
	X(FRAG_FIRST_DROPPED, "frag-first-dropped", DROP)                      \
	X(FRAG_DUPLICATE, "frag-duplicate", DROP)                              \
	X(FRAG_OVERLAP, "frag-overlap", DROP)                                  \
	X(FRAG_TOO_MANY, "frag-too-many", DROP)                                \
	X(FRAG_POOL_FULL, "frag-pool-full", DROP)                              \
	X(FRAG_TIMEOUT, "frag-timeout", DROP)                                  \
	/* sanity and antispoof (src/engine) */                                \
	X(SPOOF_ZONE, "spoof-zone", DROP)                                      \
	X(SPOOF_EGRESS, "spoof-egress", DROP)                                  \
	X(MARTIAN_SRC, "martian-src", DROP)                                    \
	X(MARTIAN_DST, "martian-dst", DROP)                                    \
	X(BOGON_SRC, "bogon-src", DROP)                                        \
	X(LAND, "land", DROP)                                                  \
	/* rules (src/rules) */                                                \
	X(RULE_PASS, "rule-pass", PASS)                                        \
	X(RULE_BLOCK, "rule-block", DROP)                                      \
	X(RULE_REJECT, "rule-reject", DROP)                                    \
	X(POLICY_DROP, "policy-drop", DROP)                                    \
	X(POLICY_PASS, "policy-pass", PASS)                                    \
	X(RATE_LIMIT, "rate-limit", DROP)                                      \
	X(NON_IP, "non-ip", PASS)                                              \
	X(NON_IP_DROP, "non-ip-drop", DROP)                                    \
	/* connection tracking (src/conntrack) */                              \
	X(STATE_MATCH, "state-match", PASS)                                    \
	X(STATE_TABLE_FULL, "state-table-full", DROP)                          \
	X(TCP_NO_STATE, "tcp-no-state", DROP)                                  \
	X(TCP_OUT_OF_WINDOW, "tcp-out-of-window", DROP)                        \
	X(TCP_SEQ_OUT_OF_WINDOW, "tcp-seq-out-of-window", DROP)                \
	X(TCP_ACK_UNSENT, "tcp-ack-unsent", DROP)                              \
	X(TCP_ACK_TOO_OLD, "tcp-ack-too-old", DROP)                            \
	X(TCP_RST_OUT_OF_WINDOW, "tcp-rst-out-of-window", DROP)                \
	X(TCP_RST_CHALLENGE, "tcp-rst-challenge", ANSWER)                      \
	X(TCP_SYN_IN_WINDOW, "tcp-syn-in-window", ANSWER)                      \
	X(TCP_BAD_STATE, "tcp-bad-state", DROP)                                \
	X(TCP_CLOSED, "tcp-closed", DROP)                                      \
	X(ICMP_UNRELATED, "icmp-unrelated", DROP)                              \
	X(ICMP_REPLY_UNMATCHED, "icmp-reply-unmatched", DROP)                  \
	X(ICMP_WRONG_DST, "icmp-wrong-dst", DROP)                              \
	X(ICMP_WRONG_ZONE, "icmp-wrong-zone", DROP)                            \
	X(TCP_SYN_REUSE, "tcp-syn-reuse", PASS)                                \
	X(TCP_STALE_RETRANSMIT, "tcp-stale-retransmit", PASS)                  \
	/* SYN proxy (src/synproxy) */                                         \
	X(SYN_COOKIE_SENT, "syn-cookie-sent", ANSWER)                          \
	X(SYN_COOKIE_BAD, "syn-cookie-bad", DROP)                              \
	X(SYN_COOKIE_STALE, "syn-cookie-stale", DROP)                          \
	X(SYN_PROXY_HELD, "syn-proxy-held", ANSWER)                            \
	X(SYN_PROXY_HOLD_FULL, "syn-proxy-hold-full", DROP)                    \
	X(SYN_PROXY_SERVER_RST, "syn-proxy-server-rst", DROP)                  \
	X(SYN_PROXY_CONSUMED, "syn-proxy-consumed", ANSWER)                    \
	X(SYN_SHED, "syn-shed", DROP)                                          \
	/* limits and detection (src/engine) */                                \
	X(MAX_CONN, "max-conn", DROP)                                          \
	X(MAX_SRC_CONN, "max-src-conn", DROP)                                  \
	X(MAX_SRC_RATE, "max-src-rate", DROP)                                  \
	X(OVERLOAD, "overload", DROP)                                          \
	X(SRC_TABLE_FULL, "src-table-full", DROP)                              \
	X(HIJACK_BLOCKED, "hijack-blocked", DROP)                              \
	X(EMIT_FULL, "emit-full", DROP)                                        \
	X(NDP, "ndp", PASS)                                                    \
	X(RULE_PASS_STATELESS, "rule-pass-stateless", PASS)

enum moat_reason {
#define MOAT_REASON_ENUM(id, name, class) MOAT_R_##id,
	MOAT_REASONS(MOAT_REASON_ENUM)
#undef MOAT_REASON_ENUM
	MOAT_R_COUNT
};

/* The stable name of a reason ("tcp-bad-doff"); "?" for out-of-range values. */
const char *moat_reason_name(enum moat_reason r);

/* The reason whose stable name is @name, or -1. */
int moat_reason_from_name(const char *name);

/* The class of @r (out-of-range values are drops). */
enum moat_reason_class moat_reason_class(enum moat_reason r);

/* "pass", "drop", "answer"; "?" out of range. */
const char *moat_reason_class_name(enum moat_reason_class c);

/* The verdict a reason of that class carries: pass only for PASS. */
static inline enum moat_verdict moat_reason_verdict(enum moat_reason_class c)
{
	return c == MOAT_CLASS_PASS ? MOAT_VERDICT_PASS : MOAT_VERDICT_DROP;
}

#endif
