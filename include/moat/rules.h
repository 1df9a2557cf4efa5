/*
 * The rule language: loading a configuration, and the compiled rule set the
 * engine consults for every packet that no flow claims.
 *
 * On the packet's path this is the "rules" stage: after decode, antispoof
 * and the flow lookup missed, the engine calls moat_rules_match() with the
 * packet view and the packet's ingress (and, when known, egress) zone; the
 * first rule that matches decides, and NULL means the default policy.
 *
 * Loading is control plane: moat_config_load() reads, parses, checks and
 * compiles a file (and its includes) into one immutable struct moat_config.
 * All or nothing: a configuration with any error is never returned; every
 * error and warning lands in a caller-owned struct moat_diags as
 * FILE:LINE:COL plus a message.  Nothing here prints or exits.
 *
 * The compiled form is read-only after load, so any number of engine cores
 * may share one configuration; a reload builds a new one and swaps it.
 * Matching never allocates, never locks, and never scans the members of a
 * set: address sets are sorted interval arrays searched by bisection, ports
 * are sorted ranges, and rules are indexed by protocol, ingress zone and
 * destination port so only rules that could match are looked at.
 */
#ifndef MOAT_RULES_H
#define MOAT_RULES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "moat/addr.h"
#include "moat/pkt.h"
#include "moat/syncookies.h"

/* ---- diagnostics ------------------------------------------------------ */

enum moat_diag_severity {
	MOAT_DIAG_ERROR = 0,
	MOAT_DIAG_WARNING = 1,
};

enum {
	MOAT_DIAG_MAX = 64,        /* kept per run; the rest are only counted */
	MOAT_DIAG_FILE_MAX = 256,
	MOAT_DIAG_MSG_MAX = 240,
};

struct moat_diag {
	char file[MOAT_DIAG_FILE_MAX];
	int line, col;             /* 1-based; 0 when not tied to a place */
	int severity;              /* enum moat_diag_severity */
	char msg[MOAT_DIAG_MSG_MAX];
};

/* Filled by the loader; owned by the caller (usually on its stack). */
struct moat_diags {
	int count;                 /* entries in d[] */
	int errors, warnings;      /* totals, including those not kept */
	int dropped;               /* diagnostics beyond MOAT_DIAG_MAX */
	struct moat_diag d[MOAT_DIAG_MAX];
};

void moat_diags_init(struct moat_diags *d);

/* ---- options ---------------------------------------------------------- */

enum moat_policy { MOAT_POLICY_DROP = 0, MOAT_POLICY_PASS = 1 };
/* enum moat_syncookies_mode: moat/syncookies.h */
enum moat_pickup { MOAT_PICKUP_OFF = 0, MOAT_PICKUP_LOOSE = 1 };
/* RFC 5961 section 3.2: only an exact RST is accepted; the rest draw a
 * challenge ACK.  `window` is RFC 793's looser in-window acceptance. */
enum moat_rst_check { MOAT_RST_CHECK_EXACT = 0, MOAT_RST_CHECK_WINDOW = 1 };
enum moat_checksum_mode { MOAT_CHECKSUM_VERIFY = 0, MOAT_CHECKSUM_IGNORE = 1 };

/* `options { xdp }`: the XDP fast path of `moat run` (off: not loaded; on:
 * loaded or moat does not start; auto: loaded where it can be). */
enum moat_xdp_mode { MOAT_XDP_OFF = 0, MOAT_XDP_ON = 1, MOAT_XDP_AUTO = 2 };

/* State timeouts, in seconds; names as written in `timeout NAME SECONDS`. */
enum moat_timeout {
	MOAT_TIMEOUT_TCP_OPENING = 0,     /* tcp.opening: handshake in progress */
	MOAT_TIMEOUT_TCP_ESTABLISHED,     /* tcp.established */
	MOAT_TIMEOUT_TCP_CLOSING,         /* tcp.closing: one FIN seen */
	MOAT_TIMEOUT_TCP_TIMEWAIT,        /* tcp.timewait: both FINs or a RST */
	MOAT_TIMEOUT_UDP_FIRST,           /* udp.first: one direction only */
	MOAT_TIMEOUT_UDP_MULTIPLE,        /* udp.multiple: both directions */
	MOAT_TIMEOUT_ICMP,                /* icmp: echo and friends */
	MOAT_TIMEOUT_OTHER,               /* other: GRE, ESP, SCTP..., both ways */
	MOAT_TIMEOUT_COUNT
};

enum { MOAT_OPT_PATH_MAX = 256 };

/* Defaults: moat/defaults.h (moat_options_defaults() applies them). */
struct moat_options {
	uint8_t policy;            /* enum moat_policy */
	uint8_t syncookies;        /* enum moat_syncookies_mode */
	bool antispoof;
	uint32_t max_flows;        /* flow table size, fixed at create */
	uint8_t pickup;            /* enum moat_pickup */
	uint32_t timeout[MOAT_TIMEOUT_COUNT]; /* seconds */
	uint32_t syncookies_threshold; /* half-open per destination */
	uint32_t syncookies_rate;  /* SYNs per second per destination */
	uint32_t syncookies_quiet; /* seconds calm before leaving cookies */
	uint8_t rst_check;         /* enum moat_rst_check */
	uint8_t checksum;          /* enum moat_checksum_mode */
	bool detect_hijack;
	bool hijack_block;         /* `detect hijack block`: RST both sides */
	int bogon_set;             /* `bogons @set`: named set index, or -1 */
	bool nonip_pass;           /* non-IP frames (ARP...) */
	uint8_t xdp;               /* enum moat_xdp_mode */
	bool log;                  /* `log` given in options */
	char log_file[MOAT_OPT_PATH_MAX]; /* "" = the default sink (stderr) */
	/* IP fragments (src/frag, doc/fragments.md) */
	uint32_t frag_max;         /* fragments kept at once; 0: drop every
				      fragment; fixed at start; default 1024 */
	uint32_t frag_timeout;     /* seconds from a datagram's first
				      fragment seen; default 30 */
	/* Normalisation in the spirit of pf's scrub; all off by default */
	uint16_t max_mss;          /* clamp SYN and SYN-ACK MSS; 0: off */
	uint8_t min_ttl;           /* raise TTL / hop limit to this; 0: off */
	bool random_id;            /* random IPv4 IDs on whole packets */
	bool tcp_reserved_clear;   /* clear TCP's reserved header bits */
	uint8_t io;                /* enum moat_opt_io; default auto */
};

/* `options { io ... }`: the backend of `moat run` (the same numbers as
 * enum moat_io_backend in io_port.h, which `--io` overrides). */
enum moat_opt_io { MOAT_OPT_IO_AUTO = 0, MOAT_OPT_IO_AFPACKET = 1,
		   MOAT_OPT_IO_XDP = 2 };

void moat_options_defaults(struct moat_options *o);

/* The text name of a timeout ("tcp.established"), or NULL. */
const char *moat_timeout_name(enum moat_timeout t);

/* ---- the configuration ------------------------------------------------ */

struct moat_config;  /* immutable once built; owned by whoever loaded it */
struct moat_set;     /* a named or inline set, owned by its configuration */
struct moat_rule_match; /* the compiled match part, private to src/rules */

enum moat_set_kind { MOAT_SET_ADDR = 0, MOAT_SET_PORT = 1 };

enum { MOAT_NAME_MAX = 64, MOAT_IFNAME_MAX = 16 };

struct moat_zone {
	char name[MOAT_NAME_MAX];
	char ifname[MOAT_IFNAME_MAX]; /* "" when no interface was given */
	const struct moat_set *networks; /* never NULL; may be empty */
	bool has_networks;
	bool is_default;
	const char *file;         /* where it was defined; owned by the config */
	int line;
};

enum moat_rule_action {
	MOAT_RULE_PASS = 0,
	MOAT_RULE_BLOCK = 1,
	MOAT_RULE_REJECT = 2,     /* block and answer: TCP RST or ICMP unreach */
};

/* "count per period": limit, max-src-rate.  count 0 means not set. */
struct moat_rule_rate {
	uint32_t count;
	uint64_t period_ns;
};

struct moat_rule {
	int number;               /* 1-based, in file order (includes inline) */
	int line, col;
	const char *file;         /* owned by the configuration */
	enum moat_rule_action action;
	bool keep_state;          /* pass keeps state unless `no state` */
	bool log;
	bool synproxy;
	bool modulate;
	int8_t syncookies;        /* -1 inherit, else enum moat_syncookies_mode */
	struct moat_rule_rate limit;
	uint32_t max_conn;        /* 0 = none */
	uint32_t max_src_conn;    /* 0 = none */
	struct moat_rule_rate max_src_rate;
	int overload_set;         /* index for moat_config_set(), or -1 */
	uint32_t overload_expire; /* seconds; 0 = never */
	const struct moat_rule_match *match; /* private to src/rules */
};

/*
 * Load @path (and what it includes).  Returns a new configuration, or NULL
 * when anything is wrong: @d (initialised here) then holds the errors.
 * Warnings do not prevent loading.  @d may not be NULL.
 */
struct moat_config *moat_config_load(const char *path, struct moat_diags *d);

/*
 * The same for text in memory.  @name is used in diagnostics and is the
 * base for relative includes (its directory).
 */
struct moat_config *moat_config_parse_string(const char *name,
					     const char *text,
					     struct moat_diags *d);

/* Free @c and everything it owns; accepts NULL. */
void moat_config_destroy(struct moat_config *c);

const struct moat_options *moat_config_options(const struct moat_config *c);

int moat_config_zone_count(const struct moat_config *c);
const struct moat_zone *moat_config_zone(const struct moat_config *c, int idx);
/* The zone index by interface name / by name; -1 when none. */
int moat_config_zone_by_ifname(const struct moat_config *c, const char *ifname);
int moat_config_zone_by_name(const struct moat_config *c, const char *name);
/* The zone whose networks contain @a, the most specific network winning;
 * -1 when none.  Bisection over one interval table: packet-path safe. */
int moat_config_zone_by_addr(const struct moat_config *c,
			     const struct moat_addr *a);
int moat_config_default_zone(const struct moat_config *c);

/* The bridge placement (`moat run`): the two zones moat stands between. */
struct moat_bridge_ports {
	int zone[2];              /* zone indices, in file order */
};

/*
 * Whether @c can run as a transparent bridge: exactly two zones name an
 * interface, and not the same one.  Returns 0 and fills @ports (when not
 * NULL); else -EINVAL and, when @d is not NULL, adds one diagnostic of
 * @severity (enum moat_diag_severity) saying why, at the zone concerned.
 * `moat run` and `moat check` both ask this, so they cannot disagree.
 */
int moat_config_bridge_ports(const struct moat_config *c,
			     struct moat_bridge_ports *ports,
			     struct moat_diags *d, int severity);
bool moat_zone_contains(const struct moat_zone *z, const struct moat_addr *a);

int moat_config_rule_count(const struct moat_config *c);
const struct moat_rule *moat_config_rule(const struct moat_config *c, int idx);

/*
 * Named sets, in order of definition.  Overload targets are named address
 * sets: the engine keeps the dynamic members in its own table, keyed by the
 * set's index; rules see only the members written in the file.
 */
int moat_config_set_count(const struct moat_config *c);
const struct moat_set *moat_config_set(const struct moat_config *c, int idx);
int moat_config_set_by_name(const struct moat_config *c, const char *name);
const char *moat_set_name(const struct moat_set *s); /* "" when inline */
enum moat_set_kind moat_set_kind(const struct moat_set *s);
bool moat_set_contains(const struct moat_set *s, const struct moat_addr *a);
bool moat_set_contains_port(const struct moat_set *s, uint16_t port);

/*
 * Control plane, for a fast path that must judge addresses as the rules
 * do (the XDP program's antispoof, src/io/xdp.c): every address of @s as
 * CIDR prefixes (len in bits of the family), or of the zones' networks
 * with the zone that owns each (the most specific network's, as
 * moat_config_zone_by_addr answers).  Stops at and returns @fn's first
 * nonzero; -EINVAL for a port set, -EAGAIN for an overload target (its
 * members change at run time), -ENOMEM.
 */
int moat_set_walk_prefixes(const struct moat_set *s,
			   int (*fn)(void *arg, const struct moat_addr *a,
				     int len, int val),
			   void *arg);
int moat_config_zone_walk_prefixes(const struct moat_config *c,
				   int (*fn)(void *arg,
					     const struct moat_addr *a,
					     int len, int zone),
				   void *arg);

/*
 * The first rule that matches @p entering from zone @in_zone and leaving
 * into @out_zone (either may be -1 when unknown: a zone-qualified side then
 * falls back to the zone's networks containing the address).  NULL: no rule
 * matched, the policy decides.  Non-IP packets (p->ipv == 0) match nothing.
 * Later fragments (no L4 header) never match a rule that names ports,
 * flags or ICMP types.  No allocation, no locks, bounded work.
 */
const struct moat_rule *moat_rules_match(const struct moat_config *c,
					 const struct moat_pkt *p,
					 int in_zone, int out_zone);

/*
 * Print the compiled configuration, normalised (merged CIDRs, sorted ports,
 * resolved names, every option explicit), one rule per line.  For golden
 * tests and `moat check --print`.  Returns 0 or -EIO.
 */
int moat_config_print(const struct moat_config *c, FILE *f);

#endif
