package bpfobj

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

// InspectObject parses one eBPF ELF object (see Parse) and reports what
// it holds (see Inspect). It never panics on hostile input: a crash of
// the parser becomes an *ObjectError naming path, as does an object over
// MaxObjectSize or one that does not parse.
func InspectObject(path string, data []byte) (ObjectReport, error) {
	o, err := Parse(path, data)
	if err != nil {
		return ObjectReport{Path: path, Size: int64(len(data)), SHA256: hexSum(sha256.Sum256(data))}, err
	}
	return o.Inspect()
}

// Inspect reports what the object holds: its programs (section, program
// and attach type, instruction count, helpers by their kernel names,
// kfuncs, bpf-to-bpf calls, tail calls with the prog arrays they go
// through, maps referenced, CO-RE relocations), its maps, whether it
// carries BTF and CO-RE relocations, its license and whether the kernel
// counts that license as GPL-compatible, its byte order and its global
// data sections. Every slice of the report is sorted, so the report is
// deterministic. A crash while walking hostile instructions becomes an
// *ObjectError.
func (o *Object) Inspect() (r ObjectReport, err error) {
	r = ObjectReport{Path: o.Path, Size: o.Size, SHA256: hexSum(o.SHA256)}
	err = o.guard("inspecting the ELF", func() error {
		fillObjectReport(&r, o.spec)
		if o.hasLicense {
			r.License = o.License
			r.GPLCompat = LicenseIsGPLCompatible(o.License)
		}
		return nil
	})
	return r, err
}

// isDataSection reports whether a map of a collection is a global data
// section (.data, .rodata, .bss, .kconfig, ...) rather than a declared map.
func isDataSection(name string) bool { return strings.HasPrefix(name, ".") }

func fillObjectReport(r *ObjectReport, spec *ebpf.CollectionSpec) {
	r.BTF = spec.Types != nil
	r.ByteOrder = "little"
	if spec.ByteOrder == binary.BigEndian {
		r.ByteOrder = "big"
	}
	r.Programs = []ProgramReport{}
	r.Maps = []MapReport{}
	for _, name := range slices.Sorted(maps.Keys(spec.Maps)) {
		m := spec.Maps[name]
		if isDataSection(name) {
			r.DataSections = append(r.DataSections, name)
			continue
		}
		mr := MapReport{Name: name, Type: m.Type.String(), KeySize: m.KeySize, ValueSize: m.ValueSize,
			MaxEntries: m.MaxEntries, Flags: m.Flags}
		if m.Pinning == ebpf.PinByName {
			mr.Pinning = "by_name"
		}
		r.Maps = append(r.Maps, mr)
	}
	for _, name := range slices.Sorted(maps.Keys(spec.Programs)) {
		ps := spec.Programs[name]
		if r.License == "" {
			r.License = ps.License
		}
		pr := inspectProgram(spec, ps)
		if pr.CORERelos > 0 {
			r.CORE = true
		}
		r.Programs = append(r.Programs, pr)
	}
	r.GPLCompat = LicenseIsGPLCompatible(r.License)
}

func inspectProgram(spec *ebpf.CollectionSpec, ps *ebpf.ProgramSpec) ProgramReport {
	pr := ProgramReport{
		Name:     ps.Name,
		Section:  ps.SectionName,
		Type:     ps.Type.String(),
		AttachTo: ps.AttachTo,
	}
	if ps.AttachType != ebpf.AttachNone {
		pr.AttachType = ps.AttachType.String()
	}
	helpers := map[string]bool{}
	kfuncs := map[string]bool{}
	calls := map[string]bool{}
	tails := map[string]bool{}
	used := map[string]bool{}
	isa := map[string]bool{}
	insns := ps.Instructions
	for i := range insns {
		ins := &insns[i]
		pr.Instructions += int(ins.Size() / asm.InstructionSize)
		if f := isaFeature(ins); f != "" {
			isa[f] = true
		}
		if btf.CORERelocationMetadata(ins) != nil {
			pr.CORERelos++
		}
		switch {
		case ins.IsBuiltinCall():
			fn := asm.BuiltinFunc(ins.Constant)
			name := KernelHelperName(fn)
			if name == "" {
				name = fmt.Sprintf("helper#%d", ins.Constant)
			}
			helpers[name] = true
			if fn == asm.FnTailCall {
				if m := tailCallMap(insns, i); m != "" {
					tails[m] = true
				} else {
					// The prog array is not loaded right before the call
					// (passed in another register or from a map of maps):
					// name every prog array the program refers to.
					for _, ref := range programMaps(insns) {
						if ms, ok := spec.Maps[ref]; ok && ms.Type == ebpf.ProgramArray {
							tails[ref] = true
						}
					}
				}
			}
		case ins.IsKfuncCall():
			if ref := ins.Reference(); ref != "" {
				kfuncs[ref] = true
			}
		case ins.IsFunctionReference():
			if ref := ins.Reference(); ref != "" {
				calls[ref] = true
			}
		case ins.IsLoadFromMap():
			if ref := ins.Reference(); ref != "" && !isDataSection(ref) {
				used[ref] = true
			}
		}
	}
	pr.Helpers = sortedKeys(helpers)
	pr.Kfuncs = sortedKeys(kfuncs)
	pr.Calls = sortedKeys(calls)
	pr.TailCalls = sortedKeys(tails)
	pr.Maps = sortedKeys(used)
	pr.ISA = sortedKeys(isa)
	return pr
}

// Instruction-set features of ProgramReport.ISA; each is a "feature" of
// the minimum-kernel table.
const (
	ISAJmp32        = "jmp32"         // BPF_JMP32 conditional jumps (clang -mcpu=v3), 5.1
	ISABoundedLoops = "bounded_loops" // a backward jump, 5.3
	ISAAtomics      = "atomics"       // fetch-add/and/or/xor, xchg, cmpxchg (-mcpu=v3), 5.12
	ISACPUv4        = "cpuv4"         // sign-extending loads and moves, sdiv/smod, bswap, gotol (-mcpu=v4), 6.6
	ISAMayGoto      = "may_goto"      // the may_goto instruction (can_loop, bpf_for), 6.9
	ISALoadAcquire  = "load_acquire"  // load-acquire and store-release, 6.15
)

// Encodings cilium/ebpf decodes but does not name.
const (
	atomicLoadAcquire  asm.AtomicOp = 0x0001_0000 // BPF_LOAD_ACQ
	atomicStoreRelease asm.AtomicOp = 0x0001_1000 // BPF_STORE_REL
	jumpMayGoto        asm.JumpOp   = 0xe0        // BPF_JCOND (may_goto)
)

// isaFeature names the instruction-set feature one instruction needs
// beyond the original instruction set, or "". When an instruction needs
// several (a backward gotol), the newest is named.
func isaFeature(ins *asm.Instruction) string {
	op := ins.OpCode
	cls := op.Class()
	if a := op.AtomicOp(); a != asm.InvalidAtomic {
		switch a {
		case asm.AddAtomic: // plain atomic add (XADD) is as old as eBPF
			return ""
		case atomicLoadAcquire, atomicStoreRelease:
			return ISALoadAcquire
		}
		return ISAAtomics
	}
	switch {
	case cls.IsLoad() && op.Mode() == asm.MemSXMode:
		return ISACPUv4 // sign-extending load
	case cls.IsALU():
		switch op.ALUOp() {
		case asm.Mov:
			if (ins.Offset == 8 || ins.Offset == 16 || ins.Offset == 32) && op.Source() == asm.RegSource {
				return ISACPUv4 // movsx
			}
		case asm.Div, asm.Mod:
			if ins.Offset == 1 {
				return ISACPUv4 // sdiv, smod
			}
		case asm.Swap:
			if cls == asm.ALU64Class {
				return ISACPUv4 // bswap
			}
		}
		return ""
	case !cls.IsJump():
		return ""
	}
	switch jop := op.JumpOp(); {
	case jop == jumpMayGoto && cls == asm.JumpClass:
		return ISAMayGoto
	case jop == asm.Ja && cls == asm.Jump32Class:
		return ISACPUv4 // gotol: a jump with a 32-bit offset
	case jop == asm.Call, jop == asm.Exit:
		return ""
	case cls == asm.Jump32Class:
		return ISAJmp32
	case ins.Offset < 0:
		return ISABoundedLoops
	}
	return ""
}

// tailCallMap returns the map whose pointer is in R2 at the tail call
// insns[at]: the last write to R2 before it, when that is a map load.
func tailCallMap(insns asm.Instructions, at int) string {
	for j := at - 1; j >= 0; j-- {
		ins := &insns[j]
		if ins.OpCode.JumpOp() == asm.Call || ins.OpCode.JumpOp() == asm.Exit {
			return "" // R2 is clobbered by calls
		}
		if ins.Dst != asm.R2 {
			continue
		}
		cls := ins.OpCode.Class()
		if cls.IsLoad() || cls.IsALU() {
			if ins.IsLoadFromMap() && ins.Src == asm.PseudoMapFD {
				return ins.Reference()
			}
			return ""
		}
	}
	return ""
}

// programMaps lists the maps a program's instructions load.
func programMaps(insns asm.Instructions) []string {
	var out []string
	for i := range insns {
		if insns[i].IsLoadFromMap() {
			if ref := insns[i].Reference(); ref != "" {
				out = append(out, ref)
			}
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(m))
}

// gplCompatibleLicenses are the ELF license strings the kernel treats as
// GPL-compatible: license_is_gpl_compatible() in include/linux/license.h
// (Linux 6.x), which the BPF verifier applies to a program's license
// (kernel/bpf/syscall.c, bpf_prog_load). The comparison is exact.
var gplCompatibleLicenses = []string{
	"GPL",
	"GPL v2",
	"GPL and additional rights",
	"Dual BSD/GPL",
	"Dual MIT/GPL",
	"Dual MPL/GPL",
}

// LicenseIsGPLCompatible reports whether the kernel counts an ELF license
// string as GPL-compatible, as license_is_gpl_compatible() does.
func LicenseIsGPLCompatible(license string) bool {
	return slices.Contains(gplCompatibleLicenses, license)
}
