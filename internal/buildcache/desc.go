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
	pending map[string]*pendingShard // shard → lines to append on flush
	size    int                      // bytes pending
	salt    string                   // see WithSalt
}

// pendingShard is what Flush appends to one shard file: the lines, and
// where each entry's line starts in them (so that a flushed entry can be
// read back in the same build: a build lets a validated version's
// description wait in the cache for its package's index file instead of
// holding it).
type pendingShard struct {
	buf   bytes.Buffer
	lines []pendingLine
}

type pendingLine struct {
	key    string
	off, n int64 // in buf, without the newline
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
	return &Descriptions{dir: dir, shards: map[string]*descShard{}, pending: map[string]*pendingShard{}}
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
	sh := c.shardEntry(name)
	c.mu.Unlock()
	sh.load(c.dir, name) // outside c.mu: shards load in parallel
	return sh
}

// shardLocked is shard for a caller that holds c.mu.
func (c *Descriptions) shardLocked(name string) *descShard {
	sh := c.shardEntry(name)
	sh.load(c.dir, name)
	return sh
}

func (c *Descriptions) shardEntry(name string) *descShard {
	sh := c.shards[name]
	if sh == nil {
		sh = &descShard{}
		c.shards[name] = sh
	}
	return sh
}

// load indexes the shard file once.
func (sh *descShard) load(dir, name string) {
	sh.once.Do(func() {
		sh.entries = map[string]descSpan{}
		sh.path = filepath.Join(dir, name+".jsonl")
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
}

// Get returns the cached description. Entries are read from the shard
// file when asked for, never held: an entry can be asked for again, and
// one Put in this build can be read back once it is flushed.
func (c *Descriptions) Get(sha string, verify bool) (*pkgfmt.Description, bool) {
	d, _, ok := c.GetRaw(sha, verify)
	return d, ok
}

// GetRaw is Get also returning the description's JSON.
func (c *Descriptions) GetRaw(sha string, verify bool) (*pkgfmt.Description, []byte, bool) {
	raw, ok := c.Raw(sha, verify)
	if !ok {
		return nil, nil, false
	}
	var d pkgfmt.Description
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, nil, false
	}
	return &d, raw, true
}

// Raw returns the JSON of the cached description, undecoded.
func (c *Descriptions) Raw(sha string, verify bool) ([]byte, bool) {
	sh := c.shard(shardOf(sha))
	k := c.key(sha, verify)
	sh.mu.Lock()
	sp, ok := sh.entries[k]
	sh.mu.Unlock()
	if !ok {
		return nil, false
	}
	return readDescLine(sh.path, k, sp)
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
	p := c.pending[name]
	if p == nil {
		p = &pendingShard{}
		c.pending[name] = p
	}
	k := c.key(sha, verify)
	off := int64(p.buf.Len())
	p.buf.WriteString(k)
	p.buf.WriteByte(' ')
	p.buf.Write(data)
	p.lines = append(p.lines, pendingLine{key: k, off: off, n: int64(p.buf.Len()) - off})
	p.buf.WriteByte('\n')
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
	for name, p := range c.pending {
		if err := c.appendShard(name, p); err != nil && first == nil {
			first = err
		}
	}
	c.pending = map[string]*pendingShard{}
	c.size = 0
	return first
}

// appendShard appends p's lines to the shard file and, once they are
// written, indexes them so that GetRaw finds them.
func (c *Descriptions) appendShard(name string, p *pendingShard) error {
	sh := c.shardLocked(name) // index what the file held before the append
	f, err := os.OpenFile(sh.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil {
		_, err = f.Write(p.buf.Bytes())
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err // a torn append is a miss for every entry in it
	}
	base := fi.Size()
	sh.mu.Lock()
	for _, l := range p.lines {
		sh.entries[l.key] = descSpan{base + l.off, l.n}
	}
	sh.mu.Unlock()
	return nil
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
