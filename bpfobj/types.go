package bpfobj

// ObjectReport is what inspection of one ELF object found. It is plain,
// deterministic data: slices are sorted by name.
type ObjectReport struct {
	Path         string          `json:"path"`
	Size         int64           `json:"size"`
	SHA256       string          `json:"sha256"`
	License      string          `json:"license"` // the ELF "license" section
	GPLCompat    bool            `json:"gpl_compatible"`
	ByteOrder    string          `json:"byte_order"` // "little" or "big"
	BTF          bool            `json:"btf"`
	CORE         bool            `json:"core"` // has CO-RE relocations: portable across kernels
	Programs     []ProgramReport `json:"programs"`
	Maps         []MapReport     `json:"maps"`
	DataSections []string        `json:"data_sections,omitempty"` // .data, .rodata, .bss, ...
	// Platform is "Windows" for an object reported as eBPF for Windows
	// loads it (WindowsView); "" for Linux.
	Platform string `json:"platform,omitempty"`
}

// ProgramReport describes one program of an object.
type ProgramReport struct {
	Name         string   `json:"name"`
	Section      string   `json:"section"`
	Type         string   `json:"type"` // cilium/ebpf ProgramType string, e.g. "XDP"
	AttachType   string   `json:"attach_type,omitempty"`
	AttachTo     string   `json:"attach_to,omitempty"`
	Instructions int      `json:"instructions"`
	Helpers      []string `json:"helpers,omitempty"` // helper names, sorted, unique
	Kfuncs       []string `json:"kfuncs,omitempty"`
	Calls        []string `json:"calls,omitempty"`      // bpf-to-bpf callees
	TailCalls    []string `json:"tail_calls,omitempty"` // prog-array maps tail-called through
	Maps         []string `json:"maps,omitempty"`       // maps referenced
	CORERelos    int      `json:"core_relocations,omitempty"`
	// ISA lists instruction-set features beyond the original eBPF
	// instruction set that the program uses, each of which needs a newer
	// kernel: "jmp32", "bounded_loops" (backward jumps), "atomics"
	// (fetch, xchg, cmpxchg, and/or/xor), "cpuv4" (sign extension,
	// signed division, bswap, gotol), "may_goto", "load_acquire"
	// (load-acquire, store-release). Sorted.
	ISA []string `json:"isa,omitempty"`
}

// MapReport describes one map of an object.
type MapReport struct {
	Name       string `json:"name"`
	Type       string `json:"type"` // cilium/ebpf MapType string, e.g. "ProgramArray"
	KeySize    uint32 `json:"key_size"`
	ValueSize  uint32 `json:"value_size"`
	MaxEntries uint32 `json:"max_entries"`
	Flags      uint32 `json:"flags,omitempty"`
	Pinning    string `json:"pinning,omitempty"` // "by_name" or empty
}

// KernelReport is the minimum-kernel inference and offline CO-RE results.
type KernelReport struct {
	MinVersion string          `json:"min_version"`          // e.g. "5.10"
	SetBy      []KernelFeature `json:"set_by,omitempty"`     // features requiring MinVersion
	Features   []KernelFeature `json:"features,omitempty"`   // every feature used, with its version
	Compatible []BTFCompat     `json:"btf_compat,omitempty"` // offline CO-RE checks
	Unknown    []string        `json:"unknown,omitempty"`    // features used that the table does not know, "kind name"
}

// KernelFeature is one kernel feature a package uses.
type KernelFeature struct {
	Kind    string `json:"kind"` // "program_type", "attach_type", "map_type", "helper", "kfunc", "feature" (object capabilities and ISA extensions)
	Name    string `json:"name"`
	Version string `json:"version"`
	Source  string `json:"source,omitempty"`
}

// BTFCompat is the result of checking one program's CO-RE relocations
// against one kernel's BTF.
type BTFCompat struct {
	Kernel     string `json:"kernel"` // label of the BTF file (file name or release)
	Object     string `json:"object"`
	Program    string `json:"program"`
	Compatible bool   `json:"compatible"`
	Reason     string `json:"reason,omitempty"`
}

// VerifierReport records loading programs into a real kernel's verifier.
type VerifierReport struct {
	Kernel   string           `json:"kernel"` // uname release
	Arch     string           `json:"arch"`
	Programs []VerifierResult `json:"programs"`
}

// VerifierResult is the outcome for one program.
type VerifierResult struct {
	Object       string `json:"object"`
	Program      string `json:"program"`
	Status       string `json:"status"` // "accepted", "rejected", "not-run", "inconclusive"
	Instructions int    `json:"instructions_processed,omitempty"`
	Reason       string `json:"reason,omitempty"`
	LogTail      string `json:"log_tail,omitempty"`
}
