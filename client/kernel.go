package client

import (
	"context"
	"fmt"
	"strings"

	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// KernelError is an artifact that verified through TUF but whose signed
// loader does not verify, offline, against the host's kernel-signing
// certificates, or that carries none, as Require "kernel" demands.
type KernelError struct {
	Package string // name@version
	Reason  string // what failed
	Absent  bool   // the artifact carries no [kernel_signature]
}

func (e *KernelError) Error() string {
	if e.Absent {
		return fmt.Sprintf("package %s: no signed light-skeleton loader ([kernel_signature]) in the artifact; --require kernel refuses it", e.Package)
	}
	msg := "the signed loader does not verify"
	if e.Reason != "" {
		msg = e.Reason
	}
	return fmt.Sprintf("package %s: %s; --require kernel refuses it: the kernel would not load it with a signature this host trusts", e.Package, msg)
}

func (e *KernelError) Is(target error) bool { return target == ErrPolicy }

// checkKernel re-verifies, offline, the signed loader inside the
// artifact's bytes against the host's certificates: the index says what
// the repository saw and trusted, the bytes are the evidence.
func (c *Client) checkKernel(ctx context.Context, label string, cont *pkgfmt.Contents) error {
	d := pkgfmt.Describe(ctx, cont, pkgfmt.LintOptions{Kernel: c.kernelCerts, KernelRequireTrust: true})
	if d.KernelSignature == nil && d.Manifest.KernelSignature == nil {
		return &KernelError{Package: label, Absent: true}
	}
	if ks := d.KernelSignature; ks != nil && ks.Status == pkgfmt.KernelVerifiedOffline {
		return nil
	}
	e := &KernelError{Package: label}
	if ks := d.KernelSignature; ks != nil {
		e.Reason = ks.Summary
	} else {
		for _, p := range d.Problems.Errors() {
			if strings.HasPrefix(p.Field, "kernel_signature") || p.File == d.Manifest.KernelSignature.Skeleton {
				e.Reason = p.String()
				break
			}
		}
	}
	return e
}
