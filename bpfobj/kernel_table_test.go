package bpfobj

import (
	"bufio"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

// enumNames returns the String() of every value in [from, to) that
// cilium/ebpf names, i.e. whose String() is not the stringer's fallback
// "Type(N)".
func enumNames[T interface {
	~uint32
	String() string
}](from, to uint32, fallback string) []string {
	var names []string
	for v := from; v < to; v++ {
		s := T(v).String()
		if strings.HasPrefix(s, fallback+"(") {
			continue
		}
		names = append(names, s)
	}
	return names
}

// TestKernelTableCoversCilium fails when cilium/ebpf names a helper,
// program type, map type or attach type the table lacks: update
// kerneldata/kernel-versions.tsv (with its source) when upgrading.
func TestKernelTableCoversCilium(t *testing.T) {
	type kindNames struct {
		kind  string
		names []string
	}
	var helpers []string
	for v := uint32(1); v < 4096; v++ {
		if n := KernelHelperName(asm.BuiltinFunc(v)); n != "" {
			helpers = append(helpers, n)
		}
	}
	for _, tc := range []kindNames{
		{FeatureHelper, helpers},
		{FeatureProgramType, enumNames[ebpf.ProgramType](1, 4096, "ProgramType")},
		{FeatureMapType, enumNames[ebpf.MapType](1, 4096, "MapType")},
		// 0 is AttachNone (String "None"), never reported.
		{FeatureAttachType, enumNames[ebpf.AttachType](1, 4096, "AttachType")},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			if len(tc.names) < 30 {
				t.Fatalf("only %d %s names enumerated from cilium/ebpf: enumeration broken", len(tc.names), tc.kind)
			}
			for _, n := range tc.names {
				if _, ok := LookupKernelFeature(tc.kind, n); !ok {
					t.Errorf("%s %s (named by cilium/ebpf) missing from kerneldata/kernel-versions.tsv", tc.kind, n)
				}
			}
			t.Logf("%d %s names covered", len(tc.names), tc.kind)
		})
	}
}

// TestKernelHelperNamesMatchLibbpf checks the CamelCase → snake_case
// mapping against libbpf's generated bpf_helper_defs.h, which pairs each
// kernel helper name with its number.
func TestKernelHelperNamesMatchLibbpf(t *testing.T) {
	f, err := os.Open("/usr/include/bpf/bpf_helper_defs.h")
	if err != nil {
		t.Skip("libbpf-dev's bpf_helper_defs.h not installed:", err)
	}
	defer f.Close()
	re := regexp.MustCompile(`\(\*\s*(?:const\s+)?(bpf_\w+)\)\(.*= \(void \*\) (\d+);`)
	n := 0
	s := bufio.NewScanner(f)
	for s.Scan() {
		m := re.FindStringSubmatch(s.Text())
		if m == nil {
			continue
		}
		id, _ := strconv.Atoi(m[2])
		n++
		fn := asm.BuiltinFunc(id)
		if strings.HasPrefix(fn.String(), "BuiltinFunc(") {
			continue // newer libbpf than cilium/ebpf
		}
		if got := KernelHelperName(fn); got != m[1] {
			t.Errorf("helper %d: KernelHelperName(%s) = %q, libbpf calls it %q", id, fn, got, m[1])
		}
		if _, ok := LookupKernelFeature(FeatureHelper, m[1]); !ok {
			t.Errorf("helper %s (libbpf) not in the table", m[1])
		}
	}
	if n < 200 {
		t.Fatalf("parsed only %d helpers from bpf_helper_defs.h", n)
	}
}

func TestKernelTableWellFormed(t *testing.T) {
	tab, err := parseKernelTable(kernelVersionsTSV)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	var keys []string
	for _, e := range tab.entries {
		counts[e.Kind]++
		keys = append(keys, e.Kind+"\t"+e.Name)
		if e.Version.Compare(KernelVersion{3, 15}) < 0 || e.Version.Compare(KernelVersion{7, 0}) > 0 {
			t.Errorf("%s %s: version %s outside eBPF's history", e.Kind, e.Name, e.Version)
		}
		if !strings.Contains(e.Source, "linux ") && !strings.Contains(e.Source, ".c") {
			t.Errorf("%s %s: source %q cites neither a kernel commit nor a kernel file", e.Kind, e.Name, e.Source)
		}
	}
	if !slices.IsSorted(keys) {
		t.Error("kerneldata/kernel-versions.tsv is not sorted by kind, name")
	}
	t.Logf("entries by kind: %v (total %d)", counts, len(tab.entries))

	for _, bad := range []string{
		"helper\tbpf_x\t5.8",
		"helper\tbpf_x\tfive\tsrc",
		"nonsense\tbpf_x\t5.8\tsrc",
		"helper\tbpf_x\t5.8\tsrc\nhelper\tbpf_x\t5.9\tsrc",
		"helper\t\t5.8\tsrc",
	} {
		if _, err := parseKernelTable(bad); err == nil {
			t.Errorf("parseKernelTable(%q): no error", bad)
		}
	}
}

// TestKernelTableKfuncsExist checks the kfunc names against the running
// kernel's BTF: each kfunc the table says this kernel has must be there.
func TestKernelTableKfuncsExist(t *testing.T) {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		t.Skip("no kernel BTF:", err)
	}
	rel, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		t.Skip(err)
	}
	running, err := ParseKernelVersion(string(rel))
	if err != nil {
		t.Skip(err)
	}
	for _, e := range KernelTable() {
		if e.Kind != FeatureKfunc || e.Version.Compare(running) > 0 {
			continue
		}
		var fn *btf.Func
		if err := spec.TypeByName(e.Name, &fn); err != nil {
			// Module kfuncs (conntrack) are not in vmlinux when built as modules.
			if strings.Contains(e.Source, "net/netfilter/") {
				continue
			}
			t.Errorf("kfunc %s (since %s) not in the BTF of running kernel %s: %v", e.Name, e.Version, running, err)
		}
	}
}

func TestKernelHelperName(t *testing.T) {
	for fn, want := range map[asm.BuiltinFunc]string{
		asm.FnMapLookupElem:          "bpf_map_lookup_elem",
		asm.FnGetPrandomU32:          "bpf_get_prandom_u32",
		asm.FnL3CsumReplace:          "bpf_l3_csum_replace",
		asm.FnSkcToTcp6Sock:          "bpf_skc_to_tcp6_sock",
		asm.FnDPath:                  "bpf_d_path",
		asm.FnJiffies64:              "bpf_jiffies64",
		asm.FnTcpRawGenSyncookieIpv4: "bpf_tcp_raw_gen_syncookie_ipv4",
		asm.BuiltinFunc(100000):      "",
	} {
		if got := KernelHelperName(fn); got != want {
			t.Errorf("KernelHelperName(%s) = %q, want %q", fn, got, want)
		}
	}
	for _, name := range []string{"bpf_ringbuf_output", "ringbuf_output", "FnRingbufOutput"} {
		e, ok := LookupKernelFeature(FeatureHelper, name)
		if !ok || e.Name != "bpf_ringbuf_output" || e.Version != (KernelVersion{5, 8}) {
			t.Errorf("LookupKernelFeature(helper, %q) = %+v, %v", name, e, ok)
		}
	}
}

func TestParseKernelVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want KernelVersion
		err  bool
	}{
		{in: "5.15", want: KernelVersion{5, 15}},
		{in: "v5.4", want: KernelVersion{5, 4}},
		{in: " 4.19.0 ", want: KernelVersion{4, 19}},
		{in: "6.18.44-fc-v782", want: KernelVersion{6, 18}},
		{in: "5.15.0+", want: KernelVersion{5, 15}},
		{in: "6", err: true},
		{in: "", err: true},
		{in: "five", err: true},
		{in: "5.x", err: true},
		{in: "1.2", err: true},
		{in: "5.15.0.1", err: true},
		{in: "5..1", err: true},
		{in: "99999999999999999999.1", err: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseKernelVersion(tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("ParseKernelVersion(%q) error %v, want error %v", tc.in, err, tc.err)
			}
			if got != tc.want {
				t.Errorf("ParseKernelVersion(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
	if (KernelVersion{4, 9}).Compare(KernelVersion{4, 10}) != -1 || (KernelVersion{5, 0}).Compare(KernelVersion{4, 20}) != 1 {
		t.Error("Compare orders versions as strings")
	}
}

func FuzzParseKernelVersion(f *testing.F) {
	for _, s := range []string{"5.15", "v6.1.2", "6.18.44-fc-v782", "", "7", "4.9.x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseKernelVersion(s)
		if err != nil {
			return
		}
		again, err := ParseKernelVersion(v.String())
		if err != nil || again != v {
			t.Fatalf("%q → %v does not round-trip: %v, %v", s, v, again, err)
		}
	})
}

func FuzzKernelTable(f *testing.F) {
	f.Add(kernelVersionsTSV[:2000])
	f.Add("helper\tbpf_x\t5.8\tsrc\n")
	f.Fuzz(func(t *testing.T, s string) {
		tab, err := parseKernelTable(s)
		if err != nil {
			return
		}
		for _, e := range tab.entries {
			if e.Name == "" || e.Source == "" || e.Version.IsZero() {
				t.Fatalf("accepted incomplete entry %+v", e)
			}
		}
	})
}
