package pkgfmt

// ManifestFile is the name of the manifest at the root of every package.
const ManifestFile = "ebpf-package.toml"

// Manifest is the parsed form of ebpf-package.toml. Field order and TOML
// keys are the documented format (docs/package-format.md).
type Manifest struct {
	Name        string       `toml:"name" json:"name"`
	Version     string       `toml:"version" json:"version"`
	Description string       `toml:"description" json:"description"`
	License     string       `toml:"license" json:"license"`
	Readme      string       `toml:"readme" json:"readme"`
	Source      string       `toml:"source,omitempty" json:"source,omitempty"`
	Homepage    string       `toml:"homepage,omitempty" json:"homepage,omitempty"`
	Keywords    []string     `toml:"keywords,omitempty" json:"keywords,omitempty"`
	Maintainers []Maintainer `toml:"maintainers,omitempty" json:"maintainers,omitempty"`
	Artifact    string       `toml:"artifact" json:"artifact"`
	Platforms   []string     `toml:"platforms" json:"platforms"`
	MinKernel   string       `toml:"min_kernel,omitempty" json:"min_kernel,omitempty"`
	Programs    []Program    `toml:"programs" json:"programs"`
	L3afd       *L3afd       `toml:"l3afd,omitempty" json:"l3afd,omitempty"`
}

// Maintainer is one person responsible for a package.
type Maintainer struct {
	Name  string `toml:"name" json:"name"`
	Email string `toml:"email,omitempty" json:"email,omitempty"`
}

// Program is one [[programs]] entry: an entry function in an object.
type Program struct {
	Name     string `toml:"name" json:"name"`         // entry function (ELF symbol)
	Object   string `toml:"object" json:"object"`     // path of the ELF object inside the package
	Type     string `toml:"type" json:"type"`         // program type as l3afd names it: xdp, tc, kprobe, tracepoint, ...
	Chaining string `toml:"chaining" json:"chaining"` // "l3af" or "none"
	MapName  string `toml:"map_name,omitempty" json:"map_name,omitempty"`
}

// L3afd holds the run-time fields of l3afd's program entry.
type L3afd struct {
	CmdStart  string `toml:"cmd_start,omitempty" json:"cmd_start,omitempty"`
	CmdStop   string `toml:"cmd_stop,omitempty" json:"cmd_stop,omitempty"`
	CmdStatus string `toml:"cmd_status,omitempty" json:"cmd_status,omitempty"`
	CmdConfig string `toml:"cmd_config,omitempty" json:"cmd_config,omitempty"`
	CmdUpdate string `toml:"cmd_update,omitempty" json:"cmd_update,omitempty"`
}

// Severity grades a Problem.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem is one finding of validation. File is relative to the package
// root; Field names a manifest key (e.g. "programs[0].type") when one is
// at fault; Program names the program when one is.
type Problem struct {
	Severity Severity `json:"severity"`
	Package  string   `json:"package,omitempty"` // name@version or the path linted
	File     string   `json:"file,omitempty"`
	Field    string   `json:"field,omitempty"`
	Program  string   `json:"program,omitempty"`
	Code     string   `json:"code"` // stable machine-readable identifier, e.g. "manifest.unknown-key"
	Message  string   `json:"message"`
}

// Description is what the index carries for one package version: the
// manifest plus what inspection found. Its JSON form is documented in
// docs/index-format.md and is stable within schema 1.
type Description struct {
	Manifest Manifest        `json:"manifest"`
	Objects  []ObjectReport  `json:"objects"`
	Files    []FileEntry     `json:"files"`
	Readme   string          `json:"readme,omitempty"`   // the README text (Markdown, untrusted; at most MaxReadmeSize bytes)
	Kernel   *KernelReport   `json:"kernel,omitempty"`   // minimum kernel inference (issue 7)
	Verifier *VerifierReport `json:"verifier,omitempty"` // verifier results, when run
	Problems Problems        `json:"problems,omitempty"` // warnings that did not block publishing
}

// FileEntry is one regular file inside a package.
type FileEntry struct {
	Path       string `json:"path"`
	Size       int64  `json:"size"`
	Executable bool   `json:"executable,omitempty"`
	SHA256     string `json:"sha256"`
}

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
