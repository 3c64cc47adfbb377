package progtest

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/google/go-cmp/cmp"
)

func TestEncodeValue(t *testing.T) {
	u16 := &btf.Int{Name: "__u16", Size: 2}
	u64 := &btf.Int{Name: "__u64", Size: 8}
	win := &btf.Struct{Name: "rl_window", Size: 16, Members: []btf.Member{
		{Name: "start_ns", Type: u64, Offset: 0}, {Name: "count", Type: &btf.Typedef{Name: "count_t", Type: u64}, Offset: 64}}}
	arr := &btf.Array{Type: u16, Nelems: 2}
	le := binary.LittleEndian
	for _, tc := range []struct {
		name string
		v    any
		size uint32
		typ  btf.Type
		want []byte
		err  string
	}{
		{"int", int64(80), 2, u16, []byte{80, 0}, ""},
		{"negative", int64(-1), 2, u16, []byte{0xff, 0xff}, ""},
		{"hex", "0a:00 00_01", 4, nil, []byte{10, 0, 0, 1}, ""},
		{"hex 0x", "0x5000", 2, u16, []byte{0x50, 0}, ""},
		{"struct", map[string]any{"count": int64(3)}, 16, win, []byte{0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0}, ""},
		{"array", []any{int64(1), int64(2)}, 4, arr, []byte{1, 0, 2, 0}, ""},
		{"too big", int64(70000), 2, u16, nil, "does not fit in 2 bytes"},
		{"hex of the wrong size", "0a000001", 2, u16, nil, "4 bytes of hex, the map's size is 2"},
		{"not hex", "zz", 1, nil, nil, "not hex"},
		{"int without BTF", int64(1), 4, nil, nil, "no BTF type"},
		{"int for a struct", int64(1), 16, win, nil, "give a table of its fields"},
		{"unknown field", map[string]any{"cnt": int64(1)}, 16, win, nil, `no field "cnt" (it has start_ns, count)`},
		{"table for an int", map[string]any{"x": int64(1)}, 2, u16, nil, "not a struct"},
		{"array length", []any{int64(1)}, 4, arr, nil, "1 elements, the array has 2"},
		{"size mismatch", int64(1), 4, u16, nil, "size 2, the map's is 4"},
		{"bool", true, 1, &btf.Int{Size: 1}, nil, "a boolean"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EncodeValue(tc.v, tc.size, tc.typ, le)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSumPerCPU(t *testing.T) {
	u64 := &btf.Int{Size: 8}
	st := &btf.Struct{Size: 16, Members: []btf.Member{{Name: "a", Type: u64}, {Name: "b", Type: u64, Offset: 64}}}
	buf := make([]byte, 48) // three CPUs
	binary.LittleEndian.PutUint64(buf[0:], 1)
	binary.LittleEndian.PutUint64(buf[16:], 2)
	binary.LittleEndian.PutUint64(buf[40:], 5)
	got, err := sumPerCPU(buf, 16, 16, st, binary.LittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 16)
	binary.LittleEndian.PutUint64(want, 3)
	binary.LittleEndian.PutUint64(want[8:], 5)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := sumPerCPU([]byte{1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}, 1, 8, nil, binary.LittleEndian); err == nil {
		t.Error("two different untyped per-CPU copies summed")
	}
}

func TestParseVerdict(t *testing.T) {
	for _, tc := range []struct {
		typ  ebpf.ProgramType
		v    any
		want Verdict
		err  string
	}{
		{ebpf.XDP, "XDP_DROP", Verdict{Value: 1, Name: "XDP_DROP"}, ""},
		{ebpf.SchedCLS, "TC_ACT_SHOT", Verdict{Value: 2, Name: "TC_ACT_SHOT"}, ""},
		{ebpf.SchedCLS, int64(-1), Verdict{Value: 0xffffffff, Name: "-1"}, ""},
		{ebpf.XDP, "3", Verdict{Value: 3, Name: "3"}, ""},
		{ebpf.XDP, TailCallName, Verdict{Value: TailCallSentinel, Name: TailCallName, TailCall: true}, ""},
		{ebpf.XDP, "TC_ACT_SHOT", Verdict{}, `verdict "TC_ACT_SHOT" is not one of XDP's: XDP_ABORTED`},
		{ebpf.XDP, "XDP_DORP", Verdict{}, "XDP_DROP"},
		{ebpf.SocketFilter, "PASS", Verdict{}, "no named verdicts"},
		{ebpf.XDP, int64(1 << 40), Verdict{}, "out of the 32-bit range"},
		{ebpf.XDP, 1.5, Verdict{}, "want a name or an integer"},
	} {
		t.Run(tc.typ.String()+"/"+strings.ReplaceAll(cmp.Diff(nil, tc.v), "\n", ""), func(t *testing.T) {
			got, err := ParseVerdict(tc.typ, tc.v)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseVerdict = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	r := &Report{Kernel: "6.18.44", Arch: "x86_64", Results: []Result{{Name: "a", Status: StatusPass}, {Name: "b", Status: StatusPass}, {Program: "p", Status: StatusNotRunnable}}}
	if got, want := r.Summary(), "2/2 tests pass on 6.18.44 x86_64; 1 program not runnable in isolation"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	r.Results[1].Status = StatusError
	if got, want := r.Summary(), "1 of 2 tests fail on 6.18.44 x86_64; 1 program not runnable in isolation"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	if got := (*Report)(nil).Summary(); got != "untested" {
		t.Errorf("nil Summary = %q", got)
	}
}

func FuzzParseHex(f *testing.F) {
	f.Add("0a:00:00:01")
	f.Add("0x")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseHex(s, 64)
		if err == nil && (len(b) == 0 || len(b) > 64) {
			t.Fatalf("%d bytes accepted", len(b))
		}
	})
}
