package tufrepo

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// binMeta is one signed bin kept compactly: a summary of its bytes, and
// the bytes themselves only until a file holds them. The parsed go-tuf
// form of a bin is built only to sign it (or to re-sign it unchanged) and
// dropped afterwards, and a bin loaded or written out is read back from
// its file when its bytes are wanted, so that a repository of many
// targets costs little memory (the bins' bytes are 4.8 MB at 10,000
// versions) and an Update costs work proportional to the bins that
// change.
type binMeta struct {
	raw     []byte // nil once file holds them
	file    string
	sum     [sha256.Size]byte // of the bytes
	size    int64
	version int64
	expires time.Time
	// digest is binDigest of the bin's targets; plain is false when a
	// target holds more than a sha256 and a length (custom data, other
	// hashes), which ebpfrepo never writes: such a bin never compares
	// equal to a wanted target list and is re-signed on Update.
	digest [sha256.Size]byte
	plain  bool
}

// binEntry is one target of a bin.
type binEntry struct {
	path   string
	length int64
	sum    [sha256.Size]byte
}

// binDigest is a digest of entries sorted by path: equal digests mean
// equal (path, length, sha256) sets. Each field is length-prefixed, so
// the encoding is unambiguous. It sorts entries in place.
func binDigest(entries []binEntry) [sha256.Size]byte {
	slices.SortFunc(entries, func(a, b binEntry) int { return strings.Compare(a.path, b.path) })
	h := sha256.New()
	var buf [binary.MaxVarintLen64]byte
	for i := range entries {
		e := &entries[i]
		h.Write(binary.AppendUvarint(buf[:0], uint64(len(e.path))))
		h.Write([]byte(e.path))
		h.Write(binary.AppendVarint(buf[:0], e.length))
		h.Write(e.sum[:])
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d
}

// entriesOf returns the entries of go-tuf target files, or false if one
// holds more than a length and a sha256.
func entriesOf(targets map[string]*metadata.TargetFiles) ([]binEntry, bool) {
	out := make([]binEntry, 0, len(targets))
	for p, t := range targets {
		if t == nil || t.Custom != nil || len(t.Hashes) != 1 || len(t.Hashes["sha256"]) != sha256.Size {
			return nil, false
		}
		e := binEntry{path: p, length: t.Length}
		copy(e.sum[:], t.Hashes["sha256"])
		out = append(out, e)
	}
	return out, true
}

// targetFiles is the go-tuf form of entries.
func targetFiles(entries []binEntry) map[string]*metadata.TargetFiles {
	m := make(map[string]*metadata.TargetFiles, len(entries))
	for _, e := range entries {
		m[e.path] = &metadata.TargetFiles{Length: e.length, Hashes: metadata.Hashes{"sha256": slices.Clone(e.sum[:])}, Path: e.path}
	}
	return m
}

// newBinMeta summarises a bin just signed as md with bytes raw.
func newBinMeta(md *metadata.Metadata[metadata.TargetsType], raw []byte) binMeta {
	b := binMeta{raw: raw, sum: sha256.Sum256(raw), size: int64(len(raw)), version: md.Signed.Version, expires: md.Signed.Expires}
	if entries, ok := entriesOf(md.Signed.Targets); ok {
		b.digest, b.plain = binDigest(entries), true
	}
	return b
}

// errChangedFile: a bin's file no longer holds the bytes this Repo read
// or wrote there.
var errChangedFile = errors.New("changed since this run read or wrote it (another ebpfrepo at work, or an edit): run again")

// spill drops b's bytes: file holds exactly them.
func (b *binMeta) spill(file string) { b.raw, b.file = nil, file }

// bytes returns b's bytes, read back from its file when b no longer holds
// them; a file whose bytes are not those b summarises is an error.
func (b binMeta) bytes() ([]byte, error) {
	if b.raw != nil || b.file == "" {
		return b.raw, nil
	}
	raw, err := readMetaFile(b.file)
	if err != nil {
		return nil, err
	}
	if int64(len(raw)) != b.size || sha256.Sum256(raw) != b.sum {
		return nil, &MetadataError{File: b.file, Err: errChangedFile}
	}
	return raw, nil
}

// parse returns the go-tuf form of b, to re-sign it with its targets.
func (b binMeta) parse() (*metadata.Metadata[metadata.TargetsType], error) {
	raw, err := b.bytes()
	if err != nil {
		return nil, err
	}
	return new(metadata.Metadata[metadata.TargetsType]).FromBytes(raw)
}

// binVerifier verifies bins against the succinct delegation of targets.
type binVerifier struct {
	targets *metadata.Metadata[metadata.TargetsType]
}

func newBinVerifier(targets *metadata.Metadata[metadata.TargetsType]) *binVerifier {
	return &binVerifier{targets: targets}
}

// load verifies raw, the bin name (file file, of version want) and
// summarises it. Verification is go-tuf's own (FromBytes and
// VerifyDelegate against the succinct delegation of targets); the parsed
// form is dropped once the summary is taken, so a loaded repository holds
// each bin as its signed bytes plus a digest of its targets.
func (v *binVerifier) load(raw []byte, name, file string, want int64) (binMeta, error) {
	md, err := new(metadata.Metadata[metadata.TargetsType]).FromBytes(raw)
	if err != nil {
		return binMeta{}, &MetadataError{File: file, Err: err}
	}
	if err := v.targets.VerifyDelegate(name, md); err != nil {
		return binMeta{}, &MetadataError{File: file, Err: err}
	}
	if md.Signed.Version != want {
		return binMeta{}, &MetadataError{File: file, Err: fmt.Errorf("version %d, want %d", md.Signed.Version, want)}
	}
	return newBinMeta(md, raw), nil
}
