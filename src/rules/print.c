/*
 * The compiled configuration as text: every option explicit (those of
 * fragments and scrub when not the default), sets merged
 * and printed as their minimal CIDR cover, ports as sorted ranges, one
 * rule per line in canonical clause order with its number in a comment.
 * The output is itself a valid configuration that prints the same again
 * (tests/unit/rules/test_golden.c checks that).  What golden tests compare and
 * `moat check --print` shows; it says what the matcher will really do.
 * Control plane only.
 */
#include <errno.h>
#include <stdio.h>

#include "rules/internal.h"

static const char *const pc_names[PC_OTHER] = { "tcp", "udp", "icmp",
						 "icmp6" };

static void print_rate(FILE *f, const char *kw, const struct moat_rule_rate *r)
{
	if (!r->count)
		return;
	fprintf(f, " %s %u/%s", kw, r->count,
		r->period_ns == 1000000000ull ? "second" : "minute");
}

/*
 * Fragments and scrub, added after the rest: a line each only when one of
 * them is not the default (moat_options_defaults), so the configurations
 * printed before they existed print as they did.
 */
static void print_frag_scrub(const struct moat_options *o, FILE *f)
{
	struct moat_options d;

	moat_options_defaults(&d);
	if (o->frag_max != d.frag_max || o->frag_timeout != d.frag_timeout)
		fprintf(f, "\n    frag-max %u; frag-timeout %u", o->frag_max,
			o->frag_timeout);
	if (o->max_mss || o->min_ttl || o->random_id || o->tcp_reserved_clear) {
		fputs("\n    max-mss ", f);
		if (o->max_mss)
			fprintf(f, "%u", o->max_mss);
		else
			fputs("off", f);
		fputs("; min-ttl ", f);
		if (o->min_ttl)
			fprintf(f, "%u", o->min_ttl);
		else
			fputs("off", f);
		fprintf(f, "; random-id %s; tcp-reserved %s",
			o->random_id ? "on" : "off",
			o->tcp_reserved_clear ? "clear" : "keep");
	}
}

static void print_io(const struct moat_options *o, FILE *f)
{
	static const char *const io[] = { "auto", "afpacket", "xdp" };

	fprintf(f, "    io %s\n", io[o->io % 3]);
}

static void print_options(const struct moat_options *o, FILE *f)
{
	static const char *const cookies[] = { "off", "on", "auto" };

	fprintf(f, "options {\n    policy %s; syncookies %s; antispoof %s; "
		   "max-flows %u; pickup %s\n",
		o->policy == MOAT_POLICY_PASS ? "pass" : "drop",
		cookies[o->syncookies % 3], o->antispoof ? "on" : "off",
		o->max_flows, o->pickup == MOAT_PICKUP_LOOSE ? "loose" : "off");
	fprintf(f, "    syncookies-threshold %u; syncookies-rate %u; "
		   "syncookies-quiet %u\n",
		o->syncookies_threshold, o->syncookies_rate, o->syncookies_quiet);
	fprintf(f, "    rst-check %s; checksum %s; detect %s; nonip %s\n",
		o->rst_check == MOAT_RST_CHECK_WINDOW ? "window" : "exact",
		o->checksum == MOAT_CHECKSUM_IGNORE ? "ignore" : "verify",
		!o->detect_hijack ? "off" :
		o->hijack_block ? "hijack block" : "hijack",
		o->nonip_pass ? "pass" : "drop");
	print_io(o, f);
	for (int i = 0; i < MOAT_TIMEOUT_COUNT; i++)
		fprintf(f, "%s%s %u", i ? "; timeout " : "    timeout ",
			moat_timeout_name(i), o->timeout[i]);
	if (o->log)
		fprintf(f, "\n    log \"%s\"", o->log_file);
	print_frag_scrub(o, f);
	if (o->xdp != MOAT_XDP_OFF)
		fprintf(f, "\n    xdp %s", cookies[o->xdp % 3]);
	fputs("\n}\n", f);
}

static void print_set_ref(const struct moat_set *s, FILE *f)
{
	if (s->name[0])
		fprintf(f, "@%s", s->name);
	else if (s->kind == MOAT_SET_PORT)
		moat_rule_ports_print(&s->ports, f);
	else
		moat_rule_lpm_print(&s->lpm, f);
}

static void print_side(const struct moat_config *c, const char *kw,
		       const struct side *s, FILE *f)
{
	if (s->zone < 0 && !s->set && !s->port)
		return;
	fprintf(f, " %s", kw);
	if (s->zone < 0 && !s->set)
		fputs(" any", f);
	if (s->zone >= 0)
		fprintf(f, " %s%s", s->zone_neg ? "!" : "", c->zones[s->zone].name);
	if (s->set) {
		fprintf(f, " %s", s->set_neg ? "!" : "");
		print_set_ref(s->set, f);
	}
	if (s->port) {
		fputs(" port ", f);
		print_set_ref(s->port, f);
	}
}

static bool all_others(const struct moat_rule_match *m)
{
	for (int i = 0; i < 32; i++)
		if (m->other[i] != 0xff)
			return false;
	return true;
}

/* The protocols as `proto NAME` or `proto { ... }`; nothing for all. */
static void print_protos(const struct moat_rule_match *m, FILE *f)
{
	const char *w[PC_COUNT + 256];
	char num[256][4];
	int n = 0;

	if (m->protos == PCM_ALL && all_others(m))
		return;
	for (int i = 0; i < PC_OTHER; i++)
		if (m->protos & (1 << i))
			w[n++] = pc_names[i];
	for (int p = 0; (m->protos & (1 << PC_OTHER)) && p < 256; p++) {
		if (!(m->other[p / 8] & (1u << (p % 8))))
			continue;
		w[n] = moat_rule_proto_name((uint8_t)p);
		if (!w[n]) {
			snprintf(num[p], sizeof(num[p]), "%d", p);
			w[n] = num[p];
		}
		n++;
	}
	fputs(n > 1 ? " proto {" : " proto", f);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s %s", i ? "," : "", w[i]);
	fputs(n > 1 ? " }" : "", f);
}

static void print_flags(const struct moat_rule_match *m, FILE *f)
{
	static const char letters[] = "FSRPAUEW";

	if (!m->has_flags)
		return;
	fputs(" flags ", f);
	for (int i = 0; i < 8; i++)
		if (m->flags_set & (1 << i))
			fputc(letters[i], f);
	fputc('/', f);
	for (int i = 0; i < 8; i++)
		if (m->flags_mask & (1 << i))
			fputc(letters[i], f);
}

static void print_icmp(const struct moat_rule_match *m, FILE *f)
{
	int k = 0;

	if (!m->has_icmp_type)
		return;
	fputs(" type {", f);
	for (int t = 0; t < 256; t++)
		if (m->icmp_types[t / 8] & (1u << (t % 8)))
			fprintf(f, "%s %d", k++ ? "," : "", t);
	fputs(" }", f);
	if (m->icmp_code >= 0)
		fprintf(f, " code %d", m->icmp_code);
}

static void print_actions(const struct moat_config *c, const struct moat_rule *r,
			  FILE *f)
{
	static const char *const cookies[] = { "off", "on", "auto" };

	if (r->action == MOAT_RULE_PASS)
		fputs(r->keep_state ? " keep state" : " no state", f);
	if (r->log)
		fputs(" log", f);
	if (r->synproxy)
		fputs(" synproxy", f);
	if (r->modulate)
		fputs(" modulate", f);
	if (r->syncookies >= 0)
		fprintf(f, " syncookies %s", cookies[r->syncookies % 3]);
	print_rate(f, "limit", &r->limit);
	if (r->max_conn)
		fprintf(f, " max-conn %u", r->max_conn);
	if (r->max_src_conn)
		fprintf(f, " max-src-conn %u", r->max_src_conn);
	print_rate(f, "max-src-rate", &r->max_src_rate);
	if (r->overload_set >= 0) {
		fprintf(f, " overload @%s", c->named[r->overload_set]->name);
		if (r->overload_expire)
			fprintf(f, " expire %u", r->overload_expire);
	}
}

static void print_rule(const struct moat_config *c, int i, FILE *f)
{
	static const char *const actions[] = { "pass", "block", "reject" };
	const struct moat_rule *r = &c->rules[i];
	const struct moat_rule_match *m = &c->matches[i];

	fputs(actions[r->action % 3], f);
	if (m->fam != FAMALL)
		fputs(m->fam == FAM4 ? " inet" : " inet6", f);
	print_protos(m, f);
	print_side(c, "from", &m->from, f);
	print_side(c, "to", &m->to, f);
	print_flags(m, f);
	print_icmp(m, f);
	print_actions(c, r, f);
	fprintf(f, "  # %d\n", r->number);
}

int moat_config_print(const struct moat_config *c, FILE *f)
{
	print_options(&c->opt, f);
	for (int i = 0; i < c->nzones; i++) {
		const struct moat_zone *z = &c->zones[i];

		fprintf(f, "zone %s {", z->name);
		if (z->ifname[0])
			fprintf(f, " interface %s;", z->ifname);
		if (z->has_networks) {
			fputs(" networks ", f);
			moat_rule_lpm_print(&z->networks->lpm, f);
			fputc(';', f);
		}
		fputs(z->is_default ? " default }\n" : " }\n", f);
	}
	for (int i = 0; i < c->nnamed; i++) {
		fprintf(f, "set %s = ", c->named[i]->name);
		print_set_ref(&(struct moat_set){ .kind = c->named[i]->kind,
						  .lpm = c->named[i]->lpm,
						  .ports = c->named[i]->ports },
			      f);
		fputs(c->named[i]->overload ? " # overload target\n" : "\n", f);
	}
	/* After the sets: the option names one. */
	if (c->opt.bogon_set >= 0)
		fprintf(f, "options { bogons @%s }\n",
			c->named[c->opt.bogon_set]->name);
	for (int i = 0; i < c->nrules; i++)
		print_rule(c, i, f);
	return ferror(f) ? -EIO : 0;
}
