//go:build linux

package progtest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"golang.org/x/sys/unix"
)

// maxOutputGrowth is the room left for a program that grows its packet
// (bpf_xdp_adjust_head/tail): the kernel copies out at most this much
// more than the input.
const maxOutputGrowth = 4096

// maxChainSlots bounds the program array slots a TAIL_CALL stub fills.
const maxChainSlots = 256

func host() (kernel, arch string) {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return "", ""
	}
	return unix.ByteSliceToString(uts.Release[:]), unix.ByteSliceToString(uts.Machine[:])
}

func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// limitChild bounds this (child) process: the address space it may add,
// and its CPU time (a second stop behind the parent's wall clock, since
// BPF_PROG_RUN's time is system CPU time).
func limitChild(timeout time.Duration, mem uint64) {
	if mem > 0 {
		if statm, err := os.ReadFile("/proc/self/statm"); err == nil {
			if f := strings.Fields(string(statm)); len(f) > 0 {
				if pages, err := strconv.ParseUint(f[0], 10, 64); err == nil {
					lim := pages*uint64(os.Getpagesize()) + mem
					_ = unix.Setrlimit(unix.RLIMIT_AS, &unix.Rlimit{Cur: lim, Max: lim})
				}
			}
		}
	}
	if timeout > 0 {
		secs := uint64(timeout/time.Second) + 1
		_ = unix.Setrlimit(unix.RLIMIT_CPU, &unix.Rlimit{Cur: secs, Max: secs + 1})
	}
}

// runCase loads the case's program with fresh maps, preloads them, runs
// every input and compares. It never panics.
func runCase(o *bpfobj.Object, c Case) (res Result) {
	defer func() {
		if r := recover(); r != nil {
			res = Result{Status: StatusError, Reason: fmt.Sprintf("the runner crashed: %v", r)}
		}
	}()
	spec, err := o.LoadableSpec()
	if err != nil {
		return Result{Status: StatusError, Reason: err.Error()}
	}
	ps := spec.Programs[c.Program]
	if ps == nil {
		return Result{Status: StatusError, Reason: fmt.Sprintf("object %s has no program %q", o.Path, c.Program)}
	}
	in, why := InputOf(ps.Type)
	if in == InputNone {
		return Result{Status: StatusNotRunnable, Reason: why}
	}
	want := VerdictText(ps.Type, c.Want.Value, c.Want.TailCall)
	if in == InputPacket && len(c.Packets) == 0 {
		return Result{Status: StatusError, Want: want, Reason: "no input packet: nothing to run"}
	}
	spec.Programs = map[string]*ebpf.ProgramSpec{c.Program: ps}
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{Programs: ebpf.ProgramOptions{LogDisabled: true}})
	if err != nil {
		return Result{Status: StatusError, Want: want, Reason: "loading: " + err.Error()}
	}
	defer coll.Close()
	order := spec.ByteOrder
	if order == nil {
		order = binary.NativeEndian
	}
	for _, e := range c.Preload {
		if err := preload(coll.Maps[e.Map], e); err != nil {
			return Result{Status: StatusError, Want: want, Reason: fmt.Sprintf("preloading map %s: %v", e.Map, err)}
		}
	}
	if c.Want.TailCall {
		if err := chain(coll.Maps[c.ChainMap], ps); err != nil {
			return Result{Status: StatusError, Want: want, Reason: fmt.Sprintf("putting the tail-call stub into %s: %v", c.ChainMap, err)}
		}
	}

	res = Result{Status: StatusPass, Want: want}
	prog := coll.Programs[c.Program]
	repeat := max(c.Repeat, 1)
	inputs := c.Packets
	if in == InputContext {
		inputs = [][]byte{nil}
	}
	if in == InputContext {
		repeat = 1 // the kernel runs context programs once, and refuses a repeat count
	}
	for i, pkt := range inputs {
		opts := &ebpf.RunOptions{Repeat: repeat}
		if in == InputContext {
			opts.Repeat = 0
		}
		if in == InputPacket {
			opts.Data = pkt
			if len(c.WantPackets) > 0 {
				opts.DataOut = make([]byte, len(pkt)+maxOutputGrowth)
			}
		} else if len(c.Context) > 0 {
			opts.Context = c.Context
		}
		start := time.Now()
		ret, err := prog.Run(opts)
		res.DurationNS += time.Since(start).Nanoseconds()
		res.Runs += int(repeat)
		if err != nil {
			return Result{Status: StatusError, Want: want, Runs: res.Runs, Reason: fmt.Sprintf("%srunning: %v", where(i, len(inputs)), err)}
		}
		res.Got = VerdictText(ps.Type, ret, c.Want.TailCall)
		if ret != c.Want.Value {
			res.Status = StatusFail
			res.Diff = fmt.Sprintf("%sverdict %s, want %s", where(i, len(inputs)), res.Got, want)
			return res
		}
		if i < len(c.WantPackets) {
			if d := packetDiff(opts.DataOut, c.WantPackets[i]); d != "" {
				res.Status = StatusFail
				res.Diff = where(i, len(inputs)) + d
				return res
			}
		}
	}
	for _, e := range c.WantMaps {
		d, err := mapDiff(coll.Maps[e.Map], spec.Maps[e.Map], e, order)
		if err != nil {
			return Result{Status: StatusError, Want: want, Got: res.Got, Runs: res.Runs, Reason: fmt.Sprintf("reading map %s: %v", e.Map, err)}
		}
		if d != "" {
			res.Status = StatusFail
			res.Diff = d
			return res
		}
	}
	return res
}

func where(i, n int) string {
	if n <= 1 {
		return ""
	}
	return fmt.Sprintf("packet %d of %d: ", i+1, n)
}

func isPerCPU(t ebpf.MapType) bool {
	switch t {
	case ebpf.PerCPUHash, ebpf.PerCPUArray, ebpf.LRUCPUHash, ebpf.PerCPUCGroupStorage:
		return true
	}
	return false
}

func preload(m *ebpf.Map, e MapEntry) error {
	if m == nil {
		return errors.New("no such map")
	}
	if isPerCPU(m.Type()) {
		return m.Put(e.Key, [][]byte{e.Value}) // the total on the first CPU, zeros elsewhere
	}
	return m.Put(e.Key, e.Value)
}

// chain fills the program array with a stub of the program's own type
// that returns TailCallSentinel.
func chain(m *ebpf.Map, ps *ebpf.ProgramSpec) error {
	if m == nil || m.Type() != ebpf.ProgramArray {
		return errors.New("not a program array of the object")
	}
	stub, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{
		Name: "progtest_stub", Type: ps.Type, AttachType: ps.AttachType, Flags: ps.Flags, License: ps.License,
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, TailCallSentinel), asm.Return()},
	}, ebpf.ProgramOptions{LogDisabled: true})
	if err != nil {
		return fmt.Errorf("loading the stub: %w", err)
	}
	defer stub.Close() // the array holds its own reference
	for i := uint32(0); i < min(m.MaxEntries(), maxChainSlots); i++ {
		if err := m.Put(i, stub); err != nil {
			return err
		}
	}
	return nil
}

func packetDiff(got, want []byte) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("output packet differs at byte %d: 0x%02x, want 0x%02x (%d bytes out, %d expected)", i, got[i], want[i], len(got), len(want))
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("output packet is %d bytes, want %d (identical up to byte %d)", len(got), len(want), min(len(got), len(want)))
	}
	return ""
}

// mapDiff compares one expected entry with what the map holds; "" when
// it matches.
func mapDiff(m *ebpf.Map, ms *ebpf.MapSpec, e MapEntry, order binary.ByteOrder) (string, error) {
	if m == nil || ms == nil {
		return "", errors.New("no such map")
	}
	got, err := m.LookupBytes(e.Key)
	if err != nil {
		return "", err
	}
	if got != nil && isPerCPU(m.Type()) {
		stride := (int(m.ValueSize()) + 7) &^ 7
		if got, err = sumPerCPU(got, int(m.ValueSize()), stride, ms.Value, order); err != nil {
			return "", err
		}
	}
	key := FormatValue(e.Key, ms.Key, order)
	switch {
	case e.Absent && got != nil:
		return fmt.Sprintf("map %s key %s: holds %s, want no entry", e.Map, key, FormatValue(got, ms.Value, order)), nil
	case e.Absent:
		return "", nil
	case got == nil:
		return fmt.Sprintf("map %s key %s: no entry, want %s", e.Map, key, FormatValue(e.Value, ms.Value, order)), nil
	case !maskedEqual(got, e.Value, e.Mask):
		note := ""
		if isPerCPU(m.Type()) {
			note = " (summed over CPUs)"
		}
		if e.Mask != nil {
			note += " (comparing the fields given only)"
		}
		return fmt.Sprintf("map %s key %s: %s%s, want %s", e.Map, key, FormatValue(got, ms.Value, order), note, FormatValue(e.Value, ms.Value, order)), nil
	}
	return "", nil
}

func maskedEqual(got, want, mask []byte) bool {
	if mask == nil {
		return bytes.Equal(got, want)
	}
	if len(got) != len(want) || len(mask) != len(want) {
		return false
	}
	for i := range want {
		if got[i]&mask[i] != want[i]&mask[i] {
			return false
		}
	}
	return true
}
