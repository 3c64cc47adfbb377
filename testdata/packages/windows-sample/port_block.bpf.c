// SPDX-License-Identifier: MIT
/*
 * port_block: XDP program that drops UDP datagrams to blocked ports, for
 * eBPF for Windows (built here with the Linux headers; the eBPF for
 * Windows toolchain builds the same source against its own headers).
 *
 * Ports (host byte order) listed in blocked_ports are dropped; the number
 * of dropped datagrams is counted in dropped_count.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, __u16);
	__type(value, __u8);
} blocked_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} dropped_count SEC(".maps");

SEC("xdp")
int xdp_port_block(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph;
	struct udphdr *udp;
	__u32 zero = 0;
	__u64 *dropped;
	__u16 port;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end || iph->protocol != IPPROTO_UDP || iph->ihl < 5)
		return XDP_PASS;
	udp = (void *)iph + iph->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	port = bpf_ntohs(udp->dest);
	if (!bpf_map_lookup_elem(&blocked_ports, &port))
		return XDP_PASS;
	dropped = bpf_map_lookup_elem(&dropped_count, &zero);
	if (dropped)
		__sync_fetch_and_add(dropped, 1);
	return XDP_DROP;
}

char _license[] SEC("license") = "Dual MIT/GPL";
