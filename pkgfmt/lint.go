package pkgfmt

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ebpfrepo/ebpfrepo/authenticode"
	"github.com/ebpfrepo/ebpfrepo/bpfobj"
	"github.com/ebpfrepo/ebpfrepo/progtest"
)

// LintOptions configures Describe and LintPath. The zero value means
// defaults: default limits, no verifier run, no offline CO-RE checks.
type LintOptions struct {
	Limits    Limits
	Verify    bool     // load every program into the running kernel's verifier and run the test vectors
	KernelBTF []string // kernel BTF files to check CO-RE relocations against
	// Objects, if set, memoises object inspection by content digest
	// across Describe calls (see ObjectCache).
	Objects *bpfobj.ObjectCache
	// Windows is what the Authenticode signatures of Windows native
	// drivers are checked against: the zero value trusts Microsoft's
	// production root (by thumbprint) and no test root.
	Windows authenticode.Trust
	// Kernel is what a signed light-skeleton loader's certificate is
	// checked against. With no certificates, every other check runs and
	// the chain is reported as a warning (status "untrusted"), unless
	// KernelRequireTrust makes it an error, as a repository does.
	Kernel             []*x509.Certificate
	KernelRequireTrust bool
	// KernelNow is the time certificates are checked at; zero: now.
	KernelNow time.Time
	// Tests limits each test vector's run (with Verify); the zero value
	// means progtest's defaults.
	Tests progtest.Options
}

// MaxReadmeSize bounds the README text carried in a Description.
const MaxReadmeSize = 256 << 10

// Problem codes of Describe and LintPath, beyond those of ParseManifest,
// CheckContents, CheckMinKernel, VerifierProblems and BTFCompatProblems.
// docs/lint.md documents every code.
const (
	CodeManifestMissing       = "manifest.missing"
	CodeObjectMissing         = "object.missing"
	CodeObjectParse           = "object.parse"
	CodeObjectGPLHelper       = "object.gpl-helper"
	CodeProgramMissing        = "program.missing"
	CodeProgramTypeMismatch   = "program.type-mismatch"
	CodeProgramUndeclared     = "program.undeclared"
	CodeProgramUnknownSection = "program.unknown-section"
	CodeChainingNoProgArray   = "chaining.no-prog-array"
	CodeChainingNoTailCall    = "chaining.no-tail-call"
	CodeKernelBTFUnreadable   = "kernel.btf-unreadable"
	CodeArchiveUnsafe         = "archive.unsafe"
	CodeDriverMissing         = "driver.missing"
	CodeDriverUndeclared      = "driver.undeclared"
	// A driver that fails verification gets the code of the step it
	// failed: authenticode.CodeParse, CodeAuthentihash, CodePKCS7,
	// CodeChain, CodeValidity, CodeProfile ("hvci.…").
)

const codeContentsMissingFile = "package.missing-file" // CheckContents

// Describe validates the contents of one package and returns its
// description: the manifest, every file with its digest, the README, the
// inspection report of every eBPF object (each object a program names,
// plus any other eBPF ELF file in the package), the minimum-kernel
// inference, and — when opts ask for them — offline CO-RE results and the
// running kernel's verifier results. Problems holds every problem found,
// sorted by file, field, program and code; each names the package as
// "name@version" (or c.Name when the manifest cannot be read). The
// description is never nil; it is usable even when the package has errors.
func Describe(ctx context.Context, c *Contents, opts LintOptions) *Description {
	dc := &describer{c: c, opts: opts, d: &Description{Objects: []bpfobj.ObjectReport{}, Files: []FileEntry{}}}
	dc.manifest()
	dc.files()
	dc.objects()
	dc.drivers()
	dc.programs()
	dc.windows()
	dc.kernelSignature(ctx)
	dc.kernel(ctx)
	dc.verifier(ctx)
	dc.tests(ctx)
	return dc.finish()
}

// describer holds one Describe call's state; each stage reads what the
// earlier ones found.
type describer struct {
	c     *Contents
	opts  LintOptions
	d     *Description
	m     *Manifest // nil when there is none or it does not parse
	label string    // name@version, else c.Name
	probs Problems
	sums  map[string][sha256.Size]byte // each file is hashed once
	// parsed holds the objects parsed in this call: only when an analysis
	// beyond inspection (BTF, verifier) needs them; each is parsed once.
	parsed []*bpfobj.Object
}

func (dc *describer) add(sev Severity, code, file, field, prog, format string, args ...any) {
	dc.probs = append(dc.probs, Problem{Severity: sev, Code: code, File: file, Field: field, Program: prog,
		Message: fmt.Sprintf(format, args...)})
}

// manifest parses the manifest and checks the contents against it.
func (dc *describer) manifest() {
	dc.label = dc.c.Name
	mf, ok := dc.c.File(ManifestFile)
	if !ok {
		dc.add(SeverityError, CodeManifestMissing, ManifestFile, "", "",
			"the package has no %s: write one (see docs/package-format.md)", ManifestFile)
		return
	}
	m, mp := ParseManifest(mf.Data)
	dc.probs = append(dc.probs, mp...)
	if m == nil {
		return
	}
	dc.m = m
	dc.d.Manifest = *m
	dc.d.TestVectors = len(m.Tests)
	if m.Name != "" && m.Version != "" {
		dc.label = m.Name + "@" + m.Version
	}
	for _, p := range CheckContents(m, dc.c) {
		if p.Code == codeContentsMissingFile && strings.HasPrefix(p.Field, "programs[") {
			continue // reported as object.missing by objects
		}
		dc.probs = append(dc.probs, p)
	}
}

// files lists every file with its digest, and takes the README.
func (dc *describer) files() {
	dc.sums = make(map[string][sha256.Size]byte, len(dc.c.Files))
	for _, f := range dc.c.Files {
		sum := sha256.Sum256(f.Data)
		dc.sums[f.Path] = sum
		dc.d.Files = append(dc.d.Files, FileEntry{Path: f.Path, Size: int64(len(f.Data)),
			Executable: f.Mode&0o111 != 0, SHA256: hex.EncodeToString(sum[:])})
	}
	if dc.m != nil && dc.m.Readme != "" {
		if f, ok := dc.c.File(dc.m.Readme); ok {
			dc.d.Readme = readmeText(f.Data)
		}
	}
}

// objects inspects the objects the programs name, plus every other eBPF
// ELF file of the package.
func (dc *describer) objects() {
	declared := map[string]bool{}
	if dc.m != nil {
		for i, p := range dc.m.Programs {
			if p.Object == "" || checkRelPath(p.Object) != nil {
				continue // the manifest check reported it
			}
			if _, ok := dc.c.File(p.Object); !ok {
				dc.add(SeverityError, CodeObjectMissing, ManifestFile, fmt.Sprintf("programs[%d].object", i), p.Name,
					"object %q is not in the package: add it, or fix the path (relative to the package root)", p.Object)
				continue
			}
			declared[p.Object] = true
		}
	}
	needParse := dc.opts.Verify || len(dc.opts.KernelBTF) > 0 || (dc.m != nil && len(dc.m.Tests) > 0)
	for _, f := range dc.c.Files {
		if !declared[f.Path] && !isBPFObject(f.Path, f.Data) {
			continue
		}
		var r bpfobj.ObjectReport
		var err error
		if needParse {
			var o *bpfobj.Object
			if o, err = bpfobj.ParseWithDigest(f.Path, f.Data, dc.sums[f.Path]); err == nil {
				r, err = dc.opts.Objects.InspectParsed(o)
				dc.parsed = append(dc.parsed, o)
			}
		} else {
			r, err = dc.opts.Objects.InspectDigest(f.Path, f.Data, dc.sums[f.Path])
		}
		if err != nil {
			dc.add(SeverityError, CodeObjectParse, f.Path, "", "", "%s", objectParseMessage(err))
			continue
		}
		dc.d.Objects = append(dc.d.Objects, r)
	}
}

// objectParseMessage says why an object does not parse and what to do.
func objectParseMessage(err error) string {
	var oe *bpfobj.ObjectError
	msg := err.Error()
	if errors.As(err, &oe) {
		msg = oe.Err.Error()
	}
	var he bpfobj.HeaderError
	if !errors.As(err, &he) {
		msg += "; rebuild it with clang -target bpf (and -g for BTF)"
	}
	return msg
}

// programs checks what the objects hold against what the manifest says.
func (dc *describer) programs() {
	reports := map[string]*bpfobj.ObjectReport{}
	for i := range dc.d.Objects {
		reports[dc.d.Objects[i].Path] = &dc.d.Objects[i]
	}
	if dc.m != nil {
		dc.probs = append(dc.probs, checkPrograms(dc.m, reports)...)
	}
	for _, o := range dc.d.Objects {
		dc.probs = append(dc.probs, checkObject(o, dc.m != nil, declaredPrograms(dc.m, o.Path))...)
	}
}

// kernel infers the minimum kernel, compares it with the declared one and
// runs the offline CO-RE checks asked for (not for a Windows-only
// package: there is no Linux kernel to need).
func (dc *describer) kernel(ctx context.Context) {
	if dc.windowsOnly() {
		return
	}
	dc.d.Kernel = bpfobj.InferKernel(dc.d.Objects)
	for _, p := range CheckMinKernel(dc.d.Manifest.MinKernel, dc.d.Kernel) {
		if p.Code == CodeMinKernelInvalid {
			continue // ParseManifest reported it as manifest.min-kernel
		}
		dc.probs = append(dc.probs, p)
	}
	if len(dc.opts.KernelBTF) == 0 || len(dc.parsed) == 0 {
		return
	}
	res, err := bpfobj.CheckBTF(ctx, dc.parsed, dc.opts.KernelBTF)
	if err != nil {
		dc.add(SeverityError, CodeKernelBTFUnreadable, "", "", "", "%v: give a raw BTF file (e.g. /sys/kernel/btf/vmlinux) or an ELF with a .BTF section", err)
	}
	if len(res) > 0 {
		if dc.d.Kernel == nil {
			dc.d.Kernel = &bpfobj.KernelReport{}
		}
		dc.d.Kernel.Compatible = res
		dc.probs = append(dc.probs, BTFCompatProblems(res)...)
	}
}

// verifier loads every program into the running kernel's verifier, when
// asked.
func (dc *describer) verifier(ctx context.Context) {
	if !dc.opts.Verify || len(dc.parsed) == 0 {
		return
	}
	if dc.windowsOnly() {
		// The Linux verifier does not speak for eBPF for Windows, which
		// verifies (PREVAIL) at load, or at bpf2c time for a driver.
		r := &bpfobj.VerifierReport{Programs: []bpfobj.VerifierResult{}}
		for _, o := range dc.d.Objects {
			for _, p := range o.Programs {
				r.Programs = append(r.Programs, bpfobj.VerifierResult{Object: o.Path, Program: p.Name, Status: bpfobj.VerifierNotRun,
					Reason: "a Windows package: eBPF for Windows verifies it (PREVAIL) when it loads, or when bpf2c makes its driver"})
			}
		}
		dc.d.Verifier = r
		return
	}
	dc.d.Verifier = bpfobj.Verify(ctx, dc.parsed)
	dc.probs = append(dc.probs, VerifierProblems(dc.d.Verifier)...)
}

// finish names the package in every problem and sorts them.
func (dc *describer) finish() *Description {
	for i := range dc.probs {
		dc.probs[i].Package = dc.label
	}
	SortProblems(dc.probs)
	dc.d.Problems = dc.probs
	return dc.d
}

// declaredPrograms returns the names of the programs the manifest declares
// in object path.
func declaredPrograms(m *Manifest, path string) map[string]bool {
	out := map[string]bool{}
	if m == nil {
		return out
	}
	for _, p := range m.Programs {
		if p.Object == path {
			out[p.Name] = true
		}
	}
	return out
}

// checkPrograms checks each declared program against its object.
func checkPrograms(m *Manifest, reports map[string]*bpfobj.ObjectReport) []Problem {
	var probs []Problem
	add := func(sev Severity, code, field, prog, format string, args ...any) {
		probs = append(probs, Problem{Severity: sev, Code: code, File: ManifestFile, Field: field, Program: prog,
			Message: fmt.Sprintf(format, args...)})
	}
	for i, p := range m.Programs {
		o, ok := reports[p.Object]
		if !ok || p.Name == "" {
			continue // missing or unparsable object, reported already
		}
		field := func(k string) string { return fmt.Sprintf("programs[%d].%s", i, k) }
		j := slices.IndexFunc(o.Programs, func(r bpfobj.ProgramReport) bool { return r.Name == p.Name })
		if j < 0 {
			var names []string
			for _, r := range o.Programs {
				names = append(names, r.Name)
			}
			add(SeverityError, CodeProgramMissing, field("name"), p.Name,
				"%s has no program %q; it holds: %s (the name is the entry function's ELF symbol)",
				p.Object, p.Name, orNone(names))
			continue
		}
		pr := o.Programs[j]
		if want, ok := ProgramTypeFor(p.Type); ok {
			sec := fmt.Sprintf("put the program in SEC(%q)", sectionExamples[p.Type])
			switch {
			case strings.HasPrefix(pr.Type, "Unspecified"):
				add(SeverityError, CodeProgramTypeMismatch, field("type"), p.Name,
					"declared type %q, but its ELF section %q names no program type: %s",
					p.Type, pr.Section, sec)
			case pr.Type != want.String():
				fix := "fix type"
				if alt := manifestTypesOf(pr.Type); len(alt) > 0 {
					fix = fmt.Sprintf("set type = %q", alt[0])
					if len(alt) > 1 {
						fix = "set type to one of " + quoteList(alt)
					}
				}
				add(SeverityError, CodeProgramTypeMismatch, field("type"), p.Name,
					"declared type %q (%s), but its ELF section %q makes it %s: %s, or %s",
					p.Type, want, pr.Section, pr.Type, fix, sec)
			default:
				if at, ok := tracingAttachTypes[p.Type]; ok && pr.AttachType != at {
					add(SeverityError, CodeProgramTypeMismatch, field("type"), p.Name,
						"declared type %q, but its ELF section %q gives attach type %s, not %s: fix type, or %s",
						p.Type, pr.Section, orNone([]string{pr.AttachType}), at, sec)
				}
			}
		}
		if p.Chaining != ChainingL3af || p.MapName == "" {
			continue
		}
		mi := slices.IndexFunc(o.Maps, func(r bpfobj.MapReport) bool { return r.Name == p.MapName })
		switch {
		case mi < 0:
			var arrays []string
			for _, m := range o.Maps {
				if m.Type == "ProgramArray" {
					arrays = append(arrays, m.Name)
				}
			}
			hint := "define one"
			switch {
			case len(arrays) == 1:
				hint = fmt.Sprintf("set map_name = %q (the object's prog array), or define one", arrays[0])
			case len(arrays) > 1:
				hint = "set map_name to one of the object's prog arrays, " + quoteList(arrays) + ", or define one"
			}
			add(SeverityError, CodeChainingNoProgArray, field("map_name"), p.Name,
				`%s has no map %q: chaining = "l3af" needs a BPF_MAP_TYPE_PROG_ARRAY of that name, which l3afd fills with the next program: %s`,
				p.Object, p.MapName, hint)
		case o.Maps[mi].Type != "ProgramArray":
			add(SeverityError, CodeChainingNoProgArray, field("map_name"), p.Name,
				`map %q in %s is a %s: chaining = "l3af" needs a BPF_MAP_TYPE_PROG_ARRAY`, p.MapName, p.Object, o.Maps[mi].Type)
		case !slices.Contains(pr.TailCalls, p.MapName):
			add(SeverityError, CodeChainingNoTailCall, field("chaining"), p.Name,
				`chaining = "l3af", but the program never tail-calls through %q: end it with bpf_tail_call(ctx, &%s, 0), or set chaining = "none"`,
				p.MapName, p.MapName)
		}
	}
	return probs
}

// tracingAttachTypes are the manifest types a Tracing program's attach
// type tells apart.
var tracingAttachTypes = map[string]string{
	"fentry":   "TraceFEntry",
	"fexit":    "TraceFExit",
	"fmod_ret": "ModifyReturn",
	"tp_btf":   "TraceRawTp",
	"iter":     "TraceIter",
}

// checkObject checks what one object holds on its own: sections every
// loader understands, programs the manifest declares (when there is a
// readable manifest), and GPL-only helpers under a license the kernel
// counts as GPL-compatible.
func checkObject(o bpfobj.ObjectReport, haveManifest bool, declared map[string]bool) []Problem {
	var probs []Problem
	for _, p := range o.Programs {
		add := func(sev Severity, code, format string, args ...any) {
			probs = append(probs, Problem{Severity: sev, Code: code, File: o.Path, Program: p.Name,
				Message: fmt.Sprintf(format, args...)})
		}
		if strings.HasPrefix(p.Type, "Unspecified") {
			add(SeverityError, CodeProgramUnknownSection,
				"ELF section %q names no program type a loader knows: use a libbpf section name such as \"xdp\", \"tc\", \"kprobe/FUNC\" or \"tracepoint/CAT/NAME\"", p.Section)
		}
		if haveManifest && !declared[p.Name] {
			add(SeverityWarning, CodeProgramUndeclared,
				"section %q: not declared in %s: declare it with a [[programs]] entry if it is an entry point", p.Section, ManifestFile)
		}
		if !o.GPLCompat {
			var gpl []string
			for _, h := range p.Helpers {
				if bpfobj.IsGPLOnlyHelper(h) {
					gpl = append(gpl, h)
				}
			}
			if len(gpl) > 0 {
				add(SeverityError, CodeObjectGPLHelper,
					"calls the GPL-only helper(s) %s, but the object's license %q is not GPL-compatible, so the kernel refuses to load it: set char LICENSE[] SEC(\"license\") to \"GPL\" or \"Dual BSD/GPL\" (and the manifest license accordingly), or stop calling them",
					strings.Join(gpl, ", "), o.License)
			}
		}
	}
	return probs
}

// SortProblems sorts problems deterministically: by package, file, field,
// program, code and message.
func SortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(
			strings.Compare(a.Package, b.Package),
			strings.Compare(a.File, b.File),
			strings.Compare(a.Field, b.Field),
			strings.Compare(a.Program, b.Program),
			strings.Compare(a.Code, b.Code),
			strings.Compare(a.Message, b.Message),
		)
	})
}

// isBPFObject reports whether a file is an eBPF ELF object: an ELF whose
// machine is EM_BPF, or a file named *.bpf.o.
func isBPFObject(path string, data []byte) bool {
	if strings.HasSuffix(path, ".bpf.o") {
		return true
	}
	return bpfobj.IsBPFELF(data)
}

// readmeText returns README bytes as valid UTF-8 text of at most
// MaxReadmeSize bytes, cut at a character boundary.
func readmeText(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if len(s) <= MaxReadmeSize {
		return s
	}
	s = s[:MaxReadmeSize]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// quoteList formats names as "a", "b" or "c".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

func orNone(names []string) string {
	var out []string
	for _, n := range names {
		if n != "" {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// LintPath opens an artifact (.tar.gz, .zip) or a source directory and
// describes it with Describe. The error is for a path that cannot be read
// at all (missing, unreadable, not a directory nor an artifact). A package
// the safe readers reject (an *EntryError: a path escaping the root, a
// link, a device file, a duplicate entry, a size limit, a corrupt archive)
// is not an error: the description holds a single archive.unsafe problem
// naming the entry, and nothing else.
func LintPath(ctx context.Context, path string, opts LintOptions) (*Description, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("lint %s: %w", path, err)
	}
	var c *Contents
	switch {
	case fi.IsDir():
		c, err = OpenDir(ctx, path, opts.Limits)
	case ArtifactFormat(path) != "":
		c, err = OpenArtifact(ctx, path, opts.Limits)
	default:
		return nil, fmt.Errorf("lint %s: not a package: give a source directory or a .tar.gz or .zip artifact", path)
	}
	if err != nil {
		var ee *EntryError
		if !errors.As(err, &ee) {
			return nil, fmt.Errorf("lint %s: %w", path, err)
		}
		return DescribeReadError(path, err), nil
	}
	return Describe(ctx, c, opts), nil
}

// DescribeReadError returns the description of a package the safe
// readers (ReadArtifact, OpenArtifact, OpenDir) refused: no contents and
// one archive.unsafe error naming the entry at fault (from an
// *EntryError), what was wrong and what to do. pkg names the package in
// the problem (the path or artifact name); a name ending in .tar.gz or
// .zip is taken for an artifact, anything else for a source directory.
func DescribeReadError(pkg string, err error) *Description {
	p := Problem{Severity: SeverityError, Package: pkg, Code: CodeArchiveUnsafe}
	var ee *EntryError
	if errors.As(err, &ee) {
		p.File = ee.Entry
		err = ee.Err
	}
	what := "repack it with ebpfrepo pack"
	if ArtifactFormat(pkg) == "" {
		what = sourceDirFix(err)
	}
	p.Message = fmt.Sprintf("%v: the package was not read; %s", err, what)
	return &Description{Objects: []bpfobj.ObjectReport{}, Files: []FileEntry{}, Problems: []Problem{p}}
}

// sourceDirFix says what to do about an entry OpenDir refused.
func sourceDirFix(err error) string {
	switch {
	case errors.Is(err, ErrLink):
		return "replace the link with a copy of the file (cp --no-preserve=links for a hard link)"
	case errors.Is(err, ErrSpecialFile):
		return "remove it: a package holds only regular files and directories"
	case errors.Is(err, ErrTooManyEntries):
		return "remove what does not belong in the package (build trees, .git)"
	case errors.Is(err, ErrTooLarge):
		return "remove or shrink it"
	case errors.Is(err, ErrDuplicate):
		return "rename one of the two"
	case errors.Is(err, ErrPathTraversal), errors.Is(err, ErrAbsolutePath), errors.Is(err, ErrBadPath):
		return "rename it (see the path rules in docs/package-format.md)"
	}
	return "fix that entry in the source directory"
}

// HasErrors reports whether any problem is an error.
func (d *Description) HasErrors() bool { return d.Problems.HasErrors() }

// Errors returns the problems that are errors.
func (d *Description) Errors() Problems { return d.Problems.Errors() }
