package buildcache

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"

	"github.com/ebpfrepo/ebpfrepo/pkgfmt"
)

// Descriptions stores descriptions by artifact sha256 (and whether the
// verifier ran) in .cache/desc/<xx>.jsonl, 256 append-only shard files
// keyed by the first two hex digits of the sha256, one line per entry:
// "<sha256>[-verify] <description JSON>". Few files keep a cold build
// from creating one file per artifact and a warm one from opening them;
// a torn last line (crash) does not parse and counts as a miss. Deleting
// .cache is always safe. Safe for concurrent use.
type Descriptions struct {
	dir     string
	mu      sync.Mutex
	shards  map[string]*descShard
	pending map[string]*bytes.Buffer // shard → lines to append on flush
	size    int                      // bytes pending
	salt    string                   // see WithSalt
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

// NewDescriptions opens the description cache in dir (created when first
// written).
func NewDescriptions(dir string) *Descriptions {
	return &Descriptions{dir: dir, shards: map[string]*descShard{}, pending: map[string]*bytes.Buffer{}}
}

// WithSalt makes every key of c also depend on salt: descriptions made
// under other settings that shape them (the Windows trust roots) are then
// misses, not wrong answers. "" is no salt.
func (c *Descriptions) WithSalt(salt string) *Descriptions {
	c.salt = salt
	return c
}

// Salt is what WithSalt set.
func (c *Descriptions) Salt() string { return c.salt }

func (c *Descriptions) key(sha string, verify bool) string {
	k := sha
	if verify {
		k += "-verify-tests" // with verify, descriptions carry test vector results (before: verifier only)
	}
	if c.salt != "" {
		k += "-" + c.salt
	}
	return k
}

func shardOf(sha string) string {
	if len(sha) < 2 {
		return "00"
	}
	return sha[:2]
}

func (c *Descriptions) shard(name string) *descShard {
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

// Get returns the cached description; each entry is handed out once
// (the raw bytes are dropped to bound memory).
func (c *Descriptions) Get(sha string, verify bool) (*pkgfmt.Description, bool) {
	d, _, ok := c.GetRaw(sha, verify)
	return d, ok
}

// GetRaw is Get also returning the description's JSON.
func (c *Descriptions) GetRaw(sha string, verify bool) (*pkgfmt.Description, []byte, bool) {
	sh := c.shard(shardOf(sha))
	k := c.key(sha, verify)
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

// Put records a description, written by Flush.
func (c *Descriptions) Put(sha string, verify bool, d *pkgfmt.Description) error {
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return c.PutRaw(sha, verify, data)
}

// PutRaw is Put with the description's JSON.
func (c *Descriptions) PutRaw(sha string, verify bool, data []byte) error {
	name := shardOf(sha)
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.pending[name]
	if b == nil {
		b = &bytes.Buffer{}
		c.pending[name] = b
	}
	b.WriteString(c.key(sha, verify))
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

// Flush appends the pending entries to their shard files.
func (c *Descriptions) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flushLocked()
}

func (c *Descriptions) flushLocked() error {
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

// Has reports whether the cache holds a description for sha (and
// verify), without reading or handing it out.
func (c *Descriptions) Has(sha string, verify bool) bool {
	sh := c.shard(shardOf(sha))
	sh.mu.Lock()
	_, ok := sh.entries[c.key(sha, verify)]
	sh.mu.Unlock()
	return ok
}
