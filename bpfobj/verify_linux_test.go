//go:build linux

package bpfobj

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/ebpfrepo/ebpfrepo/internal/kerneltest"
	"golang.org/x/sys/unix"
)

func resultsByProgram(r *VerifierReport) map[string]VerifierResult {
	m := make(map[string]VerifierResult)
	for _, p := range r.Programs {
		m[p.Program] = p
	}
	return m
}

func TestVerifyObjectsReject(t *testing.T) {
	kerneltest.RequireVerifier(t)
	obj := readObject(t, "testdata/verifier/reject.bpf.o")
	before := kerneltest.OpenFDs(t)
	r := VerifyObjects(context.Background(), []ObjectData{obj})
	if after := kerneltest.OpenFDs(t); after != before {
		t.Errorf("file descriptors leaked: %d open before, %d after", before, after)
	}
	if r.Kernel == "" || r.Arch == "" {
		t.Errorf("kernel %q arch %q: want both set", r.Kernel, r.Arch)
	}
	got := resultsByProgram(r)
	if len(got) != 2 {
		t.Fatalf("got %d results, want 2: %+v", len(got), r.Programs)
	}
	ok := got["xdp_ok"]
	if ok.Status != VerifierAccepted || ok.Instructions <= 0 || ok.LogTail != "" {
		t.Errorf("xdp_ok: %+v, want accepted with instructions processed and no log", ok)
	}
	bad := got["xdp_oob"]
	if bad.Status != VerifierRejected {
		t.Fatalf("xdp_oob: status %q (%s), want rejected", bad.Status, bad.Reason)
	}
	if !strings.Contains(bad.LogTail, "invalid access to packet") || !strings.Contains(bad.Reason, "invalid access to packet") {
		t.Errorf("xdp_oob: reason %q, log tail:\n%s\nwant the verifier's \"invalid access to packet\"", bad.Reason, bad.LogTail)
	}
	t.Logf("xdp_ok: %d insns processed; xdp_oob rejected: %s", ok.Instructions, bad.Reason)
}

func TestVerifyObjectsCORE(t *testing.T) {
	kerneltest.RequireVerifier(t)
	if _, err := os.Stat(sysfsVmlinux); err != nil {
		t.Skip("CO-RE verification needs kernel BTF at", sysfsVmlinux)
	}
	r := VerifyObjects(context.Background(), []ObjectData{readObject(t, "testdata/verifier/core.bpf.o")})
	got := resultsByProgram(r)
	for _, name := range []string{"core_pid", "core_guarded"} {
		if p := got[name]; p.Status != VerifierAccepted || p.Instructions <= 0 {
			t.Errorf("%s: %+v, want accepted", name, p)
		}
	}
	if p := got["core_broken"]; p.Status != VerifierRejected || !strings.HasPrefix(p.Reason, "bad CO-RE relocation on this kernel") || p.LogTail == "" {
		t.Errorf("core_broken: %+v, want rejected for its unresolved CO-RE relocation, with the log", p)
	}
}

// TestVerifyObjectsExamples loads the example packages' objects
// (testdata/packages/<dir>/*.bpf.o): every program must be
// accepted by the running kernel.
func TestVerifyObjectsExamples(t *testing.T) {
	kerneltest.RequireVerifier(t)
	paths, _ := filepath.Glob("../testdata/packages/*/*.bpf.o")
	if len(paths) == 0 {
		t.Fatal("no example objects under ../testdata/packages")
	}
	for _, p := range paths {
		t.Run(strings.TrimPrefix(p, "../testdata/packages/"), func(t *testing.T) {
			r := VerifyObjects(context.Background(), []ObjectData{readObject(t, p)})
			if len(r.Programs) == 0 {
				t.Fatal("no programs verified")
			}
			for _, res := range r.Programs {
				t.Logf("%s: %s, %d insns processed %s", res.Program, res.Status, res.Instructions, res.Reason)
				if res.Status != VerifierAccepted && res.Status != VerifierInconclusive {
					t.Errorf("%s: %s: %s\n%s", res.Program, res.Status, res.Reason, res.LogTail)
				}
			}
		})
	}
}

// TestVerifyObjectsUnknownSection: a program in a section that names no
// type is reported rejected, not a crash (regression: nil program).
func TestVerifyObjectsUnknownSection(t *testing.T) {
	kerneltest.RequireVerifier(t)
	paths, _ := filepath.Glob("../testdata/bad/unknown-section/*.o")
	if len(paths) == 0 {
		t.Fatal("no object under ../testdata/bad/unknown-section")
	}
	r := VerifyObjects(context.Background(), []ObjectData{readObject(t, paths[0])})
	var rejected int
	for _, res := range r.Programs {
		if res.Status == VerifierRejected && strings.Contains(res.Reason, "names no program type") {
			rejected++
		}
	}
	if rejected == 0 {
		t.Errorf("results %+v: want a rejection naming the section", r.Programs)
	}
}

func TestVerifyObjectsNotRun(t *testing.T) {
	junk := ObjectData{Path: "junk.o", Data: []byte("not an ELF")}
	r := VerifyObjects(context.Background(), []ObjectData{junk})
	if len(r.Programs) != 1 || r.Programs[0].Status != VerifierNotRun || r.Programs[0].Object != "junk.o" {
		t.Errorf("junk object: %+v, want one not-run result", r.Programs)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = VerifyObjects(ctx, []ObjectData{readObject(t, "testdata/verifier/reject.bpf.o")})
	if len(r.Programs) != 2 {
		t.Fatalf("cancelled: %+v, want a result per program", r.Programs)
	}
	for _, p := range r.Programs {
		if p.Status != VerifierNotRun || !strings.Contains(p.Reason, "cancel") {
			t.Errorf("cancelled: %+v, want not-run", p)
		}
	}
}

func TestVerifierClassify(t *testing.T) {
	noRetry := func() (int, []string, error) { return 0, nil, errors.New("no retry") }
	rejectLog := []string{"0: R1=ctx()", "1: (71) r2 = *(u8 *)(r1 +12)", "invalid access to packet", "processed 2 insns (limit 1000000)"}
	for _, tc := range []struct {
		name   string
		err    error
		log    []string
		status string
		reason string
	}{
		{"EPERM without log", fmt.Errorf("load program: %w", unix.EPERM), nil, VerifierInconclusive, "EPERM"},
		{"EPERM verifier error, empty log", &ebpf.VerifierError{Cause: unix.EPERM}, nil, VerifierInconclusive, "EPERM"},
		{"unsupported type", fmt.Errorf("load: %w", ebpf.ErrNotSupported), nil, VerifierInconclusive, "not supported"},
		{"attach target missing", fmt.Errorf("attach target: %w", btf.ErrNotFound), nil, VerifierInconclusive, "not found"},
		{"rejection", &ebpf.VerifierError{Cause: unix.EACCES, Log: rejectLog}, rejectLog, VerifierRejected, "invalid access to packet"},
		{"other", errors.New("map create: boom"), nil, VerifierInconclusive, "before verification"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := verifierClassify(tc.err, 0, tc.log, noRetry)
			if got.Status != tc.status || !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("verifierClassify(%v) = %+v, want %s with reason containing %q", tc.err, got, tc.status, tc.reason)
			}
		})
	}
}

func BenchmarkVerifyObjects(b *testing.B) {
	kerneltest.RequireVerifier(b)
	objs := []ObjectData{readObject(b, "testdata/verifier/reject.bpf.o")}
	for b.Loop() {
		VerifyObjects(context.Background(), objs)
	}
}

// TestVerifyObjectsUnprivileged drops root on one OS thread (setresuid
// there only; the thread is discarded afterwards) and checks that the
// verifier check then reports "not-run" with the reason instead of
// failing.
func TestVerifyObjectsUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to drop privileges from")
	}
	if b, err := os.ReadFile("/proc/sys/kernel/unprivileged_bpf_disabled"); err != nil || strings.TrimSpace(string(b)) == "0" {
		t.Skip("unprivileged BPF is enabled here: an unprivileged process may load socket filters")
	}
	obj := readObject(t, "testdata/verifier/reject.bpf.o")
	done := make(chan *VerifierReport)
	go func() {
		// Never unlocked: the runtime discards the thread when this
		// goroutine exits, so no unprivileged thread returns to the pool.
		runtime.LockOSThread()
		const nobody = 65534
		if _, _, errno := unix.RawSyscall(unix.SYS_SETRESUID, nobody, nobody, nobody); errno != 0 {
			done <- nil
			return
		}
		done <- VerifyObjects(context.Background(), []ObjectData{obj})
	}()
	r := <-done
	if r == nil {
		t.Skip("cannot drop privileges on this thread")
	}
	if len(r.Programs) != 2 {
		t.Fatalf("got %+v, want a result per program", r.Programs)
	}
	for _, p := range r.Programs {
		if p.Status != VerifierNotRun || !strings.Contains(p.Reason, "not permitted") {
			t.Errorf("%s: %s (%s), want not-run because not permitted", p.Program, p.Status, p.Reason)
		}
	}
	t.Logf("unprivileged: %s", r.Programs[0].Reason)
}

func TestVerifyObjectsHugeMaps(t *testing.T) {
	kerneltest.RequireVerifier(t)
	o, err := Parse("core.bpf.o", readObject(t, "testdata/verifier/core.bpf.o").Data)
	if err != nil {
		t.Fatal(err)
	}
	spec := o.Spec()
	spec.Maps["core_out"].MaxEntries = 1 << 30 // 16 GiB of array
	got := verifyObjectSpec(context.Background(), "core.bpf.o", spec, btf.NewCache())
	if len(got) != 3 {
		t.Fatalf("got %+v, want 3 results", got)
	}
	for _, r := range got {
		if r.Status != VerifierInconclusive || !strings.Contains(r.Reason, "MiB") {
			t.Errorf("%s: %+v, want inconclusive because the maps are too large", r.Program, r)
		}
	}
}

func TestVerifierMapBytes(t *testing.T) {
	for _, tc := range []struct {
		m    ebpf.MapSpec
		want uint64
	}{
		{ebpf.MapSpec{Type: ebpf.Hash, KeySize: 4, ValueSize: 12, MaxEntries: 1024}, 16 << 10},
		{ebpf.MapSpec{Type: ebpf.RingBuf, MaxEntries: 1 << 24}, 1 << 24},
		{ebpf.MapSpec{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 4, MaxEntries: 1}, 8 * uint64(runtime.NumCPU())},
		{ebpf.MapSpec{Type: ebpf.PerCPUHash, KeySize: 1 << 31, ValueSize: 1 << 31, MaxEntries: 1<<32 - 1}, math.MaxUint64},
	} {
		if got := verifierMapBytes(&tc.m); got != tc.want {
			t.Errorf("verifierMapBytes(%v %d×(%d+%d)) = %d, want %d", tc.m.Type, tc.m.MaxEntries, tc.m.KeySize, tc.m.ValueSize, got, tc.want)
		}
	}
	if satAdd(1<<63, 1<<63) != math.MaxUint64 || satMul(1<<40, 1<<40) != math.MaxUint64 || satAdd(1, 2) != 3 {
		t.Error("saturating arithmetic is wrong")
	}
}
