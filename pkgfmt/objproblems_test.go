package pkgfmt

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"github.com/google/go-cmp/cmp"
)

func TestCheckMinKernel(t *testing.T) {
	k := bpfobj.InferKernel([]bpfobj.ObjectReport{{Programs: []bpfobj.ProgramReport{{
		Name: "p", Type: "XDP", Helpers: []string{"bpf_ringbuf_output"},
	}}}})
	isa := bpfobj.InferKernel([]bpfobj.ObjectReport{{Programs: []bpfobj.ProgramReport{{
		Name: "p", Type: "XDP", ISA: []string{bpfobj.ISAJmp32, bpfobj.ISAAtomics},
	}}}})
	for _, tc := range []struct {
		declared string
		k        *bpfobj.KernelReport
		want     []Problem
	}{
		{declared: "5.4", k: k, want: []Problem{{
			Severity: SeverityWarning, File: ManifestFile, Field: "min_kernel", Code: CodeMinKernelTooLow,
			Message: "min_kernel 5.4 is lower than 5.8 required by helper bpf_ringbuf_output; raise min_kernel to 5.8 or stop using the feature",
		}}},
		{declared: "5.8", k: k},
		{declared: "5.10", k: isa, want: []Problem{{
			Severity: SeverityWarning, File: ManifestFile, Field: "min_kernel", Code: CodeMinKernelTooLow,
			Message: "min_kernel 5.10 is lower than 5.12 required by isa atomics; raise min_kernel to 5.12 or stop using the feature (instructions: build with a lower clang -mcpu, e.g. -mcpu=v2, or avoid the construct)",
		}}},
		{declared: "5.15", k: k},
		{declared: "6.1.0", k: k},
		{declared: "", k: k},
		{declared: "5.4", k: nil},
		{declared: "5.4", k: &bpfobj.KernelReport{Unknown: []string{"kfunc x"}}},
		{declared: "latest", k: k, want: []Problem{{
			Severity: SeverityError, File: ManifestFile, Field: "min_kernel", Code: CodeMinKernelInvalid,
			Message: `min_kernel "latest" is not a kernel release: write MAJOR.MINOR, e.g. "5.15"`,
		}}},
	} {
		t.Run(fmt.Sprintf("%q", tc.declared), func(t *testing.T) {
			if diff := cmp.Diff(tc.want, CheckMinKernel(tc.declared, tc.k)); diff != "" {
				t.Errorf("CheckMinKernel(%q) (-want +got):\n%s", tc.declared, diff)
			}
		})
	}
}

func TestVerifierProblems(t *testing.T) {
	r := &bpfobj.VerifierReport{Kernel: "6.18.0", Arch: "x86_64", Programs: []bpfobj.VerifierResult{
		{Object: "a.bpf.o", Program: "ok", Status: bpfobj.VerifierAccepted, Instructions: 10},
		{Object: "a.bpf.o", Program: "bad", Status: bpfobj.VerifierRejected, Reason: "invalid access to packet", LogTail: "1: r2 = *(u8 *)(r1 +12)\ninvalid access to packet"},
		{Object: "a.bpf.o", Program: "lsm", Status: bpfobj.VerifierInconclusive, Reason: "EPERM"},
		{Object: "a.bpf.o", Program: "x", Status: bpfobj.VerifierNotRun, Reason: "not root"},
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
	c := BTFCompatProblems([]bpfobj.BTFCompat{
		{Kernel: "5.4.0-generic", Object: "a.bpf.o", Program: "p", Compatible: false, Reason: "field task_struct.pid does not resolve"},
		{Kernel: "6.1", Object: "a.bpf.o", Program: "p", Compatible: true},
	})
	if len(c) != 1 || c[0].Severity != SeverityWarning || c[0].Message != "not compatible with kernel 5.4.0-generic: field task_struct.pid does not resolve; to run there, guard what is missing (bpf_core_field_exists(), bpf_core_type_exists(), bpf_ksym_exists()), else set min_kernel and platforms to the kernels it supports" {
		t.Errorf("BTFCompatProblems = %+v", c)
	}
}
