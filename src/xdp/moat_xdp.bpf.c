/*
 * moat's XDP program: the first thing a frame meets on a zone interface,
 * before any copy to userspace.  It answers one kind of packet itself and
 * leaves every other to the engine:
 *
 *   frame --> Ethernet, IPv4/IPv6, TCP, a pure SYN?  --no--> on (engine)
 *                 | yes
 *                 v
 *             destination in moat_dsts (the engine put it in cookie
 *             mode)?  checksums and options as the engine would accept
 *             them?  a key for this epoch?              --no--> on
 *                 | yes
 *                 v
 *             the engine's cookie SYN-ACK, built in place  --> XDP_TX
 *
 * Before that, when the engine's antispoof is on, TCP and UDP from a
 * martian source are dropped (XDP_DROP), as the engine would drop them.
 *
 * "On" is XDP_PASS (the AF_PACKET backend reads it from the kernel), or,
 * when moat_cfg says so, the AF_XDP socket of the rx queue in xsks_map.
 *
 * The engine stays the one authority: the program answers only
 * destinations the engine has put in cookie mode (userspace mirrors its
 * decisions into moat_dsts, src/io/xdp.c), with the engine's cookie
 * (moat/cookie_core.h, the same code), the engine's keys (pushed into
 * moat_keys at every rotation) and the SYN-ACK the engine would emit
 * (src/synproxy/proxy.c synack_options(), src/pkt/build.c), byte for byte;
 * tests/unit/xdp checks that.  Whatever it is unsure of (VLAN tags, IP
 * options, extension headers, odd options, bad checksums) goes on to the
 * engine, which judges and counts it as it always did.
 *
 * Maps and counters: moat/xdp_maps.h.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "moat/cookie_core.h"
#include "moat/xdp_maps.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct moat_xdp_config);
} moat_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct moat_xdp_key);
} moat_keys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MOAT_XDP_DSTS_MAX);
	__type(key, struct moat_syn_dst_key);
	__type(value, struct moat_xdp_dst);
} moat_dsts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MOAT_XDP_ST_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} moat_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, MOAT_XDP_XSKS_MAX);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, MOAT_XDP_SYNACK_RING);
} moat_synacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MOAT_XDP_SRCS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct moat_xdp_src_key);
	__type(value, struct moat_xdp_src_val);
} moat_srcs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MOAT_XDP_PORTS_MAX);
	__type(key, __u32);
	__type(value, struct moat_xdp_port);
} moat_ports SEC(".maps");

enum {
	ETH_HLEN_ = 14,
	IP4_HLEN = 20,
	IP6_HLEN = 40,
	TCP_HLEN = 20,
	TCP_HLEN_MAX = 60,
	TCP_OPT_MAX = 40,
	/* The SYN-ACK: Ethernet, IPv6, TCP with MSS, SACK-permitted and
	 * timestamps, window scale (20 bytes of options). */
	SYNACK_MAX = ETH_HLEN_ + IP6_HLEN + TCP_HLEN + 20,
	TH_FIN = 0x01, TH_SYN = 0x02, TH_RST = 0x04, TH_ACK = 0x10,
	TH_ECE = 0x40, TH_CWR = 0x80,
	OPT_MSS = 1, OPT_WSCALE = 2, OPT_SACK_PERM = 4, OPT_TS = 8,
	/* RFC 9293 section 3.7.1 / RFC 8200 section 5: no MSS option. */
	DEFAULT_MSS4 = 536,
	DEFAULT_MSS6 = 1220,
	IPPROTO_TCP_ = 6,
	TTL = 64,   /* what src/pkt/build.c writes */
};

static __always_inline void count(__u32 stat)
{
	__u64 *n = bpf_map_lookup_elem(&moat_stats, &stat);

	if (n)
		*n += 1;
}

/* What the SYN says, in host order, addresses as on the wire. */
struct syn_view {
	__u8 v6;
	__u8 flags;
	__u16 sport, dport;
	__u32 seq;
	__u8 src[16], dst[16];  /* IPv4: the first 4 bytes */
	__u8 mac_src[6], mac_dst[6];
	__u16 ethertype;        /* network order */
	/* options, as src/pkt/tcp.c reads them */
	__u8 present;
	__u8 wscale;
	__u16 mss;
	__u32 tsval;
};

static __always_inline __u16 rd16(const __u8 *b)
{
	return (__u16)(b[0] << 8 | b[1]);
}

static __always_inline __u32 rd32(const __u8 *b)
{
	return (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3];
}

static __always_inline void wr16(__u8 *b, __u16 v)
{
	b[0] = (__u8)(v >> 8);
	b[1] = (__u8)v;
}

static __always_inline void wr32(__u8 *b, __u32 v)
{
	moat_cookie_put32(b, v);
}

/* The ones' complement sum of @len bytes (even, at most @max) at @b. */
static __always_inline __u32 csum_add(const __u8 *b, __u32 len, __u32 max,
				      __u32 sum)
{
	for (__u32 i = 0; i + 1 < max; i += 2)
		if (i < len)
			sum += (__u32)b[i] << 8 | b[i + 1];
	return sum;
}

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* The TCP pseudo header's sum (RFC 9293 3.1, RFC 8200 8.1). */
static __always_inline __u32 csum_pseudo(__u8 v6, const __u8 *src,
					 const __u8 *dst, __u32 l4len)
{
	__u32 sum = IPPROTO_TCP_ + l4len;

	if (v6) {
		sum = csum_add(src, 16, 16, sum);
		return csum_add(dst, 16, 16, sum);
	}
	sum = csum_add(src, 4, 4, sum);
	return csum_add(dst, 4, 4, sum);
}

/*
 * The SYN's options as src/pkt/tcp.c parses them: a fixed-length option
 * of the wrong length, or one that runs past the header, is the engine's
 * tcp-bad-option, so `bad` (the engine drops and counts it).  One option
 * per step of bpf_loop(), whose callback the verifier checks once: each
 * step consumes at least one byte of at most 40, so 40 steps are enough.
 */
struct opt_walk {
	__u8 o[64];
	__u32 olen, at;
	__u32 bad;
	__u8 present, wscale;
	__u16 mss;
	__u32 tsval;
};

static long opt_step(__u64 index, void *arg)
{
	struct opt_walk *w = arg;
	__u32 at = w->at, kind, len;

	if (at >= w->olen || at >= TCP_OPT_MAX)
		return 1;
	kind = w->o[at & 63];
	if (kind == 0)
		return 1;
	if (kind == 1) {
		w->at = at + 1;
		return 0;
	}
	if (at + 1 >= w->olen)
		goto bad;
	len = w->o[(at + 1) & 63];
	if (len < 2 || at + len > w->olen)
		goto bad;
	switch (kind) {
	case 2:
		if (len != 4)
			goto bad;
		w->mss = rd16(&w->o[(at + 2) & 63]);
		w->present |= OPT_MSS;
		break;
	case 3:
		if (len != 3)
			goto bad;
		w->wscale = w->o[(at + 2) & 63];
		if (w->wscale > MOAT_COOKIE_WSCALE_MAX)
			w->wscale = MOAT_COOKIE_WSCALE_MAX;
		w->present |= OPT_WSCALE;
		break;
	case 4:
		if (len != 2)
			goto bad;
		w->present |= OPT_SACK_PERM;
		break;
	case 8:
		if (len != 10)
			goto bad;
		w->tsval = (__u32)w->o[(at + 2) & 63] << 24 |
			   (__u32)w->o[(at + 3) & 63] << 16 |
			   (__u32)w->o[(at + 4) & 63] << 8 |
			   w->o[(at + 5) & 63];
		w->present |= OPT_TS;
		break;
	case 5:
		/* SACK blocks on a SYN: checked as the engine does
		 * (RFC 2018 section 3, at most 4), then ignored. */
		if (len < 10 || (len - 2) % 8 != 0 || len > 34)
			goto bad;
		break;
	default:
		break;
	}
	w->at = at + len;
	return 0;
bad:
	w->bad = 1;
	return 1;
}

static __always_inline int parse_options(struct syn_view *s,
					 struct opt_walk *w)
{
	bpf_loop(TCP_OPT_MAX, opt_step, w, 0);
	if (w->bad)
		return -1;
	s->present = w->present;
	s->wscale = w->wscale;
	s->mss = w->mss;
	s->tsval = w->tsval;
	return 0;
}

/* The TCP header at @off (@seg_len bytes of segment): a pure SYN that the
 * engine would accept, read into @s.  Returns a stat to pass with, or 0. */
static __always_inline __u32 read_tcp(struct xdp_md *ctx, __u32 off,
				      __u32 seg_len, struct syn_view *s)
{
	struct opt_walk w;
	__u8 h[TCP_HLEN];
	__u32 hlen, olen, sum;

	if (bpf_xdp_load_bytes(ctx, off, h, TCP_HLEN) < 0)
		return MOAT_XDP_ST_PASS_CHECK;
	s->flags = h[13];
	/* A pure SYN (ECE and CWR allowed: RFC 3168 6.1.1); what else the
	 * engine judges, as every other segment. */
	if ((s->flags & ~(TH_ECE | TH_CWR)) != TH_SYN)
		return MOAT_XDP_ST_PASS_NOT_SYN;
	hlen = (__u32)(h[12] >> 4) * 4;
	if (hlen < TCP_HLEN || hlen > seg_len)
		return MOAT_XDP_ST_PASS_CHECK;
	if (hlen != seg_len)
		return MOAT_XDP_ST_PASS_SHAPE; /* a SYN with data */
	s->sport = rd16(h);
	s->dport = rd16(h + 2);
	s->seq = rd32(h + 4);
	if (s->sport == 0 || s->dport == 0)
		return MOAT_XDP_ST_PASS_CHECK;
	__builtin_memset(&w, 0, sizeof(w));
	olen = hlen - TCP_HLEN;
	if (olen > TCP_OPT_MAX)
		return MOAT_XDP_ST_PASS_CHECK;
	if (olen && bpf_xdp_load_bytes(ctx, off + TCP_HLEN, w.o, olen) < 0)
		return MOAT_XDP_ST_PASS_CHECK;
	w.olen = olen;
	sum = csum_pseudo(s->v6, s->src, s->dst, hlen);
	sum = csum_add(h, TCP_HLEN, TCP_HLEN, sum);
	sum = csum_add(w.o, olen, TCP_OPT_MAX, sum);
	if (csum_fold(sum) != 0xffff)
		return MOAT_XDP_ST_PASS_CHECK;
	if (parse_options(s, &w) < 0)
		return MOAT_XDP_ST_PASS_CHECK;
	return 0;
}

/* Ethernet, IPv4 or IPv6 without options or extension headers, TCP. */
static __always_inline __u32 read_syn(struct xdp_md *ctx, struct syn_view *s)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *eth = data, *ip = (__u8 *)data + ETH_HLEN_;
	__u32 frame = (__u32)(end - data), seg_len;

	if ((void *)ip > end)
		return MOAT_XDP_ST_PASS_NOT_SYN;
	__builtin_memcpy(s->mac_dst, eth, 6);
	__builtin_memcpy(s->mac_src, eth + 6, 6);
	s->ethertype = (__u16)(eth[12] | eth[13] << 8);
	if (s->ethertype == bpf_htons(ETH_P_8021Q) ||
	    s->ethertype == bpf_htons(ETH_P_8021AD))
		return MOAT_XDP_ST_PASS_SHAPE;
	if (s->ethertype == bpf_htons(ETH_P_IP)) {
		__u32 tot;

		if ((void *)(ip + IP4_HLEN) > end)
			return MOAT_XDP_ST_PASS_CHECK;
		if (ip[9] != IPPROTO_TCP_)
			return MOAT_XDP_ST_PASS_NOT_SYN;
		if (ip[0] != 0x45)
			return MOAT_XDP_ST_PASS_SHAPE; /* options, or bad */
		/* MF or an offset: a fragment (RFC 791). */
		if ((rd16(ip + 6) & 0x3fff) != 0)
			return MOAT_XDP_ST_PASS_SHAPE;
		tot = rd16(ip + 2);
		if (tot < IP4_HLEN + TCP_HLEN || ETH_HLEN_ + tot > frame)
			return MOAT_XDP_ST_PASS_CHECK;
		if (csum_fold(csum_add(ip, IP4_HLEN, IP4_HLEN, 0)) != 0xffff)
			return MOAT_XDP_ST_PASS_CHECK;
		__builtin_memcpy(s->src, ip + 12, 4);
		__builtin_memcpy(s->dst, ip + 16, 4);
		s->v6 = 0;
		seg_len = tot - IP4_HLEN;
		return read_tcp(ctx, ETH_HLEN_ + IP4_HLEN, seg_len, s);
	}
	if (s->ethertype == bpf_htons(ETH_P_IPV6)) {
		__u32 plen;

		if ((void *)(ip + IP6_HLEN) > end)
			return MOAT_XDP_ST_PASS_CHECK;
		if ((ip[0] >> 4) != 6)
			return MOAT_XDP_ST_PASS_CHECK;
		if (ip[6] != IPPROTO_TCP_)
			return MOAT_XDP_ST_PASS_SHAPE; /* extension headers */
		plen = rd16(ip + 4);
		if (plen < TCP_HLEN || ETH_HLEN_ + IP6_HLEN + plen > frame)
			return MOAT_XDP_ST_PASS_CHECK;
		__builtin_memcpy(s->src, ip + 8, 16);
		__builtin_memcpy(s->dst, ip + 24, 16);
		s->v6 = 1;
		return read_tcp(ctx, ETH_HLEN_ + IP6_HLEN, plen, s);
	}
	return MOAT_XDP_ST_PASS_NOT_SYN;
}

/*
 * Sources the engine never answers (src/engine/sanity.c drops them as
 * martians): left to it.  Unspecified, loopback, multicast, class E and
 * broadcast for IPv4; unspecified, loopback, multicast and IPv4-mapped
 * for IPv6 (RFC 6890, RFC 4291 2.5).
 */
static __always_inline bool src_unanswerable(const struct syn_view *s)
{
	const __u8 *a = s->src;

	if (!s->v6)
		return a[0] == 0 || a[0] == 127 || a[0] >= 224;
	if (a[0] == 0xff)
		return true;
	for (int i = 0; i < 10; i++)
		if (a[i])
			return false;
	return true; /* ::/80: unspecified, loopback, v4-mapped, v4-compat */
}

/*
 * A martian source as src/engine/sanity.c lists them (RFC 6890): IPv4
 * 0/8, 127/8, 224/4, 240/4; IPv6 ::, ::1, ff00::/8, ::ffff:0:0/96.  Only
 * for TCP and UDP, and never IPv4 UDP from 0.0.0.0: the engine lets a
 * DHCP client without an address (RFC 2131 4.1) and IPv6 neighbour
 * discovery (ICMPv6, from ::) by, so those are its to judge.  The engine
 * drops every frame this drops; for a frame that is also malformed it
 * would name the decode or checksum reason, which it checks first.
 */
static __always_inline bool martian_src(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *eth = data, *ip = (__u8 *)data + ETH_HLEN_;
	__u16 type;

	if ((void *)ip > end)
		return false;
	type = (__u16)(eth[12] | eth[13] << 8);
	if (type == bpf_htons(ETH_P_IP)) {
		if ((void *)(ip + IP4_HLEN) > end || (ip[0] >> 4) != 4)
			return false;
		if (ip[9] != IPPROTO_TCP_ && ip[9] != 17)
			return false;
		if (ip[12] == 0)
			return ip[9] == IPPROTO_TCP_;
		return ip[12] == 127 || ip[12] >= 224;
	}
	if (type == bpf_htons(ETH_P_IPV6)) {
		__u8 *a = ip + 8;
		__u8 acc = 0;

		if ((void *)(ip + IP6_HLEN) > end || (ip[0] >> 4) != 6)
			return false;
		if (ip[6] != IPPROTO_TCP_ && ip[6] != 17)
			return false;
		if (a[0] == 0xff)
			return true;
		for (int i = 0; i < 10; i++)
			acc |= a[i];
		if (acc)
			return false;
		if (a[10] == 0xff && a[11] == 0xff)
			return true;  /* IPv4-mapped on the wire */
		acc = a[10] | a[11] | a[12] | a[13] | a[14];
		return acc == 0 && (a[15] == 0 || a[15] == 1);
	}
	return false;
}

/*
 * Antispoof as the engine applies it before the rules (sanity.c), for a
 * SYN about to be answered: from itself to itself (land), a source that
 * another zone owns or, for a zone with networks, that it does not own
 * (BCP 38), a bogon.  Any of them, or an interface moat did not describe:
 * the engine's to judge and drop.  @key: the source, ::ffff:-mapped.
 */
static __always_inline bool source_refused(struct xdp_md *ctx,
					   const struct syn_view *s)
{
	struct moat_xdp_src_key k = { 0 };
	const struct moat_xdp_src_val *v;
	const struct moat_xdp_port *port;
	__u32 ifindex = ctx->ingress_ifindex;
	int same = 1;

	for (int i = 0; i < 16; i++)
		if (i < (s->v6 ? 16 : 4) && s->src[i] != s->dst[i])
			same = 0;
	if (same)
		return true;
	port = bpf_map_lookup_elem(&moat_ports, &ifindex);
	if (!port)
		return true;
	if (s->v6) {
		__builtin_memcpy(k.addr, s->src, 16);
	} else {
		k.addr[10] = k.addr[11] = 0xff;
		__builtin_memcpy(k.addr + 12, s->src, 4);
	}
	k.prefixlen = 8 + 128;
	k.table = MOAT_XDP_SRC_ZONES;
	v = bpf_map_lookup_elem(&moat_srcs, &k);
	if (v ? v->zone != port->zone : port->has_networks != 0)
		return true;
	k.table = MOAT_XDP_SRC_BOGONS;
	return bpf_map_lookup_elem(&moat_srcs, &k) != NULL;
}

/* What the cookie SYN-ACK carries: src/synproxy/proxy.c synack_options(). */
struct synack {
	__u8 flags;
	__u8 present;
	__u8 wscale;      /* ours: the server's */
	__u16 mss;        /* ours: the server's */
	__u32 tsval, tsecr;
	__u8 c_wscale;    /* the client's, as the TSval carries it */
	__u8 c_sack, c_ecn;
	__u16 c_mss;      /* the client's, as the cookie carries it */
};

static __always_inline void synack_options(const struct syn_view *s,
					   const struct moat_xdp_dst *d,
					   __u64 now, __u32 ts_offset,
					   struct synack *a)
{
	__u8 c_ts = (s->present & OPT_TS) != 0;

	a->c_mss = (s->present & OPT_MSS) ? s->mss
		   : s->v6 ? DEFAULT_MSS6 : DEFAULT_MSS4;
	a->c_wscale = (s->present & OPT_WSCALE) ? s->wscale
						: MOAT_COOKIE_WSCALE_NONE;
	a->c_sack = (s->present & OPT_SACK_PERM) != 0;
	a->c_ecn = (s->flags & (TH_ECE | TH_CWR)) == (TH_ECE | TH_CWR);
	a->present = OPT_MSS;
	a->mss = d->mss;
	a->flags = TH_SYN | TH_ACK;
	/* Window scale, SACK and ECN survive the cookie only inside our
	 * TSval: without timestamps on both sides none is offered. */
	if (!(c_ts && (d->flags & MOAT_XDP_DST_TS))) {
		c_ts = 0;
		a->c_sack = a->c_ecn = 0;
		a->c_wscale = MOAT_COOKIE_WSCALE_NONE;
	}
	if (!(d->flags & MOAT_XDP_DST_SACK))
		a->c_sack = 0;
	if (!(d->flags & MOAT_XDP_DST_ECN))
		a->c_ecn = 0;
	if (d->wscale == MOAT_COOKIE_WSCALE_NONE)
		a->c_wscale = MOAT_COOKIE_WSCALE_NONE;
	if (a->c_wscale != MOAT_COOKIE_WSCALE_NONE) {
		a->present |= OPT_WSCALE;
		a->wscale = d->wscale;
	}
	if (a->c_sack)
		a->present |= OPT_SACK_PERM;
	if (a->c_ecn)
		a->flags |= TH_ECE;
	if (c_ts) {
		a->present |= OPT_TS;
		a->tsval = moat_cookie_ts(now, ts_offset, a->c_wscale,
					  a->c_sack, a->c_ecn);
		a->tsecr = s->tsval;
	}
}

/* The options in src/pkt/build.c's order (Linux's): MSS, SACK-permitted
 * with timestamps, window scale; NOP-padded as it does.  Returns the
 * length (a multiple of 4). */
static __always_inline __u32 write_options(__u8 *w, const struct synack *a)
{
	__u32 n = 0;

	w[0] = 2;
	w[1] = 4;
	wr16(w + 2, a->mss);
	n = 4;
	if ((a->present & OPT_SACK_PERM) && (a->present & OPT_TS)) {
		w[4] = 4;
		w[5] = 2;
	} else if (a->present & (OPT_TS | OPT_SACK_PERM)) {
		w[4] = w[5] = 1;
	}
	if (a->present & OPT_TS) {
		w[6] = 8;
		w[7] = 10;
		wr32(w + 8, a->tsval);
		wr32(w + 12, a->tsecr);
		n = 16;
	} else if (a->present & OPT_SACK_PERM) {
		w[6] = 4;
		w[7] = 2;
		n = 8;
	}
	if (a->present & OPT_WSCALE) {
		if (n == 4) {
			w[4] = 1;
			w[5] = 3;
			w[6] = 3;
			w[7] = a->wscale;
		} else if (n == 8) {
			w[8] = 1;
			w[9] = 3;
			w[10] = 3;
			w[11] = a->wscale;
		} else {
			w[16] = 1;
			w[17] = 3;
			w[18] = 3;
			w[19] = a->wscale;
		}
		n += 4;
	}
	return n;
}

/* The cookie for @s under @key at @now: moat/cookie_core.h, the same
 * computation as src/synproxy/cookie.c.  The family is a constant in
 * each branch, so the hash unrolls. */
static __always_inline __u32 make_cookie(const struct syn_view *s,
					 const __u8 *key, __u16 mss,
					 __u64 counter)
{
	__u8 block[MOAT_COOKIE_BLOCK_MAX];
	unsigned idx;

	if (s->v6) {
		idx = moat_cookie_mss_index(true, mss);
		moat_cookie_block(block, true, s->src, s->dst, s->sport,
				  s->dport, s->seq, counter, idx);
		return moat_cookie_isn(counter, idx,
				       moat_cookie_mac(key, block, true));
	}
	idx = moat_cookie_mss_index(false, mss);
	moat_cookie_block(block, false, s->src, s->dst, s->sport, s->dport,
			  s->seq, counter, idx);
	return moat_cookie_isn(counter, idx,
			       moat_cookie_mac(key, block, false));
}

/*
 * The SYN-ACK as src/pkt/build.c writes it: Ethernet with the addresses
 * swapped; IPv4 with id 0 and DF (RFC 6864), TTL 64, no TOS, or IPv6 with
 * no traffic class or flow label, hop limit 64; TCP from the server's
 * port.  Into @out; returns the frame's length.
 */
static __always_inline __u32 build_synack(__u8 *out,
					  const struct syn_view *s,
					  const struct synack *a,
					  __u32 cookie, __u16 win)
{
	__u32 iplen = s->v6 ? IP6_HLEN : IP4_HLEN, olen, l4len, sum;
	__u8 *ip = out + ETH_HLEN_, *tcp;

	__builtin_memcpy(out, s->mac_src, 6);
	__builtin_memcpy(out + 6, s->mac_dst, 6);
	__builtin_memcpy(out + 12, &s->ethertype, 2);
	tcp = ip + iplen;
	olen = write_options(tcp + TCP_HLEN, a);
	l4len = TCP_HLEN + olen;
	if (s->v6) {
		wr32(ip, 0x60000000);
		wr16(ip + 4, (__u16)l4len);
		ip[6] = IPPROTO_TCP_;
		ip[7] = TTL;
		__builtin_memcpy(ip + 8, s->dst, 16);
		__builtin_memcpy(ip + 24, s->src, 16);
	} else {
		ip[0] = 0x45;
		ip[1] = 0;
		wr16(ip + 2, (__u16)(IP4_HLEN + l4len));
		wr32(ip + 4, 0x4000);
		ip[8] = TTL;
		ip[9] = IPPROTO_TCP_;
		wr16(ip + 10, 0);
		__builtin_memcpy(ip + 12, s->dst, 4);
		__builtin_memcpy(ip + 16, s->src, 4);
		wr16(ip + 10, (__u16)~csum_fold(csum_add(ip, IP4_HLEN,
							 IP4_HLEN, 0)));
	}
	wr16(tcp, s->dport);
	wr16(tcp + 2, s->sport);
	wr32(tcp + 4, cookie);
	wr32(tcp + 8, s->seq + 1);
	tcp[12] = (__u8)((l4len / 4) << 4);
	tcp[13] = a->flags;
	wr16(tcp + 14, win);
	wr32(tcp + 16, 0);
	sum = csum_pseudo(s->v6, s->dst, s->src, l4len);
	sum = csum_add(tcp, l4len, TCP_HLEN + 20, sum);
	wr16(tcp + 16, (__u16)~csum_fold(sum));
	return ETH_HLEN_ + iplen + l4len;
}

/* The SYN in @s to a destination in cookie mode: answer it in place. */
static __always_inline __u32 answer(struct xdp_md *ctx,
				    const struct syn_view *s,
				    struct moat_xdp_dst *d,
				    const struct moat_xdp_config *cfg)
{
	__u8 out[SYNACK_MAX + 2];
	struct moat_xdp_synack *rec;
	const struct moat_xdp_key *k;
	struct synack a = { 0 };
	__u64 now = bpf_ktime_get_ns() + (__u64)cfg->clock_offset_ns;
	__u64 counter, epoch;
	__u32 slot, cookie, len, win, frame;

	/* The engine's clock: CLOCK_MONOTONIC (src/io/bridge.c), which is
	 * bpf_ktime_get_ns(), plus the configured offset. */
	counter = moat_cookie_counter(now);
	if (cfg->epoch_counters == 0)
		return MOAT_XDP_ST_PASS_NO_KEY;
	epoch = counter / cfg->epoch_counters;
	slot = (__u32)(epoch & 1);
	k = bpf_map_lookup_elem(&moat_keys, &slot);
	if (!k || !k->valid || k->epoch != epoch)
		return MOAT_XDP_ST_PASS_NO_KEY;
	synack_options(s, d, now, cfg->ts_offset, &a);
	cookie = make_cookie(s, k->key, a.c_mss, counter);
	/* A real window: room for the segments the proxy holds. */
	win = (__u32)cfg->synack_win_segs * a.mss;
	if (win > 65535)
		win = 65535;
	__builtin_memset(out, 0, sizeof(out));
	len = build_synack(out, s, &a, cookie, (__u16)win);
	frame = (__u32)bpf_xdp_get_buff_len(ctx);
	if (bpf_xdp_adjust_tail(ctx, (int)len - (int)frame) < 0)
		return MOAT_XDP_ST_TX_FAIL;
	if (len > SYNACK_MAX || bpf_xdp_store_bytes(ctx, 0, out, len) < 0)
		return MOAT_XDP_ST_TX_FAIL;
	__sync_fetch_and_add(&d->syns, 1);
	if (cfg->flags & MOAT_XDP_F_RTX) {
		rec = bpf_ringbuf_reserve(&moat_synacks, sizeof(*rec), 0);
		if (!rec) {
			count(MOAT_XDP_ST_RTX_LOST);
			return 0;
		}
		rec->ifindex = ctx->ingress_ifindex;
		rec->len = (__u16)len;
		rec->pad = 0;
		__builtin_memcpy(rec->frame, out, MOAT_XDP_SYNACK_MAX);
		bpf_ringbuf_submit(rec, 0);
	}
	return 0;
}

SEC("xdp")
int moat_xdp(struct xdp_md *ctx)
{
	struct syn_view s = { 0 };
	struct moat_syn_dst_key key = { 0 };
	const struct moat_xdp_config *cfg;
	struct moat_xdp_dst *d;
	__u32 zero = 0, why;

	cfg = bpf_map_lookup_elem(&moat_cfg, &zero);
	if (!cfg)
		return XDP_PASS;
	if ((cfg->flags & MOAT_XDP_F_ANTISPOOF) && martian_src(ctx)) {
		count(MOAT_R_MARTIAN_SRC);
		return XDP_DROP;
	}
	why = read_syn(ctx, &s);
	if (why == 0 && !(cfg->flags & MOAT_XDP_F_COOKIES))
		why = MOAT_XDP_ST_PASS_DST;
	if (why == 0 && src_unanswerable(&s))
		why = MOAT_XDP_ST_PASS_CHECK;

	if (why == 0) {
		if (s.v6) {
			__builtin_memcpy(key.addr, s.dst, 16);
			key.family = 6;
		} else {
			key.addr[10] = key.addr[11] = 0xff;
			__builtin_memcpy(key.addr + 12, s.dst, 4);
			key.family = 4;
		}
		key.port = s.dport;
		d = bpf_map_lookup_elem(&moat_dsts, &key);
		if (!d)
			why = MOAT_XDP_ST_PASS_DST;
		else if ((cfg->flags & MOAT_XDP_F_ANTISPOOF) &&
			 source_refused(ctx, &s))
			why = MOAT_XDP_ST_PASS_CHECK;
		else
			why = answer(ctx, &s, d, cfg);
	}
	if (why == 0) {
		count(MOAT_R_SYN_COOKIE_SENT);
		return XDP_TX;
	}
	count(MOAT_XDP_ST_PASS);
	count(why);
	if (cfg->flags & MOAT_XDP_F_REDIRECT) {
		__u32 ifindex = ctx->ingress_ifindex;
		const struct moat_xdp_port *port =
			bpf_map_lookup_elem(&moat_ports, &ifindex);

		/* An interface moat did not describe has no sockets. */
		if (port && ctx->rx_queue_index < MOAT_XDP_XSKS_PER_PORT) {
			count(MOAT_XDP_ST_REDIRECT);
			return bpf_redirect_map(&xsks_map, port->xsk_base +
						ctx->rx_queue_index, XDP_PASS);
		}
	}
	return XDP_PASS;
}
