package index

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./index -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", name, cmp.Diff(string(want), string(got)))
	}
}

func sampleInputs() []VersionInput {
	added := time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("x", 3600))
	desc := func(version string, platforms ...string) pkgfmt.Description {
		return pkgfmt.Description{
			Manifest: pkgfmt.Manifest{
				Name: "ratelimiting", Version: version, Description: "XDP rate limiter <syn>",
				License: "GPL-2.0-only OR BSD-2-Clause", Readme: "README.md", Keywords: []string{"xdp", "ratelimit"},
				Maintainers: []pkgfmt.Maintainer{{Name: "Ada", Email: "ada@example.org"}},
				Artifact:    "l3af_ratelimiting.tar.gz", Platforms: platforms, MinKernel: "5.15",
				Programs: []pkgfmt.Program{{Name: "xdp_ratelimiting", Object: "ratelimiting.bpf.o", Type: "xdp", Chaining: "l3af", MapName: "next_prog"}},
			},
			Objects: []bpfobj.ObjectReport{{Path: "ratelimiting.bpf.o", Size: 1234, SHA256: "ab", License: "GPL", GPLCompat: true, ByteOrder: "little", BTF: true,
				Programs: []bpfobj.ProgramReport{{Name: "xdp_ratelimiting", Section: "xdp", Type: "XDP", Instructions: 42, Helpers: []string{"bpf_tail_call"}, TailCalls: []string{"next_prog"}}},
				Maps:     []bpfobj.MapReport{{Name: "next_prog", Type: "ProgramArray", KeySize: 4, ValueSize: 4, MaxEntries: 1}}}},
			Files:  []pkgfmt.FileEntry{{Path: "README.md", Size: 10, SHA256: "cd"}},
			Readme: "# ratelimiting\n",
			Kernel: &bpfobj.KernelReport{MinVersion: "4.8", SetBy: []bpfobj.KernelFeature{{Kind: "program_type", Name: "XDP", Version: "4.8"}}},
		}
	}
	return []VersionInput{
		{Description: desc("1.0.0", "noble", "jammy"), Length: 100, SHA256: "11", Added: added},
		{Description: desc("2.0.0-rc.1", "jammy"), Length: 300, SHA256: "33", Added: added.Add(48 * time.Hour)},
		{Description: desc("1.1.0", "jammy", "noble", "jammy"), Length: 200, SHA256: "22", Added: added.Add(24 * time.Hour),
			Yanked: &Yank{Reason: "CVE-2026-1234", At: added.Add(72 * time.Hour)}},
	}
}

func TestBuildPackageGolden(t *testing.T) {
	p := BuildPackage("ratelimiting", sampleInputs())
	var order []string
	for _, v := range p.Versions {
		order = append(order, v.Version)
	}
	if diff := cmp.Diff([]string{"2.0.0-rc.1", "1.1.0", "1.0.0"}, order); diff != "" {
		t.Errorf("version order (-want +got):\n%s", diff)
	}
	if !p.Versions[0].Prerelease || p.Versions[1].Prerelease {
		t.Error("prerelease flags wrong")
	}
	if got := p.Versions[1].Platforms(); !cmp.Equal(got, []string{"jammy", "noble"}) {
		t.Errorf("duplicate platforms not merged: %v", got)
	}
	b, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "package.golden.json", b)
	// Readers decode it back to the same value.
	var back Package
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, &back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	// Deterministic.
	b2, _ := Marshal(BuildPackage("ratelimiting", sampleInputs()))
	if !bytes.Equal(b, b2) {
		t.Error("two builds of the same inputs differ")
	}
}

func TestSummaryGolden(t *testing.T) {
	p := BuildPackage("ratelimiting", sampleInputs())
	s := Summarize(p, 1234, "ffee")
	if s.Latest != "1.0.0" {
		t.Errorf("latest = %q, want 1.0.0 (1.1.0 is yanked, 2.0.0-rc.1 a pre-release)", s.Latest)
	}
	empty := Summarize(&Package{Schema: Schema, Name: "aaa"}, 10, "00")
	sum := BuildSummary("demo", "a demo repository", []SummaryPackage{s, empty})
	b, err := Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.golden.json", b)
	if sum.Packages[0].Name != "aaa" {
		t.Error("summary not sorted by name")
	}
}

func TestBuildSummaryEmpty(t *testing.T) {
	b, err := Marshal(BuildSummary("r", "", nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"schema":1,"repository":"r","packages":[]}` + "\n"; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

func BenchmarkMarshalPackage(b *testing.B) {
	ins := sampleInputs()
	for b.Loop() {
		if _, err := Marshal(BuildPackage("ratelimiting", ins)); err != nil {
			b.Fatal(err)
		}
	}
}
