package pkgfmt

import (
	"slices"

	"github.com/cilium/ebpf"
)

// programTypes maps the manifest's program types to the kernel program
// types cilium/ebpf gives the sections that hold them. The manifest names
// are more specific than l3afd's prog_type (see L3afdProgType): kprobe and
// kretprobe, for example, are both BPF_PROG_TYPE_KPROBE.
var programTypes = map[string]ebpf.ProgramType{
	"xdp":              ebpf.XDP,
	"tc":               ebpf.SchedCLS,
	"tcx":              ebpf.SchedCLS,
	"tc_action":        ebpf.SchedACT,
	"kprobe":           ebpf.Kprobe,
	"kretprobe":        ebpf.Kprobe,
	"uprobe":           ebpf.Kprobe,
	"uretprobe":        ebpf.Kprobe,
	"tracepoint":       ebpf.TracePoint,
	"raw_tracepoint":   ebpf.RawTracepoint,
	"tp_btf":           ebpf.Tracing,
	"fentry":           ebpf.Tracing,
	"fexit":            ebpf.Tracing,
	"fmod_ret":         ebpf.Tracing,
	"iter":             ebpf.Tracing,
	"perf_event":       ebpf.PerfEvent,
	"socket_filter":    ebpf.SocketFilter,
	"sk_skb":           ebpf.SkSKB,
	"sk_msg":           ebpf.SkMsg,
	"sk_lookup":        ebpf.SkLookup,
	"sk_reuseport":     ebpf.SkReuseport,
	"sock_ops":         ebpf.SockOps,
	"cgroup_skb":       ebpf.CGroupSKB,
	"cgroup_sock":      ebpf.CGroupSock,
	"cgroup_sock_addr": ebpf.CGroupSockAddr,
	"cgroup_sockopt":   ebpf.CGroupSockopt,
	"cgroup_sysctl":    ebpf.CGroupSysctl,
	"cgroup_device":    ebpf.CGroupDevice,
	"flow_dissector":   ebpf.FlowDissector,
	"lwt_in":           ebpf.LWTIn,
	"lwt_out":          ebpf.LWTOut,
	"lwt_xmit":         ebpf.LWTXmit,
	"lsm":              ebpf.LSM,
	"netfilter":        ebpf.Netfilter,
	"struct_ops":       ebpf.StructOps,
	"syscall":          ebpf.Syscall,
}

// sectionExamples gives, for each manifest program type, the libbpf ELF
// section name (SEC()) that makes a program of that type, with
// placeholders in capitals, for messages telling an author what to write.
var sectionExamples = map[string]string{
	"xdp":              "xdp",
	"tc":               "tc",
	"tcx":              "tcx/ingress",
	"tc_action":        "action",
	"kprobe":           "kprobe/FUNC",
	"kretprobe":        "kretprobe/FUNC",
	"uprobe":           "uprobe",
	"uretprobe":        "uretprobe",
	"tracepoint":       "tracepoint/CATEGORY/NAME",
	"raw_tracepoint":   "raw_tracepoint/NAME",
	"tp_btf":           "tp_btf/NAME",
	"fentry":           "fentry/FUNC",
	"fexit":            "fexit/FUNC",
	"fmod_ret":         "fmod_ret/FUNC",
	"iter":             "iter/NAME",
	"perf_event":       "perf_event",
	"socket_filter":    "socket",
	"sk_skb":           "sk_skb/stream_verdict",
	"sk_msg":           "sk_msg",
	"sk_lookup":        "sk_lookup",
	"sk_reuseport":     "sk_reuseport",
	"sock_ops":         "sockops",
	"cgroup_skb":       "cgroup_skb/ingress",
	"cgroup_sock":      "cgroup/sock_create",
	"cgroup_sock_addr": "cgroup/connect4",
	"cgroup_sockopt":   "cgroup/getsockopt",
	"cgroup_sysctl":    "cgroup/sysctl",
	"cgroup_device":    "cgroup/dev",
	"flow_dissector":   "flow_dissector",
	"lwt_in":           "lwt_in",
	"lwt_out":          "lwt_out",
	"lwt_xmit":         "lwt_xmit",
	"lsm":              "lsm/HOOK",
	"netfilter":        "netfilter",
	"struct_ops":       "struct_ops/NAME",
	"syscall":          "syscall",
}

// manifestTypesOf returns the manifest program types whose kernel program
// type is t (its cilium/ebpf String()), sorted.
func manifestTypesOf(t string) []string {
	var out []string
	for n, pt := range programTypes {
		if pt.String() == t {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// ProgramTypeNames returns the program types a manifest may declare,
// sorted.
func ProgramTypeNames() []string {
	names := make([]string, 0, len(programTypes))
	for n := range programTypes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ProgramTypeFor returns the kernel program type of a manifest program
// type (e.g. "tc" → ebpf.SchedCLS), and false for an unknown one.
func ProgramTypeFor(manifestType string) (ebpf.ProgramType, bool) {
	t, ok := programTypes[manifestType]
	return t, ok
}

// L3afdProgType returns the prog_type l3afd's program entry uses for a
// manifest program type: "xdp", "tc" or "probe", or "" when l3afd has no
// loader for it.
func L3afdProgType(manifestType string) string {
	switch manifestType {
	case "xdp":
		return "xdp"
	case "tc", "tcx":
		return "tc"
	case "kprobe", "kretprobe", "uprobe", "uretprobe", "tracepoint", "raw_tracepoint", "tp_btf", "fentry", "fexit":
		return "probe"
	}
	return ""
}
