// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
//
// Fixture for pkgfmt's offline CO-RE check (CheckKernelBTF) and verifier
// check. The local task_struct declarations stand in for vmlinux.h:
//   core_pid      reads task_struct->pid: resolves on every kernel with BTF;
//   core_guarded  reads a field no kernel has, behind bpf_core_field_exists:
//                 compatible, the poisoned read is on a dead path;
//   core_broken   reads that field without a guard: incompatible.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

struct task_struct___ebpfrepo {
	int ebpfrepo_no_such_field;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __s64);
} core_out SEC(".maps");

static __always_inline void store(__s64 v)
{
	__u32 k = 0;
	bpf_map_update_elem(&core_out, &k, &v, BPF_ANY);
}

SEC("kprobe/do_nanosleep")
int core_pid(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	store(BPF_CORE_READ(t, pid));
	return 0;
}

SEC("kprobe/do_nanosleep")
int core_guarded(void *ctx)
{
	struct task_struct___ebpfrepo *t = (void *)bpf_get_current_task();

	if (bpf_core_field_exists(t->ebpfrepo_no_such_field))
		store(BPF_CORE_READ(t, ebpfrepo_no_such_field));
	return 0;
}

SEC("kprobe/do_nanosleep")
int core_broken(void *ctx)
{
	struct task_struct___ebpfrepo *t = (void *)bpf_get_current_task();

	store(BPF_CORE_READ(t, ebpfrepo_no_such_field));
	return 0;
}

char _license[] SEC("license") = "GPL";
