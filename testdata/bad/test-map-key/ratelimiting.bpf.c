// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * ratelimiting 1.1.0: XDP rate limiter for TCP SYNs (new connections) per
 * destination port.
 *
 * For every port listed in rl_ports_map, at most rl_config_map[0] SYN
 * packets per second are let through; the rest are dropped. Everything
 * else goes on to the next program of the l3afd chain, which l3afd writes
 * into slot 0 of xdp_rl_ingress_next_prog.
 *
 * 1.1.0: IPv6 SYNs are limited too (no extension headers are walked: a
 * TCP header behind one is passed on unlimited).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define NSEC_PER_SEC 1000000000ULL

enum rl_stat {
	RL_STAT_SYN = 0,     /* SYNs seen to a limited port */
	RL_STAT_DROPPED = 1, /* SYNs dropped over the limit */
	RL_STAT_MAX,
};

struct rl_window {
	__u64 start_ns; /* start of the current one-second window */
	__u64 count;    /* SYNs seen in the window */
};

/* Key 0: the maximum SYNs per second per port (0 disables limiting). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} rl_config_map SEC(".maps");

/* Destination ports (host byte order) to limit; the value is unused. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} rl_ports_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);
	__type(value, struct rl_window);
} rl_window_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RL_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} rl_stats_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_rl_ingress_next_prog SEC(".maps");

static __always_inline void count(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&rl_stats_map, &stat);

	if (v)
		*v += 1; /* per-CPU: no atomic needed */
}

/* over_limit reports whether one more SYN to port exceeds the limit. */
static __always_inline int over_limit(__u16 port)
{
	__u32 zero = 0;
	__u64 *max = bpf_map_lookup_elem(&rl_config_map, &zero);
	__u64 now = bpf_ktime_get_ns();
	struct rl_window *w;

	if (!max || *max == 0)
		return 0;
	w = bpf_map_lookup_elem(&rl_window_map, &port);
	if (!w) {
		struct rl_window init = { .start_ns = now, .count = 1 };

		bpf_map_update_elem(&rl_window_map, &port, &init, BPF_ANY);
		return 0;
	}
	if (now - w->start_ns >= NSEC_PER_SEC) {
		w->start_ns = now;
		w->count = 1;
		return 0;
	}
	return __sync_fetch_and_add(&w->count, 1) + 1 > *max;
}

/* tcp_header returns the TCP header of an IPv4 or IPv6 packet, or NULL. */
static __always_inline struct tcphdr *tcp_header(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct tcphdr *tcp;

	if ((void *)(eth + 1) > data_end)
		return NULL;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end || iph->protocol != IPPROTO_TCP || iph->ihl < 5)
			return NULL;
		tcp = (void *)iph + iph->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		if ((void *)(ip6h + 1) > data_end || ip6h->nexthdr != IPPROTO_TCP)
			return NULL;
		tcp = (void *)(ip6h + 1);
	} else {
		return NULL;
	}
	if ((void *)(tcp + 1) > data_end)
		return NULL;
	return tcp;
}

SEC("xdp")
int xdp_ratelimiting(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct tcphdr *tcp = tcp_header(data, data_end);
	__u16 port;

	if (!tcp || !tcp->syn || tcp->ack)
		goto next;
	port = bpf_ntohs(tcp->dest);
	if (!bpf_map_lookup_elem(&rl_ports_map, &port))
		goto next;
	count(RL_STAT_SYN);
	if (over_limit(port)) {
		count(RL_STAT_DROPPED);
		return XDP_DROP;
	}
next:
	bpf_tail_call(ctx, &xdp_rl_ingress_next_prog, 0);
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
