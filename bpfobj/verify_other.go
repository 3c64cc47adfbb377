//go:build !linux

package bpfobj

import (
	"context"
	"runtime"
)

// VerifyObjects loads every program into the running kernel's verifier. On
// this operating system there is no Linux verifier: every object is
// reported "not-run".
func VerifyObjects(ctx context.Context, objs []ObjectData) *VerifierReport {
	r := &VerifierReport{Arch: runtime.GOARCH}
	for _, obj := range objs {
		r.Programs = append(r.Programs, notLinux(obj.Path))
	}
	return r
}

// Verify is VerifyObjects for objects already parsed.
func Verify(ctx context.Context, objs []*Object) *VerifierReport {
	r := &VerifierReport{Arch: runtime.GOARCH}
	for _, obj := range objs {
		r.Programs = append(r.Programs, notLinux(obj.Path))
	}
	return r
}

func notLinux(path string) VerifierResult {
	return VerifierResult{
		Object: path,
		Status: VerifierNotRun,
		Reason: "the verifier check needs Linux; this is " + runtime.GOOS,
	}
}

// LoadPreflight returns why no program can be loaded on this host: on this
// operating system there is no Linux kernel to load into.
func LoadPreflight() string { return "BPF programs run on Linux; this is " + runtime.GOOS }
