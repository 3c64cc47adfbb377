// SPDX-License-Identifier: BSD-2-Clause
/* Programs that each break one rule of ebpfrepo lint, under a license the
 * kernel does not count as GPL-compatible. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} chain_next SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Chains the l3af way: prog array and tail call. */
SEC("xdp")
int xdp_chained(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &chain_next, 0);
	return XDP_PASS;
}

/* Has the prog array but never tail-calls through it. */
SEC("xdp")
int xdp_no_tail_call(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&counters, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	return XDP_PASS;
}

/* Calls a GPL-only helper under a BSD license. */
SEC("xdp")
int xdp_gpl_helper(struct xdp_md *ctx)
{
	bpf_trace_printk("x", 2);
	return XDP_PASS;
}

/* A section no loader knows. */
SEC("mystery")
int mystery_prog(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "BSD";
