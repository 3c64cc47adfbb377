package bpfobj

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

// sysfsVmlinux is where the running kernel exposes its BTF.
const sysfsVmlinux = "/sys/kernel/btf/vmlinux"

// CheckKernelBTF checks, without loading anything, whether each program of
// the objects would relocate on each kernel whose BTF is given: a raw BTF
// file such as /sys/kernel/btf/vmlinux, a BTFHub .btf file, or an ELF with
// a .BTF section. No privileges are needed.
//
// A program is compatible with a kernel when every CO-RE relocation
// resolves against the kernel's types (cilium/ebpf's btf.CORERelocate, the
// same computation the loader does), every kfunc it calls exists there, and
// its attach target (fentry/fexit/fmod_ret function, LSM hook, BTF
// tracepoint, iterator) exists there. A relocation that can only be
// resolved by poisoning the instruction makes the program incompatible,
// unless the program tests the same type for existence
// (bpf_core_field_exists and friends) and that test evaluates false on the
// kernel: then the poisoned instruction sits on a path the verifier prunes,
// and the program is reported compatible with that noted in Reason.
//
// Kernels are labelled by file name (by path when two share a name), or
// by release for the running kernel's /sys/kernel/btf/vmlinux. Results are in the order of btfFiles,
// then object, then program name. It returns an error only for a BTF file
// that cannot be read; objects that do not parse yield an incompatible
// result naming the object.
func CheckKernelBTF(ctx context.Context, objs []ObjectData, btfFiles []string) ([]BTFCompat, error) {
	return checkBTF(ctx, parseAll(objs), btfFiles)
}

// CheckBTF is CheckKernelBTF for objects already parsed.
func CheckBTF(ctx context.Context, objs []*Object, btfFiles []string) ([]BTFCompat, error) {
	return checkBTF(ctx, wrapAll(objs), btfFiles)
}

func checkBTF(ctx context.Context, specs []parsed, btfFiles []string) ([]BTFCompat, error) {
	labels := make(map[string]int)
	for _, file := range btfFiles {
		labels[kernelBTFLabel(file)]++
	}
	var out []BTFCompat
	for _, file := range btfFiles {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		kernel, err := btf.LoadSpec(file)
		if err != nil {
			return out, fmt.Errorf("kernel BTF %s: %w", file, err)
		}
		label := kernelBTFLabel(file)
		if labels[label] > 1 { // same file name in two directories
			label = file
		}
		for _, p := range specs {
			if p.err != nil {
				out = append(out, BTFCompat{Kernel: label, Object: p.path, Compatible: false, Reason: "object does not parse: " + p.why()})
				continue
			}
			spec := p.obj.spec // read only: relocation is computed, not applied
			for _, name := range slices.Sorted(maps.Keys(spec.Programs)) {
				var ok bool
				var reason string
				if err := p.obj.guard("checking relocations", func() error {
					ok, reason = checkProgramBTF(spec, spec.Programs[name], kernel)
					return nil
				}); err != nil {
					ok, reason = false, err.Error()
				}
				out = append(out, BTFCompat{Kernel: label, Object: p.path, Program: name, Compatible: ok, Reason: reason})
			}
		}
	}
	return out, nil
}

// kernelBTFLabel names the kernel a BTF file describes.
func kernelBTFLabel(file string) string {
	if filepath.Clean(file) == sysfsVmlinux {
		if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
			if rel := strings.TrimSpace(string(b)); rel != "" {
				return rel
			}
		}
	}
	return filepath.Base(file)
}

// checkProgramBTF reports whether one program is compatible with kernel,
// and why not.
func checkProgramBTF(spec *ebpf.CollectionSpec, ps *ebpf.ProgramSpec, kernel *btf.Spec) (ok bool, reason string) {
	var problems, notes []string

	if missing := attachTargetMissing(ps, kernel); missing != "" {
		problems = append(problems, missing)
	}

	var (
		relos []*btf.CORERelocation
		insns []asm.Instruction
	)
	for _, ins := range ps.Instructions {
		if ins.IsKfuncCall() {
			if name := ins.Reference(); name != "" {
				var fn *btf.Func
				if err := kernel.TypeByName(name, &fn); err != nil {
					problems = append(problems, fmt.Sprintf("kfunc %s not in this kernel's BTF (fine only if it is __weak and guarded by bpf_ksym_exists, or lives in a module)", name))
				}
			}
		}
		if r := btf.CORERelocationMetadata(&ins); r != nil {
			relos = append(relos, r)
			insns = append(insns, ins)
		}
	}

	if len(relos) > 0 {
		b, err := btf.NewBuilder(nil, nil)
		if err != nil {
			return false, "checking relocations: " + err.Error()
		}
		fixups, err := btf.CORERelocate(relos, []*btf.Spec{kernel}, spec.ByteOrder, b.Add)
		if err != nil {
			return false, "CO-RE: " + err.Error()
		}
		type poisoned struct {
			typ, what string
		}
		var bad []poisoned
		missingTypes := make(map[string]bool) // local types an existence check found missing
		for i := range fixups {
			d := parseCORERelo(relos[i])
			ins := insns[i]
			if err := fixups[i].Apply(&ins); err != nil {
				problems = append(problems, fmt.Sprintf("CO-RE %s: %v", describeCORERelo(spec.Types, d), err))
				continue
			}
			switch {
			case coreIsPoisoned(ins):
				bad = append(bad, poisoned{d.typ, describeCORERelo(spec.Types, d)})
			case d.checksExistence() && ins.Constant == 0:
				missingTypes[d.typ] = true
			}
		}
		for _, p := range bad {
			if missingTypes[p.typ] {
				notes = append(notes, p.what+" is missing, behind an existence check that is false on this kernel")
				continue
			}
			problems = append(problems, p.what+" does not resolve")
		}
	}

	if len(problems) > 0 {
		return false, strings.Join(btfcompatDedupe(problems), "; ")
	}
	return true, strings.Join(btfcompatDedupe(notes), "; ")
}

func btfcompatDedupe(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := s[:0:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// coreIsPoisoned reports whether a CO-RE fixup replaced ins with cilium/ebpf's
// invalid placeholder.
func coreIsPoisoned(ins asm.Instruction) bool {
	if ins.OpCode.IsDWordLoad() {
		return ins.Dst == asm.R10 && ins.Constant == btf.COREBadRelocationSentinel
	}
	return ins.IsBuiltinCall() && ins.Constant == btf.COREBadRelocationSentinel
}

// attachTargetMissing checks that the kernel function, hook or tracepoint a
// BTF-attached program names exists in kernel, the way cilium/ebpf finds
// it at load time. It returns a problem or "".
func attachTargetMissing(ps *ebpf.ProgramSpec, kernel *btf.Spec) string {
	if ps.AttachTo == "" {
		return ""
	}
	target := ps.AttachTo
	if i := strings.LastIndexByte(target, ':'); i >= 0 { // "module:function"
		target = target[i+1:]
	}
	var (
		name, what string
		err        error
	)
	switch {
	case ps.Type == ebpf.LSM && ps.AttachType == ebpf.AttachLSMMac:
		name, what = "bpf_lsm_"+target, "LSM hook "+target
		var fn *btf.Func
		err = kernel.TypeByName(name, &fn)
	case ps.Type == ebpf.Tracing && ps.AttachType == ebpf.AttachTraceIter:
		name, what = "bpf_iter_"+target, "iterator "+target
		var fn *btf.Func
		err = kernel.TypeByName(name, &fn)
	case ps.Type == ebpf.Tracing && (ps.AttachType == ebpf.AttachTraceFEntry || ps.AttachType == ebpf.AttachTraceFExit || ps.AttachType == ebpf.AttachModifyReturn):
		name, what = target, "attach target function "+target
		var fn *btf.Func
		err = kernel.TypeByName(name, &fn)
	case ps.Type == ebpf.Tracing && ps.AttachType == ebpf.AttachTraceRawTp:
		name, what = "btf_trace_"+target, "BTF tracepoint "+target
		var td *btf.Typedef
		err = kernel.TypeByName(name, &td)
	default:
		return ""
	}
	if errors.Is(err, btf.ErrNotFound) {
		return what + " not in this kernel's BTF (" + name + ")"
	}
	if err != nil {
		return what + ": " + err.Error()
	}
	return ""
}

// coreReloDesc is what CORERelocation.String() exposes of a relocation:
// "CORERelocation(byte_off, Struct:\"task_struct\"[0:12], local_id=42)".
type coreReloDesc struct {
	kind, typ, accessor string
	localID             btf.TypeID
	raw                 string
}

func parseCORERelo(r *btf.CORERelocation) coreReloDesc {
	s := r.String()
	d := coreReloDesc{raw: s}
	body, ok := strings.CutPrefix(s, "CORERelocation(")
	if !ok {
		return d
	}
	body = strings.TrimSuffix(body, ")")
	kind, rest, ok := strings.Cut(body, ", ")
	if !ok {
		return d
	}
	d.kind = kind
	if i := strings.LastIndex(rest, ", local_id="); i >= 0 {
		if id, err := strconv.ParseUint(rest[i+len(", local_id="):], 10, 32); err == nil {
			d.localID = btf.TypeID(id)
		}
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '['); i >= 0 && strings.HasSuffix(rest, "]") {
		d.typ, d.accessor = rest[:i], rest[i+1:len(rest)-1]
	} else {
		d.typ = rest
	}
	return d
}

func (d coreReloDesc) checksExistence() bool {
	switch d.kind {
	case "field_exists", "type_exists", "enumval_exists", "type_matches":
		return true
	}
	return false
}

// describeCORERelo names what a relocation refers to, for people:
// "field task_struct.pid", "type struct foo", "enum value bar::BAZ".
func describeCORERelo(types *btf.Spec, d coreReloDesc) string {
	if types == nil || d.localID == 0 {
		return "relocation " + d.raw
	}
	typ, err := types.TypeByID(d.localID)
	if err != nil {
		return "relocation " + d.raw
	}
	var idx []int
	for _, f := range strings.Split(d.accessor, ":") {
		n, err := strconv.Atoi(f)
		if err != nil {
			return "relocation " + d.raw
		}
		idx = append(idx, n)
	}
	root := btf.UnderlyingType(typ)
	switch d.kind {
	case "enumval_exists", "enumval_value":
		if e, ok := root.(*btf.Enum); ok && len(idx) == 1 && idx[0] >= 0 && idx[0] < len(e.Values) {
			return fmt.Sprintf("enum value %s::%s", e.Name, e.Values[idx[0]].Name)
		}
		return "relocation " + d.raw
	case "type_exists", "type_size", "type_matches", "target_type_id", "local_type_id":
		return "type " + coreTypeLabel(typ)
	}
	// Field relocations: the first index steps over an array of the root
	// type, the rest pick members and array elements.
	var b strings.Builder
	b.WriteString(typ.TypeName())
	cur := root
	for _, n := range idx[1:] {
		switch t := cur.(type) {
		case *btf.Struct:
			if n < 0 || n >= len(t.Members) {
				return "relocation " + d.raw
			}
			b.WriteString("." + coreMemberName(t.Members[n]))
			cur = btf.UnderlyingType(t.Members[n].Type)
		case *btf.Union:
			if n < 0 || n >= len(t.Members) {
				return "relocation " + d.raw
			}
			b.WriteString("." + coreMemberName(t.Members[n]))
			cur = btf.UnderlyingType(t.Members[n].Type)
		case *btf.Array:
			fmt.Fprintf(&b, "[%d]", n)
			cur = btf.UnderlyingType(t.Type)
		default:
			return "relocation " + d.raw
		}
	}
	return "field " + b.String()
}

func coreMemberName(m btf.Member) string {
	if m.Name == "" {
		return "<anon>"
	}
	return m.Name
}

func coreTypeLabel(t btf.Type) string {
	switch u := btf.UnderlyingType(t).(type) {
	case *btf.Struct:
		return "struct " + u.Name
	case *btf.Union:
		return "union " + u.Name
	case *btf.Enum:
		return "enum " + u.Name
	}
	if n := t.TypeName(); n != "" {
		return n
	}
	return fmt.Sprint(t)
}
