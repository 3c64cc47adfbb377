// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * connection_limit: XDP limiter of concurrent TCP connections per port.
 *
 * A connection is counted from its first SYN to the first FIN or RST seen
 * on ingress. When a port listed in cl_ports_map already holds
 * cl_max_conn_map[0] connections, new SYNs to it are dropped. Connections
 * are tracked in an LRU hash, so a flood of half-open connections ages out
 * instead of filling the table. Everything else goes on to the next program
 * of the l3afd chain, in slot 0 of xdp_cl_ingress_next_prog.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct cl_tuple {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
};

enum cl_stat {
	CL_STAT_OPENED = 0,
	CL_STAT_CLOSED = 1,
	CL_STAT_DROPPED = 2,
	CL_STAT_MAX,
};

/* Key 0: the maximum concurrent connections per port (0: no limit). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cl_max_conn_map SEC(".maps");

/* Ports (host byte order) whose connections are limited. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cl_ports_map SEC(".maps");

/* Port -> open connections. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);
	__type(value, __u64);
} cl_conn_count_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct cl_tuple);
	__type(value, __u8);
} cl_conn_table SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CL_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cl_stats_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdp_cl_ingress_next_prog SEC(".maps");

static __always_inline void count(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&cl_stats_map, &stat);

	if (v)
		*v += 1;
}

/* open_conn records a new connection; it returns 0 when over the limit. */
static __always_inline int open_conn(struct cl_tuple *t)
{
	__u32 zero = 0;
	__u64 *max = bpf_map_lookup_elem(&cl_max_conn_map, &zero);
	__u64 *n, one = 1;
	__u8 seen = 1;

	if (bpf_map_lookup_elem(&cl_conn_table, t))
		return 1; /* a retransmitted SYN */
	n = bpf_map_lookup_elem(&cl_conn_count_map, &t->dport);
	if (n && max && *max && *n >= *max)
		return 0;
	if (bpf_map_update_elem(&cl_conn_table, t, &seen, BPF_NOEXIST))
		return 1;
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&cl_conn_count_map, &t->dport, &one, BPF_NOEXIST);
	count(CL_STAT_OPENED);
	return 1;
}

static __always_inline void close_conn(struct cl_tuple *t)
{
	__u64 *n;

	if (bpf_map_delete_elem(&cl_conn_table, t))
		return; /* not tracked, or already closed */
	n = bpf_map_lookup_elem(&cl_conn_count_map, &t->dport);
	if (n && *n > 0)
		__sync_fetch_and_sub(n, 1);
	count(CL_STAT_CLOSED);
}

SEC("xdp")
int xdp_limit_conn(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct cl_tuple t = {};
	struct iphdr *iph;
	struct tcphdr *tcp;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		goto next;
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end || iph->protocol != IPPROTO_TCP || iph->ihl < 5)
		goto next;
	tcp = (void *)iph + iph->ihl * 4;
	if ((void *)(tcp + 1) > data_end)
		goto next;
	t.dport = bpf_ntohs(tcp->dest);
	if (!bpf_map_lookup_elem(&cl_ports_map, &t.dport))
		goto next;
	t.saddr = iph->saddr;
	t.daddr = iph->daddr;
	t.sport = bpf_ntohs(tcp->source);
	if (tcp->syn && !tcp->ack) {
		if (!open_conn(&t)) {
			count(CL_STAT_DROPPED);
			return XDP_DROP;
		}
	} else if (tcp->fin || tcp->rst) {
		close_conn(&t);
	}
next:
	bpf_tail_call(ctx, &xdp_cl_ingress_next_prog, 0);
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
