package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ebpfrepo/ebpfrepo/client"
	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// InvalidError lists every problem that made packages unacceptable.
type InvalidError struct {
	Op       string          // "add" or "build"
	Problems pkgfmt.Problems // errors only; Package names name@version and the file
}

func (e *InvalidError) Error() string {
	var b strings.Builder
	pkgs := map[string]bool{}
	for _, p := range e.Problems {
		pkgs[p.Package] = true
	}
	fmt.Fprintf(&b, "%s: %d invalid package(s), %d problem(s):", e.Op, len(pkgs), len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// readArtifact reads an artifact whole (it is bounded by the archive size
// limit) and returns its bytes and sha256.
func readArtifact(path string, lim pkgfmt.Limits) ([]byte, string, error) {
	return readArtifactInto(nil, path, lim, nil)
}

// artifactBufs recycles the buffers a build reads artifacts into: the
// bytes are hashed and validated, then no longer needed.
var artifactBufs sync.Pool

// readArtifactInto is readArtifact reading into buf when it is large
// enough, noting the file's sha256 in hashes (if not nil): the build's
// check then need not read it again through the output's hard links.
func readArtifactInto(buf []byte, path string, lim pkgfmt.Limits, hashes *client.FileHashes) ([]byte, string, error) {
	lim = lim.WithDefaults()
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, "", err
	}
	if !fi.Mode().IsRegular() {
		return nil, "", fmt.Errorf("%s: not a regular file", path)
	}
	if fi.Size() > lim.MaxArchiveSize {
		return nil, "", fmt.Errorf("%s: %d bytes, over the %d-byte artifact limit", path, fi.Size(), lim.MaxArchiveSize)
	}
	var data []byte
	if int64(cap(buf)) >= fi.Size() {
		data = buf[:fi.Size()]
	} else {
		data = make([]byte, fi.Size())
	}
	start := time.Now()
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	sum := sha256.Sum256(data)
	hexSum := hex.EncodeToString(sum[:])
	if hashes != nil {
		// Keyed by the size and mtime read before the bytes: a file that
		// changed since no longer matches the key (FileHashes.Note).
		hashes.Note(fi, start, hexSum)
	}
	return data, hexSum, nil
}

// describeFile reads the artifact at path and describes it: the
// description, its JSON (as the description cache holds it) and the
// artifact's sha256.
func describeFile(ctx context.Context, path string, lint pkgfmt.LintOptions) (*pkgfmt.Description, []byte, string, error) {
	data, sha, err := readArtifact(path, lint.Limits)
	if err != nil {
		return nil, nil, "", err
	}
	d := describeBytes(ctx, path, data, lint)
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, nil, "", err
	}
	return d, raw, sha, nil
}

// describeBytes validates artifact bytes. A package that cannot be read
// at all is described by a single error problem.
func describeBytes(ctx context.Context, path string, data []byte, opts pkgfmt.LintOptions) *pkgfmt.Description {
	c, err := pkgfmt.ReadArtifact(ctx, path, bytes.NewReader(data), int64(len(data)), opts.Limits)
	if err != nil {
		return &pkgfmt.Description{Problems: []pkgfmt.Problem{{Severity: pkgfmt.SeverityError, File: filepath.Base(path),
			Code: "archive.unreadable", Message: err.Error()}}}
	}
	return pkgfmt.Describe(ctx, c, opts)
}
