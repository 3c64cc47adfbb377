package bpfobj

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWindowsHelperName(t *testing.T) {
	for id, want := range map[uint32]string{1: "bpf_map_lookup_elem", 5: "bpf_tail_call", 26: "bpf_get_socket_cookie", 9999: ""} {
		if got := WindowsHelperName(id); got != want {
			t.Errorf("helper %d: %q, want %q", id, got, want)
		}
	}
}

// TestWindowsView: the windows-sample object is an eBPF for Windows XDP
// program with Windows map types; a Linux-only program type and helper
// are named as problems.
func TestWindowsView(t *testing.T) {
	data, err := os.ReadFile("../testdata/packages/windows-sample/port_block.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	r, err := InspectObject("port_block.bpf.o", data)
	if err != nil {
		t.Fatal(err)
	}
	w, probs := WindowsView(r)
	if len(probs) != 0 {
		t.Errorf("problems: %v", probs)
	}
	p := w.Programs[0]
	if w.Platform != PlatformWindows || p.Type != "WindowsXDP" || p.AttachType != "WindowsXDP" {
		t.Errorf("program %+v platform %q", p, w.Platform)
	}
	if diff := cmp.Diff([]string{"bpf_map_lookup_elem"}, p.Helpers); diff != "" {
		t.Errorf("helpers: %s", diff)
	}
	if w.Maps[0].Type != "WindowsHash" {
		t.Errorf("map type %q", w.Maps[0].Type)
	}
	if r.Programs[0].Type != "XDP" {
		t.Error("WindowsView changed its argument")
	}

	linux := ObjectReport{Programs: []ProgramReport{{Name: "kp", Section: "kprobe/do_sys_open", Helpers: []string{"bpf_probe_read_kernel", "bpf_map_lookup_elem"}}},
		Maps: []MapReport{{Name: "events", Type: "PerfEventArray"}}}
	_, probs = WindowsView(linux)
	want := []WindowsProblem{{Program: "kp", Kind: "program_type", Name: "kprobe/do_sys_open"}, {Program: "kp", Kind: "helper", Name: "bpf_probe_read_kernel"}, {Kind: "map_type", Name: "PerfEventArray", Map: "events"}}
	if diff := cmp.Diff(want, probs); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}
