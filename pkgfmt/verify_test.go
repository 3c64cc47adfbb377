package pkgfmt

import (
	"strings"
	"testing"
)

func TestVerifierLogHelpers(t *testing.T) {
	log := []string{
		"0: R1=ctx() R10=fp0",
		"; struct ethhdr *eth = (void *)(long)ctx->data; @ reject.bpf.c:37",
		"1: (71) r2 = *(u8 *)(r1 +12)",
		"invalid access to packet, off=12 size=1, R1(id=0,off=12,r=0)",
		"R1 offset is outside of the packet",
		"verification time 66 usec",
		"stack depth 0",
		"processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0",
		"",
	}
	if got := verifierProcessedInsns(log); got != 2 {
		t.Errorf("verifierProcessedInsns = %d, want 2", got)
	}
	if got := verifierProcessedInsns([]string{"no stats"}); got != 0 {
		t.Errorf("verifierProcessedInsns without stats = %d, want 0", got)
	}
	if got, want := verifierRejectionReason(log), "invalid access to packet, off=12 size=1, R1(id=0,off=12,r=0); R1 offset is outside of the packet"; got != want {
		t.Errorf("verifierRejectionReason = %q, want %q", got, want)
	}
	if got := verifierRejectionReason(nil); got != "" {
		t.Errorf("verifierRejectionReason(nil) = %q", got)
	}

	long := make([]string, 1000)
	for i := range long {
		long[i] = strings.Repeat("x", 300)
	}
	tail := verifierLogTail(long)
	if len(tail) > verifierLogTailBytes || strings.Count(tail, "\n") >= verifierLogTailLines {
		t.Errorf("verifierLogTail: %d bytes, %d lines; want at most %d bytes, %d lines", len(tail), strings.Count(tail, "\n")+1, verifierLogTailBytes, verifierLogTailLines)
	}
	if got := verifierLogTail(log); !strings.HasSuffix(got, "mark_read 0") || !strings.HasPrefix(got, "0: R1=ctx()") {
		t.Errorf("verifierLogTail of a short log = %q, want it whole without the trailing blank line", got)
	}
}

func TestVerifierProblems(t *testing.T) {
	r := &VerifierReport{Kernel: "6.18.0", Arch: "x86_64", Programs: []VerifierResult{
		{Object: "a.bpf.o", Program: "ok", Status: VerifierAccepted, Instructions: 10},
		{Object: "a.bpf.o", Program: "bad", Status: VerifierRejected, Reason: "invalid access to packet", LogTail: "1: r2 = *(u8 *)(r1 +12)\ninvalid access to packet"},
		{Object: "a.bpf.o", Program: "lsm", Status: VerifierInconclusive, Reason: "EPERM"},
		{Object: "a.bpf.o", Program: "x", Status: VerifierNotRun, Reason: "not root"},
	}}
	got := VerifierProblems(r)
	if len(got) != 1 || got[0].Severity != SeverityError || got[0].Program != "bad" || got[0].File != "a.bpf.o" ||
		got[0].Code != CodeVerifierRejected || !strings.Contains(got[0].Message, "kernel 6.18.0 (x86_64) rejected the program: invalid access to packet") ||
		!strings.Contains(got[0].Message, "r2 = *(u8 *)") {
		t.Errorf("VerifierProblems = %+v", got)
	}
	if VerifierProblems(nil) != nil {
		t.Error("VerifierProblems(nil) != nil")
	}
	c := BTFCompatProblems([]BTFCompat{
		{Kernel: "5.4.0-generic", Object: "a.bpf.o", Program: "p", Compatible: false, Reason: "field task_struct.pid does not resolve"},
		{Kernel: "6.1", Object: "a.bpf.o", Program: "p", Compatible: true},
	})
	if len(c) != 1 || c[0].Severity != SeverityWarning || c[0].Message != "not compatible with kernel 5.4.0-generic: field task_struct.pid does not resolve; to run there, guard what is missing (bpf_core_field_exists(), bpf_core_type_exists(), bpf_ksym_exists()), else set min_kernel and platforms to the kernels it supports" {
		t.Errorf("BTFCompatProblems = %+v", c)
	}
}
