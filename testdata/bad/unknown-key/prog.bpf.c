// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Fixture: unknown manifest key. The program itself is fine. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_prog(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
