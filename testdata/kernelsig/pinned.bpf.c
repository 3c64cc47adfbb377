// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// pinned: a map pinned by name, as l3afd's chained programs pin theirs.
// bpftool gen skeleton -S cannot make a signed light skeleton of it; the
// linter says so when a package asks for a kernel signature on it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pinned_count SEC(".maps");

SEC("xdp")
int pass_pinned(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *n = bpf_map_lookup_elem(&pinned_count, &k);

	if (n)
		__sync_fetch_and_add(n, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
