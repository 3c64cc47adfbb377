// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// counter: an XDP program that counts packets per verdict and drops
// packets shorter than an Ethernet header. The object that the signed
// light-skeleton fixtures in this directory are made from
// (scripts/make-kernelsig-fixtures.sh).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

const volatile __u32 min_len = 14;

SEC("xdp")
int count_packets(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;
	__u32 verdict = len < min_len ? XDP_DROP : XDP_PASS;
	__u64 *n = bpf_map_lookup_elem(&verdicts, &verdict);

	if (n)
		__sync_fetch_and_add(n, 1);
	return verdict;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
