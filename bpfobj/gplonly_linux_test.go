//go:build linux

package bpfobj

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/ebpfrepo/ebpfrepo/internal/kerneltest"
)

// gplProbeSpecs are program types that between them can call nearly every
// helper: a helper is probed with each until one of them knows it.
var gplProbeSpecs = []ebpf.ProgramSpec{
	{Type: ebpf.Kprobe},
	{Type: ebpf.TracePoint},
	{Type: ebpf.PerfEvent},
	{Type: ebpf.RawTracepoint},
	{Type: ebpf.XDP},
	{Type: ebpf.SchedCLS},
	{Type: ebpf.SocketFilter},
	{Type: ebpf.CGroupSKB},
	{Type: ebpf.SockOps},
	{Type: ebpf.SkMsg},
	{Type: ebpf.SkSKB},
	{Type: ebpf.LWTXmit},
	{Type: ebpf.CGroupSysctl, AttachType: ebpf.AttachCGroupSysctl},
	{Type: ebpf.SkLookup, AttachType: ebpf.AttachSkLookup},
	{Type: ebpf.Tracing, AttachType: ebpf.AttachTraceFEntry, AttachTo: "security_file_open"},
	{Type: ebpf.Tracing, AttachType: ebpf.AttachTraceIter, AttachTo: "task"},
	{Type: ebpf.LSM, AttachType: ebpf.AttachLSMMac, AttachTo: "file_open"},
}

// probeGPLOnly asks the running kernel's verifier whether helper fn is
// GPL-only: it loads a call to it under a non-GPL license with each
// probe program type. known is false when no program type may call it.
func probeGPLOnly(t *testing.T, fn asm.BuiltinFunc) (gplOnly, known bool) {
	for _, base := range gplProbeSpecs {
		spec := base
		spec.License = "Proprietary"
		spec.Instructions = asm.Instructions{
			asm.Mov.Imm(asm.R1, 0), asm.Mov.Imm(asm.R2, 0), asm.Mov.Imm(asm.R3, 0),
			asm.Mov.Imm(asm.R4, 0), asm.Mov.Imm(asm.R5, 0),
			fn.Call(), asm.Mov.Imm(asm.R0, 0), asm.Return(),
		}
		prog, err := ebpf.NewProgramWithOptions(&spec, ebpf.ProgramOptions{LogLevel: ebpf.LogLevelBranch})
		if err == nil {
			prog.Close()
			return false, true
		}
		var ve *ebpf.VerifierError
		if !errors.As(err, &ve) {
			continue // type or attach target unsupported here
		}
		log := strings.Join(ve.Log, "\n")
		switch {
		case strings.Contains(log, "GPL-restricted"):
			return true, true
		case strings.Contains(log, "unknown func"), strings.Contains(log, "cannot use helper"),
			strings.Contains(log, "invalid func"):
			continue
		}
		return false, true
	}
	return false, false
}

func TestGPLOnlyHelpersMatchKernel(t *testing.T) {
	kerneltest.RequireVerifier(t)
	var kernelGPL, unknown []string
	for id := 1; id < 400; id++ {
		fn := asm.BuiltinFunc(id)
		name := KernelHelperName(fn)
		if name == "" {
			break
		}
		gpl, known := probeGPLOnly(t, fn)
		switch {
		case !known:
			unknown = append(unknown, name)
		case gpl:
			kernelGPL = append(kernelGPL, name)
			if !IsGPLOnlyHelper(name) {
				t.Errorf("%s: the kernel's verifier says GPL-only; add it to gplOnlyHelpers", name)
			}
		case IsGPLOnlyHelper(name):
			t.Errorf("%s: listed as GPL-only, but the kernel's verifier allows it under a non-GPL license", name)
		}
	}
	t.Logf("GPL-only on this kernel: %s", strings.Join(kernelGPL, " "))
	t.Logf("not callable from any probe program type: %s", strings.Join(unknown, " "))
	if !slices.IsSorted(gplOnlyHelpers) {
		t.Error("gplOnlyHelpers is not sorted")
	}
}
