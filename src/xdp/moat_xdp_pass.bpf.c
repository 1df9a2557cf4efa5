/*
 * XDP_PASS and nothing else: for the far end of a veth pair that moat's
 * program sends XDP_TX frames into.  A veth delivers XDP_TX (and
 * XDP_REDIRECT) frames only when its peer runs NAPI, which it does only
 * with an XDP program attached (LAB-NOTES.md, December); real NICs have no
 * such condition.  The lab attaches this to the peers of out0 and in0.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int moat_xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
