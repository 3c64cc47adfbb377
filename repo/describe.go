package repo

import (
	"bufio"
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
	"sync/atomic"

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

// described is the validation of one artifact file.
type described struct {
	Desc   *pkgfmt.Description
	SHA256 string
	Length int64
}

// readArtifact reads an artifact whole (it is bounded by the archive size
// limit) and returns its bytes and sha256.
func readArtifact(path string, lim pkgfmt.Limits) ([]byte, string, error) {
	return readArtifactInto(nil, path, lim)
}

// artifactBufs recycles the buffers a build reads artifacts into: the
// bytes are hashed and validated, then no longer needed.
var artifactBufs sync.Pool

// readArtifactInto is readArtifact reading into buf when it is large
// enough.
func readArtifactInto(buf []byte, path string, lim pkgfmt.Limits) ([]byte, string, error) {
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
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	sum := sha256.Sum256(data)
	return data, hex.EncodeToString(sum[:]), nil
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

// descCache stores descriptions by artifact sha256 (and whether the
// verifier ran) in .cache/desc/<xx>.jsonl, 256 append-only shard files
// keyed by the first two hex digits of the sha256, one line per entry:
// "<sha256>[-verify] <description JSON>". Few files keep a cold build
// from creating one file per artifact and a warm one from opening them;
// a torn last line (crash) does not parse and counts as a miss. Deleting
// .cache is always safe. Safe for concurrent use.
type descCache struct {
	dir     string
	mu      sync.Mutex
	shards  map[string]*descShard
	pending map[string]*bytes.Buffer // shard → lines to append on flush
	size    int                      // bytes pending
}

type descShard struct {
	once    sync.Once
	mu      sync.Mutex
	path    string
	entries map[string]descSpan // key → where its line is in the shard file
}

// descSpan is the place of one entry's line in a shard file: a shard is
// indexed when first used, and each entry read when asked for, so a
// build never holds the whole cache.
type descSpan struct{ off, n int64 }

func newDescCache(dir string) *descCache {
	return &descCache{dir: dir, shards: map[string]*descShard{}, pending: map[string]*bytes.Buffer{}}
}

func descKey(sha string, verify bool) string {
	if verify {
		return sha + "-verify"
	}
	return sha
}

func shardOf(sha string) string {
	if len(sha) < 2 {
		return "00"
	}
	return sha[:2]
}

func (c *descCache) shard(name string) *descShard {
	c.mu.Lock()
	sh := c.shards[name]
	if sh == nil {
		sh = &descShard{}
		c.shards[name] = sh
	}
	c.mu.Unlock()
	sh.once.Do(func() {
		sh.entries = map[string]descSpan{}
		sh.path = filepath.Join(c.dir, name+".jsonl")
		data, err := os.ReadFile(sh.path)
		if err != nil {
			return
		}
		off := int64(0)
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				break // torn last line
			}
			line := data[:i]
			if k, _, ok := bytes.Cut(line, []byte(" ")); ok {
				sh.entries[string(k)] = descSpan{off, int64(i)}
			}
			data = data[i+1:]
			off += int64(i) + 1
		}
	})
	return sh
}

// get returns the cached description; each entry is handed out once
// (the raw bytes are dropped to bound memory).
func (c *descCache) get(sha string, verify bool) (*pkgfmt.Description, bool) {
	d, _, ok := c.getRaw(sha, verify)
	return d, ok
}

// getRaw is get also returning the description's JSON.
func (c *descCache) getRaw(sha string, verify bool) (*pkgfmt.Description, []byte, bool) {
	sh := c.shard(shardOf(sha))
	k := descKey(sha, verify)
	sh.mu.Lock()
	sp, ok := sh.entries[k]
	delete(sh.entries, k)
	sh.mu.Unlock()
	if !ok {
		return nil, nil, false
	}
	raw, ok := readDescLine(sh.path, k, sp)
	if !ok {
		return nil, nil, false
	}
	var d pkgfmt.Description
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, nil, false
	}
	return &d, raw, true
}

// readDescLine reads the entry k of a shard file at sp and returns its
// description JSON; a line that no longer holds k is a miss.
func readDescLine(path, k string, sp descSpan) ([]byte, bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	line := make([]byte, sp.n)
	if _, err := f.ReadAt(line, sp.off); err != nil {
		return nil, false
	}
	raw, ok := bytes.CutPrefix(line, []byte(k+" "))
	return raw, ok
}

// put records a description, written by flush.
func (c *descCache) put(sha string, verify bool, d *pkgfmt.Description) error {
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return c.putRaw(sha, verify, data)
}

// putRaw is put with the description's JSON.
func (c *descCache) putRaw(sha string, verify bool, data []byte) error {
	name := shardOf(sha)
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.pending[name]
	if b == nil {
		b = &bytes.Buffer{}
		c.pending[name] = b
	}
	b.WriteString(descKey(sha, verify))
	b.WriteByte(' ')
	b.Write(data)
	b.WriteByte('\n')
	c.size += len(data)
	if c.size > maxPendingCache {
		return c.flushLocked() // bound the memory a cold build holds
	}
	return nil
}

// maxPendingCache bounds the description bytes held before a flush.
const maxPendingCache = 4 << 20

// flush appends the pending entries to their shard files.
func (c *descCache) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushLocked()
}

func (c *descCache) flushLocked() error {
	if len(c.pending) == 0 {
		return nil
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	var first error
	for name, b := range c.pending {
		f, err := os.OpenFile(filepath.Join(c.dir, name+".jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err == nil {
			_, err = f.Write(b.Bytes())
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil && first == nil {
			first = err
		}
	}
	c.pending = map[string]*bytes.Buffer{}
	c.size = 0
	return first
}

// statCache maps an artifact under packages/ (relative path) to its size,
// modification time and sha256, so that unchanged artifacts are not read
// again. It lives in .cache/files.json; it is only a cache.
type statCache struct {
	path    string
	Entries map[string]statEntry `json:"entries"`
}

type statEntry struct {
	Size   int64  `json:"size"`
	MTime  int64  `json:"mtime_ns"`
	SHA256 string `json:"sha256"`
}

func loadStatCache(path string) *statCache {
	c := &statCache{path: path, Entries: map[string]statEntry{}}
	data, err := os.ReadFile(path)
	if err == nil && json.Unmarshal(data, c) == nil && c.Entries != nil {
		return c
	}
	return &statCache{path: path, Entries: map[string]statEntry{}}
}

func (c *statCache) lookup(rel string, fi os.FileInfo) (string, bool) {
	e, ok := c.Entries[rel]
	if !ok || e.Size != fi.Size() || e.MTime != fi.ModTime().UnixNano() {
		return "", false
	}
	return e.SHA256, true
}

func (c *statCache) set(rel string, fi os.FileInfo, sha string) {
	c.Entries[rel] = statEntry{Size: fi.Size(), MTime: fi.ModTime().UnixNano(), SHA256: sha}
}

func (c *statCache) save() error {
	return writeCacheFileFunc(c.path, func(w *bufio.Writer) error {
		w.WriteString(`{"entries":`)
		if err := writeJSONMap(w, c.Entries, func(e statEntry) ([]byte, error) { return json.Marshal(e) }); err != nil {
			return err
		}
		_, err := w.WriteString("}")
		return err
	})
}

var cacheSeq atomic.Uint64 // names temporary cache files
