// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
//
// Fixture for pkgfmt's verifier check (VerifyObjects). Two XDP programs
// share a pinned program array: xdp_ok checks packet bounds and must be
// accepted; xdp_oob reads the Ethernet header without a bounds check and
// must be rejected by the kernel's verifier ("invalid access to packet").
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} verifier_next_prog SEC(".maps");

SEC("xdp")
int xdp_ok(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == 0)
		return XDP_DROP;
	bpf_tail_call(ctx, &verifier_next_prog, 0);
	return XDP_PASS;
}

SEC("xdp")
int xdp_oob(struct xdp_md *ctx)
{
	struct ethhdr *eth = (void *)(long)ctx->data;

	/* No bounds check against ctx->data_end: the verifier must refuse. */
	return eth->h_proto == 0 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
