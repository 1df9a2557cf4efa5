/*
 * The defaults the code uses, one option a line as moat.conf(5) names it
 * ("max-flows 262144", "timeout tcp.opening 30"), for defaults.sh to
 * compare with the man page's "Default:" statements.
 *
 * The values printed are those of an empty configuration as the parser
 * leaves it (what `moat run` gets).  Before printing, each is checked
 * against moat/defaults.h and against the defaults of the modules that
 * have their own entry point (conntrack's moat_ct_params_default, the
 * flood detector's moat_syn_mode_params_default): any difference is
 * named on stderr and the exit status is 1.
 */
#include <stdio.h>
#include <string.h>

#include "moat/ct.h"
#include "moat/defaults.h"
#include "moat/rules.h"
#include "moat/syn.h"

static int bad;

static void same(const char *what, const char *where, long code, long table)
{
	if (code == table)
		return;
	fprintf(stderr, "%s: %s is %ld, moat/defaults.h says %ld\n", where,
		what, code, table);
	bad = 1;
}

static const char *word(bool first, const char *yes, const char *no)
{
	return first ? yes : no;
}

static void check_options(const struct moat_options *o)
{
	static const long table[MOAT_TIMEOUT_COUNT] = {
		MOAT_DEFAULT_TIMEOUT_TCP_OPENING,
		MOAT_DEFAULT_TIMEOUT_TCP_ESTABLISHED,
		MOAT_DEFAULT_TIMEOUT_TCP_CLOSING,
		MOAT_DEFAULT_TIMEOUT_TCP_TIMEWAIT,
		MOAT_DEFAULT_TIMEOUT_UDP_FIRST,
		MOAT_DEFAULT_TIMEOUT_UDP_MULTIPLE,
		MOAT_DEFAULT_TIMEOUT_ICMP,
		MOAT_DEFAULT_TIMEOUT_OTHER,
	};
	const char *p = "the parser";

	same("policy pass", p, o->policy == MOAT_POLICY_PASS,
	     MOAT_DEFAULT_POLICY_PASS);
	same("syncookies", p, o->syncookies, MOAT_DEFAULT_SYNCOOKIES);
	same("syncookies-threshold", p, o->syncookies_threshold,
	     MOAT_DEFAULT_SYNCOOKIES_THRESHOLD);
	same("syncookies-rate", p, o->syncookies_rate,
	     MOAT_DEFAULT_SYNCOOKIES_RATE);
	same("syncookies-quiet", p, o->syncookies_quiet,
	     MOAT_DEFAULT_SYNCOOKIES_QUIET);
	same("antispoof", p, o->antispoof, MOAT_DEFAULT_ANTISPOOF);
	same("max-flows", p, o->max_flows, MOAT_DEFAULT_MAX_FLOWS);
	same("pickup loose", p, o->pickup == MOAT_PICKUP_LOOSE,
	     MOAT_DEFAULT_PICKUP_LOOSE);
	for (int i = 0; i < MOAT_TIMEOUT_COUNT; i++)
		same(moat_timeout_name(i), p, o->timeout[i], table[i]);
	same("rst-check exact", p, o->rst_check == MOAT_RST_CHECK_EXACT,
	     MOAT_DEFAULT_RST_EXACT);
	same("checksum verify", p, o->checksum == MOAT_CHECKSUM_VERIFY,
	     MOAT_DEFAULT_CHECKSUM_VERIFY);
	same("detect hijack", p, o->detect_hijack, MOAT_DEFAULT_DETECT_HIJACK);
	same("detect hijack block", p, o->hijack_block,
	     MOAT_DEFAULT_HIJACK_BLOCK);
	same("nonip pass", p, o->nonip_pass, MOAT_DEFAULT_NONIP_PASS);
	same("log", p, o->log, MOAT_DEFAULT_LOG);
	same("frag-max", p, o->frag_max, MOAT_DEFAULT_FRAG_MAX);
	same("frag-timeout", p, o->frag_timeout, MOAT_DEFAULT_FRAG_TIMEOUT);
	same("max-mss", p, o->max_mss, MOAT_DEFAULT_MAX_MSS);
	same("min-ttl", p, o->min_ttl, MOAT_DEFAULT_MIN_TTL);
	same("random-id", p, o->random_id, MOAT_DEFAULT_RANDOM_ID);
	same("tcp-reserved clear", p, o->tcp_reserved_clear,
	     MOAT_DEFAULT_TCP_RESERVED_CLEAR);
	same("io", p, o->io, MOAT_DEFAULT_IO);
	same("xdp", p, o->xdp, MOAT_DEFAULT_XDP);
}

static void check_modules(const struct moat_options *o)
{
	struct moat_ct_params cp;
	struct moat_syn_mode_params mp;
	const char *ct = "conntrack (moat_ct_params_default)";
	const char *syn = "the flood detector (moat_syn_mode_params_default)";

	moat_ct_params_default(&cp);
	same("max-flows", ct, cp.max_flows, MOAT_DEFAULT_MAX_FLOWS);
	same("timeout tcp.opening", ct, cp.to.tcp_opening,
	     o->timeout[MOAT_TIMEOUT_TCP_OPENING]);
	same("timeout tcp.established", ct, cp.to.tcp_established,
	     o->timeout[MOAT_TIMEOUT_TCP_ESTABLISHED]);
	same("timeout tcp.closing", ct, cp.to.tcp_closing,
	     o->timeout[MOAT_TIMEOUT_TCP_CLOSING]);
	same("timeout tcp.timewait", ct, cp.to.tcp_timewait,
	     o->timeout[MOAT_TIMEOUT_TCP_TIMEWAIT]);
	same("timeout udp.first", ct, cp.to.udp_first,
	     o->timeout[MOAT_TIMEOUT_UDP_FIRST]);
	same("timeout udp.multiple", ct, cp.to.udp_multiple,
	     o->timeout[MOAT_TIMEOUT_UDP_MULTIPLE]);
	same("timeout icmp", ct, cp.to.icmp, o->timeout[MOAT_TIMEOUT_ICMP]);
	same("timeout other", ct, cp.to.other, o->timeout[MOAT_TIMEOUT_OTHER]);
	same("pickup loose", ct, cp.pickup_loose, MOAT_DEFAULT_PICKUP_LOOSE);
	same("rst-check exact", ct, cp.rst_exact, MOAT_DEFAULT_RST_EXACT);
	moat_syn_mode_params_default(&mp);
	same("syncookies-threshold", syn, mp.half_open,
	     MOAT_DEFAULT_SYNCOOKIES_THRESHOLD);
	same("syncookies-rate", syn, mp.rate, MOAT_DEFAULT_SYNCOOKIES_RATE);
	same("syncookies-quiet", syn, mp.quiet_s, MOAT_DEFAULT_SYNCOOKIES_QUIET);
}

static void print_options(const struct moat_options *o)
{
	static const char *const cookies[] = { "off", "on", "auto" };

	printf("policy %s\n", word(o->policy == MOAT_POLICY_PASS, "pass", "drop"));
	printf("syncookies %s\n", cookies[o->syncookies % 3]);
	printf("syncookies-threshold %u\n", o->syncookies_threshold);
	printf("syncookies-rate %u\n", o->syncookies_rate);
	printf("syncookies-quiet %u\n", o->syncookies_quiet);
	printf("antispoof %s\n", word(o->antispoof, "on", "off"));
	printf("max-flows %u\n", o->max_flows);
	printf("pickup %s\n", word(o->pickup == MOAT_PICKUP_LOOSE, "loose", "off"));
	for (int i = 0; i < MOAT_TIMEOUT_COUNT; i++)
		printf("timeout %s %u\n", moat_timeout_name(i), o->timeout[i]);
	printf("rst-check %s\n",
	       word(o->rst_check == MOAT_RST_CHECK_EXACT, "exact", "window"));
	printf("checksum %s\n",
	       word(o->checksum == MOAT_CHECKSUM_VERIFY, "verify", "ignore"));
	printf("detect %s\n", !o->detect_hijack ? "off"
			      : o->hijack_block ? "hijack block" : "hijack");
	printf("nonip %s\n", word(o->nonip_pass, "pass", "drop"));
	printf("bogons %s\n", o->bogon_set < 0 ? "none" : "(a set)");
	printf("log %s\n", word(o->log, "on", "off"));
	printf("frag-max %u\n", o->frag_max);
	printf("frag-timeout %u\n", o->frag_timeout);
	if (o->max_mss)
		printf("max-mss %u\n", o->max_mss);
	else
		printf("max-mss off\n");
	if (o->min_ttl)
		printf("min-ttl %u\n", o->min_ttl);
	else
		printf("min-ttl off\n");
	printf("random-id %s\n", word(o->random_id, "on", "off"));
	printf("tcp-reserved %s\n", word(o->tcp_reserved_clear, "clear", "keep"));
	printf("io %s\n", o->io == MOAT_OPT_IO_XDP ? "xdp"
			   : o->io == MOAT_OPT_IO_AFPACKET ? "afpacket" : "auto");
	printf("xdp %s\n", o->xdp == MOAT_XDP_ON ? "on"
			    : o->xdp == MOAT_XDP_AUTO ? "auto" : "off");
}

int main(void)
{
	struct moat_diags d;
	struct moat_config *c = moat_config_parse_string("defaults", "", &d);
	const struct moat_options *o;

	if (!c) {
		fprintf(stderr, "an empty configuration does not load\n");
		return 1;
	}
	o = moat_config_options(c);
	check_options(o);
	check_modules(o);
	print_options(o);
	moat_config_destroy(c);
	return bad;
}
