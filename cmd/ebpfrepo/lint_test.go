package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
	"github.com/ebpfrepo/ebpfrepo/internal/testpkgs"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// checkGolden compares got with testdata/golden/name, or rewrites the
// file with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/ebpfrepo -run %s -update to create it)", err, t.Name())
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; -update rewrites it):\n%s", path, diff)
	}
}

// relToTest returns path relative to this package's directory, so that
// paths in command output are the same on every machine.
func relToTest(t *testing.T, path string) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, path)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

func TestPackLintGood(t *testing.T) {
	dirs := testpkgs.Good()
	if len(dirs) == 0 {
		t.Skip("no example packages")
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var sums []string
			var art string
			for range 2 {
				out := t.TempDir()
				stdout, stderr, code := runCmd(t, "pack", dir, "-o", out, "--json")
				if code != 0 {
					t.Fatalf("pack: exit %d: %s", code, stderr)
				}
				var res struct {
					Path   string `json:"path"`
					SHA256 string `json:"sha256"`
					Length int64  `json:"length"`
				}
				if err := json.Unmarshal([]byte(stdout), &res); err != nil {
					t.Fatalf("pack --json: %v\n%s", err, stdout)
				}
				fi, err := os.Stat(res.Path)
				if err != nil || fi.Size() != res.Length || len(res.SHA256) != 64 || filepath.Dir(res.Path) != out {
					t.Fatalf("pack --json: %+v does not describe the artifact written (%v)", res, err)
				}
				sums = append(sums, res.SHA256)
				art = res.Path
			}
			if sums[0] != sums[1] {
				t.Errorf("packing twice gave different artifacts: %s, %s", sums[0], sums[1])
			}
			stdout, stderr, code := runCmd(t, "lint", dir, art)
			if code != 0 {
				t.Fatalf("lint: exit %d:\n%s%s", code, stdout, stderr)
			}
			if strings.Count(stdout, "ok: ") != 3 || !strings.HasSuffix(stdout, "0 of 2 package(s) failed\n") {
				t.Errorf("lint output:\n%s\nwant an ok line per package and the summary", stdout)
			}
		})
	}
}

func TestLintBad(t *testing.T) {
	cases := testpkgs.Bad()
	if len(cases) == 0 {
		t.Skip("no bad packages")
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			args := []string{"lint", relToTest(t, c.Dir)}
			verify := slices.Contains(c.Expect, pkgfmt.CodeVerifierRejected)
			if verify {
				if os.Geteuid() != 0 {
					t.Skip("needs root to run the verifier")
				}
				args = append(args, "--verify")
			}
			stdout, _, code := runCmd(t, args...)
			if code != 1 {
				t.Fatalf("lint: exit %d, want 1:\n%s", code, stdout)
			}
			if !verify { // the verifier's log depends on the kernel
				// The messages people read: reviewed in the golden files.
				checkGolden(t, filepath.Join("lint-bad", c.Name+".txt"), []byte(stdout))
			}
			for _, want := range c.Expect {
				if !strings.Contains(stdout, "error: ") || !strings.Contains(stdout, "["+want+"]") {
					t.Errorf("output lacks an error [%s]:\n%s", want, stdout)
				}
			}
			if !strings.Contains(stdout, "FAILED: ") {
				t.Errorf("no summary line:\n%s", stdout)
			}

			stdout, _, code = runCmd(t, append(args, "--json")...)
			if code != 1 {
				t.Fatalf("lint --json: exit %d, want 1", code)
			}
			var out lintOutput
			if err := json.Unmarshal([]byte(stdout), &out); err != nil {
				t.Fatalf("lint --json: %v\n%s", err, stdout)
			}
			if out.OK || len(out.Results) != 1 || out.Results[0].OK || out.Results[0].Errors == 0 || out.Results[0].Description == nil {
				t.Fatalf("lint --json: %+v", out)
			}
			var got []string
			for _, p := range out.Results[0].Description.Errors() {
				got = append(got, p.Code)
			}
			slices.Sort(got)
			want := slices.Clone(c.Expect)
			slices.Sort(want)
			if diff := cmp.Diff(slices.Compact(want), slices.Compact(got)); diff != "" {
				t.Errorf("error codes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPackRefusesErrors(t *testing.T) {
	cases := testpkgs.Bad()
	i := slices.IndexFunc(cases, func(c testpkgs.Case) bool { return c.Name == "program-type-mismatch" })
	if i < 0 {
		t.Skip("no bad package program-type-mismatch")
	}
	out := t.TempDir()
	_, stderr, code := runCmd(t, "pack", cases[i].Dir, "-o", out)
	if code != 1 || !strings.Contains(stderr, "[program.type-mismatch]") {
		t.Errorf("pack: exit %d, stderr %q: want 1 and the problem", code, stderr)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("pack wrote %d files despite errors", len(ents))
	}
}

func TestPackLintInspectUsage(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "f.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"lint"}, 2},
		{[]string{"lint", "--kernel-btf", filepath.Join(tmp, "none.btf"), tmp}, 2},
		{[]string{"lint", "--nope", tmp}, 2},
		{[]string{"lint", filepath.Join(tmp, "missing")}, 1},
		{[]string{"lint", file}, 1},
		{[]string{"pack"}, 2},
		{[]string{"pack", file}, 2},
		{[]string{"pack", tmp}, 1}, // no manifest
		{[]string{"inspect"}, 2},
		{[]string{"inspect", "a.o", "b.o"}, 2},
		{[]string{"inspect", tmp}, 2},
		{[]string{"inspect", file}, 1},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, stderr, code := runCmd(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (%s)", code, tt.code, stderr)
			}
		})
	}
}

// TestLintJSONGolden pins the JSON form of `lint --json` (docs/lint.md)
// for one example package.
func TestLintJSONGolden(t *testing.T) {
	dir := testpkgs.Dir("xdp-root")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("no example package xdp-root")
	}
	stdout, stderr, code := runCmd(t, "lint", "--json", relToTest(t, dir))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkGolden(t, "lint-xdp-root.json", []byte(stdout))
}

// TestInspectGolden pins `inspect --json` and the human `inspect` output
// of every example object, and checks the human output names every
// program, map and instruction-set feature.
func TestInspectGolden(t *testing.T) {
	objs, _ := filepath.Glob(filepath.Join(testpkgs.Root(), "packages", "*", "*.o"))
	if len(objs) == 0 {
		t.Skip("no example objects")
	}
	for _, obj := range objs {
		name := filepath.Base(filepath.Dir(obj)) + "__" + strings.TrimSuffix(filepath.Base(obj), ".o") + ".json"
		t.Run(name, func(t *testing.T) {
			stdout, stderr, code := runCmd(t, "inspect", "--json", obj)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			checkGolden(t, filepath.Join("inspect", name), []byte(stdout))
			var r inspectOutput
			if err := json.Unmarshal([]byte(stdout), &r); err != nil {
				t.Fatal(err)
			}
			human, _, code := runCmd(t, "inspect", obj)
			if code != 0 {
				t.Fatalf("inspect: exit %d", code)
			}
			checkGolden(t, filepath.Join("inspect", strings.TrimSuffix(name, ".json")+".txt"), []byte(human))
			for _, p := range r.Programs {
				for _, f := range p.ISA {
					if !strings.Contains(human, f+" (") {
						t.Errorf("output lacks ISA feature %s of %s with its kernel", f, p.Name)
					}
				}
			}
			for _, want := range []string{"PROGRAMS", "MAPS", "license:", r.Path} {
				if !strings.Contains(human, want) {
					t.Errorf("output lacks %q:\n%s", want, human)
				}
			}
			for _, p := range r.Programs {
				if !strings.Contains(human, p.Name) {
					t.Errorf("output lacks program %s", p.Name)
				}
			}
			for _, m := range r.Maps {
				if !strings.Contains(human, m.Name) {
					t.Errorf("output lacks map %s", m.Name)
				}
			}
		})
	}
}

func TestProblemLine(t *testing.T) {
	var b bytes.Buffer
	printLint(&b, &b, lintOutput{OK: true, Results: []lintResult{{Path: "x", OK: true,
		Description: &pkgfmt.Description{Manifest: pkgfmt.Manifest{Name: "p", Version: "1.0.0"}}}}})
	if b.String() != "ok: p@1.0.0: x\nok: 0 error(s), 0 warning(s); 0 of 1 package(s) failed\n" {
		t.Errorf("printLint: %q", b.String())
	}
}

// TestLintVerifyAndBTF: with --verify every example program is accepted
// by the running kernel (as root), and --kernel-btf records the offline
// CO-RE results in the description.
func TestLintVerifyAndBTF(t *testing.T) {
	dirs := testpkgs.Good()
	if len(dirs) == 0 {
		t.Skip("no example packages")
	}
	t.Run("verify", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("the verifier needs root")
		}
		stdout, stderr, code := runCmd(t, append([]string{"lint", "--verify"}, dirs...)...)
		if code != 0 {
			t.Fatalf("exit %d:\n%s%s", code, stdout, stderr)
		}
		if n := strings.Count(stdout, "verifier: "); n != len(dirs) {
			t.Errorf("%d verifier lines for %d packages:\n%s", n, len(dirs), stdout)
		}
		if strings.Contains(stdout, "rejected") {
			t.Errorf("a program was rejected:\n%s", stdout)
		}
		if !strings.Contains(stdout, "    xdp_root.bpf.o: xdp_root: accepted, ") || !strings.Contains(stdout, " instructions processed\n") {
			t.Errorf("no per-program line with the instructions processed:\n%s", stdout)
		}
	})
	t.Run("kernel-btf", func(t *testing.T) {
		const vmlinux = "/sys/kernel/btf/vmlinux"
		if _, err := os.Stat(vmlinux); err != nil {
			t.Skip("no kernel BTF")
		}
		stdout, stderr, code := runCmd(t, "lint", "--json", "--kernel-btf", vmlinux, testpkgs.Dir("process-monitor"))
		if code != 0 {
			t.Fatalf("exit %d:\n%s%s", code, stdout, stderr)
		}
		var out lintOutput
		if err := json.Unmarshal([]byte(stdout), &out); err != nil {
			t.Fatal(err)
		}
		k := out.Results[0].Description.Kernel
		if k == nil || len(k.Compatible) == 0 {
			t.Fatalf("no CO-RE results: %+v", k)
		}
		for _, c := range k.Compatible {
			if !c.Compatible {
				t.Errorf("%s/%s: not compatible with the running kernel: %s", c.Object, c.Program, c.Reason)
			}
		}
	})
	t.Run("kernel-btf lacking a type", func(t *testing.T) {
		// A kernel whose BTF has a task_struct without the fields
		// process-monitor reads: every program is incompatible, which is
		// a warning naming the field, not an error.
		i32 := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
		b, err := btf.NewBuilder([]btf.Type{i32, &btf.Struct{Name: "task_struct", Size: 4, Members: []btf.Member{{Name: "flags", Type: i32}}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := b.Marshal(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		old := filepath.Join(t.TempDir(), "old-kernel.btf")
		if err := os.WriteFile(old, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := runCmd(t, "lint", "--kernel-btf", old, testpkgs.Dir("process-monitor"))
		if code != 0 {
			t.Fatalf("exit %d, want 0 (incompatibility is a warning):\n%s%s", code, stdout, stderr)
		}
		for _, prog := range []string{"handle_exec", "handle_exit"} {
			if !strings.Contains(stdout, "program "+prog+": not compatible with kernel old-kernel.btf") {
				t.Errorf("no incompatibility warning for %s:\n%s", prog, stdout)
			}
		}
		if !strings.Contains(stdout, "task_struct") || !strings.Contains(stdout, "[kernel.btf-incompatible]") {
			t.Errorf("warnings do not name the missing type:\n%s", stdout)
		}
	})
}
