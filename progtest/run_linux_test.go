//go:build linux

package progtest

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"github.com/ebpfrepo/ebpfrepo/internal/kerneltest"
)

const rlObject = "../testdata/packages/ratelimiting-1.1.0/ratelimiting.bpf.o"

// entry encodes a typed key and value for map name of the object.
func entry(t *testing.T, obj, name string, key, value any) MapEntry {
	t.Helper()
	o, err := bpfobj.Parse(obj, readFile(t, obj))
	if err != nil {
		t.Fatal(err)
	}
	ms := o.Spec().Maps[name]
	if ms == nil {
		t.Fatalf("no map %s", name)
	}
	k, err := EncodeValue(key, ms.KeySize, ms.Key, binary.LittleEndian)
	if err != nil {
		t.Fatalf("key: %v", err)
	}
	e := MapEntry{Map: name, Key: k}
	if value == nil {
		e.Absent = true
		return e
	}
	if e.Value, err = EncodeValue(value, ms.ValueSize, ms.Value, binary.LittleEndian); err != nil {
		t.Fatalf("value: %v", err)
	}
	return e
}

func TestRun(t *testing.T) {
	kerneltest.RequireVerifier(t)
	syn80 := tcpFrame{sport: 40000, dport: 80, syn: true}.bytes(t)
	syn443 := tcpFrame{sport: 40000, dport: 443, syn: true}.bytes(t)
	ack80 := tcpFrame{sport: 40000, dport: 80, ack: true}.bytes(t)
	limit3 := []MapEntry{entry(t, rlObject, "rl_config_map", 0, 3), entry(t, rlObject, "rl_ports_map", 80, 1)}
	drop, pass := Verdict{Value: 1, Name: "XDP_DROP"}, Verdict{Value: 2, Name: "XDP_PASS"}
	tail := Verdict{Value: TailCallSentinel, Name: TailCallName, TailCall: true}
	reflectObj := "testdata/reflect.bpf.o"
	frame := tcpFrame{dport: 80}.bytes(t)
	reflected := append([]byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}, frame[12:]...)

	for _, tc := range []struct {
		name       string
		c          Case
		status     string
		diff, want string
	}{
		{"burst over the limit dropped", Case{Object: rlObject, Program: "xdp_ratelimiting", Packets: [][]byte{syn80}, Repeat: 4, Want: drop, Preload: limit3,
			WantMaps: []MapEntry{entry(t, rlObject, "rl_stats_map", 0, 4), entry(t, rlObject, "rl_stats_map", 1, 1)}}, StatusPass, "", ""},
		{"under the limit chained", Case{Object: rlObject, Program: "xdp_ratelimiting", Packets: [][]byte{syn80}, Repeat: 3, Want: tail, Preload: limit3, ChainMap: "xdp_rl_ingress_next_prog"}, StatusPass, "", ""},
		{"nothing chained passes", Case{Object: rlObject, Program: "xdp_ratelimiting", Packets: [][]byte{syn443, ack80}, Repeat: 10, Want: pass, Preload: limit3,
			WantMaps: []MapEntry{entry(t, rlObject, "rl_window_map", 443, nil)}}, StatusPass, "", ""},
		{"wrong verdict", Case{Object: rlObject, Program: "xdp_ratelimiting", Packets: [][]byte{syn443, syn80}, Repeat: 4, Want: pass, Preload: limit3}, StatusFail,
			"packet 2 of 2: verdict XDP_DROP (1), want XDP_PASS (2)", ""},
		{"wrong map total", Case{Object: rlObject, Program: "xdp_ratelimiting", Packets: [][]byte{syn80}, Repeat: 4, Want: drop, Preload: limit3,
			WantMaps: []MapEntry{entry(t, rlObject, "rl_stats_map", 1, 2)}}, StatusFail, "map rl_stats_map key 1 (0x01000000): 1 (0x0100000000000000) (summed over CPUs), want 2 (0x0200000000000000)", ""},
		{"entry that should not be there", Case{Object: rlObject, Program: "xdp_ratelimiting", Packets: [][]byte{syn80}, Want: tail, Preload: limit3, ChainMap: "xdp_rl_ingress_next_prog",
			WantMaps: []MapEntry{entry(t, rlObject, "rl_window_map", 80, nil)}}, StatusFail, "map rl_window_map key 80 (0x5000): holds 0x", ""},
		{"output packet", Case{Object: reflectObj, Program: "xdp_reflect", Packets: [][]byte{frame}, Repeat: 2, Want: Verdict{Value: 3, Name: "XDP_TX"},
			WantPackets: [][]byte{frame}, // two swaps give the frame back
			WantMaps:    []MapEntry{entry(t, reflectObj, "reflected", 0, map[string]any{"frames": int64(2), "bytes": int64(2 * len(frame))})}}, StatusPass, "", ""},
		{"output packet differs", Case{Object: reflectObj, Program: "xdp_reflect", Packets: [][]byte{frame}, Want: Verdict{Value: 3, Name: "XDP_TX"},
			WantPackets: [][]byte{frame}}, StatusFail, "output packet differs at byte 5: 0x01, want 0x02", ""},
		{"output packet once", Case{Object: reflectObj, Program: "xdp_reflect", Packets: [][]byte{frame}, Want: Verdict{Value: 3, Name: "XDP_TX"},
			WantPackets: [][]byte{reflected}}, StatusPass, "", ""},
		{"context", Case{Object: "testdata/sys.bpf.o", Program: "sum", Context: []byte{2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0}, Want: Verdict{Value: 5, Name: "5"}}, StatusPass, "", ""},
		{"context, wrong verdict", Case{Object: "testdata/sys.bpf.o", Program: "sum", Context: []byte{2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0}, Want: Verdict{Value: 6, Name: "6"}}, StatusFail, "verdict 5, want 6", ""},
		{"program missing", Case{Object: rlObject, Program: "nope", Packets: [][]byte{syn80}, Want: pass}, StatusError, "", "has no program"},
		{"not runnable", Case{Object: "../testdata/packages/process-monitor/process_monitor.bpf.o", Program: "handle_exec", Want: Verdict{}}, StatusNotRunnable, "", "not runnable in isolation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := []bpfobj.ObjectData{{Path: tc.c.Object, Data: readFile(t, tc.c.Object)}}
			tc.c.Name = tc.name
			r := Run(context.Background(), objs, []Case{tc.c}, Options{})
			if len(r.Results) != 1 {
				t.Fatalf("%d results", len(r.Results))
			}
			res := r.Results[0]
			if res.Status != tc.status || !strings.Contains(res.Diff, tc.diff) || !strings.Contains(res.Reason, tc.want) {
				t.Fatalf("result %+v, want status %s, diff containing %q, reason containing %q", res, tc.status, tc.diff, tc.want)
			}
			if !strings.HasPrefix(r.Isolation, "child process") {
				t.Errorf("isolation %q: TestMain calls Serve, so every vector runs in a child", r.Isolation)
			}
			if res.Status == StatusPass && res.Runs == 0 {
				t.Errorf("passed with no runs")
			}
		})
	}
}

func TestRunTimeLimit(t *testing.T) {
	kerneltest.RequireVerifier(t)
	const obj = "testdata/spin.bpf.o"
	objs := []bpfobj.ObjectData{{Path: obj, Data: readFile(t, obj)}}
	c := Case{Name: "spins", Object: obj, Program: "xdp_spin", Packets: [][]byte{tcpFrame{dport: 1}.bytes(t)}, Repeat: 1 << 20, Want: Verdict{Value: 2, Name: "XDP_PASS"}}
	start := time.Now()
	r := Run(context.Background(), objs, []Case{c, {Name: "after", Object: obj, Program: "xdp_spin", Packets: c.Packets, Repeat: 1, Want: c.Want}}, Options{Timeout: 2 * time.Second})
	took := time.Since(start)
	if res := r.Results[0]; res.Status != StatusError || !strings.Contains(res.Reason, "stopped by the time limit") {
		t.Fatalf("looping vector: %+v, want stopped by the time limit", res)
	}
	if res := r.Results[1]; res.Status != StatusPass {
		t.Errorf("the vector after the stopped one: %+v, want pass (each vector has its own child)", res)
	}
	if took > time.Minute {
		t.Errorf("took %s: the limit did not stop the child", took)
	}
	if !r.Failed() || !strings.HasPrefix(r.Summary(), "1 of 2 tests fail") {
		t.Errorf("summary %q", r.Summary())
	}
}

// TestRunMemoryLimit: a child that needs more memory than its limit is
// stopped and reported, not the caller.
func TestRunMemoryLimit(t *testing.T) {
	kerneltest.RequireVerifier(t)
	objs := []bpfobj.ObjectData{{Path: rlObject, Data: readFile(t, rlObject)}}
	// The job alone (512 packets of 64 KiB) needs more than the limit.
	big := make([][]byte, 512)
	for i := range big {
		big[i] = make([]byte, 65535)
	}
	c := Case{Name: "big", Object: rlObject, Program: "xdp_ratelimiting", Packets: big, Want: Verdict{Value: 2, Name: "XDP_PASS"}}
	r := Run(context.Background(), objs, []Case{c}, Options{Memory: 16 << 20})
	if res := r.Results[0]; res.Status != StatusError || !strings.Contains(res.Reason, "stopped by the memory limit") {
		t.Fatalf("result %+v, want stopped by the memory limit", res)
	} else {
		t.Logf("reason: %s", res.Reason)
	}
}
