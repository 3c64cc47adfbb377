// Package bpfobj is the analysis of eBPF ELF objects, with no knowledge of
// packages: [Parse] is the one panic-safe, size-limited parse (with
// cilium/ebpf) that every analysis shares; [Object.Inspect] reports the
// programs, maps, helpers, kfuncs, tail calls, BTF and CO-RE relocations
// an object holds; [InferKernel] derives the oldest kernel that has all of
// it from the table in kerneldata/; [CheckBTF] checks CO-RE relocations
// offline against other kernels' BTF; [Verify] loads every program into
// the running kernel's verifier (Linux, root). Reports are plain,
// deterministic data.
//
// Package pkgfmt turns these reports into a package's description and
// lint problems.
package bpfobj
