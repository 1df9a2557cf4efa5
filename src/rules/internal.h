/*
 * What the files of src/rules share and nobody else sees: the interval
 * tables behind address and port sets, the compiled match part of a rule,
 * the per-protocol/zone/port rule index, the lexer, and the configuration's
 * own layout.
 *
 *   lex.c      text -> tokens (line, column)
 *   parse.c    tokens -> zones, sets, options, rules (errors, recovery)
 *   lpm.c      address sets: prefixes -> sorted disjoint intervals
 *   ports.c    port sets: ranges -> sorted disjoint ranges
 *   check.c    warnings and cross-rule checks (shadowing, exposure)
 *   shadow.c   which earlier rule shadows each rule, without all pairs
 *   index.c    the rule index the matcher walks
 *   match.c    the per-packet part: moat_rules_match() and zone lookups
 *   print.c    the normalised printed form
 *   config.c   load, destroy, accessors
 *   diag.c     the diagnostics list
 */
#ifndef MOAT_RULES_INTERNAL_H
#define MOAT_RULES_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "moat/rules.h"

__extension__ typedef unsigned __int128 u128;

/*
 * How many elements of the sorted @a[0..n) are <= @key: a bisection with
 * no data-dependent branch (the compiler turns the ternary into a
 * conditional move), because on the packet path a mispredicted branch
 * per step costs more than the step.  n - 1 - index of the last such
 * element when the result is nonzero.
 */
#define MOAT_COUNT_LE(T, NAME)                                              \
	static inline uint32_t NAME(const T *a, uint32_t n, T key)          \
	{                                                                   \
		const T *base = a;                                          \
		if (!n)                                                     \
			return 0;                                           \
		while (n > 1) {                                             \
			uint32_t half = n / 2;                              \
			base = base[half] <= key ? base + half : base;      \
			n -= half;                                          \
		}                                                           \
		return (uint32_t)(base - a) + (*base <= key);               \
	}

/* Address families a match side can see (bit set). */
enum { FAM4 = 1, FAM6 = 2, FAMALL = 3 };

MOAT_COUNT_LE(uint32_t, count_le_u32)
MOAT_COUNT_LE(uint16_t, count_le_u16)
MOAT_COUNT_LE(u128, count_le_u128)

/* ---- address interval tables (lpm.c) ---------------------------------- */

/*
 * A set of prefixes as sorted, disjoint, closed intervals, each carrying the
 * value of the most specific prefix that covers it.  Membership sets carry 0
 * everywhere, so touching intervals merge and the table is minimal; the zone
 * map carries zone indexes and so answers longest-prefix-match.  IPv4 keys
 * are 32-bit host-order numbers, IPv6 keys 128-bit.
 */
struct lpm {
	uint32_t n4, n6;
	uint32_t *lo4, *hi4;
	int32_t *val4;
	u128 *lo6, *hi6;
	int32_t *val6;
	/*
	 * Jump tables for big sets (LPM_JUMP_MIN intervals or more): entry h
	 * is the first interval starting at or after the h-th 1/65536 of the
	 * key space below the set's common prefix, so a lookup bisects only
	 * the intervals of one slice (one cache miss instead of ~17).
	 */
	uint32_t *jump4, *jump6;  /* 65537 entries each, or NULL */
	u128 common6;             /* IPv6: bits shared by every interval */
	int cp6;                  /* their number (0..112) */
};

enum { LPM_JUMP_MIN = 512 };

struct prefix {
	u128 lo, hi;        /* in the family's key space */
	uint8_t len;
	uint8_t fam;        /* FAM4 or FAM6 */
	int32_t val;
};

/* A growable list of prefixes while parsing. */
struct prefix_vec {
	struct prefix *v;
	int n, cap;
};

int prefix_vec_push(struct prefix_vec *pv, const struct prefix *p);
void prefix_vec_free(struct prefix_vec *pv);

/* @a with prefix length @len as a prefix (host bits cleared); -EINVAL if
 * @len is too long.  *@host_bits tells whether bits were cleared. */
int prefix_from_addr(struct prefix *p, const struct moat_addr *a, int len,
		     bool *host_bits);

int moat_rule_lpm_build(struct lpm *l, const struct prefix *p, int n);
void moat_rule_lpm_free(struct lpm *l);
int32_t moat_rule_lpm_lookup(const struct lpm *l, const struct moat_addr *a);
/* Is every address of [lo, hi] (of family @fam) in @l?  Membership only. */
bool moat_rule_lpm_covers(const struct lpm *l, int fam, u128 lo, u128 hi);
/* Is every interval of @b in @a? */
bool moat_rule_lpm_superset(const struct lpm *a, const struct lpm *b);
void moat_rule_lpm_print(const struct lpm *l, FILE *f);
int moat_rule_lpm_to_prefixes(const struct lpm *l, struct prefix_vec *pv);
int moat_rule_lpm_walk(const struct lpm *l,
		       int (*fn)(void *arg, const struct moat_addr *a, int len,
				 int val),
		       void *arg);
uint8_t moat_rule_lpm_families(const struct lpm *l);

/* ---- port ranges (ports.c) -------------------------------------------- */

struct prange {
	uint32_t lo, hi;   /* 1..65535 once checked */
};

struct prange_vec {
	struct prange *v;
	int n, cap;
};

int prange_vec_push(struct prange_vec *pv, uint32_t lo, uint32_t hi);
void prange_vec_free(struct prange_vec *pv);

struct ports {
	uint32_t n;
	uint16_t *lo, *hi;
};

int moat_rule_ports_build(struct ports *ps, const struct prange *r, int n);
void moat_rule_ports_free(struct ports *ps);
bool moat_rule_ports_has(const struct ports *ps, uint16_t port);
bool moat_rule_ports_superset(const struct ports *a, const struct ports *b);
bool moat_rule_ports_overlap(const struct ports *ps, uint32_t lo, uint32_t hi);
void moat_rule_ports_print(const struct ports *ps, FILE *f);

/* ---- sets ------------------------------------------------------------- */

struct moat_set {
	char name[MOAT_NAME_MAX]; /* "" for inline sets and zone networks */
	int kind;                 /* enum moat_set_kind */
	int index;                /* among named sets, else -1 */
	int line;
	bool overload;            /* an overload target: dynamic at run time */
	struct lpm lpm;
	struct ports ports;
};

/* ---- the compiled match part of a rule ------------------------------- */

/* Protocol classes: one bit each; index = bit number. */
enum {
	PC_TCP = 0, PC_UDP, PC_ICMP, PC_ICMP6, PC_OTHER, PC_COUNT
};
enum { PCM_ALL = (1 << PC_COUNT) - 1 };

struct side {
	int zone;                 /* -1 any */
	bool zone_neg;
	const struct moat_set *set; /* NULL any (addresses) */
	bool set_neg;
	const struct moat_set *port; /* NULL any */
};

struct moat_rule_match {
	uint8_t protos;           /* PC_ bits */
	uint8_t other[32];        /* with PC_OTHER: which protocol numbers
				     (bitmap over 0..255); all ones when the
				     rule names no protocol */
	uint8_t fam;              /* FAM4 | FAM6 */
	struct side from, to;
	bool has_flags;
	uint8_t flags_mask, flags_set;
	bool has_icmp_type;
	uint8_t icmp_types[32];   /* bitmap over the 256 types */
	int16_t icmp_code;        /* -1 any */
};

/* ---- the rule index (index.c) ------------------------------------------ */

/*
 * One slot per (protocol class, ingress zone + 1); slot zone 0 serves an
 * unknown ingress zone.  Each slot splits the destination ports into
 * elementary intervals; each interval lists, in rule order, every rule of
 * the slot that could match a packet with a destination port inside it.
 */
/*
 * Second level, one per address family: one port interval's candidates
 * split again by destination address, the same way (rules whose
 * destination is a small set are listed only on its intervals; rules of
 * the other family not at all).  n == 0: not split, use the port
 * interval's list.
 */
struct dsplit {
	uint32_t n;
	uint32_t *start4;         /* IPv4 destination keys, ascending, [0] = 0 */
	u128 *start6;             /* IPv6 destination keys, the same */
	uint32_t *first;          /* n + 1 offsets into the config's list */
};

struct slot {
	uint32_t nint;
	uint16_t *start;          /* interval start ports, ascending, [0] = 0 */
	uint32_t *first;          /* nint + 1 offsets into the config's list */
	uint16_t *by_port;        /* 65536 entries: port -> interval, or NULL */
	struct dsplit *d4, *d6;   /* nint entries each */
};

struct rule_index {
	int nzones1;              /* zones + 1 */
	struct slot *slots;       /* PC_COUNT * nzones1 */
	uint32_t *list;           /* rule indexes */
	uint32_t nlist;
};

int moat_rule_index_build(struct moat_config *c);
void moat_rule_index_free(struct rule_index *ix);

/* ---- the configuration ----------------------------------------------- */

struct moat_config {
	struct moat_options opt;
	struct moat_zone *zones;
	int nzones, default_zone;
	struct moat_set **named;  /* owned */
	int nnamed;
	struct moat_set **anon;   /* owned: inline sets and zone networks */
	int nanon, capanon;
	struct moat_rule *rules;
	struct moat_rule_match *matches;
	int nrules, caprules;
	char **files;             /* owned: file names rules point at */
	int nfiles;
	struct lpm zone_map;      /* values: zone indexes */
	struct rule_index index;
};

/* ---- diagnostics (diag.c) ---------------------------------------------- */

void moat_rule_diag(struct moat_diags *d, int severity, const char *file,
		    int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void moat_rule_vdiag(struct moat_diags *d, int severity, const char *file,
		     int line, int col, const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));

/* ---- lexer (lex.c) ------------------------------------------------------ */

enum tok_kind {
	T_EOF = 0,
	T_NEWLINE,
	T_WORD,      /* names, numbers, addresses, ranges, rates, flags */
	T_STRING,    /* "..." without the quotes */
	T_SETREF,    /* @name, without the @ */
	T_LBRACE, T_RBRACE, T_COMMA, T_SEMI, T_EQ, T_BANG,
	T_BAD,       /* a character that starts no token */
};

enum { TOK_MAX = 256 };

struct token {
	int kind;
	int line, col;
	char text[TOK_MAX];
	bool too_long;
};

struct lexer {
	const char *text;
	size_t len, pos;
	int line, col;
	const char *file;
};

void moat_rule_lex_init(struct lexer *lx, const char *file, const char *text,
			size_t len);
void moat_rule_lex_next(struct lexer *lx, struct token *t);
const char *moat_rule_tok_describe(const struct token *t, char *buf,
				   size_t len);

/* ---- parser and checks ----------------------------------------------- */

/* Parse @text as file @file into @c; errors into @d. */
void moat_rule_parse_text(struct moat_config *c, struct moat_diags *d,
			  const char *file, const char *text, size_t len);
/* The cross-rule checks, once everything is parsed. */
void moat_rule_check_all(const struct moat_config *c, struct moat_diags *d);
/* shadow.c: does every packet @b matches also match @a?  Sound: true only
 * when proven on every field. */
bool moat_rule_covers(const struct moat_rule_match *a,
		      const struct moat_rule_match *b);
/* shadow.c: for every rule j, by[j] = the first earlier rule that covers
 * it, or -1; @by has one entry per rule.  At most @budget pairs are
 * compared: returns how many rules, from the first, were checked (all of
 * them unless the budget ran out), or -ENOMEM. */
int moat_rule_shadow_find(const struct moat_config *c, int *by,
			  uint64_t budget);
bool moat_rule_match_one(const struct moat_config *c,
			 const struct moat_rule_match *m,
			 const struct moat_pkt *p, int in_zone, int out_zone);

struct moat_set *moat_rule_set_new(struct moat_config *c, bool named);
const char *moat_rule_file_intern(struct moat_config *c, const char *file);
/* A regular file of at most 4 MiB, NUL-terminated; 0 or -errno. */
int moat_rule_read_file(const char *path, char **text, size_t *len);
int moat_rule_proto_class(uint8_t proto, uint8_t ipv);
/* parse_value.c: protocol names (gre, esp, sctp...) <-> numbers. */
int moat_rule_proto_number(const char *name);        /* -1: unknown */
const char *moat_rule_proto_name(uint8_t number);    /* NULL: none */

#endif
