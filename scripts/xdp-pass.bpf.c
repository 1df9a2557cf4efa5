/*
 * XDP_PASS for the lab's veth peers (scripts/lab xdp-peers).  A veth hands
 * frames sent to it with XDP_TX or XDP_REDIRECT only to a peer that runs
 * NAPI, which it does once any XDP program is attached there; this one
 * lets every frame on to the kernel's stack unchanged.
 */
#include <linux/bpf.h>

__attribute__((section("xdp"), used))
int xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

__attribute__((section("license"), used))
char xdp_pass_license[] = "GPL";
