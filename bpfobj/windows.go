package bpfobj

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// PlatformWindows is ObjectReport.Platform of an object WindowsView
// reinterpreted.
const PlatformWindows = "Windows"

// WindowsProblem is something in an object that eBPF for Windows does not
// have: a program type (by ELF section), a helper, or a map type.
type WindowsProblem struct {
	Program string // the program ("" for a map)
	Kind    string // "program_type", "helper" or "map_type"
	Name    string // the section, helper or map type as Linux names it
	Map     string // the map, for a map type
}

func (p WindowsProblem) String() string {
	switch p.Kind {
	case "program_type":
		return fmt.Sprintf("program %s: ELF section %q names no eBPF for Windows program type (xdp, bind, cgroup/connect4, cgroup/connect6, cgroup/recv_accept4, cgroup/recv_accept6, sockops)", p.Program, p.Name)
	case "helper":
		return fmt.Sprintf("program %s: calls %s, which eBPF for Windows does not have", p.Program, p.Name)
	}
	return fmt.Sprintf("map %s: type %s does not exist on eBPF for Windows", p.Map, p.Name)
}

// windowsSections maps the ELF sections eBPF for Windows knows to its
// program and attach types.
var windowsSections = []struct {
	prefix string
	prog   ebpf.ProgramType
	attach ebpf.AttachType
}{
	{"xdp_test", ebpf.WindowsXDPTest, ebpf.AttachWindowsXDPTest},
	{"xdp", ebpf.WindowsXDP, ebpf.AttachWindowsXDP},
	{"bind", ebpf.WindowsBind, ebpf.AttachWindowsBind},
	{"cgroup/connect4", ebpf.WindowsCGroupSockAddr, ebpf.AttachWindowsCGroupInet4Connect},
	{"cgroup/connect6", ebpf.WindowsCGroupSockAddr, ebpf.AttachWindowsCGroupInet6Connect},
	{"cgroup/recv_accept4", ebpf.WindowsCGroupSockAddr, ebpf.AttachWindowsCgroupInet4RecvAccept},
	{"cgroup/recv_accept6", ebpf.WindowsCGroupSockAddr, ebpf.AttachWindowsCgroupInet6RecvAccept},
	{"sockops", ebpf.WindowsSockOps, ebpf.AttachWindowsCGroupSockOps},
	{"sample_ext", ebpf.WindowsSample, ebpf.AttachWindowsSample},
}

// windowsMapTypes maps Linux map types to eBPF for Windows' ones.
var windowsMapTypes = map[string]ebpf.MapType{
	ebpf.Hash.String(): ebpf.WindowsHash, ebpf.Array.String(): ebpf.WindowsArray, ebpf.ProgramArray.String(): ebpf.WindowsProgramArray,
	ebpf.PerCPUHash.String(): ebpf.WindowsPerCPUHash, ebpf.PerCPUArray.String(): ebpf.WindowsPerCPUArray,
	ebpf.HashOfMaps.String(): ebpf.WindowsHashOfMaps, ebpf.ArrayOfMaps.String(): ebpf.WindowsArrayOfMaps,
	ebpf.LRUHash.String(): ebpf.WindowsLRUHash, ebpf.LPMTrie.String(): ebpf.WindowsLPMTrie, ebpf.Queue.String(): ebpf.WindowsQueue,
	ebpf.LRUCPUHash.String(): ebpf.WindowsLRUCPUHash, ebpf.Stack.String(): ebpf.WindowsStack, ebpf.RingBuf.String(): ebpf.WindowsRingBuf,
}

// linuxHelperIDs maps the kernel's helper names back to their ids.
var linuxHelperIDs = func() map[string]uint32 {
	m := map[string]uint32{}
	for id := uint32(0); id < 512; id++ {
		if name := KernelHelperName(asm.BuiltinFunc(id)); name != "" {
			m[name] = id
		}
	}
	return m
}()

// WindowsHelperName is the name of helper id on eBPF for Windows
// ("bpf_map_lookup_elem", "bpf_get_socket_cookie"), "" if it has none.
func WindowsHelperName(id uint32) string {
	fn, err := asm.BuiltinFuncForPlatform("windows", id)
	if err != nil {
		return ""
	}
	s, ok := strings.CutPrefix(fn.String(), "WindowsFn")
	if !ok {
		return ""
	}
	return "bpf_" + kcSnakeCase(s)
}

// WindowsView reinterprets r — an object inspected the way Linux loads
// it — the way eBPF for Windows does: the same ELF, but Windows' program
// and attach types (by section), helper ids and map types. Everything
// eBPF for Windows does not have is a WindowsProblem.
func WindowsView(r ObjectReport) (ObjectReport, []WindowsProblem) {
	var probs []WindowsProblem
	r.Platform = PlatformWindows
	r.Programs = slices.Clone(r.Programs)
	for i := range r.Programs {
		p := &r.Programs[i]
		found := false
		for _, ws := range windowsSections {
			if p.Section == ws.prefix || strings.HasPrefix(p.Section, ws.prefix+"/") {
				p.Type, p.AttachType, found = ws.prog.String(), ws.attach.String(), true
				break
			}
		}
		if !found {
			probs = append(probs, WindowsProblem{Program: p.Name, Kind: "program_type", Name: p.Section})
		}
		var hs []string
		for _, h := range p.Helpers {
			id, ok := linuxHelperIDs[h]
			if n, err := strconv.ParseUint(strings.TrimPrefix(h, "helper#"), 10, 32); !ok && err == nil {
				id, ok = uint32(n), true
			}
			w := ""
			if ok {
				w = WindowsHelperName(id)
			}
			if w == "" {
				probs = append(probs, WindowsProblem{Program: p.Name, Kind: "helper", Name: h})
				w = fmt.Sprintf("helper#%d", id)
			}
			hs = append(hs, w)
		}
		slices.Sort(hs)
		p.Helpers = slices.Compact(hs)
	}
	r.Maps = slices.Clone(r.Maps)
	for i := range r.Maps {
		m := &r.Maps[i]
		if wt, ok := windowsMapTypes[m.Type]; ok {
			m.Type = wt.String()
		} else {
			probs = append(probs, WindowsProblem{Kind: "map_type", Name: m.Type, Map: m.Name})
		}
	}
	return r, probs
}
