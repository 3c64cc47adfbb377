//go:build linux

package pkgfmt

import (
	"context"
	"strings"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/internal/kerneltest"
	"github.com/google/go-cmp/cmp"
)

// TestDescribeVerify: with Verify, a program the kernel's verifier rejects
// is an error carrying the verifier's log; the accepted one is not.
func TestDescribeVerify(t *testing.T) {
	kerneltest.RequireVerifier(t)
	d, err := LintPath(context.Background(), newLintPkg(t).write(t), LintOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"error " + CodeVerifierRejected}, problemCodes(d.Problems)); diff != "" {
		t.Fatalf("codes (-want +got):\n%s", diff)
	}
	p := d.Problems[0]
	if p.Program != "xdp_oob" || p.File != "prog.bpf.o" || !strings.Contains(p.Message, "invalid access to packet") {
		t.Errorf("problem %+v: want xdp_oob in prog.bpf.o with the verifier's log", p)
	}
	if d.Verifier == nil || len(d.Verifier.Programs) != 2 {
		t.Fatalf("verifier report %+v: want 2 programs", d.Verifier)
	}
}
