package bpfobj

import (
	"slices"
	"strings"
)

// InferKernel infers the lowest kernel release that supports everything
// the objects use: their program types, attach types, map types, helpers,
// kfuncs, and object-level capabilities (bpf-to-bpf calls, global data,
// CO-RE against kernel BTF). Versions come from the minimum-kernel table
// (kerneldata/kernel-versions.tsv, see docs/kernel-compat.md).
//
// The report's Features lists every feature found in the table, sorted by
// kind and name; SetBy lists those that require MinVersion. Features the
// table does not know (typically newer kfuncs) are listed in Unknown and
// do not raise the minimum. It returns nil when no object uses anything.
func InferKernel(objs []ObjectReport) *KernelReport {
	type key struct{ kind, name string }
	seen := make(map[key]bool)
	var (
		features []KernelFeature
		unknown  []string
		versions = make(map[key]KernelVersion)
	)
	add := func(kind, name string) {
		if name == "" {
			return
		}
		if kind == FeatureHelper {
			name = kcNormalizeHelperName(name)
		}
		k := key{kind, name}
		if seen[k] {
			return
		}
		seen[k] = true
		e, ok := LookupKernelFeature(kind, name)
		if !ok {
			unknown = append(unknown, kind+" "+name)
			return
		}
		versions[k] = e.Version
		features = append(features, KernelFeature{Kind: kind, Name: name, Version: e.Version.String(), Source: e.Source})
	}

	for _, o := range objs {
		if len(o.DataSections) > 0 {
			add(FeatureCapability, "global_data")
		}
		if o.CORE {
			add(FeatureCapability, "kernel_btf")
		}
		for _, m := range o.Maps {
			add(FeatureMapType, m.Type)
		}
		for _, p := range o.Programs {
			if p.Type != "" && !strings.HasPrefix(p.Type, "Unspecified") {
				add(FeatureProgramType, p.Type)
			}
			if p.AttachType != "" && p.AttachType != "None" && !optionalAttachTypes[[2]string{p.Type, p.AttachType}] {
				add(FeatureAttachType, p.AttachType)
			}
			for _, h := range p.Helpers {
				add(FeatureHelper, h)
			}
			for _, f := range p.Kfuncs {
				add(FeatureKfunc, f)
			}
			for _, f := range p.ISA {
				add(FeatureCapability, f)
			}
			if len(p.Calls) > 0 {
				add(FeatureCapability, "bpf2bpf_calls")
				if len(p.TailCalls) > 0 {
					add(FeatureCapability, "bpf2bpf_tail_calls")
				}
			}
		}
	}
	if len(features) == 0 && len(unknown) == 0 {
		return nil
	}

	var min KernelVersion
	for _, v := range versions {
		if v.Compare(min) > 0 {
			min = v
		}
	}
	slices.SortFunc(features, func(a, b KernelFeature) int {
		if c := strings.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	slices.Sort(unknown)

	r := &KernelReport{Features: features, Unknown: unknown}
	if !min.IsZero() {
		r.MinVersion = min.String()
		for _, f := range features {
			if versions[key{f.Kind, f.Name}] == min {
				r.SetBy = append(r.SetBy, f)
			}
		}
	}
	return r
}

// optionalAttachTypes are {program type, attach type} pairs whose attach
// type does not raise the minimum kernel. cilium/ebpf (like libbpf) gives
// every "xdp" section the attach type BPF_XDP (5.9), which only attaching
// through a bpf_link needs; loading ignores it, and attaching through
// netlink, as l3afd and older kernels do, works since 4.8.
var optionalAttachTypes = map[[2]string]bool{
	{"XDP", "XDP"}: true,
}

// Label names the feature for people, as messages do: "helper
// bpf_ringbuf_output", "map type RingBuf", "program type XDP",
// "isa atomics" (an instruction-set extension), "global_data".
func (f KernelFeature) Label() string { return kcFeatureLabel(f) }

// kcFeatureLabel names a feature for people: "helper bpf_ringbuf_output",
// "map type RingBuf", "program type XDP".
func kcFeatureLabel(f KernelFeature) string {
	switch f.Kind {
	case FeatureProgramType:
		return "program type " + f.Name
	case FeatureAttachType:
		return "attach type " + f.Name
	case FeatureMapType:
		return "map type " + f.Name
	case FeatureCapability:
		if isISAFeature(f) {
			return "isa " + f.Name
		}
		return f.Name
	}
	return f.Kind + " " + f.Name
}

// IsISA reports whether f is an instruction-set extension
// (ProgramReport.ISA) rather than another object-level capability.
func (f KernelFeature) IsISA() bool { return isISAFeature(f) }

func isISAFeature(f KernelFeature) bool {
	if f.Kind != FeatureCapability {
		return false
	}
	switch f.Name {
	case ISAJmp32, ISABoundedLoops, ISAAtomics, ISACPUv4, ISAMayGoto, ISALoadAcquire:
		return true
	}
	return false
}
