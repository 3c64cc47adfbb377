// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* xdp_pass: lets every packet through. The program is harmless; the
 * package exists for its README, which attacks the catalogue. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
