package testpkgs

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/google/go-cmp/cmp"

	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"github.com/ebpfrepo/ebpfrepo/internal/kerneltest"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// wantGood are the example packages other tests rely on.
var wantGood = []string{
	"connection-limit",
	"process-monitor",
	"ratelimiting-1.0.0",
	"ratelimiting-1.1.0",
	"ratelimiting-2.0.0-rc.1",
	"tc-stats",
	"windows-sample",
	"xdp-root",
}

func TestGoodList(t *testing.T) {
	var got []string
	for _, d := range Good() {
		if !filepath.IsAbs(d) {
			t.Errorf("%s: not absolute", d)
		}
		got = append(got, filepath.Base(d))
	}
	if diff := cmp.Diff(wantGood, got); diff != "" {
		t.Errorf("Good() (-want +got):\n%s", diff)
	}
}

func TestManifestsClean(t *testing.T) {
	for _, dir := range append(Good(), Hostile()) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			_, problems := Manifest(t, dir)
			for _, p := range problems {
				t.Errorf("%s %s %s: %s", p.Severity, p.Code, p.Field, p.Message)
			}
		})
	}
}

// TestPackDeterministic packs every good package twice: the artifacts
// must be byte-identical, and read back with the manifest's stem.
func TestPackDeterministic(t *testing.T) {
	for _, dir := range append(Good(), Hostile()) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			a, b := Pack(t, dir), Pack(t, dir)
			if filepath.Base(a) != filepath.Base(b) {
				t.Fatalf("artifact names differ: %s, %s", a, b)
			}
			da, err := os.ReadFile(a)
			if err != nil {
				t.Fatal(err)
			}
			db, err := os.ReadFile(b)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(da, db) {
				t.Errorf("packing %s twice gave different bytes (%d and %d)", dir, len(da), len(db))
			}
			m, _ := Manifest(t, dir)
			c, err := pkgfmt.OpenArtifact(context.Background(), a, pkgfmt.Limits{})
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			if c.Stem != m.ArtifactStem() {
				t.Errorf("stem %q, want %q", c.Stem, m.ArtifactStem())
			}
			if probs := pkgfmt.CheckContents(m, c); len(probs) > 0 {
				t.Errorf("artifact contents: %+v", probs)
			}
		})
	}
}

// TestProgramsDeclared checks every declared program against its object:
// it exists, its section gives the declared type, and a program chained
// the l3af way has its prog array and tail-calls through it.
func TestProgramsDeclared(t *testing.T) {
	for _, dir := range append(Good(), Hostile()) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			m, _ := Manifest(t, dir)
			for _, p := range m.Programs {
				spec, err := ebpf.LoadCollectionSpec(filepath.Join(dir, p.Object))
				if err != nil {
					t.Fatalf("%s: %v", p.Object, err)
				}
				ps, ok := spec.Programs[p.Name]
				if !ok {
					t.Errorf("%s: no program %q", p.Object, p.Name)
					continue
				}
				want, _ := pkgfmt.ProgramTypeFor(p.Type)
				if ps.Type != want {
					t.Errorf("%s: %s in section %q is %v, manifest says %q (%v)", p.Object, p.Name, ps.SectionName, ps.Type, p.Type, want)
				}
				if ps.License == "" {
					t.Errorf("%s: no license section", p.Object)
				}
				if p.Chaining != pkgfmt.ChainingL3af {
					continue
				}
				ms, ok := spec.Maps[p.MapName]
				if !ok || ms.Type != ebpf.ProgramArray {
					t.Errorf("%s: %s: no prog array %q", p.Object, p.Name, p.MapName)
				}
				data, err := os.ReadFile(filepath.Join(dir, p.Object))
				if err != nil {
					t.Fatal(err)
				}
				r, err := bpfobj.InspectObject(p.Object, data)
				if err != nil {
					t.Fatal(err)
				}
				for _, pr := range r.Programs {
					if pr.Name == p.Name && !strings.Contains(strings.Join(pr.TailCalls, ","), p.MapName) {
						t.Errorf("%s: %s does not tail-call through %s: %v", p.Object, p.Name, p.MapName, pr.TailCalls)
					}
				}
				if !r.BTF {
					t.Errorf("%s: no BTF", p.Object)
				}
			}
		})
	}
}

// objects returns every .o file of a package, relative path and bytes.
func objects(t *testing.T, dir string) []bpfobj.ObjectData {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.o"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("%s: no objects", dir)
	}
	var objs []bpfobj.ObjectData
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, bpfobj.ObjectData{Path: filepath.Base(p), Data: data})
	}
	return objs
}

// TestVerifierAccepts loads every program of every good package into the
// running kernel's verifier.
func TestVerifierAccepts(t *testing.T) {
	kerneltest.RequireVerifier(t)
	kerneltest.RequireKernelBTF(t)
	for _, dir := range append(Good(), Hostile()) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			r := bpfobj.VerifyObjects(context.Background(), objects(t, dir))
			if len(r.Programs) == 0 {
				t.Fatal("no programs verified")
			}
			for _, res := range r.Programs {
				switch res.Status {
				case bpfobj.VerifierNotRun:
					t.Skipf("verifier not run: %s", res.Reason)
				case bpfobj.VerifierAccepted:
					t.Logf("%s/%s: accepted, %d instructions processed", res.Object, res.Program, res.Instructions)
				default:
					t.Errorf("%s/%s: %s: %s\n%s", res.Object, res.Program, res.Status, res.Reason, res.LogTail)
				}
			}
		})
	}
}

func TestHostileReadme(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(Hostile(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"<script>window.__xss=1</script>",
		`<img src=x onerror="window.__xss=2">`,
		"](javascript:window.__xss=3)",
		"<iframe",
		"<style>",
	} {
		if !bytes.Contains(data, []byte(s)) {
			t.Errorf("README.md lacks %q", s)
		}
	}
}

// TestCases checks the bad and warn cases are well formed, and checks the
// codes that need no linter: manifest and package-content codes with
// ParseManifest and CheckContents, object.parse with cilium/ebpf, and
// verifier.rejected with the verifier.
func TestCases(t *testing.T) {
	bad, warn := Bad(), Warn()
	if len(bad) < 15 || len(warn) < 1 {
		t.Fatalf("%d bad and %d warn cases, want at least 15 and 1", len(bad), len(warn))
	}
	for _, c := range append(bad, warn...) {
		t.Run(c.Name, func(t *testing.T) {
			if len(c.Expect) == 0 {
				t.Fatal("expect file lists no codes")
			}
			ct, err := pkgfmt.OpenDir(context.Background(), c.Dir, pkgfmt.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			mf, ok := ct.File(pkgfmt.ManifestFile)
			if !ok {
				t.Fatal("no manifest")
			}
			m, problems := pkgfmt.ParseManifest(mf.Data)
			if m != nil {
				problems = append(problems, pkgfmt.CheckContents(m, ct)...)
			}
			got := map[string]bool{}
			for _, p := range problems {
				got[p.Code] = true
			}
			for _, code := range c.Expect {
				switch {
				case strings.HasPrefix(code, "manifest.") || strings.HasPrefix(code, "package."):
					if !got[code] {
						t.Errorf("want %s, got %+v", code, problems)
					}
				case code == "object.missing":
					// CheckContents reports it as package.missing-file on
					// the program's object field.
					if !hasProblem(problems, "package.missing-file", "programs[") {
						t.Errorf("want a missing object, got %+v", problems)
					}
				case code == "object.parse":
					for _, o := range objects(t, c.Dir) {
						if _, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(o.Data)); err == nil {
							t.Errorf("%s parses", o.Path)
						}
					}
				case strings.HasPrefix(code, "program.") || strings.HasPrefix(code, "chaining.") || code == "object.gpl-helper":
					if m == nil {
						t.Fatalf("%s: the manifest does not decode", code)
					}
					if !objectShows(t, c.Dir, m, code) {
						t.Errorf("the object does not show %s", code)
					}
				case code == "verifier.rejected":
					kerneltest.RequireVerifier(t)
					kerneltest.RequireKernelBTF(t)
					r := bpfobj.VerifyObjects(context.Background(), objects(t, c.Dir))
					rejected := false
					for _, res := range r.Programs {
						rejected = rejected || res.Status == "rejected"
					}
					if !rejected {
						t.Errorf("no program rejected: %+v", r.Programs)
					}
				}
			}
			// Manifest-level codes not expected would make the case
			// ambiguous: a case shows one mistake.
			for _, p := range problems {
				if p.Code == "package.missing-file" && strings.HasPrefix(p.Field, "programs[") && contains(c.Expect, "object.missing") {
					continue
				}
				if p.Severity == pkgfmt.SeverityError && !contains(c.Expect, p.Code) {
					t.Errorf("unexpected %s %s: %s", p.Code, p.Field, p.Message)
				}
			}
		})
	}
}

func hasProblem(problems []pkgfmt.Problem, code, fieldPrefix string) bool {
	for _, p := range problems {
		if p.Code == code && strings.HasPrefix(p.Field, fieldPrefix) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestSourcesHaveObjects checks every C source of the corpus has its
// committed object beside it.
func TestSourcesHaveObjects(t *testing.T) {
	srcs, err := filepath.Glob(filepath.Join(Root(), "*", "*", "*.bpf.c"))
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) == 0 {
		t.Fatal("no C sources")
	}
	for _, s := range srcs {
		if _, err := os.Stat(strings.TrimSuffix(s, ".c") + ".o"); err != nil {
			t.Errorf("%s: no object: run make testdata", s)
		}
	}
}

// objectShows reports whether the first declared program of m and its
// object have the fault that lint reports as code.
func objectShows(t *testing.T, dir string, m *pkgfmt.Manifest, code string) bool {
	t.Helper()
	p := m.Programs[0]
	data, err := os.ReadFile(filepath.Join(dir, p.Object))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", p.Object, err)
	}
	r, err := bpfobj.InspectObject(p.Object, data)
	if err != nil {
		t.Fatalf("%s: %v", p.Object, err)
	}
	ps := spec.Programs[p.Name]
	var report bpfobj.ProgramReport
	for _, pr := range r.Programs {
		if pr.Name == p.Name {
			report = pr
		}
	}
	switch code {
	case "program.missing":
		return ps == nil
	case "program.type-mismatch":
		want, _ := pkgfmt.ProgramTypeFor(p.Type)
		return ps != nil && ps.Type != want
	case "program.unknown-section":
		return ps != nil && ps.Type == ebpf.UnspecifiedProgram
	case "program.undeclared":
		declared := map[string]bool{}
		for _, dp := range m.Programs {
			declared[dp.Name] = true
		}
		for name := range spec.Programs {
			if !declared[name] {
				return true
			}
		}
	case "object.gpl-helper":
		return !r.GPLCompat && contains(report.Helpers, "bpf_trace_printk")
	case "chaining.no-prog-array":
		ms := spec.Maps[p.MapName]
		return ms == nil || ms.Type != ebpf.ProgramArray
	case "chaining.no-tail-call":
		ms := spec.Maps[p.MapName]
		return ms != nil && ms.Type == ebpf.ProgramArray && !contains(report.TailCalls, p.MapName)
	default:
		t.Fatalf("no check for %s", code)
	}
	return false
}
