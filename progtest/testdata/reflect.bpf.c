// SPDX-License-Identifier: MIT
/*
 * reflect: an XDP program that sends every Ethernet frame back where it
 * came from (source and destination MAC swapped, XDP_TX) and counts the
 * frames in a per-CPU counter — the fixture for output-packet and per-CPU
 * map expectations. Frames shorter than an Ethernet header are aborted.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

struct counts {
	__u64 frames;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct counts);
} reflected SEC(".maps");

SEC("xdp")
int xdp_reflect(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	unsigned char tmp[ETH_ALEN];
	__u32 zero = 0;
	struct counts *c;

	if ((void *)(eth + 1) > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
	c = bpf_map_lookup_elem(&reflected, &zero);
	if (c) {
		c->frames += 1;
		c->bytes += data_end - data;
	}
	return XDP_TX;
}

char _license[] SEC("license") = "MIT";
