// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Fixture: the verifier rejects the program: it reads the IP header without checking it lies within the packet (needs lint with verification). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <linux/ip.h>

SEC("xdp")
int xdp_prog(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	/* Bug: iph + 1 is never checked against data_end. */
	if (iph->protocol == 17)
		return XDP_DROP;
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
