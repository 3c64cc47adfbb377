package progtest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
)

// Case is one test vector resolved to bytes: what the runner loads and
// runs. Its JSON form is what the parent hands the child process.
type Case struct {
	Name    string `json:"name"`
	Object  string `json:"object"` // the object's path in its package
	Program string `json:"program"`
	// Packets are the packet inputs, run in order against the same maps;
	// a context program type has none and gives Context instead.
	Packets [][]byte `json:"packets,omitempty"`
	Context []byte   `json:"context,omitempty"`
	// Repeat is how many times each input runs (BPF_PROG_RUN's repeat:
	// the verdict is the last run's); 0 means 1.
	Repeat uint32  `json:"repeat,omitempty"`
	Want   Verdict `json:"want"`
	// WantPackets, when given, holds the expected output of each input
	// packet, in order.
	WantPackets [][]byte   `json:"want_packets,omitempty"`
	Preload     []MapEntry `json:"preload,omitempty"`
	WantMaps    []MapEntry `json:"want_maps,omitempty"`
	// ChainMap is the program array a TAIL_CALL expectation fills with
	// a stub returning TailCallSentinel (the l3afd chaining map).
	ChainMap string `json:"chain_map,omitempty"`
}

// MapEntry is one key of a map, with its value (preloaded, or expected
// afterwards) or, for an expectation, Absent: the key must not exist.
// For a per-CPU map a preloaded value goes to the first CPU (the others
// hold zeros) and an expected value is compared with the sum over CPUs,
// so both are totals.
type MapEntry struct {
	Map    string `json:"map"`
	Key    []byte `json:"key"`
	Value  []byte `json:"value,omitempty"`
	Absent bool   `json:"absent,omitempty"`
	// Mask, for an expectation, has 0xff over the bytes of Value to
	// compare (the fields a table gave); nil compares every byte.
	Mask []byte `json:"mask,omitempty"`
}

// Verdict is an expected return value of a program.
type Verdict struct {
	Value uint32 `json:"value"`
	Name  string `json:"name,omitempty"` // as the author wrote it: XDP_DROP, TAIL_CALL, or a number
	// TailCall: the program must tail-call into ChainMap (the stub's
	// sentinel comes back).
	TailCall bool `json:"tail_call,omitempty"`
}

// TailCallSentinel is what the stub program put into a chaining map
// returns, so that a verdict equal to it proves the tail call happened.
const TailCallSentinel = 0x7a11

// TailCallName is the verdict name that expects a tail call.
const TailCallName = "TAIL_CALL"

// Input is what a program type runs on under BPF_PROG_RUN.
type Input string

const (
	InputPacket  Input = "packet"  // a packet, from Ethernet up (XDP, TC, socket filters, cgroup skb, LWT)
	InputContext Input = "context" // a context blob (syscall, raw tracepoint)
	InputNone    Input = ""        // not runnable in isolation
)

// InputOf says what programs of type t take under BPF_PROG_RUN, or
// InputNone with the reason when the kernel cannot run them in isolation.
func InputOf(t ebpf.ProgramType) (Input, string) {
	switch t {
	case ebpf.XDP, ebpf.SchedCLS, ebpf.SchedACT, ebpf.SocketFilter, ebpf.CGroupSKB,
		ebpf.LWTIn, ebpf.LWTOut, ebpf.LWTXmit, ebpf.LWTSeg6Local, ebpf.FlowDissector:
		return InputPacket, ""
	case ebpf.Syscall, ebpf.RawTracepoint, ebpf.RawTracepointWritable:
		return InputContext, ""
	}
	return InputNone, fmt.Sprintf("%s programs are not runnable in isolation: BPF_PROG_RUN does not run them on a given input (they need a live attach point)", t)
}

type verdictName struct {
	name  string
	value uint32
}

// verdictNames are the return codes each program type documents, by the
// names of the kernel's UAPI headers.
var verdictNames = map[ebpf.ProgramType][]verdictName{
	ebpf.XDP:       {{"XDP_ABORTED", 0}, {"XDP_DROP", 1}, {"XDP_PASS", 2}, {"XDP_TX", 3}, {"XDP_REDIRECT", 4}},
	ebpf.SchedCLS:  tcVerdicts,
	ebpf.SchedACT:  tcVerdicts,
	ebpf.CGroupSKB: {{"SK_DROP", 0}, {"SK_PASS", 1}},
	ebpf.LWTIn:     lwtVerdicts, ebpf.LWTOut: lwtVerdicts, ebpf.LWTXmit: lwtVerdicts, ebpf.LWTSeg6Local: lwtVerdicts,
	ebpf.FlowDissector: {{"BPF_OK", 0}, {"BPF_DROP", 2}},
}

var tcVerdicts = []verdictName{{"TC_ACT_UNSPEC", 0xffffffff}, {"TC_ACT_OK", 0}, {"TC_ACT_RECLASSIFY", 1},
	{"TC_ACT_SHOT", 2}, {"TC_ACT_PIPE", 3}, {"TC_ACT_STOLEN", 4}, {"TC_ACT_QUEUED", 5},
	{"TC_ACT_REPEAT", 6}, {"TC_ACT_REDIRECT", 7}, {"TC_ACT_TRAP", 8}}

var lwtVerdicts = []verdictName{{"BPF_OK", 0}, {"BPF_DROP", 2}, {"BPF_REDIRECT", 7}, {"BPF_LWT_REROUTE", 128}}

// VerdictError is a verdict a program type does not know. Known lists
// the names it does.
type VerdictError struct {
	Given string
	Type  ebpf.ProgramType
	Known []string
}

func (e *VerdictError) Error() string {
	if len(e.Known) == 0 {
		return fmt.Sprintf("verdict %q: %s programs have no named verdicts; give a number or %s", e.Given, e.Type, TailCallName)
	}
	return fmt.Sprintf("verdict %q is not one of %s's: %s, %s or a number", e.Given, e.Type, strings.Join(e.Known, ", "), TailCallName)
}

// ParseVerdict reads an expected verdict as a manifest gives it: a name
// of the program type (XDP_DROP, TC_ACT_SHOT, ...), TAIL_CALL, or a
// number (a TOML integer, or a string of one; negative numbers are the
// kernel's 32-bit two's complement, as TC_ACT_UNSPEC is -1).
func ParseVerdict(t ebpf.ProgramType, v any) (Verdict, error) {
	switch x := v.(type) {
	case int64:
		return numberVerdict(x, strconv.FormatInt(x, 10))
	case string:
		if x == TailCallName {
			return Verdict{Value: TailCallSentinel, Name: x, TailCall: true}, nil
		}
		for _, n := range verdictNames[t] {
			if n.name == x {
				return Verdict{Value: n.value, Name: x}, nil
			}
		}
		if n, err := strconv.ParseInt(x, 0, 64); err == nil {
			return numberVerdict(n, x)
		}
		e := &VerdictError{Given: x, Type: t}
		for _, n := range verdictNames[t] {
			e.Known = append(e.Known, n.name)
		}
		return Verdict{}, e
	}
	return Verdict{}, fmt.Errorf("verdict: want a name or an integer, got %T", v)
}

func numberVerdict(n int64, text string) (Verdict, error) {
	if n < -1<<31 || n > 1<<32-1 {
		return Verdict{}, fmt.Errorf("verdict %s: out of the 32-bit range of a return value", text)
	}
	return Verdict{Value: uint32(n), Name: text}, nil
}

// VerdictText names a return value of a program of type t: "XDP_DROP
// (1)", "TAIL_CALL (the stub's sentinel)", or the number.
func VerdictText(t ebpf.ProgramType, v uint32, chained bool) string {
	if chained && v == TailCallSentinel {
		return TailCallName
	}
	for _, n := range verdictNames[t] {
		if n.value == v {
			return fmt.Sprintf("%s (%d)", n.name, int32(v))
		}
	}
	return strconv.FormatInt(int64(int32(v)), 10)
}

// VerdictNames lists the verdict names of program type t, sorted.
func VerdictNames(t ebpf.ProgramType) []string {
	var out []string
	for _, n := range verdictNames[t] {
		out = append(out, n.name)
	}
	slices.Sort(out)
	return out
}
