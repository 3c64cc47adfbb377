package bpfobj

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// Object is one parsed eBPF ELF object: the single, panic-safe parse that
// inspection, kernel-version inference, offline BTF checks and verifier
// loads share (as cilium/ebpf shares one safe ELF reader). Its fields are
// plain data; the parsed collection is held privately and handed out as
// copies, so no user can change what another sees.
type Object struct {
	Path    string // the object's path (inside its package, when it has one)
	Size    int64
	SHA256  [sha256.Size]byte
	License string // the ELF "license" section, up to its first NUL

	hasLicense bool
	spec       *ebpf.CollectionSpec
}

// ObjectError is a failure to parse or analyse one ELF object: it is not
// an eBPF ELF object, is too large, or crashed the parser.
type ObjectError struct {
	Path string
	Err  error
}

func (e *ObjectError) Error() string { return fmt.Sprintf("object %s: %v", e.Path, e.Err) }
func (e *ObjectError) Unwrap() error { return e.Err }

// HeaderError is the ObjectError cause for a file that is not an eBPF ELF
// object at all — not ELF, or ELF for another machine. Its message says
// what to do.
type HeaderError string

func (e HeaderError) Error() string { return string(e) }

// EMBPF is the ELF machine of eBPF objects.
const EMBPF = elf.Machine(247)

// Parse parses data, the bytes of the object at path, with cilium/ebpf
// (no kernel needed). It never panics on hostile input: a panic of the
// parser becomes an *ObjectError naming path, as does an object over
// MaxObjectSize, a file that is not an eBPF ELF object (its cause a
// HeaderError) or one that does not parse.
func Parse(path string, data []byte) (*Object, error) {
	return parse(path, data, sha256.Sum256(data))
}

// ParseWithDigest is Parse for data whose sha256 the caller already has.
func ParseWithDigest(path string, data []byte, sum [sha256.Size]byte) (*Object, error) {
	return parse(path, data, sum)
}

func parse(path string, data []byte, sum [sha256.Size]byte) (*Object, error) {
	o := &Object{Path: path, Size: int64(len(data)), SHA256: sum}
	if len(data) > MaxObjectSize {
		return nil, &ObjectError{Path: path, Err: fmt.Errorf("%w: %d bytes, over the %d-byte limit", ErrTooLarge, len(data), MaxObjectSize)}
	}
	if err := checkELFHeader(data); err != nil {
		return nil, &ObjectError{Path: path, Err: err}
	}
	err := o.guard("parsing the ELF", func() error {
		spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("not a valid eBPF ELF object: %w", err)
		}
		o.spec = spec
		o.License, o.hasLicense = elfLicense(data)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// Spec returns a copy of the parsed collection, for callers that change
// it (the verifier load unpins maps, drops struct_ops maps).
func (o *Object) Spec() *ebpf.CollectionSpec { return o.spec.Copy() }

// guard runs f, turning a panic of cilium/ebpf on hostile input into an
// *ObjectError that names the object and what was being done; an error
// f returns is wrapped the same way. It is the one recover of the
// package.
func (o *Object) guard(doing string, f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &ObjectError{Path: o.Path, Err: fmt.Errorf("%s crashed: %v", doing, p)}
		}
	}()
	if err := f(); err != nil {
		return &ObjectError{Path: o.Path, Err: err}
	}
	return nil
}

// IsBPFELF reports whether data is an ELF file whose machine is EM_BPF.
func IsBPFELF(data []byte) bool {
	if len(data) < 20 || !isELF(data) {
		return false
	}
	return elfMachine(data) == EMBPF
}

func isELF(data []byte) bool { return bytes.HasPrefix(data, []byte("\x7fELF")) }

func elfMachine(data []byte) elf.Machine {
	var bo binary.ByteOrder = binary.LittleEndian
	if data[5] == 2 { // ELFDATA2MSB
		bo = binary.BigEndian
	}
	return elf.Machine(bo.Uint16(data[18:]))
}

// checkELFHeader explains, before any parsing, the two commonest ways a
// file is not an eBPF object: it is not ELF at all (source, text, an
// archive), or it is an ELF object for another machine (compiled without
// -target bpf).
func checkELFHeader(data []byte) error {
	if !isELF(data) {
		head := data[:min(len(data), 16)]
		what := fmt.Sprintf("it starts with %q", head)
		if len(data) == 0 {
			what = "it is empty"
		}
		return HeaderError(fmt.Sprintf("not an ELF file (%s): put the compiled object in the package, built with clang -target bpf -O2 -g -c", what))
	}
	if len(data) < 20 {
		return HeaderError("not a valid eBPF ELF object: ELF header truncated; rebuild it with clang -target bpf")
	}
	if m := elfMachine(data); m != EMBPF && m != elf.EM_NONE {
		return HeaderError(fmt.Sprintf("an ELF object for %s, not eBPF (EM_BPF): compile it with clang -target bpf", m))
	}
	return nil
}

// elfLicense reads the "license" section of an ELF object, as the loader
// does (up to the first NUL). It reports false when there is none.
func elfLicense(data []byte) (string, bool) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return "", false
	}
	sec := f.Section("license")
	if sec == nil || sec.Type == elf.SHT_NOBITS || sec.Size > 4096 {
		return "", false
	}
	b, err := sec.Data()
	if err != nil {
		return "", false
	}
	lic, _, _ := bytes.Cut(b, []byte{0})
	return string(lic), true
}

func hexSum(sum [sha256.Size]byte) string { return hex.EncodeToString(sum[:]) }

// ObjectData is one ELF object's path inside a package and its bytes, the
// input of the functions that parse for their caller (VerifyObjects,
// CheckKernelBTF).
type ObjectData struct {
	Path string
	Data []byte
}

// parsed is an object as an analysis takes it: parsed, or why not.
type parsed struct {
	path string
	obj  *Object
	err  error
}

func parseAll(objs []ObjectData) []parsed {
	out := make([]parsed, len(objs))
	for i, o := range objs {
		obj, err := Parse(o.Path, o.Data)
		out[i] = parsed{o.Path, obj, err}
	}
	return out
}

func wrapAll(objs []*Object) []parsed {
	out := make([]parsed, len(objs))
	for i, o := range objs {
		out[i] = parsed{path: o.Path, obj: o}
	}
	return out
}

// why is the reason an object that did not parse gives, without the
// "object PATH:" prefix its error has.
func (p parsed) why() string {
	var oe *ObjectError
	if errors.As(p.err, &oe) {
		return oe.Err.Error()
	}
	return p.err.Error()
}
