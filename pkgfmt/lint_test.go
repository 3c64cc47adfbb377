package pkgfmt

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"github.com/google/go-cmp/cmp"
)

// lintPkg is a package source tree built in a test: a manifest and files
// copied from testdata or given inline.
type lintPkg struct {
	m     Manifest
	files map[string][]byte
}

// newLintPkg returns a clean package holding testdata/verifier/reject.bpf.o
// with both its programs declared.
func newLintPkg(t testing.TB) *lintPkg {
	t.Helper()
	return &lintPkg{
		m: Manifest{
			Name: "demo", Version: "1.0.0", Description: "lint test package", License: "GPL-2.0-only",
			Readme: "README.md", Artifact: "demo.tar.gz", Platforms: []string{"noble"},
			Maintainers: []Maintainer{{Name: "Test"}},
			Programs: []Program{
				{Name: "xdp_ok", Object: "prog.bpf.o", Type: "xdp", Chaining: ChainingNone},
				{Name: "xdp_oob", Object: "prog.bpf.o", Type: "xdp", Chaining: ChainingNone},
			},
		},
		files: map[string][]byte{
			"README.md":  []byte("# demo\n\nA package for lint tests.\n"),
			"prog.bpf.o": readObject(t, "../bpfobj/testdata/verifier/reject.bpf.o").Data,
		},
	}
}

// lintCasesPkg returns a package of testdata/lint/lintcases.bpf.o with its
// programs declared; each breaks one rule.
func lintCasesPkg(t testing.TB) *lintPkg {
	p := newLintPkg(t)
	p.m.License = "BSD-2-Clause"
	p.files["prog.bpf.o"] = readObject(t, "../bpfobj/testdata/lint/lintcases.bpf.o").Data
	p.m.Programs = []Program{
		{Name: "xdp_chained", Object: "prog.bpf.o", Type: "xdp", Chaining: ChainingL3af, MapName: "chain_next"},
	}
	return p
}

func (p *lintPkg) write(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range p.files {
		full := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if p.m.Name != "" {
		b, err := MarshalManifest(&p.m)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ManifestFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// problemCodes returns "severity code" of each problem, sorted, unique.
func problemCodes(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, string(p.Severity)+" "+p.Code)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestDescribeProblems(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(t testing.TB, p *lintPkg)
		want   []string
	}{
		{"clean", func(testing.TB, *lintPkg) {}, nil},
		{"no manifest", func(_ testing.TB, p *lintPkg) { p.m.Name = "" }, []string{"error manifest.missing"}},
		{"object missing", func(_ testing.TB, p *lintPkg) {
			p.m.Programs[0].Object = "gone.bpf.o"
		}, []string{"error object.missing", "warning program.undeclared"}},
		{"object does not parse", func(_ testing.TB, p *lintPkg) {
			p.files["prog.bpf.o"] = []byte("\x7fELF this is not an object")
		}, []string{"error object.parse"}},
		{"undeclared object does not parse", func(_ testing.TB, p *lintPkg) {
			p.files["extra.bpf.o"] = []byte("garbage")
		}, []string{"error object.parse"}},
		{"undeclared object", func(t testing.TB, p *lintPkg) {
			p.files["extra/other.o"] = readObject(t, "../bpfobj/testdata/verifier/core.bpf.o").Data               // found by its ELF machine
			p.files["host.o"] = []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x3e\x00") // x86-64: not inspected
		}, []string{"warning program.undeclared"}},
		{"program missing", func(_ testing.TB, p *lintPkg) {
			p.m.Programs[1].Name = "xdp_gone"
		}, []string{"error program.missing", "warning program.undeclared"}},
		{"type mismatch", func(_ testing.TB, p *lintPkg) {
			p.m.Programs[1].Type = "tc"
		}, []string{"error program.type-mismatch"}},
		{"tracing attach type mismatch", func(t testing.TB, p *lintPkg) {
			p.files["prog.bpf.o"] = readObject(t, "../bpfobj/testdata/verifier/core.bpf.o").Data
			p.m.Programs = []Program{
				{Name: "core_pid", Object: "prog.bpf.o", Type: "fentry", Chaining: ChainingNone},
				{Name: "core_guarded", Object: "prog.bpf.o", Type: "kprobe", Chaining: ChainingNone},
				{Name: "core_broken", Object: "prog.bpf.o", Type: "kretprobe", Chaining: ChainingNone},
			}
		}, []string{"error program.type-mismatch"}},
		{"undeclared program", func(_ testing.TB, p *lintPkg) {
			p.m.Programs = p.m.Programs[:1]
		}, []string{"warning program.undeclared"}},
		{"min kernel too low", func(_ testing.TB, p *lintPkg) {
			p.m.MinKernel = "4.1"
		}, []string{"warning " + CodeMinKernelTooLow}},
		{"min kernel invalid is reported once", func(_ testing.TB, p *lintPkg) {
			p.m.MinKernel = "five"
		}, []string{"error manifest.min-kernel"}},
		{"readme missing", func(_ testing.TB, p *lintPkg) {
			delete(p.files, "README.md")
		}, []string{"error package.missing-file"}},
		{"manifest errors and object errors together", func(_ testing.TB, p *lintPkg) {
			p.m.Version = "v1"
			p.m.Programs[0].Name = "xdp_gone"
		}, []string{"error manifest.version", "error program.missing", "warning program.undeclared"}},
		{"l3af chaining", func(t testing.TB, p *lintPkg) {
			*p = *lintCasesPkg(t)
			p.m.Programs = append(p.m.Programs,
				Program{Name: "xdp_no_tail_call", Object: "prog.bpf.o", Type: "xdp", Chaining: ChainingNone},
				Program{Name: "xdp_gpl_helper", Object: "prog.bpf.o", Type: "xdp", Chaining: ChainingNone},
				Program{Name: "mystery_prog", Object: "prog.bpf.o", Type: "kprobe", Chaining: ChainingNone})
		}, []string{"error object.gpl-helper", "error program.type-mismatch", "error program.unknown-section"}},
		{"no tail call", func(t testing.TB, p *lintPkg) {
			*p = *lintCasesPkg(t)
			p.m.Programs[0].Name = "xdp_no_tail_call"
		}, []string{"error chaining.no-tail-call", "error object.gpl-helper", "error program.unknown-section", "warning program.undeclared"}},
		{"no prog array", func(t testing.TB, p *lintPkg) {
			*p = *lintCasesPkg(t)
			p.m.Programs[0].MapName = "next_prog"
		}, []string{"error chaining.no-prog-array", "error object.gpl-helper", "error program.unknown-section", "warning program.undeclared"}},
		{"map_name is not a prog array", func(t testing.TB, p *lintPkg) {
			*p = *lintCasesPkg(t)
			p.m.Programs[0].MapName = "counters"
		}, []string{"error chaining.no-prog-array", "error object.gpl-helper", "error program.unknown-section", "warning program.undeclared"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newLintPkg(t)
			tt.mutate(t, p)
			dir := p.write(t)
			d, err := LintPath(context.Background(), dir, LintOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, problemCodes(d.Problems)); diff != "" {
				t.Errorf("problem codes (-want +got):\n%s\nproblems: %+v", diff, d.Problems)
			}
			if d.HasErrors() != (len(d.Errors()) > 0) {
				t.Error("HasErrors disagrees with Errors")
			}
			for _, pr := range d.Problems {
				if pr.Package == "" || pr.Message == "" || pr.Code == "" {
					t.Errorf("problem without package, message or code: %+v", pr)
				}
				if pr.File == "" && pr.Code != CodeKernelBTFUnreadable {
					t.Errorf("problem names no file: %+v", pr)
				}
			}
			if !slices.IsSortedFunc(d.Problems, func(a, b Problem) int {
				return strings.Compare(a.File+"\x00"+a.Field+"\x00"+a.Program, b.File+"\x00"+b.Field+"\x00"+b.Program)
			}) {
				t.Error("problems are not sorted by file, field, program")
			}
		})
	}
}

func TestDescribeContents(t *testing.T) {
	p := newLintPkg(t)
	p.files["README.md"] = bytes.Repeat([]byte("é"), MaxReadmeSize) // 2 bytes each
	p.files["tools/run.sh"] = []byte("#!/bin/sh\n")
	dir := p.write(t)
	if err := os.Chmod(filepath.Join(dir, "tools/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	d, err := LintPath(context.Background(), dir, LintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Readme) > MaxReadmeSize || len(d.Readme) < MaxReadmeSize-4 || !strings.HasPrefix(d.Readme, "éé") {
		t.Errorf("readme of %d bytes, want at most %d, cut at a character boundary", len(d.Readme), MaxReadmeSize)
	}
	var paths []string
	for _, f := range d.Files {
		paths = append(paths, fmt.Sprintf("%s %v %d", f.Path, f.Executable, len(f.SHA256)))
	}
	want := []string{"README.md false 64", ManifestFile + " false 64", "prog.bpf.o false 64", "tools/run.sh true 64"}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if len(d.Objects) != 1 || d.Objects[0].Path != "prog.bpf.o" || len(d.Objects[0].Programs) != 2 {
		t.Fatalf("objects: %+v", d.Objects)
	}
	if d.Kernel == nil || d.Kernel.MinVersion == "" {
		t.Errorf("kernel report: %+v, want a minimum version", d.Kernel)
	}
	if d.Verifier != nil {
		t.Error("verifier ran without LintOptions.Verify")
	}
	for _, pr := range d.Problems {
		if pr.Package != "demo@1.0.0" {
			t.Errorf("problem names package %q, want demo@1.0.0", pr.Package)
		}
	}
}

// TestLintPathArtifact: the description of a packed artifact is the
// description of its source directory.
func TestLintPathArtifact(t *testing.T) {
	p := newLintPkg(t)
	p.m.Programs = p.m.Programs[:1] // one warning
	dir := p.write(t)
	art, err := Pack(context.Background(), dir, t.TempDir(), PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fromDir, err := LintPath(context.Background(), dir, LintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fromArt, err := LintPath(context.Background(), art, LintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fromDir, fromArt); diff != "" {
		t.Errorf("artifact and directory describe differently (-dir +artifact):\n%s", diff)
	}
}

func TestLintPathUnsafe(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, h := range []*tar.Header{
		{Name: "demo/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "demo/evil", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	zw.Close()
	path := filepath.Join(t.TempDir(), "demo.tar.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := LintPath(context.Background(), path, LintOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := Problems{{Severity: SeverityError, Package: path, File: "demo/evil", Code: CodeArchiveUnsafe}}
	if diff := cmp.Diff(want, d.Problems, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Message" }, cmp.Ignore())); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if !strings.Contains(d.Problems[0].Message, "link") {
		t.Errorf("message %q does not say what is wrong", d.Problems[0].Message)
	}

	if !strings.Contains(d.Problems[0].Message, "repack it with ebpfrepo pack") {
		t.Errorf("artifact: message %q does not say to repack", d.Problems[0].Message)
	}

	// A source directory is fixed, not repacked.
	dir := t.TempDir()
	noErr(t, os.Symlink("/etc/passwd", filepath.Join(dir, "passwd")))
	d, err = LintPath(context.Background(), dir, LintOptions{})
	noErr(t, err)
	if len(d.Problems) != 1 || d.Problems[0].File != "passwd" || !strings.Contains(d.Problems[0].Message, "the package was not read; replace the link with a copy of the file") {
		t.Errorf("source directory: %+v", d.Problems)
	}

	d = DescribeReadError("x.zip", errors.New("boom"))
	if len(d.Problems) != 1 || d.Problems[0].Code != CodeArchiveUnsafe || d.Problems[0].File != "" || !d.HasErrors() {
		t.Errorf("DescribeReadError: %+v", d.Problems)
	}

	for _, bad := range []string{filepath.Join(t.TempDir(), "missing"), "lint_test.go"} {
		if _, err := LintPath(context.Background(), bad, LintOptions{}); err == nil {
			t.Errorf("LintPath(%s): no error", bad)
		}
	}
}

func TestDescribeKernelBTF(t *testing.T) {
	if _, err := os.Stat(sysfsVmlinux); err != nil {
		t.Skip("no kernel BTF at", sysfsVmlinux)
	}
	p := newLintPkg(t)
	p.files["prog.bpf.o"] = readObject(t, "../bpfobj/testdata/verifier/core.bpf.o").Data
	p.m.Programs = []Program{
		{Name: "core_pid", Object: "prog.bpf.o", Type: "kprobe", Chaining: ChainingNone},
		{Name: "core_guarded", Object: "prog.bpf.o", Type: "kprobe", Chaining: ChainingNone},
		{Name: "core_broken", Object: "prog.bpf.o", Type: "kprobe", Chaining: ChainingNone},
	}
	d, err := LintPath(context.Background(), p.write(t), LintOptions{KernelBTF: []string{sysfsVmlinux}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"warning " + CodeBTFIncompatible}, problemCodes(d.Problems)); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
	if d.Kernel == nil || len(d.Kernel.Compatible) != 3 {
		t.Fatalf("kernel report %+v: want 3 CO-RE results", d.Kernel)
	}
	for _, c := range d.Kernel.Compatible {
		if c.Compatible != (c.Program != "core_broken") {
			t.Errorf("%s: compatible %v (%s)", c.Program, c.Compatible, c.Reason)
		}
	}

	d, err = LintPath(context.Background(), p.write(t), LintOptions{KernelBTF: []string{"testdata/missing.btf"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"error " + CodeKernelBTFUnreadable}, problemCodes(d.Problems)); diff != "" {
		t.Errorf("unreadable BTF: codes (-want +got):\n%s", diff)
	}
}

func TestLicenseIsGPLCompatible(t *testing.T) {
	for lic, want := range map[string]bool{
		"GPL": true, "GPL v2": true, "Dual BSD/GPL": true, "Dual MIT/GPL": true, "Dual MPL/GPL": true,
		"GPL and additional rights": true, "": false, "BSD": false, "gpl": false, "GPL-2.0-only": false, "Proprietary": false,
	} {
		if got := bpfobj.LicenseIsGPLCompatible(lic); got != want {
			t.Errorf("LicenseIsGPLCompatible(%q) = %v, want %v", lic, got, want)
		}
	}
	if !bpfobj.IsGPLOnlyHelper("bpf_probe_read_kernel") || bpfobj.IsGPLOnlyHelper("bpf_map_lookup_elem") {
		t.Error("IsGPLOnlyHelper is wrong for bpf_probe_read_kernel or bpf_map_lookup_elem")
	}
}

// TestDescribeMessages: messages say what to do, in the terms of the
// package (the section to write, the type to declare, the file to add).
func TestDescribeMessages(t *testing.T) {
	x86 := []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x3e\x00")
	tests := []struct {
		name   string
		mutate func(t testing.TB, p *lintPkg)
		code   string
		want   []string // substrings of that problem's message
	}{
		{"type mismatch names the type and the section", func(_ testing.TB, p *lintPkg) {
			p.m.Programs[1].Type = "tc"
		}, CodeProgramTypeMismatch, []string{`declared type "tc" (SchedCLS), but its ELF section "xdp" makes it XDP`, `set type = "xdp"`, `SEC("tc")`}},
		{"type mismatch with several candidate types", func(t testing.TB, p *lintPkg) {
			p.files["prog.bpf.o"] = readObject(t, "../bpfobj/testdata/verifier/core.bpf.o").Data
			p.m.Programs = []Program{{Name: "core_guarded", Object: "prog.bpf.o", Type: "xdp", Chaining: ChainingNone}}
		}, CodeProgramTypeMismatch, []string{`set type to one of "kprobe", "kretprobe", "uprobe" or "uretprobe"`, `SEC("xdp")`}},
		{"unknown section: the section to write", func(t testing.TB, p *lintPkg) {
			*p = *lintCasesPkg(t)
			p.m.Programs = []Program{{Name: "mystery_prog", Object: "prog.bpf.o", Type: "kprobe", Chaining: ChainingNone}}
		}, CodeProgramTypeMismatch, []string{`names no program type: put the program in SEC("kprobe/FUNC")`}},
		{"object is not ELF", func(_ testing.TB, p *lintPkg) {
			p.files["prog.bpf.o"] = []byte("int main() { return 0; }\n")
		}, CodeObjectParse, []string{`not an ELF file (it starts with "int main() { ret")`, "clang -target bpf"}},
		{"object is empty", func(_ testing.TB, p *lintPkg) {
			p.files["prog.bpf.o"] = nil
		}, CodeObjectParse, []string{"not an ELF file (it is empty)"}},
		{"object for another machine", func(_ testing.TB, p *lintPkg) {
			p.files["prog.bpf.o"] = x86
		}, CodeObjectParse, []string{"an ELF object for EM_X86_64, not eBPF (EM_BPF): compile it with clang -target bpf"}},
		{"no prog array: the object's prog array is suggested", func(t testing.TB, p *lintPkg) {
			*p = *lintCasesPkg(t)
			p.m.Programs[0].MapName = "next_prog"
		}, CodeChainingNoProgArray, []string{`prog.bpf.o has no map "next_prog"`, `set map_name = "chain_next" (the object's prog array), or define one`}},
		{"readme missing", func(_ testing.TB, p *lintPkg) {
			delete(p.files, "README.md")
		}, codeContentsMissingFile, []string{`"README.md" is not in the package: add the file, or fix the path`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newLintPkg(t)
			tt.mutate(t, p)
			d, err := LintPath(context.Background(), p.write(t), LintOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for _, pr := range d.Problems {
				if pr.Code == tt.code {
					msgs = append(msgs, pr.Message)
				}
			}
			if len(msgs) == 0 {
				t.Fatalf("no %s problem in %+v", tt.code, d.Problems)
			}
			for _, w := range tt.want {
				if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, w) }) {
					t.Errorf("no %s message contains %q: %q", tt.code, w, msgs)
				}
			}
		})
	}
}

// TestSectionExamples: every manifest program type has a section to
// suggest.
func TestSectionExamples(t *testing.T) {
	for _, n := range ProgramTypeNames() {
		if sectionExamples[n] == "" {
			t.Errorf("program type %q has no section example", n)
		}
	}
	if len(sectionExamples) != len(ProgramTypeNames()) {
		t.Errorf("%d section examples for %d program types", len(sectionExamples), len(ProgramTypeNames()))
	}
}
