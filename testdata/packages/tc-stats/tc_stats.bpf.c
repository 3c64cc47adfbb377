// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * tc_stats: packet and byte counters per direction and protocol, as two TC
 * (clsact) programs, one on ingress and one on egress.
 *
 * Counters live in the per-CPU array tc_stats_map, indexed by
 * direction * STAT_PROTO_MAX + protocol. Both programs chain the l3afd way:
 * after counting they tail-call slot 0 of their direction's prog array and
 * let the packet through (TC_ACT_OK) when nothing is chained.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum stat_dir {
	STAT_INGRESS = 0,
	STAT_EGRESS = 1,
};

enum stat_proto {
	STAT_PROTO_OTHER = 0,
	STAT_PROTO_TCP = 1,
	STAT_PROTO_UDP = 2,
	STAT_PROTO_ICMP = 3, /* ICMP and ICMPv6 */
	STAT_PROTO_MAX,
};

struct stat_value {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * STAT_PROTO_MAX);
	__type(key, __u32);
	__type(value, struct stat_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tc_stats_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tc_stats_ingress_next_prog SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tc_stats_egress_next_prog SEC(".maps");

static __always_inline __u32 l4_proto(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u8 proto;

	if ((void *)(eth + 1) > data_end)
		return STAT_PROTO_OTHER;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end)
			return STAT_PROTO_OTHER;
		proto = iph->protocol;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		if ((void *)(ip6h + 1) > data_end)
			return STAT_PROTO_OTHER;
		proto = ip6h->nexthdr;
	} else {
		return STAT_PROTO_OTHER;
	}
	switch (proto) {
	case IPPROTO_TCP:
		return STAT_PROTO_TCP;
	case IPPROTO_UDP:
		return STAT_PROTO_UDP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return STAT_PROTO_ICMP;
	}
	return STAT_PROTO_OTHER;
}

static __always_inline void account(struct __sk_buff *skb, __u32 dir)
{
	__u32 key = dir * STAT_PROTO_MAX + l4_proto(skb);
	struct stat_value *v = bpf_map_lookup_elem(&tc_stats_map, &key);

	if (v) {
		v->packets += 1;
		v->bytes += skb->len;
	}
}

SEC("tc")
int tc_stats_ingress(struct __sk_buff *skb)
{
	account(skb, STAT_INGRESS);
	bpf_tail_call(skb, &tc_stats_ingress_next_prog, 0);
	return TC_ACT_OK;
}

SEC("tc")
int tc_stats_egress(struct __sk_buff *skb)
{
	account(skb, STAT_EGRESS);
	bpf_tail_call(skb, &tc_stats_egress_next_prog, 0);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "Dual BSD/GPL";
