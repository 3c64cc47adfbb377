package pkgfmt

import (
	"github.com/ebpfrepo/ebpfrepo/authenticode"
	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"github.com/ebpfrepo/ebpfrepo/kernelsig"
	"github.com/ebpfrepo/ebpfrepo/progtest"
)

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
	// KernelSignature is the signed light-skeleton loader the package
	// carries for the Linux kernel to check (signing level 2).
	KernelSignature *KernelSignature `toml:"kernel_signature,omitempty" json:"kernel_signature,omitempty"`
	// Tests are the package's test vectors, run through BPF_PROG_RUN by
	// lint --verify, ebpfrepo test, and add and build under verify = true.
	Tests []TestVector `toml:"tests,omitempty" json:"tests,omitempty"`
}

// TestVector is one [[tests]] entry: a program, an input, and what it
// must return (docs/package-format.md, "Test vectors").
type TestVector struct {
	Name    string `toml:"name" json:"name"`
	Program string `toml:"program" json:"program"` // a [[programs]] name
	// One input: pcap (a capture in the package: every packet runs, in
	// order, against the same maps), packet (one packet as hex), or
	// context (a file holding the context blob, for context program
	// types such as syscall).
	Pcap    string `toml:"pcap,omitempty" json:"pcap,omitempty"`
	Packet  string `toml:"packet,omitempty" json:"packet,omitempty"`
	Context string `toml:"context,omitempty" json:"context,omitempty"`
	Repeat  int64  `toml:"repeat,omitempty" json:"repeat,omitempty"` // runs of each input; the verdict is the last run's
	// Expect is the verdict every input must give: a name (XDP_DROP,
	// TC_ACT_SHOT, ...), TAIL_CALL, or a number.
	Expect any `toml:"expect" json:"expect"`
	// The expected output packets: a capture with one packet per input
	// packet, or one packet as hex.
	ExpectPcap   string         `toml:"expect_pcap,omitempty" json:"expect_pcap,omitempty"`
	ExpectPacket string         `toml:"expect_packet,omitempty" json:"expect_packet,omitempty"`
	Maps         []TestMapEntry `toml:"maps,omitempty" json:"maps,omitempty"`               // preloaded before the first run
	ExpectMaps   []TestMapEntry `toml:"expect_maps,omitempty" json:"expect_maps,omitempty"` // checked after the last
}

// TestMapEntry is a map entry a vector preloads or expects. Key and
// Value are an integer, a table of struct fields, an array, or hex (see
// progtest.EncodeValue); Absent expects no entry for Key.
type TestMapEntry struct {
	Map    string `toml:"map" json:"map"`
	Key    any    `toml:"key" json:"key"`
	Value  any    `toml:"value,omitempty" json:"value,omitempty"`
	Absent bool   `toml:"absent,omitempty" json:"absent,omitempty"`
}

// KernelSignature is the [kernel_signature] section: a loader made by
// `bpftool gen skeleton -S` and the files the kernel checks. Give the
// skeleton, or the loader, data and signature files, or both (they must
// then agree); the certificate always.
type KernelSignature struct {
	Scheme      string `toml:"scheme" json:"scheme"`                           // "hash-chain" (Linux 6.18) or "load-time"
	Tool        string `toml:"tool" json:"tool"`                               // what signed it: "bpftool v7.8.0"
	Object      string `toml:"object,omitempty" json:"object,omitempty"`       // the ELF object the loader was generated from
	Skeleton    string `toml:"skeleton,omitempty" json:"skeleton,omitempty"`   // the .lskel.h bpftool wrote
	Loader      string `toml:"loader,omitempty" json:"loader,omitempty"`       // the loader instructions (opts_insn)
	Data        string `toml:"data,omitempty" json:"data,omitempty"`           // the data blob (opts_data)
	Signature   string `toml:"signature,omitempty" json:"signature,omitempty"` // the detached CMS signature, DER (opts_sig)
	Certificate string `toml:"certificate" json:"certificate"`                 // the signer's X.509 certificate, PEM or DER
}

// Maintainer is one person responsible for a package.
type Maintainer struct {
	Name  string `toml:"name" json:"name"`
	Email string `toml:"email,omitempty" json:"email,omitempty"`
}

// Program is one [[programs]] entry: an entry function in an object.
type Program struct {
	Name   string `toml:"name" json:"name"`     // entry function (ELF symbol)
	Object string `toml:"object" json:"object"` // path of the ELF object inside the package ("" for a Windows program shipped only as a driver)
	// Driver is the path of the native eBPF for Windows driver (.sys,
	// made by bpf2c and MSVC, Authenticode-signed) that holds the
	// program; only for platforms = ["Windows"].
	Driver   string `toml:"driver,omitempty" json:"driver,omitempty"`
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
	Manifest Manifest               `json:"manifest"`
	Objects  []bpfobj.ObjectReport  `json:"objects"`
	Files    []FileEntry            `json:"files"`
	Readme   string                 `json:"readme,omitempty"`   // the README text (Markdown, untrusted; at most MaxReadmeSize bytes)
	Kernel   *bpfobj.KernelReport   `json:"kernel,omitempty"`   // minimum kernel inference (issue 7)
	Verifier *bpfobj.VerifierReport `json:"verifier,omitempty"` // verifier results, when run
	Drivers  []DriverReport         `json:"drivers,omitempty"`  // Windows native drivers, verified offline
	// KernelSignature is what the offline check of the signed loader
	// found; nil when the package carries none.
	KernelSignature *KernelSignatureReport `json:"kernel_signature,omitempty"`
	// TestVectors is how many test vectors the manifest declares. The
	// index carries this count and leaves manifest.tests out (the vectors
	// travel in the artifact; a client has no use for them).
	TestVectors int `json:"test_vectors,omitempty"`
	// Tests is what running the test vectors found, when lint --verify
	// (or verify = true) ran them; nil otherwise.
	Tests    *progtest.Report `json:"tests,omitempty"`
	Problems Problems         `json:"problems,omitempty"` // warnings that did not block publishing
}

// FileEntry is one regular file inside a package.
type FileEntry struct {
	Path       string `json:"path"`
	Size       int64  `json:"size"`
	Executable bool   `json:"executable,omitempty"`
	SHA256     string `json:"sha256"`
}

// KernelSignatureReport is what ebpfrepo verified, offline, of a
// package's signed light-skeleton loader. Status is "verified-offline"
// (every check the kernel will run passed, against the repository's
// trusted certificates), "untrusted" (every check but the chain: nothing
// to check it against was given) or "invalid"; never "verified by the
// kernel".
type KernelSignatureReport struct {
	Status  string `json:"status"`
	Summary string `json:"summary"`
	*kernelsig.Result
	// Load is the running kernel's answer to loading the signed loader,
	// when lint --verify (or verify = true) asked for it.
	Load *kernelsig.LoadResult `json:"load,omitempty"`
}

// Kernel signature statuses.
const (
	KernelVerifiedOffline = "verified-offline"
	KernelUntrusted       = "untrusted"
	KernelInvalid         = "invalid"
)

// DriverReport is what ebpfrepo verified, offline, of one Windows native
// driver of a package: its Authenticode signatures and their class.
type DriverReport struct {
	Path         string                   `json:"path"`
	SHA256       string                   `json:"sha256"`
	Authentihash string                   `json:"authentihash"`
	Class        authenticode.Class       `json:"class"` // production-ebpf, test-signed or unsigned
	Signatures   []authenticode.Signature `json:"signatures"`
	Programs     []string                 `json:"programs"` // the manifest's programs it holds
	Sections     []string                 `json:"sections"` // its PE sections
}
