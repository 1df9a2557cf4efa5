/*
 * The veth peer of the interface the XDP flood generator sends on.  A
 * frame that XDP sends onto a veth is received by the peer's NAPI, which a
 * veth runs only while an XDP program is attached to it (or GRO is on,
 * and the lab turns it off): without one every generated frame is dropped
 * and counted as the sender's TX "dropped" (LAB-NOTES, December).
 *
 *   xdp       passes every frame on: scripts/lab attaches it to the
 *             attacker's peer a0 for the length of an XDP flood.
 *   xdp.drop  drops every frame at the earliest point: the sink that
 *             bench/lab/floodgen.sh measures generators against.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_peer_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

SEC("xdp.drop")
int xdp_peer_drop(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
