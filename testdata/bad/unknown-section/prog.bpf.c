// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Fixture: the program is in section "foo/bar", which names no program type. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

SEC("foo/bar")
int xdp_prog(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
