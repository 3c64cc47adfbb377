package bpfobj

import "slices"

// gplOnlyHelpers are the BPF helpers whose kernel prototype sets
// `.gpl_only = true`: the verifier refuses a call to them from a program
// whose license is not GPL-compatible ("cannot call GPL-restricted
// function from non-GPL compatible program", check_helper_call() in
// kernel/bpf/verifier.c). Source: the struct bpf_func_proto definitions
// in the Linux 6.18 tree — kernel/trace/bpf_trace.c, kernel/bpf/helpers.c,
// kernel/bpf/stackmap.c and net/core/filter.c (bpf_fib_lookup,
// bpf_check_mtu and the syncookie helpers are GPL-only there), checked
// against the verifier of Linux 6.18 (see the test below); the helpers that
// test cannot reach (bpf_probe_write_user under lockdown,
// bpf_override_return without CONFIG_BPF_KPROBE_OVERRIDE) are from the
// source alone. When a helper has several
// prototypes (bpf_perf_event_output has one for tracing, one for skb and
// one for xdp programs) it is listed when any of them is GPL-only.
//
// TestGPLOnlyHelpersMatchKernel checks this list against the running
// kernel's verifier when it runs as root.
//
// Sorted; kernel names.
var gplOnlyHelpers = []string{
	"bpf_check_mtu",
	"bpf_copy_from_user_task",
	"bpf_fib_lookup",
	"bpf_get_branch_snapshot",
	"bpf_get_current_task",
	"bpf_get_current_task_btf",
	"bpf_get_func_ip",
	"bpf_get_stack",
	"bpf_get_stackid",
	"bpf_override_return",
	"bpf_perf_event_output",
	"bpf_perf_event_read",
	"bpf_perf_event_read_value",
	"bpf_perf_prog_read_value",
	"bpf_probe_read",
	"bpf_probe_read_kernel",
	"bpf_probe_read_kernel_str",
	"bpf_probe_read_str",
	"bpf_probe_read_user",
	"bpf_probe_read_user_str",
	"bpf_probe_write_user",
	"bpf_read_branch_records",
	"bpf_seq_printf",
	"bpf_seq_printf_btf",
	"bpf_seq_write",
	"bpf_skb_output",
	"bpf_snprintf",
	"bpf_task_pt_regs",
	"bpf_tcp_check_syncookie",
	"bpf_tcp_gen_syncookie",
	"bpf_tcp_raw_check_syncookie_ipv4",
	"bpf_tcp_raw_check_syncookie_ipv6",
	"bpf_tcp_raw_gen_syncookie_ipv4",
	"bpf_tcp_raw_gen_syncookie_ipv6",
	"bpf_timer_cancel",
	"bpf_timer_init",
	"bpf_timer_set_callback",
	"bpf_timer_start",
	"bpf_trace_printk",
	"bpf_trace_vprintk",
	"bpf_xdp_output",
}

// IsGPLOnlyHelper reports whether the kernel allows the helper (by its
// kernel name, e.g. "bpf_probe_read_kernel") only in programs with a
// GPL-compatible license.
func IsGPLOnlyHelper(name string) bool {
	_, ok := slices.BinarySearch(gplOnlyHelpers, name)
	return ok
}
