//go:build !linux

package pkgfmt

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
		r.Programs = append(r.Programs, VerifierResult{
			Object: obj.Path,
			Status: VerifierNotRun,
			Reason: "the verifier check needs Linux; this is " + runtime.GOOS,
		})
	}
	return r
}
