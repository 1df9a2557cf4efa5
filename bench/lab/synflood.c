/*
 * synflood: the lab's fast spoofed-SYN generator (issue 12, item 4).
 *
 *   synflood -i IFNAME --dst-mac MAC --dst ADDR [--dport PORT]
 *            [--src PREFIX] [--src-mac MAC] [-n COUNT] [-t SECONDS]
 *            [-r PPS] [--batch N] [--obj FILE]
 *
 * Builds one SYN to ADDR:PORT from PREFIX (default 198.18.128.0/17, or
 * 2001:db8:8000::/33 for an IPv6 ADDR), loads synflood.bpf.o and runs it
 * with BPF_PROG_TEST_RUN in live-frames mode (Linux 5.18) on IFNAME: the
 * kernel feeds the XDP program copies of the SYN, the program draws the
 * source address (the prefix's host bits), the port and the ISN of each
 * one, and XDP_TX sends it out of IFNAME (synflood.bpf.c).  No socket, no
 * skb on the sending side: it goes several times faster than trafgen.
 *
 * Bounded in count and in time, like every lab load: it stops after COUNT
 * frames (default 1,000,000) or SECONDS (default 10), whichever comes
 * first, by itself; SIGINT/SIGTERM stop it too.  Every address must lie
 * in the lab's ranges (198.18.0.0/15, 2001:db8::/32) or it refuses to
 * start.  -r paces to PPS frames a second as one burst (at full speed)
 * every 100 ms, coarser than trafgen's -b; without it, as fast as the
 * core goes, which is what it is for.  On a veth the peer must run an XDP program
 * (xdp_pass.bpf.o), else the peer drops every frame (LAB-NOTES).
 *
 * Prints one line: frames handed to the kernel, seconds, and the rate.
 * Exit: 0 done, 1 error, 2 usage, 77 the kernel lacks live frames.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "synflood.h"

enum {
	ETH_LEN = 14,
	IP4_LEN = 20,
	IP6_LEN = 40,
	TCP_LEN = 20,
	FRAME_MAX = SYNFLOOD_LEN6,
	/* Pacing slot with -r: each test run costs 15-30 ms of setting up
	 * and tearing down its page pool here, so slots much shorter than
	 * that could not keep the rate. */
	SLOT_NS = 100000000,
	CHUNK = 1 << 16,         /* frames per test run without -r */
	BATCH_MAX = 256,         /* the kernel's TEST_XDP_MAX_BATCH */
};

struct args {
	const char *ifname, *obj;
	uint8_t dmac[6], smac[6];
	bool have_dmac, have_smac;
	int family;                  /* AF_INET or AF_INET6, from --dst */
	uint8_t dst[16], src[16];
	int src_len;                 /* prefix length, -1: the default */
	uint16_t dport;
	unsigned long long count;
	double seconds;
	unsigned long pps;
	unsigned batch;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: synflood -i IFNAME --dst-mac MAC --dst ADDR [--dport PORT]\n"
		   "                [--src PREFIX] [--src-mac MAC] [-n COUNT] [-t SECONDS]\n"
		   "                [-r PPS] [--batch N] [--obj FILE]\n"
		   "  spoofed SYNs from PREFIX (default 198.18.128.0/17 or\n"
		   "  2001:db8:8000::/33) to ADDR:PORT (default 80), at most COUNT\n"
		   "  (default 1000000) in at most SECONDS (default 10), sent by an XDP\n"
		   "  program in BPF_PROG_TEST_RUN live-frames mode on IFNAME\n");
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int parse_mac(const char *s, uint8_t m[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		m[i] = (uint8_t)v[i];
	}
	return 0;
}

/* ADDR or ADDR/LEN into @a; returns the family, -1 on error. */
static int parse_addr(const char *s, uint8_t a[16], int *len)
{
	char buf[64], *slash;
	int fam;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	memset(a, 0, 16);
	if (inet_pton(AF_INET, buf, a) == 1)
		fam = AF_INET;
	else if (inet_pton(AF_INET6, buf, a) == 1)
		fam = AF_INET6;
	else
		return -1;
	if (len) {
		char *end;
		long l = slash ? strtol(slash, &end, 10) : (fam == AF_INET ? 32 : 128);

		if ((slash && *end) || l < 0 || l > (fam == AF_INET ? 32 : 128))
			return -1;
		*len = (int)l;
	} else if (slash) {
		return -1;
	}
	return fam;
}

/* Within PREFIX/LEN (the first @len bits of @p)?  @a holds @total bits. */
static bool in_prefix(const uint8_t *a, const uint8_t *p, int len)
{
	int full = len / 8, rest = len % 8;

	if (memcmp(a, p, (size_t)full))
		return false;
	return !rest || !((a[full] ^ p[full]) & (0xff << (8 - rest)));
}

/* Only the lab's own ranges: RFC 2544's 198.18.0.0/15, RFC 3849's
 * 2001:db8::/32.  A prefix must lie inside, not just start there. */
static bool lab_range(int fam, const uint8_t *a, int len)
{
	static const uint8_t v4[4] = { 198, 18 }, v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	return fam == AF_INET ? len >= 15 && in_prefix(a, v4, 15)
			      : len >= 32 && in_prefix(a, v6, 32);
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "dst-mac", required_argument, NULL, 'D' },
		{ "src-mac", required_argument, NULL, 'S' },
		{ "dst", required_argument, NULL, 'd' },
		{ "dport", required_argument, NULL, 'p' },
		{ "src", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 't' },
		{ "rate", required_argument, NULL, 'r' },
		{ "batch", required_argument, NULL, 'b' },
		{ "obj", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *src = NULL, *dst = NULL;
	char *end;
	int o, sfam;

	memset(a, 0, sizeof(*a));
	a->dport = 80;
	a->count = 1000000;
	a->seconds = 10;
	a->batch = 64;
	a->src_len = -1;
	while ((o = getopt_long(argc, argv, "i:d:p:s:n:t:r:h", opts, NULL)) != -1) {
		switch (o) {
		case 'i': a->ifname = optarg; break;
		case 'D':
			if (parse_mac(optarg, a->dmac) < 0)
				goto bad;
			a->have_dmac = true;
			break;
		case 'S':
			if (parse_mac(optarg, a->smac) < 0)
				goto bad;
			a->have_smac = true;
			break;
		case 'd': dst = optarg; break;
		case 's': src = optarg; break;
		case 'p': {
			long v = strtol(optarg, &end, 10);

			if (*end || v < 1 || v > 65535)
				goto bad;
			a->dport = (uint16_t)v;
			break;
		}
		case 'n':
			a->count = strtoull(optarg, &end, 10);
			if (*end || a->count == 0)
				goto bad;
			break;
		case 't':
			a->seconds = strtod(optarg, &end);
			if (*end || !(a->seconds > 0 && a->seconds <= 3600))
				goto bad;
			break;
		case 'r':
			a->pps = strtoul(optarg, &end, 10);
			if (*end || a->pps < 100)
				goto bad;
			break;
		case 'b': {
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v < 1 || v > BATCH_MAX)
				goto bad;
			a->batch = (unsigned)v;
			break;
		}
		case 'o': a->obj = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (!a->ifname || !a->have_dmac || !dst || optind != argc) {
		usage(stderr);
		return -1;
	}
	a->family = parse_addr(dst, a->dst, NULL);
	if (a->family < 0)
		goto bad;
	if (!src)
		src = a->family == AF_INET ? "198.18.128.0/17" : "2001:db8:8000::/33";
	sfam = parse_addr(src, a->src, &a->src_len);
	if (sfam != a->family) {
		fprintf(stderr, "synflood: --src %s: not an %s prefix\n", src,
			a->family == AF_INET ? "IPv4" : "IPv6");
		return -1;
	}
	if (!lab_range(a->family, a->dst, a->family == AF_INET ? 32 : 128) ||
	    !lab_range(a->family, a->src, a->src_len)) {
		fprintf(stderr, "synflood: addresses must lie in the lab's "
			"198.18.0.0/15 or 2001:db8::/32\n");
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "synflood: bad value: %s\n", optarg ? optarg : "?");
	usage(stderr);
	return -1;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The template SYN with correct checksums; returns its length.  The
 * same frame as the lab's trafgen packet: no TCP options, window 64240,
 * IPv4 with DF, TTL/hop limit 64. */
static size_t build_syn(const struct args *a, uint8_t *f)
{
	uint8_t *ip = f + ETH_LEN, *tcp;
	uint32_t s;
	size_t iplen = a->family == AF_INET ? IP4_LEN : IP6_LEN;

	memset(f, 0, FRAME_MAX);
	memcpy(f, a->dmac, 6);
	memcpy(f + 6, a->smac, 6);
	put16(f + 12, a->family == AF_INET ? 0x0800 : 0x86dd);
	tcp = ip + iplen;
	if (a->family == AF_INET) {
		ip[0] = 0x45;
		put16(ip + 2, IP4_LEN + TCP_LEN);
		put16(ip + 6, 0x4000);           /* DF */
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, a->src, 4);
		memcpy(ip + 16, a->dst, 4);
		put16(ip + 10, fold(sum16(ip, IP4_LEN, 0)));
		s = sum16(ip + 12, 8, 0);
	} else {
		ip[0] = 0x60;
		put16(ip + 4, TCP_LEN);
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		memcpy(ip + 8, a->src, 16);
		memcpy(ip + 24, a->dst, 16);
		s = sum16(ip + 8, 32, 0);
	}
	put16(tcp, 1024);
	put16(tcp + 2, a->dport);
	tcp[12] = 5 << 4;
	tcp[13] = 0x02;                          /* SYN */
	put16(tcp + 14, 64240);
	s += IPPROTO_TCP + TCP_LEN;              /* the pseudo-header's rest */
	put16(tcp + 16, fold(sum16(tcp, TCP_LEN, s)));
	return ETH_LEN + iplen + TCP_LEN;
}

/* The program's configuration: the template and the host bits of the
 * source prefix, by 32-bit word in network order. */
static void make_cfg(const struct args *a, const uint8_t *frame, size_t len,
		     struct synflood_cfg *c)
{
	int bits = a->family == AF_INET ? 32 : 128;
	uint8_t m[16] = { 0 };

	for (int i = a->src_len; i < bits; i++)
		m[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	memset(c, 0, sizeof(*c));
	c->ipv = a->family == AF_INET ? 4 : 6;
	memcpy(c->frame, frame, len);
	if (a->family == AF_INET)
		memcpy(&c->mask4, m, 4);
	else
		memcpy(c->mask6, m, 16);
}

static int own_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), r;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	r = ioctl(fd, SIOCGIFHWADDR, &ifr);
	close(fd);
	if (r < 0)
		return -1;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

/* synflood.bpf.o beside this program, unless --obj says otherwise. */
static const char *default_obj(char *buf, size_t n)
{
	ssize_t l = readlink("/proc/self/exe", buf, n - 32);
	char *slash;

	if (l <= 0)
		return "synflood.bpf.o";
	buf[l] = '\0';
	slash = strrchr(buf, '/');
	snprintf(slash ? slash + 1 : buf, 32, "synflood.bpf.o");
	return buf;
}

static struct bpf_object *load(const char *path, const struct synflood_cfg *c,
			       int *prog_fd)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog;
	struct bpf_map *map;
	bool set = false;
	int err;

	if (!obj) {
		fprintf(stderr, "synflood: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	/* The one .rodata variable is the configuration. */
	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		size_t l = strlen(name);

		if (l >= 7 && !strcmp(name + l - 7, ".rodata")) {
			err = bpf_map__set_initial_value(map, c, sizeof(*c));
			if (err) {
				fprintf(stderr, "synflood: configuration: %s\n",
					strerror(-err));
				goto fail;
			}
			set = true;
		}
	}
	prog = bpf_object__find_program_by_name(obj, "synflood");
	if (!set || !prog) {
		fprintf(stderr, "synflood: %s is not synflood.bpf.o\n", path);
		goto fail;
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "synflood: loading %s: %s\n", path, strerror(-err));
		goto fail;
	}
	*prog_fd = bpf_program__fd(prog);
	return obj;
fail:
	bpf_object__close(obj);
	return NULL;
}

/* One test run of @n frames; returns 0, or a negative errno. */
static int send_frames(int prog_fd, const uint8_t *frame, size_t len,
		       int ifindex, unsigned n, unsigned batch)
{
	struct xdp_md ctx = {
		.data_end = (uint32_t)len,
		.ingress_ifindex = (uint32_t)ifindex,
	};
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = frame,
		.data_size_in = (uint32_t)len,
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.repeat = (int)n,
		.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		.batch_size = batch,
	);

	return bpf_prog_test_run_opts(prog_fd, &o) ? -errno : 0;
}

int main(int argc, char **argv)
{
	struct args a;
	struct synflood_cfg cfg;
	struct bpf_object *obj;
	uint8_t frame[FRAME_MAX];
	char objbuf[4096];
	unsigned long long sent = 0;
	uint64_t t0, deadline, slot, t;
	size_t len;
	int ifindex, prog_fd, rc = 0, err;

	if (parse_args(argc, argv, &a) < 0)
		return 2;
	ifindex = (int)if_nametoindex(a.ifname);
	if (!ifindex) {
		fprintf(stderr, "synflood: %s: %s\n", a.ifname, strerror(errno));
		return 1;
	}
	if (!a.have_smac && own_mac(a.ifname, a.smac) < 0) {
		fprintf(stderr, "synflood: %s: no MAC address\n", a.ifname);
		return 1;
	}
	len = build_syn(&a, frame);
	make_cfg(&a, frame, len, &cfg);
	libbpf_set_print(NULL);
	obj = load(a.obj ? a.obj : default_obj(objbuf, sizeof(objbuf)), &cfg,
		   &prog_fd);
	if (!obj)
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGALRM, on_signal);
	/* A hard stop should a test run outlast its slot: the kernel's
	 * loop ends at a pending signal. */
	alarm((unsigned)a.seconds + 2);

	t0 = now_ns();
	deadline = t0 + (uint64_t)(a.seconds * 1e9);
	slot = t0;
	while (!stop && sent < a.count && (t = now_ns()) < deadline) {
		unsigned long long n = a.count - sent;

		if (a.pps) {
			unsigned long long per = a.pps / (1000000000ull / SLOT_NS);

			if (t < slot) {
				struct timespec ts = { 0, (long)(slot - t) };

				nanosleep(&ts, NULL);
				continue;
			}
			slot += SLOT_NS;
			if (n > per)
				n = per ? per : 1;
		} else if (n > CHUNK) {
			n = CHUNK;
		}
		err = send_frames(prog_fd, frame, len, ifindex, (unsigned)n, a.batch);
		if (err == -EINTR)
			break;
		if (err) {
			fprintf(stderr, "synflood: BPF_PROG_TEST_RUN (live frames) "
				"on %s: %s\n", a.ifname, strerror(-err));
			rc = err == -EINVAL || err == -EOPNOTSUPP ? 77 : 1;
			break;
		}
		sent += n;
	}
	t = now_ns() - t0;
	printf("synflood: %llu frames in %.2f s = %.0f pps (XDP live frames on %s)\n",
	       sent, (double)t / 1e9, t ? (double)sent * 1e9 / (double)t : 0.0,
	       a.ifname);
	bpf_object__close(obj);
	return rc;
}
