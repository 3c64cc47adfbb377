// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Fixture: the program calls bpf_trace_printk, a GPL-only helper, under the ELF license "BSD". */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_prog(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	bpf_printk("packet of %d bytes", (int)(data_end - data));
	return XDP_PASS;
}

char _license[] SEC("license") = "BSD";
