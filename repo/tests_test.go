package repo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/index"
	"github.com/ebpfrepo/ebpfrepo/internal/kerneltest"
	"github.com/ebpfrepo/ebpfrepo/internal/testpkgs"
	"github.com/ebpfrepo/ebpfrepo/layout"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// TestRequireTests: require_tests refuses a package without vectors at
// add, writing nothing, and lets one with vectors in.
func TestRequireTests(t *testing.T) {
	r := newRepo(t)
	r.Config.RequireTests = true
	_, err := r.Add(context.Background(), []string{packed(t, "process-monitor")}, AddOptions{Now: t0})
	assertRefused(t, r, err, CodeTestsRequired)
	if _, err := r.Add(context.Background(), []string{packed(t, "xdp-root")}, AddOptions{Now: t0}); err != nil {
		t.Fatalf("a package with vectors: %v", err)
	}
}

// TestVerifyRunsTests: under verify = true, add runs the vectors (a
// failing one refuses the package, nothing written) and the build
// records the results in the version's index entry.
func TestVerifyRunsTests(t *testing.T) {
	kerneltest.RequireVerifier(t)
	r := newRepo(t)
	r.Config.Verify = true

	broken := filepath.Join(t.TempDir(), "ratelimiting")
	if err := os.CopyFS(broken, os.DirFS(testpkgs.Dir("ratelimiting-1.1.0"))); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(filepath.Join(testpkgs.Dir("ratelimiting-1.0.0"), "ratelimiting.bpf.o"))
	if err := os.WriteFile(filepath.Join(broken, "ratelimiting.bpf.o"), old, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := r.Add(context.Background(), []string{testpkgs.Pack(t, broken)}, AddOptions{Now: t0})
	assertRefused(t, r, err, pkgfmt.CodeTestFailed)
	var ie *InvalidError
	if errors.As(err, &ie) && len(ie.Problems) != 1 {
		t.Errorf("problems %v, want the one failing vector", ie.Problems)
	}

	if _, err := r.Add(context.Background(), []string{packed(t, "tc-stats")}, AddOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	build(t, r, BuildOptions{})
	var p index.Package
	readJSON(t, findTarget(t, filepath.Join(r.Dir, layout.PublicDir), "index/tc-stats.json"), &p)
	rep := p.Versions[0].Description.Tests
	if rep == nil || rep.Kernel == "" || rep.Arch == "" || rep.Count().Pass != 4 || rep.Failed() {
		t.Fatalf("index tests %+v", rep)
	}
	page, _ := os.ReadFile(filepath.Join(r.Dir, layout.PublicDir, "packages", "tc-stats", "index.html"))
	if !strings.Contains(string(page), "tests pass on") || !strings.Contains(string(page), "ingress counts packets and bytes per protocol") {
		t.Error("the package page does not show the vectors' results")
	}
}
