// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Fixture: chaining = "l3af" with the prog array xdp_next_prog, but the program never tail-calls. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} xdp_next_prog SEC(".maps");

SEC("xdp")
int xdp_prog(struct xdp_md *ctx)
{
	/* Forgot: bpf_tail_call(ctx, &xdp_next_prog, 0); */
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
