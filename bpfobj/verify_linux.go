//go:build linux

package bpfobj

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// VerifyObjects loads every program of every object into the running
// kernel's verifier with cilium/ebpf and reports, per program, whether it
// was accepted, how many instructions the verifier processed, and the tail
// of the verifier log on rejection.
//
// Programs are CO-RE relocated against the running kernel's BTF; maps are
// created unpinned (Pinning is cleared) with program arrays left empty;
// nothing is attached; every map and program is closed before it returns.
// Each program is loaded on its own, against maps created once per object,
// so one rejected program does not hide the others.
//
// It never fails: where loading is impossible (not Linux, no BPF syscall,
// not privileged) every program is "not-run" with the reason, and where the
// host refuses a program for reasons unrelated to it the program is
// "inconclusive". On kernels older than 5.11 it raises RLIMIT_MEMLOCK (via
// cilium/ebpf's rlimit package), which BPF objects need there.
func VerifyObjects(ctx context.Context, objs []ObjectData) *VerifierReport {
	return verify(ctx, parseAll(objs))
}

// Verify is VerifyObjects for objects already parsed.
func Verify(ctx context.Context, objs []*Object) *VerifierReport { return verify(ctx, wrapAll(objs)) }

func verify(ctx context.Context, objs []parsed) *VerifierReport {
	r := &VerifierReport{}
	var uts unix.Utsname
	if err := unix.Uname(&uts); err == nil {
		r.Kernel = unix.ByteSliceToString(uts.Release[:])
		r.Arch = unix.ByteSliceToString(uts.Machine[:])
	}

	notRun := LoadPreflight()
	cache := btf.NewCache()
	for _, obj := range objs {
		if err := ctx.Err(); err != nil {
			r.Programs = append(r.Programs, verifierObjectResults(obj, VerifierNotRun, "cancelled: "+err.Error())...)
			continue
		}
		if notRun != "" {
			r.Programs = append(r.Programs, verifierObjectResults(obj, VerifierNotRun, notRun)...)
			continue
		}
		r.Programs = append(r.Programs, verifyObject(ctx, obj, cache)...)
	}
	return r
}

// LoadPreflight returns why no program can be loaded on this host, or ""
// when a trivial socket filter loads.
func LoadPreflight() string {
	_ = rlimit.RemoveMemlock() // no-op on kernels with memcg accounting (5.11+)
	prog, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{
		Type:         ebpf.SocketFilter,
		License:      "MIT",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
	}, ebpf.ProgramOptions{LogDisabled: true})
	if err == nil {
		prog.Close()
		return ""
	}
	switch {
	case errors.Is(err, unix.ENOSYS), errors.Is(err, ebpf.ErrNotSupported):
		return "the kernel has no BPF syscall: " + err.Error()
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return "not permitted to load BPF programs (run as root, or with CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN): " + err.Error()
	}
	return "cannot load a trivial BPF program: " + err.Error()
}

// verifierObjectResults gives every program of an object the same status,
// or one result naming the object when it does not parse.
func verifierObjectResults(obj parsed, status, reason string) []VerifierResult {
	if obj.err != nil {
		return []VerifierResult{{Object: obj.path, Status: status, Reason: reason}}
	}
	var out []VerifierResult
	for _, name := range slices.Sorted(maps.Keys(obj.obj.spec.Programs)) {
		out = append(out, VerifierResult{Object: obj.path, Program: name, Status: status, Reason: reason})
	}
	return out
}

func verifyObject(ctx context.Context, obj parsed, cache *btf.Cache) []VerifierResult {
	if obj.err != nil {
		return []VerifierResult{{Object: obj.path, Status: VerifierNotRun, Reason: "object does not parse: " + obj.why()}}
	}
	var res []VerifierResult
	if err := obj.obj.guard("loading into the verifier", func() error {
		res = verifyObjectSpec(ctx, obj.path, obj.obj.Spec(), cache)
		return nil
	}); err != nil {
		return verifierObjectResults(obj, VerifierInconclusive, err.Error())
	}
	return res
}

// verifyObjectSpec verifies the programs of a parsed object; it modifies
// spec (pinning, program array contents, struct_ops maps).
func verifyObjectSpec(ctx context.Context, path string, spec *ebpf.CollectionSpec, cache *btf.Cache) []VerifierResult {
	names := slices.Sorted(maps.Keys(spec.Programs))
	all := func(status, reason string) []VerifierResult {
		out := make([]VerifierResult, 0, len(names))
		for _, n := range names {
			out = append(out, VerifierResult{Object: path, Program: n, Status: status, Reason: reason})
		}
		return out
	}

	if err := prepareLoad(spec); err != nil {
		return all(VerifierInconclusive, err.Error())
	}

	mapsOnly := spec.Copy()
	mapsOnly.Programs = map[string]*ebpf.ProgramSpec{}
	mapColl, err := ebpf.NewCollectionWithOptions(mapsOnly, ebpf.CollectionOptions{Cache: cache})
	if err != nil {
		return all(VerifierInconclusive, "creating maps: "+err.Error())
	}
	defer mapColl.Close()

	out := make([]VerifierResult, 0, len(names))
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			out = append(out, VerifierResult{Object: path, Program: name, Status: VerifierNotRun, Reason: "cancelled: " + err.Error()})
			continue
		}
		res := verifyProgram(spec, name, mapColl.Maps, cache)
		res.Object = path
		res.Program = name
		out = append(out, res)
	}
	return out
}

// verifyProgram loads one program of spec, with the object's maps, and
// classifies the outcome.
func verifyProgram(spec *ebpf.CollectionSpec, name string, mapsByName map[string]*ebpf.Map, cache *btf.Cache) VerifierResult {
	ps := spec.Programs[name]
	switch ps.Type {
	case ebpf.UnspecifiedProgram:
		// The section names no program type: nothing the kernel can load.
		// Lint reports it as program.unknown-section.
		return VerifierResult{Status: VerifierRejected, Reason: fmt.Sprintf("section %q names no program type; the kernel cannot load it", ps.SectionName)}
	case ebpf.Extension:
		return VerifierResult{Status: VerifierInconclusive, Reason: "freplace (Extension) programs need the program they replace; not loaded"}
	case ebpf.StructOps:
		return VerifierResult{Status: VerifierInconclusive, Reason: "struct_ops programs load together with their struct_ops map; not loaded"}
	}

	// A BTF-attached program whose target is not in vmlinux fails before
	// the verifier (cilium/ebpf says "not supported"); name the target.
	// The loader also searches kernel modules, so only use this to explain
	// a failure.
	var missingTarget string
	if kernel, err := cache.Kernel(); err == nil {
		missingTarget = attachTargetMissing(ps, kernel)
	}

	load := func(level ebpf.LogLevel) (int, []string, error) {
		one := spec.Copy()
		one.Programs = map[string]*ebpf.ProgramSpec{name: one.Programs[name]}
		coll, err := ebpf.NewCollectionWithOptions(one, ebpf.CollectionOptions{
			Programs:        ebpf.ProgramOptions{LogLevel: level, LogSizeStart: 1 << 16},
			MapReplacements: mapsByName,
			Cache:           cache,
		})
		if err != nil {
			var ve *ebpf.VerifierError
			if errors.As(err, &ve) {
				return verifierProcessedInsns(ve.Log), ve.Log, err
			}
			return 0, nil, err
		}
		defer coll.Close()
		prog := coll.Programs[name]
		n := verifierProcessedInsns(strings.Split(prog.VerifierLog, "\n"))
		if n == 0 {
			if info, err := prog.Info(); err == nil {
				if v, ok := info.VerifiedInstructions(); ok {
					n = int(v)
				}
			}
		}
		return n, nil, nil
	}

	n, log, err := load(ebpf.LogLevelStats)
	if err == nil {
		return VerifierResult{Status: VerifierAccepted, Instructions: n}
	}
	res := verifierClassify(err, n, log, func() (int, []string, error) {
		return load(ebpf.LogLevelBranch | ebpf.LogLevelStats)
	})
	if res.Status == VerifierInconclusive && missingTarget != "" {
		res.Reason = missingTarget + ": " + err.Error()
	}
	return res
}

// verifierClassify turns a load error into a result. retry reloads with a
// detailed log, for the tail of a real rejection.
func verifierClassify(err error, n int, log []string, retry func() (int, []string, error)) VerifierResult {
	var ve *ebpf.VerifierError
	isVerifier := errors.As(err, &ve)
	hasLog := verifierRejectionReason(log) != ""
	switch {
	case errors.Is(err, unix.EPERM) && !hasLog:
		return VerifierResult{Status: VerifierInconclusive, Reason: "the kernel refused the program with EPERM and no verifier log (lockdown or a missing capability): " + err.Error()}
	case errors.Is(err, ebpf.ErrNotSupported):
		return VerifierResult{Status: VerifierInconclusive, Reason: "not supported by this kernel: " + err.Error()}
	case errors.Is(err, btf.ErrNotFound) && !hasLog:
		return VerifierResult{Status: VerifierInconclusive, Reason: "kernel BTF or attach target not found on this kernel: " + err.Error()}
	case isVerifier && hasLog:
		// EACCES or EINVAL with the verifier's reasons; cilium/ebpf replaces
		// the errno when a poisoned CO-RE relocation or a missing kfunc was
		// reached, so keep its words in front.
		reason := verifierRejectionReason(log)
		for _, why := range []string{"bad CO-RE relocation", "unknown kfunc"} {
			if strings.Contains(err.Error(), why) {
				reason = why + " on this kernel: " + reason
			}
		}
		if n2, log2, err2 := retry(); err2 != nil && verifierRejectionReason(log2) != "" {
			log = log2
			if n2 > 0 {
				n = n2
			}
		}
		return VerifierResult{Status: VerifierRejected, Instructions: n, Reason: reason, LogTail: verifierLogTail(log)}
	}
	return VerifierResult{Status: VerifierInconclusive, Reason: "loading failed before verification: " + err.Error()}
}
