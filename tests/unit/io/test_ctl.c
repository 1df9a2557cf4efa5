/*
 * The control side of `moat run` without a running moat: the request
 * parser (table-driven), the counters' text, JSON and Prometheus forms,
 * and one request served end to end over a UNIX socket in /tmp.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>

#include "moat/ct.h"
#include "moat/io_ctl.h"
#include "moat/rules.h"
#include "moat/syncookies.h"

struct parse_row {
	const char *line;
	int ok;
	enum moat_io_ctl_cmd cmd;
	int mode;
	bool json;
};

static const struct parse_row parse_rows[] = {
	{ "stats", 0, MOAT_IO_CTL_STATS, 0, false },
	{ "stats --json", 0, MOAT_IO_CTL_STATS, 0, true },
	{ "  stats\t--json\r", 0, MOAT_IO_CTL_STATS, 0, true },
	{ "flows", 0, MOAT_IO_CTL_FLOWS, 0, false },
	{ "reload", 0, MOAT_IO_CTL_RELOAD, 0, false },
	{ "metrics", 0, MOAT_IO_CTL_METRICS, 0, false },
	{ "syncookies on", 0, MOAT_IO_CTL_SYNCOOKIES, MOAT_SYNCOOKIES_ON, false },
	{ "syncookies off", 0, MOAT_IO_CTL_SYNCOOKIES, MOAT_SYNCOOKIES_OFF, false },
	{ "syncookies auto", 0, MOAT_IO_CTL_SYNCOOKIES, MOAT_SYNCOOKIES_AUTO, false },
	{ "syncookies", -1, 0, 0, false },
	{ "syncookies maybe", -1, 0, 0, false },
	{ "syncookies on now", -1, 0, 0, false },
	{ "flows --json", 0, MOAT_IO_CTL_FLOWS, 0, true },
	{ "flows src 198.18.1.10 port 80 proto tcp", 0, MOAT_IO_CTL_FLOWS, 0,
	  false },
	{ "flows dst 2001:db8::/32 state established --json", 0,
	  MOAT_IO_CTL_FLOWS, 0, true },
	{ "flows 198.18.1.10", -1, 0, 0, false },
	{ "flows src", -1, 0, 0, false },
	{ "flows src 198.18.1.300", -1, 0, 0, false },
	{ "flows src 198.18.0.0/33", -1, 0, 0, false },
	{ "flows port 65536", -1, 0, 0, false },
	{ "flows proto 256", -1, 0, 0, false },
	{ "flows state dancing", -1, 0, 0, false },
	{ "flows port 80 port 81", -1, 0, 0, false },
	{ "flows --json src 198.18.1.10", -1, 0, 0, false },
	{ "reload now", -1, 0, 0, false },
	{ "", -1, 0, 0, false },
	{ "   ", -1, 0, 0, false },
	{ "shutdown", -1, 0, 0, false },
	{ "a b c d e", -1, 0, 0, false },
};

static void parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		const struct parse_row *r = &parse_rows[i];
		struct moat_io_ctl_req req;
		char err[128] = "";
		int got = moat_io_ctl_parse(r->line, &req, err, sizeof(err));

		if ((got == 0) != (r->ok == 0))
			fail_msg("'%s': got %d (%s)", r->line, got, err);
		if (got < 0) {
			assert_true(err[0] != 0);
			continue;
		}
		assert_int_equal(req.cmd, r->cmd);
		assert_int_equal(req.mode, r->mode);
		assert_int_equal(req.json, r->json);
	}
}

/* `flows TERM VALUE...`: the terms are parsed into a filter over the
 * engine's flow structs, and match on their fields. */
static struct moat_flow mkflow(const char *src, uint16_t sport,
			       const char *dst, uint16_t dport, uint8_t proto,
			       enum moat_ct_state state)
{
	struct moat_flow f;

	memset(&f, 0, sizeof(f));
	assert_int_equal(moat_addr_parse(&f.key.src, src), 0);
	assert_int_equal(moat_addr_parse(&f.key.dst, dst), 0);
	f.key.sport = sport;
	f.key.dport = dport;
	f.key.proto = proto;
	f.state = (uint8_t)state;
	f.rule = 1;
	f.zone[0] = 0;
	f.zone[1] = 1;
	f.expires_in = 30;
	return f;
}

static void flow_filters(void **state)
{
	const struct moat_flow flows[] = {
		mkflow("198.18.100.10", 40000, "198.18.1.10", 80, 6,
		       MOAT_CT_ESTABLISHED),
		mkflow("198.18.100.11", 40001, "198.18.1.10", 443, 6,
		       MOAT_CT_SYN_SENT),
		mkflow("198.18.1.10", 5353, "198.18.100.10", 53, 17,
		       MOAT_CT_UDP_FIRST),
		mkflow("2001:db8:100::10", 40000, "2001:db8:1::10", 80, 6,
		       MOAT_CT_ESTABLISHED),
	};
	static const struct {
		const char *line;
		unsigned match; /* bit i: flows[i] is listed */
	} rows[] = {
		{ "flows", 0xf },
		{ "flows src 198.18.100.10", 0x1 },
		{ "flows dst 198.18.1.10 port 80 proto tcp", 0x1 },
		{ "flows host 198.18.1.10", 0x7 },
		{ "flows src 198.18.100.0/24", 0x3 },
		{ "flows src 198.18.0.0/15", 0x7 },
		{ "flows host 198.18.1.10 proto udp", 0x4 },
		{ "flows port 80", 0x9 },
		{ "flows sport 40000", 0x9 },
		{ "flows dport 40000", 0x0 },
		{ "flows port 53", 0x4 },
		{ "flows proto 17", 0x4 },
		{ "flows state established", 0x9 },
		{ "flows state SYN-SENT", 0x2 },
		{ "flows dst 2001:db8::/32", 0x8 },
		{ "flows src 2001:db8:100::10 dport 80 --json", 0x8 },
		/* ":80" was a substring filter once: it is no term now. */
		{ "flows dst 198.18.1.1", 0x0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct moat_io_ctl_req req;
		char err[128] = "";
		unsigned got = 0;

		if (moat_io_ctl_parse(rows[i].line, &req, err, sizeof(err)))
			fail_msg("'%s': %s", rows[i].line, err);
		for (size_t k = 0; k < sizeof(flows) / sizeof(flows[0]); k++)
			if (moat_io_flow_match(&req.flows, &flows[k]))
				got |= 1u << k;
		if (got != rows[i].match)
			fail_msg("'%s' lists %#x, not %#x", rows[i].line, got,
				 rows[i].match);
	}
}

/* The flows' lines: text a person reads, JSON with the event schema's
 * flow fields. */
static void flow_lines(void **state)
{
	struct moat_flow f = mkflow("198.18.100.10", 40000, "198.18.1.10", 80,
				    6, MOAT_CT_ESTABLISHED);
	struct moat_flow g = mkflow("2001:db8:100::10", 40000,
				    "2001:db8:1::10", 80, 6, MOAT_CT_SYN_SENT);
	struct moat_io_buf b;
	json_error_t jerr;
	json_t *o;

	(void)state;
	f.synproxy = true;
	moat_io_buf_init(&b);
	moat_io_flow_text(&b, &f);
	moat_io_flow_text(&b, &g);
	assert_non_null(strstr(b.p, "established tcp 198.18.100.10:40000 -> "
				    "198.18.1.10:80 rule 1 synproxy expires 30 "
				    "community_id 1:"));
	assert_non_null(strstr(b.p, "syn-sent tcp [2001:db8:100::10]:40000 -> "
				    "[2001:db8:1::10]:80 rule 1 expires 30"));
	moat_io_buf_free(&b);
	moat_io_buf_init(&b);
	moat_io_flow_json(&b, &f, NULL);
	o = json_loads(b.p, 0, &jerr);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "src_ip")),
			    "198.18.100.10");
	assert_int_equal(json_integer_value(json_object_get(o, "dest_port")),
			 80);
	assert_string_equal(json_string_value(json_object_get(o, "proto")),
			    "TCP");
	assert_string_equal(json_string_value(json_object_get(o, "state")),
			    "established");
	assert_true(json_is_true(json_object_get(o, "synproxy")));
	assert_int_equal(json_integer_value(json_object_get(o, "zone")), 0);
	assert_non_null(json_object_get(o, "community_id"));
	assert_non_null(json_object_get(o, "flow_id"));
	json_decref(o);
	moat_io_buf_free(&b);
}

static void parse_too_long(void **state)
{
	(void)state;
	char line[MOAT_IO_CTL_LINE_MAX + 10];
	struct moat_io_ctl_req req;
	char err[64];

	memset(line, 's', sizeof(line) - 1);
	line[sizeof(line) - 1] = 0;
	assert_int_equal(moat_io_ctl_parse(line, &req, err, sizeof(err)), -22);
}

static void buf_grows(void **state)
{
	(void)state;
	struct moat_io_buf b;

	moat_io_buf_init(&b);
	for (int i = 0; i < 1000; i++)
		moat_io_buf_printf(&b, "%04d\n", i);
	assert_int_equal(b.len, 5000);
	assert_false(b.failed);
	assert_memory_equal(b.p + 4995, "0999\n", 5);
	moat_io_buf_free(&b);
}

/* A fixed set of counters and two in-memory ports. */
struct fixture {
	struct moat_counters c;
	struct moat_io_port ports[2];
	const struct moat_io_port *pp[2];
	struct moat_io_stats_view v;
	struct moat_engine_stats es;
};

static struct fixture *make_fixture(void)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->c.packets = 10;
	f->c.passed = 7;
	f->c.dropped = 3;
	f->c.emitted = 2;
	f->c.reason[MOAT_R_STATE_MATCH] = 7;
	f->c.reason[MOAT_R_SPOOF_ZONE] = 2;
	f->c.reason[MOAT_R_POLICY_DROP] = 1;
	moat_io_port_init_null(&f->ports[0], "out0", 1500);
	moat_io_port_init_null(&f->ports[1], "in0", 1500);
	f->ports[0].st.rx_packets = 8;
	f->ports[1].tx.packets = 5;
	f->ports[1].tx.oversize = 1;
	f->ports[0].st.delay_max_ns = 2500000;
	f->pp[0] = &f->ports[0];
	f->pp[1] = &f->ports[1];
	f->v = (struct moat_io_stats_view){
		.c = &f->c, .flows = 4, .ports = f->pp, .nports = 2,
		.engine = &f->es, .reloads = 3,
	};
	f->es.flows = 4;
	f->es.capacity = 1024;
	f->es.by_state[MOAT_CT_ESTABLISHED] = 3;
	f->es.by_state[MOAT_CT_UDP_FIRST] = 1;
	f->es.syncookies = MOAT_SYNCOOKIES_AUTO;
	f->es.hijack.injection = 5;
	f->es.challenge.sent = 6;
	f->es.sources.overloads = 7;
	f->es.nsyn = 1;
	moat_addr_parse(&f->es.syn[0].dst, "198.18.1.10");
	f->es.syn[0].port = 80;
	f->es.syn[0].cookies = true;
	f->es.syn[0].half_open = 9;
	f->es.syn[0].rate = 1000;
	return f;
}

static void stats_text(void **state)
{
	(void)state;
	struct fixture *f = make_fixture();
	struct moat_io_buf b;

	moat_io_buf_init(&b);
	moat_io_stats_text(&b, &f->v);
	assert_non_null(strstr(b.p, "packets 10\npassed 7\ndropped 3\nemitted 2\n"));
	assert_non_null(strstr(b.p, "reason spoof-zone 2\n"));
	assert_non_null(strstr(b.p, "reason policy-drop 1\n"));
	assert_null(strstr(b.p, "reason land"));
	assert_non_null(strstr(b.p, "port in0 rx 0 tx 5 tx-errors 0 oversize 1"));
	assert_non_null(strstr(b.p, "class pass 7\nclass drop 3\nclass answer 0\n"));
	assert_non_null(strstr(b.p, "table flows 4 capacity 1024 "));
	assert_non_null(strstr(b.p, "state established 3\nstate udp-first 1\n"));
	assert_non_null(strstr(b.p, " syncookies auto\n"));
	assert_non_null(strstr(b.p, "hijack injection 5 "));
	assert_non_null(strstr(b.p, "challenge-acks sent 6 "));
	assert_non_null(strstr(b.p, "sources nodes 0 capacity 0 overloads 7 "));
	assert_non_null(strstr(b.p, "synproxy 198.18.1.10 port 80 mode cookies "
				    "half-open 9 syn-rate 1000\n"));
	moat_io_buf_free(&b);
	free(f);
}

static void stats_json(void **state)
{
	(void)state;
	struct fixture *f = make_fixture();
	struct moat_io_buf b;

	moat_io_buf_init(&b);
	moat_io_stats_json(&b, &f->v);
	assert_non_null(strstr(b.p, "\"reasons\":{\"spoof-zone\":2,"
				    "\"policy-drop\":1,\"state-match\":7}"));
	json_error_t jerr;
	json_t *o = json_loads(b.p, 0, &jerr), *eng, *syn;
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "packets")), 10);
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(o, "classes"), "drop")), 3);
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(json_object_get(o, "ports"), "in0"), "oversize")),
		1);
	eng = json_object_get(o, "engine");
	assert_int_equal(json_integer_value(json_object_get(eng, "capacity")),
			 1024);
	assert_string_equal(json_string_value(json_object_get(eng,
				"syncookies")), "auto");
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(eng, "by_state"), "established")), 3);
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(eng, "hijack"), "injection")), 5);
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(eng, "challenge_acks"), "sent")), 6);
	syn = json_array_get(json_object_get(eng, "synproxy"), 0);
	assert_string_equal(json_string_value(json_object_get(syn, "dst")),
			    "198.18.1.10");
	assert_string_equal(json_string_value(json_object_get(syn, "mode")),
			    "cookies");
	json_decref(o);
	moat_io_buf_free(&b);
	f->v.engine = NULL;
	moat_io_stats_json(&b, &f->v);
	assert_non_null(strstr(b.p, "\"engine\":null}"));
	moat_io_buf_free(&b);
	free(f);
}

/* Each reason is a sample of exactly one of the three families, the one
 * its class in include/moat/reason.h names: NDP and stateless passes are
 * passes, cookies and challenge ACKs answers. */
static void metrics_reason_families(void **state)
{
	static const char *const family[MOAT_CLASS_COUNT] = {
		[MOAT_CLASS_PASS] = "moat_passes_total",
		[MOAT_CLASS_DROP] = "moat_drops_total",
		[MOAT_CLASS_ANSWER] = "moat_answers_total",
	};
	struct fixture *f = make_fixture();
	struct moat_io_buf b;
	char want[128];

	(void)state;
	moat_io_buf_init(&b);
	moat_io_metrics_prom(&b, &f->v);
	for (int r = 0; r < MOAT_R_COUNT; r++) {
		enum moat_reason_class c = moat_reason_class((enum moat_reason)r);

		for (int k = 0; k < MOAT_CLASS_COUNT; k++) {
			snprintf(want, sizeof(want), "\n%s{reason=\"%s\"} ",
				 family[k], moat_reason_name((enum moat_reason)r));
			char *at = strstr(b.p, want);
			if ((k == (int)c) != (at != NULL))
				fail_msg("%s: %s in %s", moat_reason_name(r),
					 at ? "wrongly" : "missing", family[k]);
			if (at)
				assert_null(strstr(at + 1, want));
		}
	}
	assert_non_null(strstr(b.p, "moat_passes_total{reason=\"ndp\"} "));
	assert_non_null(strstr(b.p,
		"moat_passes_total{reason=\"rule-pass-stateless\"} "));
	assert_non_null(strstr(b.p,
		"moat_answers_total{reason=\"syn-cookie-sent\"} "));
	assert_non_null(strstr(b.p, "# TYPE moat_answers_total counter\n"));
	moat_io_buf_free(&b);
	free(f);
}

/* Every sample line is NAME{LABELS} VALUE or NAME VALUE, every metric has
 * its HELP and TYPE before its samples. */
static void metrics_prom(void **state)
{
	(void)state;
	struct fixture *f = make_fixture();
	struct moat_io_buf b;
	char *save = NULL;
	int samples = 0;

	moat_io_buf_init(&b);
	moat_io_metrics_prom(&b, &f->v);
	assert_non_null(strstr(b.p, "moat_packets_total{verdict=\"pass\"} 7\n"));
	assert_non_null(strstr(b.p, "moat_packets_total{verdict=\"drop\"} 3\n"));
	assert_non_null(strstr(b.p, "moat_drops_total{reason=\"spoof-zone\"} 2\n"));
	assert_non_null(strstr(b.p, "moat_passes_total{reason=\"state-match\"} 7\n"));
	assert_null(strstr(b.p, "moat_drops_total{reason=\"state-match\"}"));
	/* Passes that leave the flow as it was are passes too. */
	assert_non_null(strstr(b.p, "moat_passes_total{reason=\"tcp-syn-reuse\"}"));
	assert_null(strstr(b.p, "moat_drops_total{reason=\"tcp-stale-retransmit\"}"));
	assert_non_null(strstr(b.p, "# TYPE moat_flows gauge\nmoat_flows 4\n"));
	assert_non_null(strstr(b.p, "moat_port_oversize_total{port=\"in0\"} 1\n"));
	assert_non_null(strstr(b.p, "moat_port_rx_packets_total{port=\"out0\"} 8\n"));
	assert_non_null(strstr(b.p, "moat_port_ring_delay_max_seconds{port=\"out0\"} 0.002500\n"));
	for (char *l = strtok_r(b.p, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(l, ' ');
		char *end;

		if (l[0] == '#') {
			assert_true(!strncmp(l, "# HELP ", 7) || !strncmp(l, "# TYPE ", 7));
			continue;
		}
		assert_non_null(sp);
		strtod(sp + 1, &end);
		assert_true(end > sp + 1 && *end == 0);
		assert_true(!strncmp(l, "moat_", 5));
		assert_true(!strchr(l, '{') || sp[-1] == '}');
		samples++;
	}
	assert_true(samples > MOAT_R_COUNT);
	moat_io_buf_free(&b);
	free(f);
}

static int handler(void *arg, const struct moat_io_ctl_req *req,
		   struct moat_io_buf *out)
{
	int *calls = arg;

	(*calls)++;
	if (req->cmd == MOAT_IO_CTL_RELOAD) {
		moat_io_buf_printf(out, "x.conf:1:1: bad\n");
		return -1;
	}
	moat_io_buf_printf(out, "cmd %d json %d\n", req->cmd, req->json);
	return 0;
}

/* Serve @line over a real socket; returns the whole reply. */
static char *round_trip(struct moat_io_ctl *c, const char *path,
			const char *line)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	static char reply[512];
	size_t got = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	shutdown(fd, SHUT_WR);
	/* Bounded: a few service turns are enough for a short reply. */
	for (int turn = 0; turn < 100; turn++) {
		struct pollfd pfd[1 + MOAT_IO_CTL_CLIENTS];
		int n = moat_io_ctl_pollfds(c, pfd, 1 + MOAT_IO_CTL_CLIENTS);
		ssize_t r;

		poll(pfd, (nfds_t)n, 100);
		moat_io_ctl_service(c, pfd, n);
		r = recv(fd, reply + got, sizeof(reply) - 1 - got, MSG_DONTWAIT);
		if (r == 0)
			break;
		if (r > 0)
			got += (size_t)r;
	}
	reply[got] = 0;
	close(fd);
	return reply;
}

static void server_round_trip(void **state)
{
	(void)state;
	char path[64];
	struct stat st;
	int calls = 0;
	struct moat_io_ctl *c;

	snprintf(path, sizeof(path), "/tmp/moat-test-ctl.%d", (int)getpid());
	c = moat_io_ctl_open(path, handler, &calls);
	assert_non_null(c);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_string_equal(round_trip(c, path, "stats --json\n"),
			    "ok\ncmd 0 json 1\n");
	assert_string_equal(round_trip(c, path, "reload\n"),
			    "error\nx.conf:1:1: bad\n");
	assert_string_equal(round_trip(c, path, "bogus\n"),
			    "error\nunknown command 'bogus'\n");
	assert_int_equal(calls, 2);
	moat_io_ctl_close(c);
	assert_int_equal(stat(path, &st), -1);
}

/* A reload is answered later: the handler puts it off, the client waits
 * (and gets nothing meanwhile), the answer reaches it by its ticket. */
struct later {
	uint64_t ticket;
	int calls;
};

static int later_handler(void *arg, const struct moat_io_ctl_req *req,
			 struct moat_io_buf *out)
{
	struct later *l = arg;

	(void)out;
	l->calls++;
	l->ticket = req->ticket;
	return MOAT_IO_CTL_LATER;
}

static int connect_and_send(const char *path, const char *line)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	shutdown(fd, SHUT_WR);
	return fd;
}

static void serve_turns(struct moat_io_ctl *c, int turns)
{
	for (int turn = 0; turn < turns; turn++) {
		struct pollfd pfd[1 + MOAT_IO_CTL_CLIENTS];
		int n = moat_io_ctl_pollfds(c, pfd, 1 + MOAT_IO_CTL_CLIENTS);

		poll(pfd, (nfds_t)n, 10);
		moat_io_ctl_service(c, pfd, n);
	}
}

static void server_answers_later(void **state)
{
	struct later l = { 0, 0 };
	char path[64], reply[128];
	struct moat_io_ctl *c;
	ssize_t r;
	int fd, fd2;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/moat-test-ctl-later.%d", (int)getpid());
	c = moat_io_ctl_open(path, later_handler, &l);
	assert_non_null(c);
	fd = connect_and_send(path, "reload\n");
	serve_turns(c, 10);
	assert_int_equal(l.calls, 1);
	assert_true(l.ticket > 0);
	/* Waiting: no answer yet, and the connection stays open. */
	r = recv(fd, reply, sizeof(reply), MSG_DONTWAIT);
	assert_int_equal(r, -1);
	assert_int_equal(moat_io_ctl_answer(c, l.ticket + 1, 0, "x\n"), -ENOENT);
	assert_int_equal(moat_io_ctl_answer(c, l.ticket, 0, "reloaded\n"), 0);
	serve_turns(c, 5);
	r = recv(fd, reply, sizeof(reply) - 1, MSG_DONTWAIT);
	assert_true(r > 0);
	reply[r] = 0;
	assert_string_equal(reply, "ok\nreloaded\n");
	assert_int_equal(recv(fd, reply, sizeof(reply), 0), 0); /* closed */
	close(fd);
	/* A client that hangs up while it waits is let go. */
	fd2 = connect_and_send(path, "reload\n");
	serve_turns(c, 10);
	assert_int_equal(l.calls, 2);
	close(fd2);
	serve_turns(c, 10);
	assert_int_equal(moat_io_ctl_answer(c, l.ticket, -1, "late\n"), -ENOENT);
	moat_io_ctl_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_table),
		cmocka_unit_test(flow_filters),
		cmocka_unit_test(flow_lines),
		cmocka_unit_test(parse_too_long),
		cmocka_unit_test(buf_grows),
		cmocka_unit_test(stats_text),
		cmocka_unit_test(stats_json),
		cmocka_unit_test(metrics_reason_families),
		cmocka_unit_test(metrics_prom),
		cmocka_unit_test(server_round_trip),
		cmocka_unit_test(server_answers_later),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
