package pkgfmt

import "errors"

// InspectObject parses one eBPF ELF object with cilium/ebpf (no kernel
// needed) and reports what it holds. It never panics on hostile input.
// (STUB: being implemented.)
func InspectObject(path string, data []byte) (ObjectReport, error) {
	return ObjectReport{Path: path}, errors.New("inspect: not implemented yet")
}
