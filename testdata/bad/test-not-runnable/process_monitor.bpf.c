// SPDX-License-Identifier: GPL-2.0-only
/*
 * process_monitor: reports every exec and every process exit through a BPF
 * ring buffer, with the parent, the user, the command and — for exits —
 * the exit code and how long the process lived.
 *
 * The program is CO-RE: task_struct fields are read with BPF_CORE_READ and
 * relocated against the running kernel's BTF at load time, so the one
 * object runs on any kernel from 5.8 (BPF ring buffer) with BTF enabled.
 * It uses GPL-only helpers (bpf_get_current_task, bpf_probe_read_kernel)
 * and is therefore GPL-licensed.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define TASK_COMM_LEN 16
#define MAX_FILENAME_LEN 128

enum event_kind {
	EVENT_EXEC = 1,
	EVENT_EXIT = 2,
};

struct event {
	__u32 kind;
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__u32 exit_code;
	__u32 _pad;
	__u64 duration_ns;
	char comm[TASK_COMM_LEN];
	char filename[MAX_FILENAME_LEN];
};

/* Set by the loader before loading: exits of processes that lived less
 * than this are not reported (0 reports every exit). */
const volatile __u64 min_duration_ns = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline void fill_common(struct event *e, struct task_struct *task)
{
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
}

SEC("tracepoint/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	unsigned int fname_off = ctx->__data_loc_filename & 0xFFFF;
	struct event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->kind = EVENT_EXEC;
	e->exit_code = 0;
	e->_pad = 0;
	e->duration_ns = 0;
	fill_common(e, task);
	bpf_probe_read_kernel_str(&e->filename, sizeof(e->filename), (void *)ctx + fname_off);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int handle_exit(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 duration;
	struct event *e;

	/* Threads other than the leader exiting are not process exits. */
	if ((__u32)pid_tgid != (__u32)(pid_tgid >> 32))
		return 0;
	duration = bpf_ktime_get_ns() - BPF_CORE_READ(task, start_time);
	if (duration < min_duration_ns)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->kind = EVENT_EXIT;
	e->exit_code = (BPF_CORE_READ(task, exit_code) >> 8) & 0xff;
	e->_pad = 0;
	e->duration_ns = duration;
	e->filename[0] = '\0';
	fill_common(e, task);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
