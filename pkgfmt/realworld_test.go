//go:build linux

package pkgfmt

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"github.com/ebpfrepo/ebpfrepo/internal/kerneltest"
)

// libxdpObjectDir is where Debian's libxdp1 package installs the eBPF
// objects libxdp and xdp-tools load (xdp-dispatcher.o, xdpfilt_*.o, ...).
// These are objects the project did not write: .ci/run installs libxdp1.
func libxdpObjects(tb testing.TB) []bpfobj.ObjectData {
	tb.Helper()
	dir := "/usr/lib/" + debianMultiarch() + "/bpf"
	paths, _ := filepath.Glob(filepath.Join(dir, "*.o"))
	if len(paths) == 0 {
		tb.Skipf("no libxdp objects in %s: install Debian's libxdp1 (apt-get install libxdp1)", dir)
	}
	var objs []bpfobj.ObjectData
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		objs = append(objs, bpfobj.ObjectData{Path: filepath.Base(p), Data: data})
	}
	return objs
}

func debianMultiarch() string {
	switch runtime.GOARCH {
	case "arm64":
		return "aarch64-linux-gnu"
	case "386":
		return "i386-linux-gnu"
	}
	return "x86_64-linux-gnu"
}

// sectionProgramType is the program type an ELF section name announces,
// for the sections libxdp uses (libbpf's section conventions).
func sectionProgramType(section string) string {
	prefix, _, _ := strings.Cut(section, "/")
	switch prefix {
	case "xdp", "xdp.frags":
		return ebpf.XDP.String()
	case "fentry", "fexit", "fmod_ret", "tp_btf", "iter":
		return ebpf.Tracing.String()
	case "tc", "classifier", "tcx":
		return ebpf.SchedCLS.String()
	case "kprobe", "kretprobe", "uprobe", "uretprobe":
		return ebpf.Kprobe.String()
	case "tracepoint", "tp":
		return ebpf.TracePoint.String()
	}
	return ""
}

// TestRealWorldLibxdpSections: every libxdp object parses, and each
// program's type is the one its ELF section announces.
func TestRealWorldLibxdpSections(t *testing.T) {
	for _, obj := range libxdpObjects(t) {
		t.Run(obj.Path, func(t *testing.T) {
			o, err := bpfobj.Parse(obj.Path, obj.Data)
			if err != nil {
				t.Fatal(err)
			}
			spec := o.Spec()
			if len(spec.Programs) == 0 {
				t.Fatal("no programs")
			}
			for name, ps := range spec.Programs {
				want := sectionProgramType(ps.SectionName)
				if want == "" {
					t.Errorf("%s: section %q not known to this test", name, ps.SectionName)
				} else if ps.Type.String() != want {
					t.Errorf("%s: section %q gives program type %s, want %s", name, ps.SectionName, ps.Type, want)
				}
			}
		})
	}
}

// TestRealWorldLibxdpVerify loads every libxdp program into the running
// kernel's verifier. Programs must be accepted, except those that cannot
// be loaded on their own (xdpdump's fentry/fexit programs name the
// placeholder function "func", resolved by xdpdump at run time), which
// must be inconclusive, not rejected.
func TestRealWorldLibxdpVerify(t *testing.T) {
	kerneltest.RequireVerifier(t)
	objs := libxdpObjects(t)
	before := kerneltest.OpenFDs(t)
	r := bpfobj.VerifyObjects(context.Background(), objs)
	if after := kerneltest.OpenFDs(t); after != before {
		t.Errorf("file descriptors leaked: %d open before, %d after", before, after)
	}
	for _, p := range r.Programs {
		t.Logf("%s/%s: %s, %d insns processed %s", p.Object, p.Program, p.Status, p.Instructions, p.Reason)
		want := bpfobj.VerifierAccepted
		if p.Object == "xdpdump_bpf.o" {
			want = bpfobj.VerifierInconclusive
		}
		if p.Status != want {
			t.Errorf("%s/%s: %s (%s), want %s\n%s", p.Object, p.Program, p.Status, p.Reason, want, p.LogTail)
		}
		if p.Status == bpfobj.VerifierAccepted && p.Instructions <= 0 {
			t.Errorf("%s/%s: accepted without instructions processed", p.Object, p.Program)
		}
	}
}

// TestRealWorldLibxdpKernelBTF checks libxdp's objects against the running
// kernel's BTF offline.
func TestRealWorldLibxdpKernelBTF(t *testing.T) {
	if _, err := os.Stat(sysfsVmlinux); err != nil {
		t.Skip("no kernel BTF at", sysfsVmlinux)
	}
	res, err := bpfobj.CheckKernelBTF(context.Background(), libxdpObjects(t), []string{sysfsVmlinux})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res {
		want := c.Object != "xdpdump_bpf.o" // fentry/fexit on the placeholder "func"
		if c.Compatible != want {
			t.Errorf("%s/%s: compatible %v (%s), want %v", c.Object, c.Program, c.Compatible, c.Reason, want)
		}
		if !c.Compatible && !strings.Contains(c.Reason, "func") {
			t.Errorf("%s/%s: reason %q does not name the missing attach target", c.Object, c.Program, c.Reason)
		}
	}
}

// libxdpPackage builds a package source directory around one libxdp
// object, declaring every program with the manifest type its section
// names.
func libxdpPackage(t *testing.T, obj bpfobj.ObjectData) string {
	t.Helper()
	r, err := bpfobj.InspectObject(obj.Path, obj.Data)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.ReplaceAll(strings.ToLower(strings.TrimSuffix(obj.Path, ".o")), ".", "_")
	p := &lintPkg{
		m: Manifest{
			Name: name, Version: "1.4.2", Description: "libxdp's " + obj.Path + ", packaged by a test",
			License: "GPL-2.0-only", Readme: "README.md", Artifact: name + ".tar.gz",
			Platforms: []string{"bookworm"}, Maintainers: []Maintainer{{Name: "xdp-project"}},
		},
		files: map[string][]byte{"README.md": []byte("# " + name + "\n"), obj.Path: obj.Data},
	}
	for _, pr := range r.Programs {
		typ, _, _ := strings.Cut(pr.Section, "/")
		if _, ok := ProgramTypeFor(typ); !ok {
			t.Fatalf("%s: no manifest type for section %q", pr.Name, pr.Section)
		}
		p.m.Programs = append(p.m.Programs, Program{Name: pr.Name, Object: obj.Path, Type: typ, Chaining: ChainingNone})
	}
	return p.write(t)
}

// TestRealWorldLibxdpLint packs every libxdp object into a package, lints
// the artifact — and, as root, runs the verifier on it — and checks that
// it has no errors and that every program's type is the one its section
// announces.
func TestRealWorldLibxdpLint(t *testing.T) {
	verify := os.Geteuid() == 0
	for _, obj := range libxdpObjects(t) {
		t.Run(obj.Path, func(t *testing.T) {
			art, err := Pack(context.Background(), libxdpPackage(t, obj), t.TempDir(), PackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			d, err := LintPath(context.Background(), art, LintOptions{Verify: verify})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range d.Problems {
				t.Logf("%s %s: %s", p.Severity, p.Code, p.Message)
			}
			if d.HasErrors() {
				t.Errorf("lint errors: %+v", d.Errors())
			}
			if len(d.Objects) != 1 || len(d.Objects[0].Programs) == 0 {
				t.Fatalf("objects: %+v", d.Objects)
			}
			for _, p := range d.Objects[0].Programs {
				if want := sectionProgramType(p.Section); p.Type != want {
					t.Errorf("%s: section %q, type %s, want %s", p.Name, p.Section, p.Type, want)
				}
			}
			if d.Kernel == nil || d.Kernel.MinVersion == "" {
				t.Errorf("no minimum kernel inferred: %+v", d.Kernel)
			}
			if verify && d.Verifier != nil {
				for _, v := range d.Verifier.Programs {
					t.Logf("verifier: %s: %s %s", v.Program, v.Status, v.Reason)
				}
			}
		})
	}
}
