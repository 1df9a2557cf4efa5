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
 */
#ifndef MOAT_REASON_H
#define MOAT_REASON_H

enum moat_verdict {
	MOAT_VERDICT_PASS = 0,
	MOAT_VERDICT_DROP = 1,
};

/* X(IDENTIFIER, "stable-name") */
#define MOAT_REASONS(X)                                                        \
	X(NONE, "none")                                                        \
	/* decode (src/pkt): the frame cannot be trusted */                    \
	X(TRUNCATED, "truncated")                                              \
	X(L2_UNKNOWN_LINKTYPE, "l2-unknown-linktype")                          \
	X(L2_BAD_HEADER, "l2-bad-header")                                      \
	X(L2_VLAN_TOO_DEEP, "l2-vlan-too-deep")                                \
	X(IP_BAD_VERSION, "ip-bad-version")                                    \
	X(IP4_BAD_IHL, "ip4-bad-ihl")                                          \
	X(IP4_BAD_TOTLEN, "ip4-bad-totlen")                                    \
	X(IP4_BAD_OPTIONS, "ip4-bad-options")                                  \
	X(IP4_BAD_FRAG, "ip4-bad-frag")                                        \
	X(IP4_BAD_CHECKSUM, "ip4-bad-checksum")                                \
	X(IP6_BAD_PLEN, "ip6-bad-plen")                                        \
	X(IP6_BAD_EXTHDR, "ip6-bad-exthdr")                                    \
	X(IP6_EXTHDR_CHAIN, "ip6-exthdr-chain")                                \
	X(IP6_BAD_FRAG, "ip6-bad-frag")                                        \
	X(TCP_BAD_DOFF, "tcp-bad-doff")                                        \
	X(TCP_BAD_OPTION, "tcp-bad-option")                                    \
	X(TCP_BAD_FLAGS, "tcp-bad-flags")                                      \
	X(TCP_BAD_PORT, "tcp-bad-port")                                        \
	X(UDP_BAD_LEN, "udp-bad-len")                                          \
	X(UDP_BAD_PORT, "udp-bad-port")                                        \
	X(ICMP_BAD_HEADER, "icmp-bad-header")                                  \
	X(L4_BAD_CHECKSUM, "l4-bad-checksum")                                  \
	X(FRAGMENT, "fragment")                                                \
	/* fragments (src/frag; frag-tiny and frag-too-big found by decode) */ \
	X(FRAG_TINY, "frag-tiny")                                              \
	X(FRAG_TOO_BIG, "frag-too-big")                                        \
	X(FRAG_HELD, "frag-held")                                              \
	X(FRAG_FIRST_PASSED, "frag-first-passed")                              \
	X(FRAG_FIRST_DROPPED, "frag-first-dropped")                            \
	X(FRAG_DUPLICATE, "frag-duplicate")                                    \
	X(FRAG_OVERLAP, "frag-overlap")                                        \
	X(FRAG_TOO_MANY, "frag-too-many")                                      \
	X(FRAG_POOL_FULL, "frag-pool-full")                                    \
	X(FRAG_TIMEOUT, "frag-timeout")                                        \
	/* sanity and antispoof (src/engine) */                                \
	X(SPOOF_ZONE, "spoof-zone")                                            \
	X(SPOOF_EGRESS, "spoof-egress")                                        \
	X(MARTIAN_SRC, "martian-src")                                          \
	X(MARTIAN_DST, "martian-dst")                                          \
	X(BOGON_SRC, "bogon-src")                                              \
	X(LAND, "land")                                                        \
	/* rules (src/rules) */                                                \
	X(RULE_PASS, "rule-pass")                                              \
	X(RULE_BLOCK, "rule-block")                                            \
	X(RULE_REJECT, "rule-reject")                                          \
	X(POLICY_DROP, "policy-drop")                                          \
	X(POLICY_PASS, "policy-pass")                                          \
	X(RATE_LIMIT, "rate-limit")                                            \
	X(NON_IP, "non-ip")                                                    \
	/* connection tracking (src/conntrack) */                              \
	X(STATE_MATCH, "state-match")                                          \
	X(STATE_TABLE_FULL, "state-table-full")                                \
	X(TCP_NO_STATE, "tcp-no-state")                                        \
	X(TCP_OUT_OF_WINDOW, "tcp-out-of-window")                              \
	X(TCP_SEQ_OUT_OF_WINDOW, "tcp-seq-out-of-window")                      \
	X(TCP_ACK_UNSENT, "tcp-ack-unsent")                                    \
	X(TCP_ACK_TOO_OLD, "tcp-ack-too-old")                                  \
	X(TCP_RST_OUT_OF_WINDOW, "tcp-rst-out-of-window")                      \
	X(TCP_RST_CHALLENGE, "tcp-rst-challenge")                              \
	X(TCP_SYN_IN_WINDOW, "tcp-syn-in-window")                              \
	X(TCP_BAD_STATE, "tcp-bad-state")                                      \
	X(TCP_CLOSED, "tcp-closed")                                            \
	X(ICMP_UNRELATED, "icmp-unrelated")                                    \
	X(ICMP_REPLY_UNMATCHED, "icmp-reply-unmatched")                        \
	X(ICMP_WRONG_DST, "icmp-wrong-dst")                                    \
	X(ICMP_WRONG_ZONE, "icmp-wrong-zone")                                  \
	X(TCP_SYN_REUSE, "tcp-syn-reuse")                                      \
	X(TCP_STALE_RETRANSMIT, "tcp-stale-retransmit")                        \
	/* SYN proxy (src/synproxy) */                                         \
	X(SYN_COOKIE_SENT, "syn-cookie-sent")                                  \
	X(SYN_COOKIE_BAD, "syn-cookie-bad")                                    \
	X(SYN_COOKIE_STALE, "syn-cookie-stale")                                \
	X(SYN_PROXY_HELD, "syn-proxy-held")                                    \
	X(SYN_PROXY_HOLD_FULL, "syn-proxy-hold-full")                          \
	X(SYN_PROXY_SERVER_RST, "syn-proxy-server-rst")                        \
	X(SYN_PROXY_CONSUMED, "syn-proxy-consumed")                            \
	X(SYN_SHED, "syn-shed")                                                \
	/* limits and detection (src/engine) */                                \
	X(MAX_CONN, "max-conn")                                                \
	X(MAX_SRC_CONN, "max-src-conn")                                        \
	X(MAX_SRC_RATE, "max-src-rate")                                        \
	X(OVERLOAD, "overload")                                                \
	X(SRC_TABLE_FULL, "src-table-full")                                    \
	X(HIJACK_BLOCKED, "hijack-blocked")                                    \
	X(EMIT_FULL, "emit-full")                                              \
	X(NDP, "ndp")                                                          \
	X(RULE_PASS_STATELESS, "rule-pass-stateless")

enum moat_reason {
#define MOAT_REASON_ENUM(id, name) MOAT_R_##id,
	MOAT_REASONS(MOAT_REASON_ENUM)
#undef MOAT_REASON_ENUM
	MOAT_R_COUNT
};

/* The stable name of a reason ("tcp-bad-doff"); "?" for out-of-range values. */
const char *moat_reason_name(enum moat_reason r);

/* The reason whose stable name is @name, or -1. */
int moat_reason_from_name(const char *name);

#endif
