package pkgfmt

import (
	"fmt"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/bpfobj"
)

// Problem codes of CheckMinKernel.
const (
	CodeMinKernelTooLow  = "kernel.min-kernel-too-low"
	CodeMinKernelInvalid = "kernel.min-kernel-invalid"
)

// CheckMinKernel compares a manifest's declared min_kernel with the
// inferred report. A declaration lower than the inferred minimum is a
// warning naming the feature(s) that need more; an unparsable declaration
// is an error. An empty declaration or a nil report yields nothing.
func CheckMinKernel(declared string, k *bpfobj.KernelReport) []Problem {
	if strings.TrimSpace(declared) == "" {
		return nil
	}
	d, err := bpfobj.ParseKernelVersion(declared)
	if err != nil {
		return []Problem{{
			Severity: SeverityError,
			File:     ManifestFile,
			Field:    "min_kernel",
			Code:     CodeMinKernelInvalid,
			Message:  fmt.Sprintf("min_kernel %q is not a kernel release: write MAJOR.MINOR, e.g. \"5.15\"", declared),
		}}
	}
	if k == nil || k.MinVersion == "" {
		return nil
	}
	inferred, err := bpfobj.ParseKernelVersion(k.MinVersion)
	if err != nil || d.Compare(inferred) >= 0 {
		return nil
	}
	var by []string
	isa := false
	for _, f := range k.SetBy {
		by = append(by, f.Label())
		isa = isa || f.IsISA()
	}
	msg := fmt.Sprintf("min_kernel %s is lower than %s required by %s", strings.TrimSpace(declared), k.MinVersion, strings.Join(by, ", "))
	if len(by) == 0 {
		msg = fmt.Sprintf("min_kernel %s is lower than the inferred %s", strings.TrimSpace(declared), k.MinVersion)
	}
	msg += "; raise min_kernel to " + k.MinVersion + " or stop using the feature"
	if isa {
		msg += " (instructions: build with a lower clang -mcpu, e.g. -mcpu=v2, or avoid the construct)"
	}
	return []Problem{{
		Severity: SeverityWarning,
		File:     ManifestFile,
		Field:    "min_kernel",
		Code:     CodeMinKernelTooLow,
		Message:  msg,
	}}
}

// Problem codes of VerifierProblems and BTFCompatProblems.
const (
	CodeVerifierRejected = "verifier.rejected"
	CodeBTFIncompatible  = "kernel.btf-incompatible"
)

// VerifierProblems turns a verifier report into lint problems: an error
// for each rejected program, carrying the verifier's reason and log tail.
// "not-run" and "inconclusive" results are not problems.
func VerifierProblems(r *bpfobj.VerifierReport) []Problem {
	if r == nil {
		return nil
	}
	var out []Problem
	for _, p := range r.Programs {
		if p.Status != bpfobj.VerifierRejected {
			continue
		}
		msg := fmt.Sprintf("the verifier of kernel %s (%s) rejected the program: %s", r.Kernel, r.Arch, p.Reason)
		if p.LogTail != "" {
			msg += "\nverifier log (tail):\n" + p.LogTail
		}
		out = append(out, Problem{Severity: SeverityError, File: p.Object, Program: p.Program, Code: CodeVerifierRejected, Message: msg})
	}
	return out
}

// BTFCompatProblems turns offline CO-RE results into lint problems: a
// warning for each program that will not load on a kernel it was checked
// against.
func BTFCompatProblems(results []bpfobj.BTFCompat) []Problem {
	var out []Problem
	for _, c := range results {
		if c.Compatible {
			continue
		}
		out = append(out, Problem{
			Severity: SeverityWarning, File: c.Object, Program: c.Program, Code: CodeBTFIncompatible,
			Message: fmt.Sprintf("not compatible with kernel %s: %s; to run there, guard what is missing (bpf_core_field_exists(), bpf_core_type_exists(), bpf_ksym_exists()), else set min_kernel and platforms to the kernels it supports", c.Kernel, c.Reason),
		})
	}
	return out
}
