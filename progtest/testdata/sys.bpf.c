// SPDX-License-Identifier: MIT
/*
 * sys: a syscall program, run on a context blob instead of a packet — the
 * fixture for context inputs. It returns the sum of the two numbers of
 * its context and writes their product back into it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct args {
	__u32 a;
	__u32 b;
	__u32 product;
};

SEC("syscall")
int sum(struct args *ctx)
{
	ctx->product = ctx->a * ctx->b;
	return ctx->a + ctx->b;
}

char _license[] SEC("license") = "MIT";
