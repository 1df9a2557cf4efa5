/*
 * `moat replay`: the real engine over a capture.  The capture's timestamps
 * drive the engine's time (and its periodic tick), so a replay is exactly
 * what a live gateway would have done with that traffic, and it is
 * deterministic: the same configuration and capture give the same verdicts.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "moat/engine.h"
#include "moat/io_event.h"
#include "moat/io_pcap.h"
#include "moat/io_pcapng.h"
#include "moat/rules.h"

/* The engine's tick runs every 100 ms of capture time, as it would live. */
#define TICK_NS 100000000ull
#define SEC_NS 1000000000ull
/* Through a gap in the capture the ticks go on as they would live, so
 * flood detectors cool down and flows expire on time.  After the first
 * minute the steps grow to a second (the timer wheel's grain), and past
 * the longest timer moat can hold (an overload entry's 30 days) nothing is
 * left to happen: a gap of years does not cost years of ticks. */
#define FINE_GAP_NS (60 * SEC_NS)
#define TICK_HORIZON_NS (31 * 86400 * SEC_NS)

/* The tick after @t, @t being that long after the last packet. */
static uint64_t next_tick_in_gap(uint64_t t, uint64_t since_packet,
				 uint64_t next_packet)
{
	if (since_packet < FINE_GAP_NS)
		return t + TICK_NS;
	if (since_packet < TICK_HORIZON_NS)
		return t + SEC_NS;
	/* Nothing can fire any more: the last tick before the packet. */
	return next_packet > t + TICK_NS ? next_packet - TICK_NS : t + TICK_NS;
}

/*
 * A fixed secret unless --secret-hex is given: cookies and modulation
 * offsets then repeat from run to run, which is what a test of a capture
 * wants.  A live gateway draws its secret at random (moat run).
 */
static const uint8_t replay_secret[32] = "moat replay: deterministic key.";

enum { REPLAY_MAX_MACS = 16 };

/* --ingress MAC=ZONE: frames from that Ethernet source enter from ZONE. */
struct replay_mac_zone {
	uint8_t mac[6];
	const char *name;
	int zone;
};

struct replay_opts {
	const char *config, *input, *passed, *dropped, *emitted, *events;
	bool trace, json;
	long explain;
	const char *ingress;  /* --ingress ZONE: every packet enters there */
	int ingress_zone;     /* its index once the configuration is read */
	int nmac;
	struct replay_mac_zone mac[REPLAY_MAX_MACS];
};

struct replay_out {
	struct moat_io_pcap_writer *passed, *dropped, *emitted;
	FILE *events;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: moat replay -c FILE IN.pcap [-o PASSED.pcap] [--dropped D.pcap]\n"
		"                   [--emitted E.pcap] [--events FILE|-] [--trace] [--json]\n"
		"                   [--explain N]\n"
		"Runs the engine over a capture (pcap or pcapng); its timestamps drive time.\n"
		"A packet enters from the zone of its pcapng interface's name, else the zone\n"
		"holding its source address, else the default zone.  Keys are fixed, so a\n"
		"replay gives the same result every time.\n"
		"  -c, --config FILE   configuration (see moat.conf(5))\n"
		"  -o, --output FILE   write the packets that passed (rewritten as sent)\n"
		"  --dropped FILE      write the packets that were dropped\n"
		"  --emitted FILE      write the packets moat itself sent (SYN-ACKs, RSTs,\n"
		"                      fragments held for their first...)\n"
		"  --events FILE|-     write the engine's events (log rules, alerts, mode\n"
		"                      switches) as JSON lines\n"
		"  --trace             one line per packet: INDEX<TAB>VERDICT<TAB>REASON\n"
		"                      (REASON:RULE where a rule decided)\n"
		"  --json              print the summary as JSON\n"
		"  --explain N         describe how packet N was decided\n"
		"  --ingress ZONE      every packet enters from ZONE (a capture taken on\n"
		"                      one interface), unless a MAC rule below matches\n"
		"  --ingress MAC=ZONE  Ethernet frames from source MAC enter from ZONE\n"
		"                      (repeatable, up to 16)\n");
}

/* --ingress ZONE or --ingress MAC=ZONE; zone names are checked once the
 * configuration is read (resolve_ingress). */
static int parse_ingress(struct replay_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct replay_mac_zone *m;
	unsigned int b[6];
	int used = 0;

	if (!eq) {
		o->ingress = arg;
		return 0;
	}
	if (o->nmac == REPLAY_MAX_MACS) {
		fprintf(stderr, "moat replay: at most %d --ingress MAC=ZONE\n",
			REPLAY_MAX_MACS);
		return -1;
	}
	m = &o->mac[o->nmac];
	if (sscanf(arg, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2],
		   &b[3], &b[4], &b[5], &used) != 6 || arg + used != eq ||
	    !eq[1]) {
		fprintf(stderr, "moat replay: --ingress %s: expected ZONE or "
			"MAC=ZONE (MAC as 02:00:00:00:00:01)\n", arg);
		return -1;
	}
	for (int i = 0; i < 6; i++)
		m->mac[i] = (uint8_t)b[i];
	m->name = eq + 1;
	o->nmac++;
	return 0;
}

/* Zone names of --ingress to indexes: -1 when not given, an error when
 * the configuration has no such zone. */
static int resolve_ingress(const struct moat_config *cfg,
			   struct replay_opts *o)
{
	o->ingress_zone = -1;
	if (o->ingress) {
		o->ingress_zone = moat_config_zone_by_name(cfg, o->ingress);
		if (o->ingress_zone < 0)
			goto unknown;
	}
	for (int i = 0; i < o->nmac; i++) {
		o->mac[i].zone = moat_config_zone_by_name(cfg, o->mac[i].name);
		if (o->mac[i].zone < 0) {
			o->ingress = o->mac[i].name;
			goto unknown;
		}
	}
	return 0;
unknown:
	fprintf(stderr, "moat replay: --ingress: %s has no zone %s\n",
		o->config, o->ingress);
	return -1;
}

static int parse_args(int argc, char **argv, struct replay_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "dropped", required_argument, NULL, 'D' },
		{ "emitted", required_argument, NULL, 'E' },
		{ "trace", no_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "explain", required_argument, NULL, 'x' },
		{ "events", required_argument, NULL, 'v' },
		{ "ingress", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'o': o->passed = optarg; break;
		case 'D': o->dropped = optarg; break;
		case 'E': o->emitted = optarg; break;
		case 't': o->trace = true; break;
		case 'j': o->json = true; break;
		case 'x': o->explain = strtol(optarg, NULL, 10); break;
		case 'v': o->events = optarg; break;
		case 'i':
			if (parse_ingress(o, optarg) < 0)
				return -1;
			break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (!o->config || optind != argc - 1) {
		fprintf(stderr, "moat replay: %s\n", !o->config ?
			"-c FILE is required" : "exactly one capture is required");
		return -1;
	}
	o->input = argv[optind];
	return 0;
}

static int open_writer(struct moat_io_pcap_writer **w, const char *path,
		       int linktype)
{
	char err[256];

	if (!path)
		return 0;
	if (moat_io_pcap_writer_open(w, path, linktype, 65535, err,
				     sizeof(err)) < 0) {
		fprintf(stderr, "moat replay: %s: %s\n", path, err);
		return -1;
	}
	return 0;
}

static void write_emitted(struct replay_out *out, struct moat_emit *em,
			  uint64_t now, uint64_t *count)
{
	for (uint32_t i = 0; i < em->count; i++) {
		if (out->emitted)
			moat_io_pcap_write(out->emitted, em->frames[i].data,
					   em->frames[i].len,
					   em->frames[i].len, now);
		(*count)++;
	}
	moat_emit_reset(em);
}

/* The engine's events, in the schema of `moat run --log`
 * (moat/io_event.h), each with the number of the packet that caused it
 * (pcap_cnt; none for a tick between packets) and that packet's pcapng
 * interface when the capture names one. */
static void write_events(struct moat_engine *eng, struct replay_out *out,
			 long index, const char *iface)
{
	struct moat_event ev[16];
	int n;

	if (!out->events)
		return;
	while ((n = moat_engine_events_drain(eng, ev, 16)) > 0)
		for (int i = 0; i < n; i++) {
			struct moat_io_event_ctx ctx = {
				.cfg = moat_engine_config(eng),
				.pcap_cnt = index,
				.in_iface = index ? iface : NULL,
			};
			char *line = moat_io_event_line(&ev[i], &ctx);

			if (line)
				fprintf(out->events, "%s\n", line);
			free(line);
		}
}

static void print_trace(long index, const struct moat_result *res)
{
	const char *v = res->verdict == MOAT_VERDICT_PASS ? "pass" : "drop";
	const char *r = moat_reason_name(res->reason);
	bool by_rule = res->reason == MOAT_R_RULE_PASS ||
		       res->reason == MOAT_R_RULE_BLOCK ||
		       res->reason == MOAT_R_RULE_REJECT ||
		       res->reason == MOAT_R_RULE_PASS_STATELESS ||
		       res->reason == MOAT_R_RATE_LIMIT;

	if (by_rule && res->rule > 0)
		printf("%ld\t%s\t%s:%d\n", index, v, r, res->rule);
	else
		printf("%ld\t%s\t%s\n", index, v, r);
}

static void print_explain(long index, const struct moat_result *res,
			  const char *steps)
{
	printf("packet %ld:\n%s", index, steps);
	printf("packet %ld: %s, reason %s", index,
	       res->verdict == MOAT_VERDICT_PASS ? "passed" : "dropped",
	       moat_reason_name(res->reason));
	if (res->rule > 0)
		printf(", rule %d", res->rule);
	printf(", ingress zone %d, egress zone %d%s\n", res->in_zone,
	       res->out_zone, res->rewritten ? ", rewritten" : "");
}

static void print_summary(const struct moat_counters *c, uint64_t emitted,
			  bool json)
{
	/* By class (include/moat/reason.h): an answered packet (a cookie
	 * SYN-ACK, a challenge ACK) was not forwarded, but not refused. */
	uint64_t by_class[MOAT_CLASS_COUNT] = { 0 };
	bool first = true;

	for (int r = 0; r < MOAT_R_COUNT; r++)
		by_class[moat_reason_class((enum moat_reason)r)] += c->reason[r];
	if (json) {
		/* "passed" and "dropped" are the engine's verdicts (an answer
		 * is a drop there); "classes" splits them by reason. */
		printf("{\"packets\":%llu,\"passed\":%llu,\"dropped\":%llu,"
		       "\"emitted\":%llu,\"classes\":{\"pass\":%llu,"
		       "\"drop\":%llu,\"answer\":%llu},\"reasons\":{",
		       (unsigned long long)c->packets,
		       (unsigned long long)c->passed,
		       (unsigned long long)c->dropped,
		       (unsigned long long)emitted,
		       (unsigned long long)by_class[MOAT_CLASS_PASS],
		       (unsigned long long)by_class[MOAT_CLASS_DROP],
		       (unsigned long long)by_class[MOAT_CLASS_ANSWER]);
		for (int r = 0; r < MOAT_R_COUNT; r++) {
			if (!c->reason[r])
				continue;
			printf("%s\"%s\":%llu", first ? "" : ",",
			       moat_reason_name((enum moat_reason)r),
			       (unsigned long long)c->reason[r]);
			first = false;
		}
		printf("}}\n");
		return;
	}
	printf("packets %llu  passed %llu  dropped %llu  answered %llu  "
	       "emitted %llu\n", (unsigned long long)c->packets,
	       (unsigned long long)by_class[MOAT_CLASS_PASS],
	       (unsigned long long)by_class[MOAT_CLASS_DROP],
	       (unsigned long long)by_class[MOAT_CLASS_ANSWER],
	       (unsigned long long)emitted);
	for (int r = 0; r < MOAT_R_COUNT; r++)
		if (c->reason[r])
			printf("  %-24s %llu\n",
			       moat_reason_name((enum moat_reason)r),
			       (unsigned long long)c->reason[r]);
}

/*
 * The ingress zone of packet @index: the zone of its pcapng interface's
 * name, else of its Ethernet source (--ingress MAC=ZONE), else --ingress
 * ZONE, else MOAT_ZONE_AUTO (the engine then goes by the source address,
 * then the default zone).
 */
static int zone_of(const struct moat_config *cfg,
		   const struct moat_io_pcapng_map *map,
		   const struct replay_opts *o, long index,
		   const struct moat_io_pcap_pkt *pk)
{
	const char *name = moat_io_pcapng_map_name(map, (uint32_t)index);
	int z = name ? moat_config_zone_by_ifname(cfg, name) : -1;

	if (z >= 0)
		return z;
	if (pk->linktype == 1 && pk->caplen >= 12) {
		for (int i = 0; i < o->nmac; i++)
			if (!memcmp(pk->data + 6, o->mac[i].mac, 6))
				return o->mac[i].zone;
	}
	return o->ingress_zone >= 0 ? o->ingress_zone : MOAT_ZONE_AUTO;
}

/*
 * Without interfaces the ingress zone is read off the source address, so
 * a forged source always looks as if it came from its own zone and
 * antispoof cannot fire: say so, since a live gateway would decide
 * otherwise.
 */
static void note_guessed_zones(const struct moat_config *cfg, long guessed,
			       long total)
{
	if (!guessed || !moat_config_options(cfg)->antispoof)
		return;
	fprintf(stderr,
		"moat replay: %ld of %ld packets came with no interface, so "
		"their ingress zone was taken from the source address and "
		"antispoof could not fire on them; give --ingress ZONE (or "
		"MAC=ZONE) for a capture taken on one interface\n",
		guessed, total);
}

static int replay_loop(struct moat_engine *eng,
		       const struct moat_config *cfg,
		       const struct moat_io_pcapng_map *map,
		       struct moat_io_pcap_reader *rd,
		       const struct replay_opts *o, struct replay_out *out,
		       uint64_t *emitted)
{
	static struct moat_emit em;
	static uint8_t buf[65536 + 64];
	static char explain[8192];
	struct moat_io_pcap_pkt pk;
	struct moat_result res;
	uint64_t next_tick = 0, last_ts = 0;
	char err[256];
	long index = 0, guessed = 0;
	int rc;

	while ((rc = moat_io_pcap_next(rd, &pk, err, sizeof(err))) == 1) {
		struct moat_frame f;
		uint32_t n = pk.caplen < sizeof(buf) ? pk.caplen : sizeof(buf);

		index++;
		if (next_tick == 0) {
			last_ts = pk.ts_ns;
			next_tick = pk.ts_ns + TICK_NS;
		}
		while (pk.ts_ns >= next_tick) {
			moat_engine_tick(eng, next_tick, &em);
			write_emitted(out, &em, next_tick, emitted);
			write_events(eng, out, 0, NULL);
			next_tick = next_tick_in_gap(next_tick,
						     next_tick - last_ts,
						     pk.ts_ns);
		}
		last_ts = pk.ts_ns > last_ts ? pk.ts_ns : last_ts;
		/* The engine may rewrite the frame: give it a copy. */
		memcpy(buf, pk.data, n);
		f.data = buf;
		f.caplen = n;
		f.wirelen = pk.wirelen;
		f.linktype = (uint16_t)pk.linktype;
		f.zone = (int16_t)zone_of(cfg, map, o, index - 1, &pk);
		if (f.zone == MOAT_ZONE_AUTO)
			guessed++;
		if (o->explain == index)
			moat_engine_explain_next(eng, explain,
						 sizeof(explain));
		moat_engine_process(eng, &f, pk.ts_ns, &res, &em);
		write_emitted(out, &em, pk.ts_ns, emitted);
		write_events(eng, out, index,
			     moat_io_pcapng_map_name(map, (uint32_t)(index - 1)));
		if (res.verdict == MOAT_VERDICT_PASS && out->passed)
			moat_io_pcap_write(out->passed, buf, n, pk.wirelen,
					   pk.ts_ns);
		if (res.verdict == MOAT_VERDICT_DROP && out->dropped)
			moat_io_pcap_write(out->dropped, pk.data, n,
					   pk.wirelen, pk.ts_ns);
		if (o->trace)
			print_trace(index, &res);
		if (o->explain == index)
			print_explain(index, &res, explain);
	}
	note_guessed_zones(cfg, guessed, index);
	if (rc < 0) {
		fprintf(stderr, "moat replay: %s: %s (after %ld packets)\n",
			o->input, err, index);
		return -1;
	}
	return 0;
}

/* pcapng: which interface each packet came from (libpcap does not say). */
static int read_ifaces(const char *path, struct moat_io_pcapng_map *map)
{
	char err[256];
	FILE *f = fopen(path, "rb");
	int rc;

	if (!f) {
		fprintf(stderr, "moat replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	rc = moat_io_pcapng_map_read(f, map, err, sizeof(err));
	fclose(f);
	/* A damaged block: libpcap will say so where it stops; the packets
	 * before it keep their interfaces, the rest go by address. */
	if (rc < 0 && rc != -EINVAL) {
		fprintf(stderr, "moat replay: %s: %s\n", path, strerror(-rc));
		return -1;
	}
	return 0;
}

int moat_cli_replay(int argc, char **argv)
{
	struct replay_out out = { NULL, NULL, NULL, NULL };
	struct moat_io_pcap_reader *rd = NULL;
	struct moat_engine_params par;
	struct moat_config *cfg = NULL;
	struct moat_engine *eng = NULL;
	struct replay_opts o;
	struct moat_diags diags;
	struct moat_io_pcapng_map map;
	uint64_t emitted = 0;
	char err[256];
	int linktype, status = 1;

	memset(&map, 0, sizeof(map));
	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	cfg = moat_config_load(o.config, &diags);
	if (!cfg) {
		for (int i = 0; i < diags.count; i++)
			fprintf(stderr, "%s:%d:%d: %s: %s\n", diags.d[i].file,
				diags.d[i].line, diags.d[i].col,
				diags.d[i].severity == MOAT_DIAG_ERROR ?
				"error" : "warning", diags.d[i].msg);
		return 1;
	}
	if (resolve_ingress(cfg, &o) < 0)
		goto done;
	if (moat_io_pcap_open(&rd, o.input, err, sizeof(err)) < 0) {
		fprintf(stderr, "moat replay: %s: %s\n", o.input, err);
		goto done;
	}
	linktype = moat_io_pcap_linktype(rd);
	if (open_writer(&out.passed, o.passed, linktype) < 0 ||
	    open_writer(&out.dropped, o.dropped, linktype) < 0 ||
	    open_writer(&out.emitted, o.emitted, linktype) < 0)
		goto done;
	if (o.events) {
		out.events = strcmp(o.events, "-") ? fopen(o.events, "w") :
			     stdout;
		if (!out.events) {
			fprintf(stderr, "moat replay: %s: %s\n", o.events,
				strerror(errno));
			goto done;
		}
	}
	memcpy(par.secret, replay_secret, sizeof(par.secret));
	eng = moat_engine_create(cfg, &par);
	if (!eng) {
		fprintf(stderr, "moat replay: cannot create the engine: %s\n",
			strerror(errno));
		goto done;
	}
	if (read_ifaces(o.input, &map) < 0)
		goto done;
	if (replay_loop(eng, cfg, &map, rd, &o, &out, &emitted) == 0)
		status = 0;
	print_summary(moat_engine_counters(eng), emitted, o.json);
done:
	if (out.passed && moat_io_pcap_writer_close(out.passed) < 0)
		status = 1;
	if (out.dropped && moat_io_pcap_writer_close(out.dropped) < 0)
		status = 1;
	if (out.emitted && moat_io_pcap_writer_close(out.emitted) < 0)
		status = 1;
	if (out.events && out.events != stdout && fclose(out.events) != 0)
		status = 1;
	moat_io_pcapng_map_free(&map);
	moat_engine_destroy(eng);
	moat_io_pcap_close(rd);
	moat_config_destroy(cfg);
	return status;
}
