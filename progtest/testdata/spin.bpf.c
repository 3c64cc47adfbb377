// SPDX-License-Identifier: MIT
/*
 * spin: an XDP program that takes very long on purpose — bpf_loop at its
 * maximum of 1<<23 iterations per run — so that a vector repeating it is
 * stopped by the runner's time limit. The verifier accepts it: every loop
 * is bounded.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} spins SEC(".maps");

static long step(__u64 index, void *ctx)
{
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(&spins, &zero);

	if (v)
		*v += index;
	return 0;
}

SEC("xdp")
int xdp_spin(struct xdp_md *ctx)
{
	bpf_loop(1 << 23, step, NULL, 0);
	return XDP_PASS;
}

char _license[] SEC("license") = "MIT";
