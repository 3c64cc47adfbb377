// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Fixture: the manifest declares xdp_filter, but the object holds only xdp_filtr. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_filtr(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
