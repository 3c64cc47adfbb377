// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * xdp_root: the first program of an l3afd XDP chain.
 *
 * l3afd attaches this program to an interface and writes the file
 * descriptor of the first chained program into slot 0 of the prog array
 * xdp_root_next_prog. Every packet is tail-called into that program; when
 * the slot is empty (no program chained yet) the tail call falls through
 * and the packet passes, so attaching the root never breaks traffic.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_root_next_prog SEC(".maps");

SEC("xdp")
int xdp_root(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &xdp_root_next_prog, 0);
	/* Nothing chained: let the packet through. */
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
