// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Fixture: the object holds a second program, xdp_debug, that the manifest does not declare (a warning: lint passes). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_prog(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int xdp_debug(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char _license[] SEC("license") = "Dual BSD/GPL";
