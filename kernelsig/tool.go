package kernelsig

import (
	"fmt"
	"regexp"
	"strconv"
)

var toolRe = regexp.MustCompile(`^(bpftool|libbpf) v?(\d+)\.(\d+)(?:\.(\d+))?\b`)

// firstFixed is the first release of each tool with the June 2026 fixes
// (libbpf "Skip max_entries override on signed loaders" and "Skip
// initial_value override on signed loaders"): before them a host could
// resize the maps of a signed loader or override its .data, .rodata and
// .bss, outside what the signature attests to.
var firstFixed = map[string][2]int{"bpftool": {7, 8}, "libbpf": {1, 8}}

// ToolWarning says what is known to be wrong with loaders signed by the
// named tool ("bpftool v7.7.0", "libbpf 1.7.1"); "" when nothing is
// known, or when the name is not one it knows.
func ToolWarning(tool string) string {
	m := toolRe.FindStringSubmatch(tool)
	if m == nil {
		return ""
	}
	major, _ := strconv.Atoi(m[2])
	minor, _ := strconv.Atoi(m[3])
	f := firstFixed[m[1]]
	if major > f[0] || major == f[0] && minor >= f[1] {
		return ""
	}
	return fmt.Sprintf("signed with %s: loaders from %s before v%d.%d let the host resize maps and override .data/.rodata/.bss initial values outside the signature (libbpf fixes of June 2026); re-sign with a newer bpftool",
		tool, m[1], f[0], f[1])
}
