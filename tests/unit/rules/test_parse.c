/*
 * Parser tests: every construct accepted, every error reported at its
 * exact line:column with the token found, recovery (several errors per
 * run), all-or-nothing loading, options and their defaults, includes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "moat/rules.h"

struct want {
	int line, col, severity;
	const char *substr;
};

struct row {
	const char *name;
	const char *text;
	bool valid;
	struct want w[4];
};

#define E MOAT_DIAG_ERROR
#define W MOAT_DIAG_WARNING
#define ZONES "zone outside { interface out0; default }\n" \
	      "zone inside { interface in0; networks 198.18.1.0/24 }\n"

static const struct row rows[] = {
	/* ---- accepted constructs ---- */
	{ "design sketch",
	  ZONES "set admins = { 198.18.100.10, 198.18.100.64/26 }\n"
	  "options {\n policy drop\n syncookies auto\n antispoof on\n}\n"
	  "block from outside tcp port 512-514 log\n"
	  "pass from outside to 198.18.1.10 tcp port { 80, 443 } synproxy\n"
	  "pass from @admins to inside tcp port 22\n"
	  "pass from outside icmp type echo-request limit 10/second\n"
	  "pass from inside\n", true, { { 0 } } },
	{ "ipv6 and lists across lines",
	  ZONES "set v6 = {\n 2001:db8::/32,\n 2001:db8:1::1\n}\n"
	  "pass from outside to { 198.18.1.10, @v6 } tcp port { 22,\n 80 }\n",
	  true, { { 0 } } },
	{ "zone networks list and set",
	  "set n = { 10.0.0.0/8 }\n"
	  "zone a { interface a0; networks { 192.0.2.0/24, 2001:db8::/32 } }\n"
	  "zone b { networks @n; interface b0 }\nzone c { default }\n",
	  true, { { 0 } } },
	{ "port set and source port",
	  ZONES "set web = { 80, 443, 8000-8080 }\n"
	  "pass from outside port 1024-65535 to inside port @web tcp\n"
	  "pass udp from any port domain to any port 1024-65535 no state\n",
	  true, { { 0 } } },
	{ "all options",
	  "options { policy pass; syncookies on; antispoof off; max-flows 1024\n"
	  "pickup loose; timeout tcp.established 3600; timeout icmp 5\n"
	  "syncookies-threshold 10; syncookies-rate 500/second; syncookies-quiet 3\n"
	  "rst-check window; checksum ignore; detect hijack; nonip drop; log \"/tmp/x\"\n"
	  "xdp auto }\n",
	  true, { { 0 } } },
	{ "rule options",
	  ZONES "set bad = { }\n"
	  "block from @bad\n"
	  "pass from outside to inside tcp port 22 flags S/SA modulate max-conn 100 "
	  "max-src-conn 10 max-src-rate 5/second overload @bad expire 600 "
	  "syncookies on log\n"
	  "reject from outside proto { tcp, udp } to inside port 111\n"
	  "pass icmp6 type { echo-request, 135 } code 0\n",
	  true, { { 0 } } },
	{ "protocols by name and number",
	  ZONES "pass from outside to inside proto gre\n"
	  "pass from outside proto { esp, ah, 17 } to 198.18.1.10\n"
	  "pass proto 132\npass proto { sctp, 0, 255 } to inside\n"
	  "options { timeout other 3600 }\n", true, { { 0 } } },
	{ "address family keywords", ZONES "pass inet6 from inside\n"
	  "block inet to any udp\n", true, { { 0 } } },
	{ "inet with IPv6 addresses", ZONES "pass inet to 2001:db8::1\n", false,
	  { { 3, 1, E, "rule can never match: it says inet but its addresses or "
		      "protocol are IPv6 only" } } },
	{ "negation", ZONES "pass from !inside to !198.18.1.0/25 udp\n"
	  "pass from inside !198.18.1.7 to any\n", true, { { 0 } } },
	{ "semicolons and comments",
	  ZONES "pass from inside; block from outside # done\n# end\n",
	  true, { { 0 } } },
	{ "quick is implied", ZONES "pass quick from inside\n", true,
	  { { 3, 6, W, "'quick' is implied" } } },
	{ "no state on tcp warns", ZONES "pass from inside tcp no state\n", true,
	  { { 3, 22, W, "pass without state for tcp" } } },
	{ "host bits warn", ZONES "pass to 198.18.1.1/24 udp\n", true,
	  { { 3, 9, W, "host bits set in '198.18.1.1/24'" } } },
	{ "shadowing", ZONES "pass from outside tcp port 80-90\n"
	  "block from outside tcp port 85\n", true,
	  { { 4, 1, W, "rule 2 can never match: rule 1 (line 3)" } } },
	{ "shadowing by set", ZONES "set s = { 10.0.0.0/8 }\n"
	  "block from @s\npass from 10.1.0.0/16 tcp port 22\n", true,
	  { { 5, 1, W, "rule 2 can never match: rule 1" } } },
	{ "no shadow when narrower first", ZONES "pass from outside tcp port 85\n"
	  "block from outside tcp port 80-90\n", true, { { 0 } } },
	{ "telnet from outside", ZONES "pass from outside tcp port 23\n", true,
	  { { 3, 1, W, "telnet 23" } } },
	{ "all logins from outside", ZONES "pass from outside\n", true,
	  { { 3, 1, W, "ftp 21, telnet 23, rexec/rlogin/rsh 512-514" } } },
	{ "logins blocked first", ZONES "block from outside tcp port { 21, 23, 512-514 }\n"
	  "pass from outside tcp\n", true, { { 0 } } },
	{ "antispoof off", ZONES "options { antispoof off }\n", true,
	  { { 2, 1, W, "zone 'inside' has networks but antispoof is off" } } },
	{ "DMZ without an interface on a bridge", ZONES
	  "zone dmz { networks 198.18.2.0/24 }\n", true,
	  { { 3, 1, W, "zone 'dmz' has networks but no interface" } } },
	{ "interface-less zone on a host", "zone world { interface eth0; default }\n"
	  "zone self { networks 198.18.1.10 }\n", true, { { 0 } } },
	{ "no default zone", "zone a { interface a0 }\n", true,
	  { { 1, 1, W, "no zone is marked 'default'" } } },
	{ "option twice", "options { policy drop\n policy pass }\n", true,
	  { { 2, 2, W, "option 'policy' given twice" } } },

	/* ---- errors, each at its exact place ---- */
	{ "unknown statement", "allow from any\n", false,
	  { { 1, 1, E, "expected a statement (zone, set, options, include, pass, "
		       "block or reject), found 'allow'" } } },
	{ "unknown zone", ZONES "pass from outsid\n", false,
	  { { 3, 11, E, "unknown zone 'outsid' after 'from'" } } },
	{ "unknown set", ZONES "pass from @nope\n", false,
	  { { 3, 11, E, "unknown set '@nope'" } } },
	{ "duplicate zone", ZONES "zone inside { interface x0 }\n", false,
	  { { 3, 6, E, "duplicate zone 'inside' (first defined at line 2)" } } },
	{ "duplicate set", "set a = { 1.2.3.4 }\nset a = { 22 }\n", false,
	  { { 2, 5, E, "duplicate set 'a' (first defined at line 1)" } } },
	{ "port zero", ZONES "pass tcp port 0\n", false,
	  { { 3, 15, E, "port 0 is not a valid port" } } },
	{ "port too big", ZONES "pass tcp port 65536\n", false,
	  { { 3, 15, E, "port 65536 is out of range (1-65535)" } } },
	{ "range reversed", ZONES "pass tcp port 90-80\n", false,
	  { { 3, 15, E, "port range 90-80 is reversed" } } },
	{ "prefix too long v4", ZONES "pass to 1.2.3.4/33\n", false,
	  { { 3, 9, E, "prefix length /33 is too long for IPv4 (at most /32)" } } },
	{ "prefix too long v6", ZONES "pass to 2001:db8::/129\n", false,
	  { { 3, 9, E, "prefix length /129 is too long for IPv6" } } },
	{ "bad address", ZONES "pass to 1.2.3.256\n", false,
	  { { 3, 9, E, "'1.2.3.256' is not an IPv4 or IPv6 address" } } },
	{ "families mixed", ZONES "pass from 198.18.0.1 to 2001:db8::1\n", false,
	  { { 3, 1, E, "rule can never match: source is IPv4 only, destination is IPv6 only" } } },
	{ "icmp with v6 address", ZONES "pass to 2001:db8::1 icmp\n", false,
	  { { 3, 1, E, "protocol is IPv4 only" } } },
	{ "two defaults", "zone a { default }\nzone b { interface b0; default }\n", false,
	  { { 2, 24, E, "zone 'a' is already the default zone" } } },
	{ "interface twice in zone", "zone a { interface a0; interface a1; default }\n", false,
	  { { 1, 34, E, "interface given twice for zone 'a'" } } },
	{ "interface in two zones", "zone a { interface a0; default }\nzone b { interface a0 }\n",
	  false, { { 2, 20, E, "interface 'a0' already belongs to zone 'a'" } } },
	{ "synproxy on udp", ZONES "pass udp port 53 synproxy\n", false,
	  { { 3, 18, E, "synproxy needs a pass rule for tcp only" } } },
	{ "synproxy on block", ZONES "block tcp synproxy\n", false,
	  { { 3, 11, E, "synproxy needs a pass rule for tcp only" } } },
	{ "modulate no state", ZONES "pass tcp modulate no state\n", false,
	  { { 3, 10, E, "modulate needs a pass rule that keeps state" } } },
	{ "unknown protocol", ZONES "pass proto ipx\n", false,
	  { { 3, 12, E, "unknown protocol 'ipx' (a name such as gre, esp, ah "
		       "or sctp, or a number 0-255)" } } },
	{ "protocol number too big", ZONES "pass proto { gre, 256 }\n", false,
	  { { 3, 19, E, "a protocol number 256 is out of range (0-255)" } } },
	{ "port on gre", ZONES "pass proto { tcp, gre } port 80\n", false,
	  { { 3, 25, E, "'port' needs tcp or udp in the rule" } } },
	{ "synproxy on gre", ZONES "pass proto 47 synproxy\n", false,
	  { { 3, 15, E, "synproxy needs a pass rule for tcp only" } } },
	{ "shadowed by another protocol list",
	  ZONES "pass proto { gre, esp }\nblock proto esp\n", true,
	  { { 4, 1, W, "rule 2 can never match: rule 1" } } },
	{ "not shadowed by another protocol",
	  ZONES "pass proto gre\nblock proto esp\n", true, { { 0 } } },
	{ "port without proto", ZONES "pass to inside port 22\n", false,
	  { { 3, 16, E, "'port' needs tcp or udp in the rule" } } },
	{ "flags on udp", ZONES "pass udp flags S/SA\n", false,
	  { { 3, 10, E, "'flags' needs tcp (and only tcp)" } } },
	{ "bad flags", ZONES "pass tcp flags S/XA\n", false,
	  { { 3, 16, E, "bad TCP flags 'S/XA'" } } },
	{ "flags set outside mask", ZONES "pass tcp flags SA/S\n", false,
	  { { 3, 16, E, "can never match" } } },
	{ "unknown icmp type", ZONES "pass icmp type ping\n", false,
	  { { 3, 16, E, "unknown ICMP type 'ping'" } } },
	{ "icmp type without icmp", ZONES "pass tcp type echo-request\n", false,
	  { { 3, 10, E, "'type' needs exactly one of icmp or icmp6" } } },
	{ "bad rate", ZONES "pass icmp limit 10/hour\n", false,
	  { { 3, 17, E, "expected a rate such as 10/second or 60/minute, found '10/hour'" } } },
	{ "overload without max-src", ZONES "set bad = { }\npass tcp overload @bad\n", false,
	  { { 4, 10, E, "overload needs max-src-conn or max-src-rate" } } },
	{ "overload on port set", ZONES "set p = { 22 }\npass tcp max-src-conn 3 overload @p\n",
	  false, { { 4, 34, E, "overload needs an address set" } } },
	{ "address set used as ports", ZONES "set a = { 1.2.3.4 }\npass tcp port @a\n",
	  false, { { 4, 15, E, "'@a' is an address set; expected ports" } } },
	{ "from twice", ZONES "pass from inside from outside\n", false,
	  { { 3, 18, E, "'from' given twice in one rule" } } },
	{ "unknown clause", ZONES "pass from inside fast\n", false,
	  { { 3, 18, E, "found 'fast'" } } },
	{ "two families", ZONES "pass inet inet6\n", false,
	  { { 3, 11, E, "expected one address family, not two, found 'inet6'" } } },
	{ "unclosed list", ZONES "pass to { 1.2.3.4\n", false,
	  { { 4, 1, E, "expected '}' to close the list, found end of file" } } },
	{ "unclosed zone", "zone a { interface a0\n", false,
	  { { 2, 1, E, "expected '}' to close the zone, found end of file" } } },
	{ "zone item", "zone a { iface a0 }\n", false,
	  { { 1, 10, E, "expected 'interface', 'networks' or 'default', found 'iface'" } } },
	{ "bad option value", "options { syncookies maybe }\n", false,
	  { { 1, 22, E, "expected 'off', 'on' or 'auto', found 'maybe'" } } },
	{ "unknown option", "options { speed fast }\n", false,
	  { { 1, 11, E, "expected an option" } } },
	{ "unknown timeout", "options { timeout tcp.first 3 }\n", false,
	  { { 1, 19, E, "expected a timeout name" } } },
	{ "reserved zone name", "zone any { }\n", false,
	  { { 1, 6, E, "expected a zone name, found 'any'" } } },
	{ "bad character", ZONES "pass from inside $\n", false,
	  { { 3, 18, E, "found '$'" } } },
	{ "unterminated string", "include \"x\n", false,
	  { { 1, 9, E, "expected a quoted file name after 'include', found '\"'" } } },
	{ "recovery: three errors", ZONES "pass from nowhere\n"
	  "pass tcp port 0\nblock from inside\npass to 1.2.3.4/40\n", false,
	  { { 3, 11, E, "unknown zone 'nowhere'" }, { 4, 15, E, "port 0" },
	    { 6, 9, E, "prefix length /40" } } },
	{ "trailing junk", ZONES "zone z { interface z0 } extra\n", false,
	  { { 3, 25, E, "expected end of line, found 'extra'" } } },
};

static int failures;

static void check_row(const struct row *r)
{
	struct moat_diags *d = malloc(sizeof(*d));
	struct moat_config *c = moat_config_parse_string("t.conf", r->text, d);
	int k = 0;

	if ((c != NULL) != r->valid || (!r->w[0].substr && d->count)) {
		fprintf(stderr, "row '%s': valid=%d, diagnostics:\n", r->name, c != NULL);
		for (int i = 0; i < d->count; i++)
			fprintf(stderr, "  %d:%d: %s\n", d->d[i].line, d->d[i].col,
				d->d[i].msg);
		failures++;
	}
	for (; k < 4 && r->w[k].substr; k++) {
		const struct moat_diag *e = &d->d[k];

		if (k >= d->count || e->line != r->w[k].line || e->col != r->w[k].col ||
		    e->severity != r->w[k].severity || !strstr(e->msg, r->w[k].substr)) {
			fprintf(stderr, "row '%s' diag %d: want %d:%d '%s'\n got %d:%d '%s'\n",
				r->name, k, r->w[k].line, r->w[k].col, r->w[k].substr,
				k < d->count ? e->line : 0, k < d->count ? e->col : 0,
				k < d->count ? e->msg : "(none)");
			failures++;
			continue;
		}
		assert_string_equal(e->file, "t.conf");
	}
	moat_config_destroy(c);
	free(d);
}

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_row(&rows[i]);
	assert_int_equal(failures, 0);
}

static void test_defaults(void **state)
{
	struct moat_diags d;
	struct moat_config *c = moat_config_parse_string("t", "", &d);
	const struct moat_options *o;

	(void)state;
	assert_non_null(c);
	o = moat_config_options(c);
	assert_int_equal(o->policy, MOAT_POLICY_DROP);
	assert_int_equal(o->syncookies, MOAT_SYNCOOKIES_AUTO);
	assert_true(o->antispoof);
	assert_int_equal(o->max_flows, 262144);
	assert_int_equal(o->pickup, MOAT_PICKUP_OFF);
	assert_int_equal(o->timeout[MOAT_TIMEOUT_TCP_OPENING], 30);
	assert_int_equal(o->timeout[MOAT_TIMEOUT_TCP_ESTABLISHED], 86400);
	assert_int_equal(o->timeout[MOAT_TIMEOUT_TCP_CLOSING], 900);
	assert_int_equal(o->timeout[MOAT_TIMEOUT_TCP_TIMEWAIT], 60);
	assert_int_equal(o->timeout[MOAT_TIMEOUT_UDP_FIRST], 60);
	assert_int_equal(o->timeout[MOAT_TIMEOUT_UDP_MULTIPLE], 120);
	assert_int_equal(o->timeout[MOAT_TIMEOUT_ICMP], 20);
	assert_int_equal(o->timeout[MOAT_TIMEOUT_OTHER], 600);
	assert_int_equal(o->rst_check, MOAT_RST_CHECK_EXACT);
	assert_int_equal(o->checksum, MOAT_CHECKSUM_VERIFY);
	assert_false(o->detect_hijack);
	assert_true(o->nonip_pass);
	assert_int_equal(o->xdp, MOAT_XDP_OFF);
	assert_false(o->log);
	assert_int_equal(moat_config_zone_count(c), 0);
	assert_int_equal(moat_config_default_zone(c), -1);
	assert_null(moat_config_zone(c, 0));
	moat_config_destroy(c);
	moat_config_destroy(NULL);
}

static void test_options(void **state)
{
	struct moat_diags d;
	struct moat_config *c = moat_config_parse_string("t", rows[4].text, &d);
	const struct moat_options *o;

	(void)state;
	assert_non_null(c);
	o = moat_config_options(c);
	assert_int_equal(o->policy, MOAT_POLICY_PASS);
	assert_int_equal(o->syncookies, MOAT_SYNCOOKIES_ON);
	assert_false(o->antispoof);
	assert_int_equal(o->max_flows, 1024);
	assert_int_equal(o->pickup, MOAT_PICKUP_LOOSE);
	assert_int_equal(o->timeout[MOAT_TIMEOUT_TCP_ESTABLISHED], 3600);
	assert_int_equal(o->timeout[MOAT_TIMEOUT_ICMP], 5);
	assert_int_equal(o->syncookies_threshold, 10);
	assert_int_equal(o->syncookies_rate, 500);
	assert_int_equal(o->syncookies_quiet, 3);
	assert_int_equal(o->rst_check, MOAT_RST_CHECK_WINDOW);
	assert_int_equal(o->checksum, MOAT_CHECKSUM_IGNORE);
	assert_true(o->detect_hijack);
	assert_false(o->nonip_pass);
	assert_int_equal(o->xdp, MOAT_XDP_AUTO);
	assert_true(o->log);
	assert_string_equal(o->log_file, "/tmp/x");
	assert_string_equal(moat_timeout_name(MOAT_TIMEOUT_UDP_FIRST), "udp.first");
	assert_string_equal(moat_timeout_name(MOAT_TIMEOUT_OTHER), "other");
	assert_null(moat_timeout_name(MOAT_TIMEOUT_COUNT));
	moat_config_destroy(c);
}

static void test_rule_fields(void **state)
{
	struct moat_diags d;
	struct moat_config *c = moat_config_parse_string("t", rows[5].text, &d);
	const struct moat_rule *r;

	(void)state;
	assert_non_null(c);
	assert_int_equal(moat_config_rule_count(c), 4);
	r = moat_config_rule(c, 1);
	assert_int_equal(r->number, 2);
	assert_int_equal(r->line, 5);
	assert_int_equal(r->col, 1);
	assert_string_equal(r->file, "t");
	assert_int_equal(r->action, MOAT_RULE_PASS);
	assert_true(r->keep_state && r->modulate && r->log);
	assert_false(r->synproxy);
	assert_int_equal(r->syncookies, MOAT_SYNCOOKIES_ON);
	assert_int_equal(r->max_conn, 100);
	assert_int_equal(r->max_src_conn, 10);
	assert_int_equal(r->max_src_rate.count, 5);
	assert_int_equal(r->max_src_rate.period_ns, 1000000000ull);
	assert_int_equal(r->overload_set, moat_config_set_by_name(c, "bad"));
	assert_int_equal(r->overload_expire, 600);
	assert_non_null(r->match);
	r = moat_config_rule(c, 0);
	assert_int_equal(r->action, MOAT_RULE_BLOCK);
	assert_false(r->keep_state);
	assert_int_equal(r->syncookies, -1);
	assert_int_equal(r->overload_set, -1);
	assert_int_equal(moat_config_rule(c, 2)->action, MOAT_RULE_REJECT);
	assert_null(moat_config_rule(c, 4));
	moat_config_destroy(c);
}

static void test_zones_sets(void **state)
{
	struct moat_diags d;
	struct moat_config *c = moat_config_parse_string("t",
		"set n = { 10.0.0.0/8 }\nset p = { 22, 80-90 }\n"
		"zone wide { interface w0; networks { 10.0.0.0/8, 2001:db8::/32 } }\n"
		"zone narrow { interface n0; networks 10.1.0.0/16 }\n"
		"zone out { interface o0; default }\n", &d);
	struct moat_addr a;
	const struct moat_set *s;

	(void)state;
	assert_non_null(c);
	assert_int_equal(moat_config_zone_count(c), 3);
	assert_int_equal(moat_config_zone_by_ifname(c, "n0"), 1);
	assert_int_equal(moat_config_zone_by_ifname(c, "x0"), -1);
	assert_int_equal(moat_config_zone_by_name(c, "out"), 2);
	assert_int_equal(moat_config_default_zone(c), 2);
	assert_true(moat_config_zone(c, 2)->is_default);
	assert_false(moat_config_zone(c, 2)->has_networks);
	moat_addr_parse(&a, "10.1.2.3");
	assert_int_equal(moat_config_zone_by_addr(c, &a), 1); /* most specific */
	assert_true(moat_zone_contains(moat_config_zone(c, 0), &a));
	moat_addr_parse(&a, "10.2.0.1");
	assert_int_equal(moat_config_zone_by_addr(c, &a), 0);
	moat_addr_parse(&a, "2001:db8::5");
	assert_int_equal(moat_config_zone_by_addr(c, &a), 0);
	moat_addr_parse(&a, "11.0.0.1");
	assert_int_equal(moat_config_zone_by_addr(c, &a), -1);
	assert_false(moat_zone_contains(moat_config_zone(c, 2), &a));
	/* v4-mapped IPv6 is not IPv4 */
	moat_addr_parse(&a, "::ffff:10.1.2.3");
	assert_int_equal(moat_config_zone_by_addr(c, &a), -1);
	assert_int_equal(moat_config_set_count(c), 2);
	s = moat_config_set(c, moat_config_set_by_name(c, "p"));
	assert_string_equal(moat_set_name(s), "p");
	assert_int_equal(moat_set_kind(s), MOAT_SET_PORT);
	assert_true(moat_set_contains_port(s, 85));
	assert_false(moat_set_contains_port(s, 91));
	s = moat_config_set(c, 0);
	assert_int_equal(moat_set_kind(s), MOAT_SET_ADDR);
	moat_addr_parse(&a, "10.255.255.255");
	assert_true(moat_set_contains(s, &a));
	assert_int_equal(moat_config_set_by_name(c, "zz"), -1);
	moat_config_destroy(c);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_include(void **state)
{
	char dir[] = "/tmp/moat-rules-XXXXXX", path[512], name[32], text[64];
	struct moat_diags d;
	struct moat_config *c;

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, "main.conf", "zone o { interface o0; default }\n"
				     "include \"sub/rules.conf\"\npass from o tcp port 80\n");
	snprintf(path, sizeof(path), "%s/sub", dir);
	mkdir(path, 0700);
	write_file(dir, "sub/rules.conf", "block from o tcp port 1-79\n");
	snprintf(path, sizeof(path), "%s/main.conf", dir);
	c = moat_config_load(path, &d);
	assert_non_null(c);
	assert_int_equal(moat_config_rule_count(c), 2);
	assert_non_null(strstr(moat_config_rule(c, 0)->file, "sub/rules.conf"));
	moat_config_destroy(c);

	/* a cycle, reported where the include that closes it stands */
	write_file(dir, "a.conf", "include \"b.conf\"\n");
	write_file(dir, "b.conf", "\n include \"a.conf\"\n");
	snprintf(path, sizeof(path), "%s/a.conf", dir);
	c = moat_config_load(path, &d);
	assert_null(c);
	assert_int_equal(d.errors, 1);
	assert_int_equal(d.d[0].line, 2);
	assert_int_equal(d.d[0].col, 10);
	assert_non_null(strstr(d.d[0].file, "b.conf"));
	assert_non_null(strstr(d.d[0].msg, "include cycle"));

	/* depth: d0 includes d1 ... d9 */
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "d%d.conf", i);
		snprintf(text, sizeof(text), "include \"d%d.conf\"\n", i + 1);
		write_file(dir, name, text);
	}
	write_file(dir, "d10.conf", "\n");
	snprintf(path, sizeof(path), "%s/d0.conf", dir);
	c = moat_config_load(path, &d);
	assert_null(c);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.d[0].msg, "nested deeper than 8"));
	assert_non_null(strstr(d.d[0].file, "d8.conf"));

	/* a file that does not exist, and a directory */
	snprintf(path, sizeof(path), "%s/none.conf", dir);
	assert_null(moat_config_load(path, &d));
	assert_int_equal(d.d[0].line, 0);
	assert_non_null(strstr(d.d[0].msg, "cannot read"));
	assert_null(moat_config_load(dir, &d));
	assert_non_null(strstr(d.d[0].msg, "not a regular file"));
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

static void test_diag_bound(void **state)
{
	struct moat_diags *d = malloc(sizeof(*d));
	size_t n = 200, len = n * 16 + 1;
	char *text = malloc(len), *p = text;

	(void)state;
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "pass tcp port 0\n");
	assert_null(moat_config_parse_string("t", text, d));
	assert_int_equal(d->count, MOAT_DIAG_MAX);
	assert_int_equal(d->errors, 200);
	assert_int_equal(d->dropped, 200 - MOAT_DIAG_MAX);
	free(text);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_rule_fields),
		cmocka_unit_test(test_zones_sets),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_diag_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
