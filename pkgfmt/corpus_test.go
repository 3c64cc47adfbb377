package pkgfmt_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"github.com/ebpfrepo/ebpfrepo/internal/testpkgs"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
	"github.com/google/go-cmp/cmp"
)

func codesOf(ps []pkgfmt.Problem, sev pkgfmt.Severity) []string {
	var out []string
	for _, p := range ps {
		if p.Severity == sev {
			out = append(out, p.Code)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func sortedSet(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// canVerify reports whether this process may load BPF programs.
func canVerify() bool { return os.Geteuid() == 0 }

// TestCorpusGood: every example package lints clean, as a source
// directory and packed, and the two descriptions agree.
func TestCorpusGood(t *testing.T) {
	dirs := testpkgs.Good()
	if len(dirs) == 0 {
		t.Skip("no example packages under testdata/packages")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			ctx := context.Background()
			fromDir, err := pkgfmt.LintPath(ctx, dir, pkgfmt.LintOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(fromDir.Problems) > 0 {
				t.Errorf("problems: %+v", fromDir.Problems)
			}
			fromArt, err := pkgfmt.LintPath(ctx, testpkgs.Pack(t, dir), pkgfmt.LintOptions{Verify: canVerify()})
			if err != nil {
				t.Fatal(err)
			}
			if len(fromArt.Problems) > 0 {
				t.Errorf("artifact problems: %+v", fromArt.Problems)
			}
			if canVerify() && fromArt.Tests.Failed() {
				t.Errorf("test vectors fail: %s: %+v", fromArt.Tests.Summary(), fromArt.Tests.Results)
			}
			if canVerify() && len(fromArt.Manifest.Tests) > 0 && fromArt.Tests.Count().Pass != len(fromArt.Manifest.Tests) {
				t.Errorf("%d of %d vectors pass: %s", fromArt.Tests.Count().Pass, len(fromArt.Manifest.Tests), fromArt.Tests.Summary())
			}
			fromArt.Verifier, fromArt.Tests = nil, nil
			if diff := cmp.Diff(fromDir, fromArt); diff != "" {
				t.Errorf("directory and artifact describe differently (-dir +artifact):\n%s", diff)
			}
			windows := len(fromDir.Objects) > 0 && fromDir.Objects[0].Platform == bpfobj.PlatformWindows
			if len(fromDir.Objects) == 0 || (fromDir.Kernel == nil) != windows || fromDir.Readme == "" {
				t.Errorf("description lacks objects or readme, or has a kernel report iff it is for Linux (windows %v, kernel %v)", windows, fromDir.Kernel != nil)
			}
		})
	}
}

// TestCorpusBad: every bad package yields exactly the error codes its
// expect file lists; every warn package has no error and exactly its
// expected warning codes.
func TestCorpusBad(t *testing.T) {
	run := func(t *testing.T, c testpkgs.Case, sev pkgfmt.Severity) {
		opts := pkgfmt.LintOptions{}
		if slices.Contains(c.Expect, pkgfmt.CodeVerifierRejected) {
			if !canVerify() {
				t.Skip("needs root to run the verifier")
			}
			opts.Verify = true
		}
		d, err := pkgfmt.LintPath(context.Background(), c.Dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(sortedSet(c.Expect), codesOf(d.Problems, sev)); diff != "" {
			t.Errorf("%s codes (-want +got):\n%s\nproblems: %+v", sev, diff, d.Problems)
		}
		if sev == pkgfmt.SeverityWarning && d.HasErrors() {
			t.Errorf("errors in a warn case: %+v", d.Errors())
		}
	}
	bad, warn := testpkgs.Bad(), testpkgs.Warn()
	if len(bad) == 0 {
		t.Skip("no bad packages under testdata/bad")
	}
	for _, c := range bad {
		t.Run("bad/"+c.Name, func(t *testing.T) { run(t, c, pkgfmt.SeverityError) })
	}
	for _, c := range warn {
		t.Run("warn/"+c.Name, func(t *testing.T) { run(t, c, pkgfmt.SeverityWarning) })
	}
}

// TestCorpusHostile: the package with a hostile README is a valid package;
// the README text is carried as is, for the catalogue to sanitise.
func TestCorpusHostile(t *testing.T) {
	dir := testpkgs.Hostile()
	if _, err := os.Stat(dir); err != nil {
		t.Skip("no hostile package")
	}
	d, err := pkgfmt.LintPath(context.Background(), dir, pkgfmt.LintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.HasErrors() {
		t.Errorf("errors: %+v", d.Errors())
	}
	raw, err := os.ReadFile(filepath.Join(dir, d.Manifest.Readme))
	if err != nil {
		t.Fatal(err)
	}
	if d.Readme != string(raw) {
		t.Error("README text changed")
	}
}
