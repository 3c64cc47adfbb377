package bpfobj

import (
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/cilium/ebpf/asm"
)

// Kinds of kernel feature in the minimum-kernel table and in
// [KernelFeature.Kind].
const (
	FeatureProgramType = "program_type"
	FeatureAttachType  = "attach_type"
	FeatureMapType     = "map_type"
	FeatureHelper      = "helper"
	FeatureKfunc       = "kfunc"
	FeatureCapability  = "feature" // object-level: bpf2bpf calls, global data, kernel BTF
)

//go:embed kerneldata/kernel-versions.tsv
var kernelVersionsTSV string

// KernelVersion is a mainline kernel release, MAJOR.MINOR. Patch levels do
// not matter to the table: features appear in a release's merge window.
type KernelVersion struct {
	Major, Minor int
}

func (v KernelVersion) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// IsZero reports whether v is the zero version (unknown).
func (v KernelVersion) IsZero() bool { return v == KernelVersion{} }

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than w.
func (v KernelVersion) Compare(w KernelVersion) int {
	switch {
	case v.Major != w.Major:
		return kcCmpInt(v.Major, w.Major)
	default:
		return kcCmpInt(v.Minor, w.Minor)
	}
}

func kcCmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ParseKernelVersion parses a kernel release such as "5.15", "v5.15",
// "5.15.0" or a uname release like "6.18.44-fc-v782". Only MAJOR.MINOR is
// kept. A bare major ("6") is rejected: it says nothing useful.
func ParseKernelVersion(s string) (KernelVersion, error) {
	orig := s
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	// Cut a uname suffix: "6.18.44-fc-v782", "5.15.0+".
	if i := strings.IndexFunc(s, func(r rune) bool { return r != '.' && !unicode.IsDigit(r) }); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return KernelVersion{}, fmt.Errorf("kernel version %q: want MAJOR.MINOR, e.g. 5.15", orig)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || v > 1000 || p == "" {
			return KernelVersion{}, fmt.Errorf("kernel version %q: want MAJOR.MINOR, e.g. 5.15", orig)
		}
		n[i] = v
	}
	if n[0] < 2 {
		return KernelVersion{}, fmt.Errorf("kernel version %q: no such Linux release", orig)
	}
	return KernelVersion{Major: n[0], Minor: n[1]}, nil
}

// KernelTableEntry is one row of the minimum-kernel table.
type KernelTableEntry struct {
	Kind    string
	Name    string
	Version KernelVersion
	Source  string
}

type kernelTable struct {
	entries []KernelTableEntry
	byKey   map[[2]string]int
}

var loadKernelTable = sync.OnceValue(func() *kernelTable {
	t, err := parseKernelTable(kernelVersionsTSV)
	if err != nil {
		// The table is committed data covered by tests; a broken table is
		// a build defect, not an input error.
		panic("pkgfmt: " + err.Error())
	}
	return t
})

func parseKernelTable(data string) (*kernelTable, error) {
	t := &kernelTable{byKey: make(map[[2]string]int)}
	for i, line := range strings.Split(data, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 4 {
			return nil, fmt.Errorf("kerneldata/kernel-versions.tsv:%d: want 4 tab-separated columns, got %d", i+1, len(cols))
		}
		switch cols[0] {
		case FeatureProgramType, FeatureAttachType, FeatureMapType, FeatureHelper, FeatureKfunc, FeatureCapability:
		default:
			return nil, fmt.Errorf("kerneldata/kernel-versions.tsv:%d: unknown kind %q", i+1, cols[0])
		}
		v, err := ParseKernelVersion(cols[2])
		if err != nil {
			return nil, fmt.Errorf("kerneldata/kernel-versions.tsv:%d: %w", i+1, err)
		}
		if cols[1] == "" || cols[3] == "" {
			return nil, fmt.Errorf("kerneldata/kernel-versions.tsv:%d: empty name or source", i+1)
		}
		key := [2]string{cols[0], cols[1]}
		if _, dup := t.byKey[key]; dup {
			return nil, fmt.Errorf("kerneldata/kernel-versions.tsv:%d: duplicate %s %s", i+1, cols[0], cols[1])
		}
		t.byKey[key] = len(t.entries)
		t.entries = append(t.entries, KernelTableEntry{Kind: cols[0], Name: cols[1], Version: v, Source: cols[3]})
	}
	return t, nil
}

// KernelTable returns every entry of the minimum-kernel table, sorted by
// kind and name.
func KernelTable() []KernelTableEntry {
	t := loadKernelTable()
	out := slices.Clone(t.entries)
	slices.SortFunc(out, func(a, b KernelTableEntry) int {
		if c := strings.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// LookupKernelFeature returns the table entry of a feature. Helper names
// may be given as the kernel names them ("bpf_map_lookup_elem"), without
// the prefix ("map_lookup_elem") or as cilium/ebpf does ("FnMapLookupElem").
func LookupKernelFeature(kind, name string) (KernelTableEntry, bool) {
	if kind == FeatureHelper {
		name = kcNormalizeHelperName(name)
	}
	t := loadKernelTable()
	i, ok := t.byKey[[2]string{kind, name}]
	if !ok {
		return KernelTableEntry{}, false
	}
	return t.entries[i], true
}

func kcNormalizeHelperName(name string) string {
	switch {
	case strings.HasPrefix(name, "bpf_"):
		return name
	case strings.HasPrefix(name, "Fn") && len(name) > 2 && unicode.IsUpper(rune(name[2])):
		return "bpf_" + kcSnakeCase(name[2:])
	}
	return "bpf_" + name
}

// KernelHelperName returns the kernel's name of a cilium/ebpf helper
// constant: asm.FnMapLookupElem → "bpf_map_lookup_elem". It returns ""
// for values cilium/ebpf does not name.
func KernelHelperName(fn asm.BuiltinFunc) string {
	s := fn.String()
	if !strings.HasPrefix(s, "Fn") {
		return ""
	}
	return "bpf_" + kcSnakeCase(s[2:])
}

// kcSnakeCase turns cilium/ebpf's CamelCase helper names into the kernel's
// snake_case: "GetPrandomU32" → "get_prandom_u32", "L3CsumReplace" →
// "l3_csum_replace", "SkcToTcp6Sock" → "skc_to_tcp6_sock". Digits stay with
// the word before them. The one name the rule cannot derive is d_path.
func kcSnakeCase(s string) string {
	if s == "DPath" {
		return "d_path"
	}
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1])) {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
