package bpfobj

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/google/go-cmp/cmp"
)

func readObject(tb testing.TB, path string) ObjectData {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return ObjectData{Path: filepath.Base(path), Data: data}
}

// writeSyntheticBTF writes a raw BTF file describing a kernel whose
// task_struct has the given int members, plus the functions named.
func writeSyntheticBTF(tb testing.TB, name string, members []string, funcs ...string) string {
	tb.Helper()
	i32 := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	var ms []btf.Member
	for i, m := range members {
		ms = append(ms, btf.Member{Name: m, Type: i32, Offset: btf.Bits(32 * i)})
	}
	types := []btf.Type{i32, &btf.Struct{Name: "task_struct", Size: uint32(4 * len(members)), Members: ms}}
	for _, f := range funcs {
		types = append(types, &btf.Func{Name: f, Type: &btf.FuncProto{Return: i32}, Linkage: btf.GlobalFunc})
	}
	b, err := btf.NewBuilder(types, nil)
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestCheckKernelBTFSynthetic(t *testing.T) {
	core := readObject(t, "testdata/verifier/core.bpf.o")
	old := writeSyntheticBTF(t, "old-kernel.btf", []string{"tgid"})        // no pid
	mid := writeSyntheticBTF(t, "pid-kernel.btf", []string{"tgid", "pid"}) // pid at offset 4

	got, err := CheckKernelBTF(context.Background(), []ObjectData{core}, []string{old, mid})
	if err != nil {
		t.Fatal(err)
	}
	want := []BTFCompat{
		{Kernel: "old-kernel.btf", Object: "core.bpf.o", Program: "core_broken", Reason: "field task_struct___ebpfrepo.ebpfrepo_no_such_field does not resolve"},
		{Kernel: "old-kernel.btf", Object: "core.bpf.o", Program: "core_guarded", Compatible: true, Reason: "field task_struct___ebpfrepo.ebpfrepo_no_such_field is missing, behind an existence check that is false on this kernel"},
		{Kernel: "old-kernel.btf", Object: "core.bpf.o", Program: "core_pid", Reason: "field task_struct.pid does not resolve"},
		{Kernel: "pid-kernel.btf", Object: "core.bpf.o", Program: "core_broken", Reason: "field task_struct___ebpfrepo.ebpfrepo_no_such_field does not resolve"},
		{Kernel: "pid-kernel.btf", Object: "core.bpf.o", Program: "core_guarded", Compatible: true, Reason: "field task_struct___ebpfrepo.ebpfrepo_no_such_field is missing, behind an existence check that is false on this kernel"},
		{Kernel: "pid-kernel.btf", Object: "core.bpf.o", Program: "core_pid", Compatible: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CheckKernelBTF (-want +got):\n%s", diff)
	}
}

func TestCheckKernelBTFRunningKernel(t *testing.T) {
	if _, err := os.Stat(sysfsVmlinux); err != nil {
		t.Skip("no kernel BTF at", sysfsVmlinux)
	}
	rel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	objs := []ObjectData{readObject(t, "testdata/verifier/core.bpf.o"), readObject(t, "testdata/verifier/reject.bpf.o")}
	got, err := CheckKernelBTF(context.Background(), objs, []string{sysfsVmlinux})
	if err != nil {
		t.Fatal(err)
	}
	compat := map[string]bool{}
	for _, r := range got {
		if r.Kernel != strings.TrimSpace(string(rel)) {
			t.Errorf("kernel label %q, want the release %q", r.Kernel, rel)
		}
		compat[r.Program] = r.Compatible
	}
	want := map[string]bool{"core_pid": true, "core_guarded": true, "core_broken": false, "xdp_ok": true, "xdp_oob": true}
	if diff := cmp.Diff(want, compat); diff != "" {
		t.Errorf("compatibility with the running kernel (-want +got):\n%s", diff)
	}
}

func TestCheckKernelBTFAttachTargets(t *testing.T) {
	kernel := writeSyntheticBTF(t, "k.btf", []string{"pid"}, "vfs_read", "bpf_lsm_file_open", "bpf_iter_task")
	spec, err := btf.LoadSpec(kernel)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ps   ebpf.ProgramSpec
		want string
	}{
		{ebpf.ProgramSpec{Type: ebpf.Tracing, AttachType: ebpf.AttachTraceFEntry, AttachTo: "vfs_read"}, ""},
		{ebpf.ProgramSpec{Type: ebpf.Tracing, AttachType: ebpf.AttachTraceFExit, AttachTo: "vfs_write"}, "attach target function vfs_write not in this kernel's BTF (vfs_write)"},
		{ebpf.ProgramSpec{Type: ebpf.LSM, AttachType: ebpf.AttachLSMMac, AttachTo: "file_open"}, ""},
		{ebpf.ProgramSpec{Type: ebpf.LSM, AttachType: ebpf.AttachLSMMac, AttachTo: "bpf"}, "LSM hook bpf not in this kernel's BTF (bpf_lsm_bpf)"},
		{ebpf.ProgramSpec{Type: ebpf.Tracing, AttachType: ebpf.AttachTraceIter, AttachTo: "task"}, ""},
		{ebpf.ProgramSpec{Type: ebpf.Tracing, AttachType: ebpf.AttachTraceRawTp, AttachTo: "sched_switch"}, "BTF tracepoint sched_switch not in this kernel's BTF (btf_trace_sched_switch)"},
		{ebpf.ProgramSpec{Type: ebpf.Kprobe, AttachTo: "no_such_function"}, ""}, // kprobes are not BTF-attached
	} {
		t.Run(tc.ps.AttachType.String()+"/"+tc.ps.AttachTo, func(t *testing.T) {
			if got := attachTargetMissing(&tc.ps, spec); got != tc.want {
				t.Errorf("attachTargetMissing = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCheckKernelBTFErrors(t *testing.T) {
	if _, err := CheckKernelBTF(context.Background(), nil, []string{filepath.Join(t.TempDir(), "missing.btf")}); err == nil || !strings.Contains(err.Error(), "missing.btf") {
		t.Errorf("missing BTF file: error %v, want one naming the file", err)
	}
	kernel := writeSyntheticBTF(t, "k.btf", []string{"pid"})
	got, err := CheckKernelBTF(context.Background(), []ObjectData{{Path: "junk.o", Data: []byte("\x7fELF junk")}}, []string{kernel})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Compatible || got[0].Object != "junk.o" || !strings.Contains(got[0].Reason, "does not parse") {
		t.Errorf("junk object: %+v, want one incompatible result saying it does not parse", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := CheckKernelBTF(ctx, nil, []string{kernel}); err == nil {
		t.Error("cancelled context: no error")
	}
}

func FuzzCheckKernelBTF(f *testing.F) {
	for _, p := range []string{"testdata/verifier/core.bpf.o", "testdata/verifier/reject.bpf.o"} {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	kernel := writeSyntheticBTF(f, "k.btf", []string{"tgid"})
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := CheckKernelBTF(context.Background(), []ObjectData{{Path: "f.o", Data: data}}, []string{kernel}); err != nil {
			t.Fatal(err)
		}
	})
}

func BenchmarkCheckKernelBTF(b *testing.B) {
	if _, err := os.Stat(sysfsVmlinux); err != nil {
		b.Skip("no kernel BTF")
	}
	objs := []ObjectData{readObject(b, "testdata/verifier/core.bpf.o")}
	for b.Loop() {
		if _, err := CheckKernelBTF(context.Background(), objs, []string{sysfsVmlinux}); err != nil {
			b.Fatal(err)
		}
	}
}

// ExampleCheckKernelBTF checks a CO-RE object against the BTF of an old
// kernel whose task_struct has no pid field (built here with btf.Builder;
// in practice /sys/kernel/btf/vmlinux of that machine or a BTFHub file).
func ExampleCheckKernelBTF() {
	i32 := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	b, _ := btf.NewBuilder([]btf.Type{&btf.Struct{
		Name: "task_struct", Size: 4,
		Members: []btf.Member{{Name: "tgid", Type: i32}},
	}}, nil)
	raw, _ := b.Marshal(nil, nil)
	dir, _ := os.MkdirTemp("", "btf")
	defer os.RemoveAll(dir)
	kernel := filepath.Join(dir, "old-kernel.btf")
	_ = os.WriteFile(kernel, raw, 0o644)

	data, _ := os.ReadFile("testdata/verifier/core.bpf.o")
	results, err := CheckKernelBTF(context.Background(), []ObjectData{{Path: "core.bpf.o", Data: data}}, []string{kernel})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		fmt.Printf("%s on %s: compatible=%v %s\n", r.Program, r.Kernel, r.Compatible, r.Reason)
	}
	// Output:
	// core_broken on old-kernel.btf: compatible=false field task_struct___ebpfrepo.ebpfrepo_no_such_field does not resolve
	// core_guarded on old-kernel.btf: compatible=true field task_struct___ebpfrepo.ebpfrepo_no_such_field is missing, behind an existence check that is false on this kernel
	// core_pid on old-kernel.btf: compatible=false field task_struct.pid does not resolve
}
