package bpfobj

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestInspectObjectLintCases(t *testing.T) {
	r, err := InspectObject("lintcases.bpf.o", readObject(t, "testdata/lint/lintcases.bpf.o").Data)
	if err != nil {
		t.Fatal(err)
	}
	if r.License != "BSD" || r.GPLCompat || r.ByteOrder != "little" || !r.BTF || r.CORE {
		t.Errorf("license %q gpl %v order %s btf %v core %v", r.License, r.GPLCompat, r.ByteOrder, r.BTF, r.CORE)
	}
	if len(r.SHA256) != 64 || r.Size == 0 {
		t.Errorf("size %d sha256 %q", r.Size, r.SHA256)
	}
	wantMaps := []MapReport{
		{Name: "chain_next", Type: "ProgramArray", KeySize: 4, ValueSize: 4, MaxEntries: 1},
		{Name: "counters", Type: "Array", KeySize: 4, ValueSize: 8, MaxEntries: 1},
	}
	if diff := cmp.Diff(wantMaps, r.Maps); diff != "" {
		t.Errorf("maps (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{".rodata.str1.1"}, r.DataSections); diff != "" {
		t.Errorf("data sections (-want +got):\n%s", diff)
	}
	// Instruction counts depend on the compiler; compare everything else.
	for i := range r.Programs {
		if r.Programs[i].Instructions <= 0 {
			t.Errorf("%s: no instructions", r.Programs[i].Name)
		}
		r.Programs[i].Instructions = 0
	}
	wantProgs := []ProgramReport{
		{Name: "mystery_prog", Section: "mystery", Type: "UnspecifiedProgram"},
		{Name: "xdp_chained", Section: "xdp", Type: "XDP", AttachType: "XDP",
			Helpers: []string{"bpf_tail_call"}, TailCalls: []string{"chain_next"}, Maps: []string{"chain_next"}},
		{Name: "xdp_gpl_helper", Section: "xdp", Type: "XDP", AttachType: "XDP", Helpers: []string{"bpf_trace_printk"}},
		{Name: "xdp_no_tail_call", Section: "xdp", Type: "XDP", AttachType: "XDP",
			Helpers: []string{"bpf_map_lookup_elem"}, Maps: []string{"counters"}},
	}
	if diff := cmp.Diff(wantProgs, r.Programs); diff != "" {
		t.Errorf("programs (-want +got):\n%s", diff)
	}
}

func TestInspectObjectCORE(t *testing.T) {
	r, err := InspectObject("core.bpf.o", readObject(t, "testdata/verifier/core.bpf.o").Data)
	if err != nil {
		t.Fatal(err)
	}
	if !r.BTF || !r.CORE || !r.GPLCompat {
		t.Errorf("btf %v core %v gpl %v, want all true", r.BTF, r.CORE, r.GPLCompat)
	}
	for _, p := range r.Programs {
		if p.Type != "Kprobe" || p.AttachTo != "do_nanosleep" || p.CORERelos == 0 {
			t.Errorf("%s: type %s attach_to %q relocations %d", p.Name, p.Type, p.AttachTo, p.CORERelos)
		}
		if !slices.Contains(p.Helpers, "bpf_probe_read_kernel") {
			t.Errorf("%s: helpers %v lack bpf_probe_read_kernel", p.Name, p.Helpers)
		}
	}
}

func TestInspectObjectDeterministic(t *testing.T) {
	data := readObject(t, "testdata/lint/lintcases.bpf.o").Data
	a, err := InspectObject("x.o", data)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		b, err := InspectObject("x.o", data)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(a, b); diff != "" {
			t.Fatalf("two inspections differ:\n%s", diff)
		}
	}
}

// TestInspectObjectHostile: input that is not an eBPF object is an
// *ObjectError naming the object, never a panic.
func TestInspectObjectHostile(t *testing.T) {
	good := readObject(t, "testdata/verifier/reject.bpf.o").Data
	flipped := bytes.Clone(good)
	for i := 64; i < len(flipped); i += 97 {
		flipped[i] ^= 0xff
	}
	tests := map[string][]byte{
		"empty":          nil,
		"text":           []byte("hello"),
		"elf magic only": []byte("\x7fELF"),
		"truncated":      good[:len(good)/2],
		"header only":    good[:64],
		"bit flips":      flipped,
		"too large":      make([]byte, MaxObjectSize+1),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := InspectObject("bad.o", data)
			if name == "bit flips" && err == nil {
				return // may still parse; it must only not panic
			}
			var oe *ObjectError
			if !errors.As(err, &oe) || oe.Path != "bad.o" || !strings.HasPrefix(err.Error(), "object bad.o: ") {
				t.Errorf("error %v: want an *ObjectError naming bad.o", err)
			}
		})
	}
}

// inspectSeeds are the objects FuzzInspectObject starts from: the example
// packages', the test fixtures' and libxdp's.
func inspectSeeds(tb testing.TB) [][]byte {
	var paths []string
	for _, pat := range []string{"../testdata/packages/*/*.o", "testdata/*/*.o", "/usr/lib/x86_64-linux-gnu/bpf/xdp-dispatcher.o"} {
		m, _ := filepath.Glob(pat)
		paths = append(paths, m...)
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func FuzzInspectObject(f *testing.F) {
	for _, b := range inspectSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := InspectObject("fuzz.o", data)
		if err != nil {
			return
		}
		for _, p := range r.Programs {
			if !slices.IsSorted(p.Helpers) || !slices.IsSorted(p.Maps) || !slices.IsSorted(p.TailCalls) {
				t.Fatalf("%s: unsorted lists", p.Name)
			}
		}
		if !slices.IsSortedFunc(r.Programs, func(a, b ProgramReport) int { return strings.Compare(a.Name, b.Name) }) {
			t.Fatal("programs not sorted")
		}
	})
}

func ExampleInspectObject() {
	data, err := os.ReadFile("testdata/lint/lintcases.bpf.o")
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := InspectObject("lintcases.bpf.o", data)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("license %q, GPL-compatible %v, BTF %v\n", r.License, r.GPLCompat, r.BTF)
	for _, p := range r.Programs {
		fmt.Printf("%s: section %q, type %s, helpers %v, tail calls %v\n", p.Name, p.Section, p.Type, p.Helpers, p.TailCalls)
	}
	// Output:
	// license "BSD", GPL-compatible false, BTF true
	// mystery_prog: section "mystery", type UnspecifiedProgram, helpers [], tail calls []
	// xdp_chained: section "xdp", type XDP, helpers [bpf_tail_call], tail calls [chain_next]
	// xdp_gpl_helper: section "xdp", type XDP, helpers [bpf_trace_printk], tail calls []
	// xdp_no_tail_call: section "xdp", type XDP, helpers [bpf_map_lookup_elem], tail calls []
}
