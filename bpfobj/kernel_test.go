package bpfobj

import (
	"os"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/google/go-cmp/cmp"
)

func kf(kind, name, version string) KernelFeature {
	e, _ := LookupKernelFeature(kind, name)
	return KernelFeature{Kind: kind, Name: name, Version: version, Source: e.Source}
}

func TestInferKernel(t *testing.T) {
	xdpChained := ObjectReport{
		Path: "ratelimiting.bpf.o",
		Maps: []MapReport{{Name: "next", Type: "ProgramArray"}, {Name: "events", Type: "RingBuf"}},
		Programs: []ProgramReport{{
			Name:       "xdp_ratelimiting",
			Type:       "XDP",
			AttachType: "XDP", // as cilium/ebpf reports every "xdp" section: not counted
			Helpers:    []string{"bpf_map_lookup_elem", "bpf_ringbuf_output", "bpf_tail_call"},
			TailCalls:  []string{"next"},
		}},
	}
	for _, tc := range []struct {
		name string
		objs []ObjectReport
		want *KernelReport
	}{
		{name: "nothing", objs: nil, want: nil},
		{
			name: "ringbuf sets 5.8",
			objs: []ObjectReport{xdpChained},
			want: &KernelReport{
				MinVersion: "5.8",
				SetBy:      []KernelFeature{kf("helper", "bpf_ringbuf_output", "5.8"), kf("map_type", "RingBuf", "5.8")},
				Features: []KernelFeature{
					kf("helper", "bpf_map_lookup_elem", "3.19"),
					kf("helper", "bpf_ringbuf_output", "5.8"),
					kf("helper", "bpf_tail_call", "4.2"),
					kf("map_type", "ProgramArray", "4.2"),
					kf("map_type", "RingBuf", "5.8"),
					kf("program_type", "XDP", "4.8"),
				},
			},
		},
		{
			name: "objects combine; attach type, kfunc, capabilities, unknowns",
			objs: []ObjectReport{xdpChained, {
				Path:         "trace.bpf.o",
				CORE:         true,
				DataSections: []string{".rodata"},
				Programs: []ProgramReport{{
					Name:       "fentry_open",
					Type:       "Tracing",
					AttachType: "TraceFEntry",
					Helpers:    []string{"FnLoop"}, // cilium/ebpf spelling is accepted
					Kfuncs:     []string{"bpf_rcu_read_lock", "bpf_ebpfrepo_future"},
					Calls:      []string{"helper_fn"},
				}, {Name: "unknown", Type: "UnspecifiedProgram"}},
			}},
			want: &KernelReport{
				MinVersion: "6.2",
				SetBy:      []KernelFeature{kf("kfunc", "bpf_rcu_read_lock", "6.2")},
				Features: []KernelFeature{
					kf("attach_type", "TraceFEntry", "5.5"),
					kf("feature", "bpf2bpf_calls", "4.16"),
					kf("feature", "global_data", "5.2"),
					kf("feature", "kernel_btf", "5.4"),
					kf("helper", "bpf_loop", "5.17"),
					kf("helper", "bpf_map_lookup_elem", "3.19"),
					kf("helper", "bpf_ringbuf_output", "5.8"),
					kf("helper", "bpf_tail_call", "4.2"),
					kf("kfunc", "bpf_rcu_read_lock", "6.2"),
					kf("map_type", "ProgramArray", "4.2"),
					kf("map_type", "RingBuf", "5.8"),
					kf("program_type", "Tracing", "5.5"),
					kf("program_type", "XDP", "4.8"),
				},
				Unknown: []string{"kfunc bpf_ebpfrepo_future"},
			},
		},
		{
			name: "only unknown features",
			objs: []ObjectReport{{Programs: []ProgramReport{{Name: "p", Type: "ProgramType(999)"}}}},
			want: &KernelReport{Unknown: []string{"program_type ProgramType(999)"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := InferKernel(tc.objs)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("InferKernel (-want +got):\n%s", diff)
			}
		})
	}
}

func BenchmarkInferKernel(b *testing.B) {
	objs := []ObjectReport{{
		Maps: []MapReport{{Type: "ProgramArray"}, {Type: "RingBuf"}, {Type: "LRUHash"}},
		Programs: []ProgramReport{{
			Type: "XDP", Helpers: []string{"bpf_map_lookup_elem", "bpf_map_update_elem", "bpf_ringbuf_output", "bpf_tail_call", "bpf_ktime_get_ns"},
		}, {
			Type: "SchedCLS", Helpers: []string{"bpf_skb_load_bytes", "bpf_redirect"},
		}},
	}}
	for b.Loop() {
		InferKernel(objs)
	}
}

// TestInferKernelISA: instruction-set features raise the minimum kernel.
// The ratelimiting example counts with atomic fetch-add (clang -mcpu=v3),
// which needs 5.12.
func TestInferKernelISA(t *testing.T) {
	data, err := os.ReadFile("../testdata/packages/ratelimiting-1.1.0/ratelimiting.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	obj, err := InspectObject("ratelimiting.bpf.o", data)
	if err != nil {
		t.Fatal(err)
	}
	k := InferKernel([]ObjectReport{obj})
	if k == nil || k.MinVersion != "5.12" {
		t.Fatalf("InferKernel = %+v, want min 5.12", k)
	}
	var setBy []string
	for _, f := range k.SetBy {
		setBy = append(setBy, f.Kind+" "+f.Name)
	}
	if diff := cmp.Diff([]string{"feature atomics"}, setBy); diff != "" {
		t.Errorf("SetBy (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name string
		ins  asm.Instruction
		want string
	}{
		{"xadd", asm.StoreImm(asm.R1, 0, 0, asm.Word), ""},
		{"fetch-add", asm.Instruction{OpCode: asm.FetchAdd.OpCode(asm.Word), Dst: asm.R1, Src: asm.R2}, ISAAtomics},
		{"cmpxchg", asm.Instruction{OpCode: asm.CmpXchg.OpCode(asm.DWord), Dst: asm.R1, Src: asm.R2}, ISAAtomics},
		{"atomic-add", asm.Instruction{OpCode: asm.AddAtomic.OpCode(asm.Word), Dst: asm.R1, Src: asm.R2}, ""},
		{"jmp32", asm.JEq.Imm32(asm.R1, 0, "l"), ISAJmp32},
		{"forward-jump", asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Ja), Offset: 3}, ""},
		{"backward-jump", asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Ja), Offset: -3}, ISABoundedLoops},
		{"exit", asm.Return(), ""},
		{"call", asm.FnKtimeGetNs.Call(), ""},
		{"sign-extending load", asm.Instruction{OpCode: asm.OpCode(asm.LdXClass).SetMode(asm.MemSXMode).SetSize(asm.Word), Dst: asm.R1, Src: asm.R2}, ISACPUv4},
		{"plain load", asm.LoadMem(asm.R1, asm.R2, 0, asm.Word), ""},
		{"movsx", asm.Instruction{OpCode: asm.OpCode(asm.ALU64Class).SetALUOp(asm.Mov).SetSource(asm.RegSource), Dst: asm.R1, Src: asm.R2, Offset: 16}, ISACPUv4},
		{"mov", asm.Mov.Reg(asm.R1, asm.R2), ""},
		{"addr_space_cast", asm.Instruction{OpCode: asm.OpCode(asm.ALU64Class).SetALUOp(asm.Mov).SetSource(asm.RegSource), Dst: asm.R1, Src: asm.R1, Offset: 1, Constant: 1}, ""},
		{"sdiv", asm.Instruction{OpCode: asm.OpCode(asm.ALU64Class).SetALUOp(asm.Div).SetSource(asm.RegSource), Dst: asm.R1, Src: asm.R2, Offset: 1}, ISACPUv4},
		{"smod32", asm.Instruction{OpCode: asm.OpCode(asm.ALUClass).SetALUOp(asm.Mod).SetSource(asm.ImmSource), Dst: asm.R1, Offset: 1, Constant: 3}, ISACPUv4},
		{"udiv", asm.Div.Imm(asm.R1, 3), ""},
		{"bswap", asm.Instruction{OpCode: asm.OpCode(asm.ALU64Class).SetALUOp(asm.Swap), Dst: asm.R1, Constant: 32}, ISACPUv4},
		{"le/be conversion", asm.HostTo(asm.BE, asm.R1, asm.Half), ""},
		{"gotol", asm.Instruction{OpCode: asm.OpCode(asm.Jump32Class).SetJumpOp(asm.Ja), Constant: -5}, ISACPUv4},
		{"may_goto", asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(jumpMayGoto), Offset: 2}, ISAMayGoto},
		{"load-acquire", asm.LoadAcquire(asm.R1, asm.R2, asm.DWord, 0), ISALoadAcquire},
		{"store-release", asm.StoreRelease(asm.R1, asm.R2, asm.Word, 0), ISALoadAcquire},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := isaFeature(&tc.ins); got != tc.want {
				t.Errorf("isaFeature(%v) = %q, want %q", tc.ins, got, tc.want)
			}
		})
	}
}

// TestISAFeaturesInTable: every instruction-set feature isaFeature can
// report has a row, with its version, in the minimum-kernel table.
func TestISAFeaturesInTable(t *testing.T) {
	want := map[string]string{
		ISAJmp32: "5.1", ISABoundedLoops: "5.3", ISAAtomics: "5.12",
		ISACPUv4: "6.6", ISAMayGoto: "6.9", ISALoadAcquire: "6.15",
	}
	for f, v := range want {
		e, ok := LookupKernelFeature(FeatureCapability, f)
		if !ok {
			t.Errorf("feature %s missing from kerneldata/kernel-versions.tsv", f)
			continue
		}
		if e.Version.String() != v {
			t.Errorf("feature %s: version %s, want %s", f, e.Version, v)
		}
	}
	k := InferKernel([]ObjectReport{{Programs: []ProgramReport{{Name: "p", Type: "XDP", ISA: []string{ISAJmp32, ISALoadAcquire}}}}})
	if k == nil || k.MinVersion != "6.15" || len(k.SetBy) != 1 || k.SetBy[0].Name != ISALoadAcquire {
		t.Errorf("InferKernel = %+v, want 6.15 set by %s", k, ISALoadAcquire)
	}
}
